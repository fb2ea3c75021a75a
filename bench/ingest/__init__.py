"""Ingest benchmark: evaluations over HTTP against a raw PostgreSQL COPY of the same rows."""
