"""The capture side: what is due, fetching it politely, and recording one capture end to end.
"""
