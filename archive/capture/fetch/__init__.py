"""Polite HTTP: robots.txt, per-host delay, conditional GET, size and time caps,
and the private-address guard checked at connect time.
"""
