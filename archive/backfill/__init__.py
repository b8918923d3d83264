"""Backfill: a thread's past rebuilt from web-archive snapshots (the Wayback Machine, pywb, WARC files)."""
