"""The public archive: home, threads, comments, search and raw evidence.
"""
