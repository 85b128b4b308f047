"""The SQLite store: schema, connection setup, the single writer and read queries."""
