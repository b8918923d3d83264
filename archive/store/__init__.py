"""What the archive keeps: database engines and sessions, models, schema
migrations and the content-addressed evidence store.
"""
