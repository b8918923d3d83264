"""The public archive: home, threads, comments, search, raw evidence, removal feeds
and "Find my comment".
"""
