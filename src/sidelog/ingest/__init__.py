"""Ingest endpoints: the wire protocol (pure) and the servers that carry it."""
