"""Assertions and thread helpers shared by the tests."""
import contextlib
import re
import threading
import time

import pytest
import redis

import minikv
from minikv.client import make_encoder


def raises(exc_class, message):
    """Expect ``exc_class`` with exactly ``message`` (redis-py's str(exc))."""
    return pytest.raises(exc_class, match="^" + re.escape(message) + "$")


def error_signature(exc):
    """(redis-py exception class name, message): how the state machines
    compare an error, whichever implementation raised it."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "redis.exceptions":
            return cls.__name__, str(exc)
    return type(exc).__name__, str(exc)


def command_outcome(client, command, args, **options):
    """("ok", reply) or ("error", error_signature) of one raw command."""
    try:
        return "ok", client.execute_command(command, *args, **options)
    except redis.exceptions.RedisError as exc:
        return "error", error_signature(exc)


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


@contextlib.contextmanager
def blocking_calls(r):
    """Yield ``start``: ``start("blpop", "k", 0)`` runs that call on a new
    client of the same server or store as ``r`` and returns (a started
    ``Call``) once it is blocked. On leaving, no client stays blocked on a
    real server, and the new clients are closed. (conftest.py's ``block``.)"""
    clients = []

    def start(method, *args, **kwargs):
        if kind(r) == "minikv":
            client = minikv.Redis(store=r.store)
        else:
            client = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
        clients.append(client)
        already = blocked_clients(r)
        call = Call(getattr(client, method), *args, **kwargs)
        call.start()
        wait_blocked(r, already + 1)
        return call

    try:
        yield start
    finally:
        if kind(r) == "redis":  # leave no client blocked on the shared server
            for client_info in r.client_list():
                if "b" in client_info["flags"]:
                    r.client_unblock(client_info["id"])
        for client in clients:
            client.close()


def run_threads(count, target, join_seconds=JOIN_SECONDS):
    """``target(i)`` in ``count`` daemon threads released together by a
    barrier, all joined: ``(results, errors)``, both indexed by ``i`` (None
    where a thread returned None or raised nothing)."""
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = [None] * count

    def body(i):
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # handed to the test in ``errors``
            errors[i] = exc

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(join_seconds)
        assert not thread.is_alive(), "a thread is still waiting (a lost wake-up?)"
    return results, errors


def queued_beside_redis_py(method, args, kwargs):
    """Queue ``method(*args, **kwargs)`` on a minikv pipeline and on
    redis-py's (which queues without connecting), check that both queue the
    same arguments (encoded alike), and return the options each queued:
    ``(minikv's, redis-py's)``, for the caller to compare."""
    encode = make_encoder("utf-8", "strict")
    reference = redis.client.Pipeline(redis.ConnectionPool(), {}, True, None)
    getattr(reference, method)(*args, **kwargs)
    pipe = minikv.Redis().pipeline()
    getattr(pipe, method)(*args, **kwargs)
    (expected_args, expected_options), = reference.command_stack
    (queued_args, queued_options), = pipe.command_stack
    assert [encode(arg) for arg in queued_args] == [encode(arg) for arg in expected_args]
    return queued_options, expected_options


def check_lock_ttl_steps(lock, client):
    """redis-py's ``Lock``, held with timeout=10: extend(5) adds to the TTL,
    extend(30, replace_ttl=True) replaces it, reacquire() restarts the
    timeout — each read back with PTTL on ``client``."""
    assert lock.extend(5) is True
    assert 14_000 < client.pttl(lock.name) <= 15_000
    assert lock.extend(30, replace_ttl=True) is True
    assert 29_000 < client.pttl(lock.name) <= 30_000
    assert lock.reacquire() is True
    assert 9_000 < client.pttl(lock.name) <= 10_000
