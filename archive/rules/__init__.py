"""Pure rules: records in, decisions out. No database, web or network code
(tests/test_layout.py checks the imports), so every rule is testable alone.
"""
