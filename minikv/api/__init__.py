"""Client-side command methods, one mixin per data type, with redis-py's signatures.

Each method builds the argument list exactly as redis-py does and calls
``execute_command``; a few hot methods call the engine's typed helpers
directly instead (same rules, no argv parsing). Nothing here touches the
keyspace except through the engine.
"""
