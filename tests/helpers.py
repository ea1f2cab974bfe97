"""Assertions and thread helpers shared by the tests."""
import re
import threading
import time

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


JOIN_SECONDS = 10


def blocked_clients(client):
    return client.info("clients")["blocked_clients"]


def wait_blocked(client, count):
    """Poll (test side only) until ``count`` clients are blocked."""
    deadline = time.monotonic() + JOIN_SECONDS
    while blocked_clients(client) != count:
        assert time.monotonic() < deadline, f"expected {count} blocked clients"
        time.sleep(0.002)


class Call(threading.Thread):
    """A call made in a thread of its own; ``outcome()`` joins it."""

    def __init__(self, function, *args, **kwargs):
        super().__init__(daemon=True)
        self.function, self.args, self.kwargs = function, args, kwargs
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.function(*self.args, **self.kwargs)
        except Exception as exc:  # handed to the test by outcome()
            self.error = exc

    def outcome(self):
        self.join(JOIN_SECONDS)
        assert not self.is_alive(), "the call is still blocked"
        if self.error is not None:
            raise self.error
        return self.result
