"""The engine: keyspace, command table, command implementations, expiry."""
