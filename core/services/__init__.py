"""The business rules, shared by the web UI, the JSON API and the CLI.

Every service function takes the SQLAlchemy session first and the acting user (or :data:`SYSTEM`), checks
permission and scope itself, records an audit entry for every change, and ``flush()``es, never commits: the
request or command that called it commits, so that one request is one transaction.
"""
