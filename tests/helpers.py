"""Assertions shared by the differential tests."""
import re

import pytest


def raises(exc_class, message):
    """Expect ``exc_class`` with exactly ``message`` (redis-py's str(exc))."""
    return pytest.raises(exc_class, match="^" + re.escape(message) + "$")


def kind(client):
    """'minikv' or 'redis': which implementation a fixture client is."""
    return "minikv" if type(client).__module__.startswith("minikv") else "redis"


def snapshot(client, db_count=16):
    """Everything a keyspace holds, comparable across implementations.

    Per db: key -> (type, value, has_ttl); sets as sorted lists, sorted sets
    as (member, score) pairs in rank order. TTL values themselves move with
    time, so only their presence is compared here.
    """
    state = {}
    for db in range(db_count):
        client.execute_command("SELECT", db)
        keys = sorted(client.keys("*"))
        if not keys:
            continue
        entries = {}
        for key in keys:
            type_name = client.type(key)
            type_name = type_name.decode() if isinstance(type_name, bytes) else type_name
            if type_name == "string":
                value = client.get(key)
            elif type_name == "hash":
                value = client.hgetall(key)
            elif type_name == "list":
                value = client.lrange(key, 0, -1)
            elif type_name == "set":
                value = sorted(client.smembers(key))
            elif type_name == "zset":
                value = client.zrange(key, 0, -1, withscores=True)
            else:
                raise AssertionError(f"snapshot does not know type {type_name!r}")
            entries[key] = (type_name, value, client.pttl(key) >= 0)
        state[db] = entries
    client.execute_command("SELECT", 0)
    return state
