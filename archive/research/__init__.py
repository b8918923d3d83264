"""What researchers take away: exports, statistics queries, the dataset
package, WARC export and `verify`.
"""
