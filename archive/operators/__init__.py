"""Operators' services shared by the command line and the web: accounts and
login, the audit log, redaction and watch CSV files.
"""
