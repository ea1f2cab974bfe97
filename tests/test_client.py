"""Client construction, store sharing, databases and the exception tree."""
import subprocess
import sys

import pytest
import redis

import minikv
from minikv import exceptions


def test_each_client_owns_a_private_store():
    a, b = minikv.Redis(), minikv.Redis()
    a.set("k", "v")
    assert b.get("k") is None
    assert a.store is not b.store


def test_store_sharing_spelling():
    a = minikv.Redis()
    b = minikv.Redis(store=a.store)
    a.set("k", "v")
    assert b.get("k") == b"v"
    b.close()
    assert a.get("k") == b"v"


def test_databases_are_separate_and_shared_by_index():
    a = minikv.Redis()
    a1 = minikv.Redis(store=a.store, db=1)
    a.set("k", "zero")
    a1.set("k", "one")
    assert a.get("k") == b"zero"
    assert minikv.Redis(store=a.store, db=1).get("k") == b"one"


def test_invalid_db_index():
    with pytest.raises(redis.exceptions.ResponseError, match="^DB index is out of range$"):
        minikv.Redis(db=16)


def test_redis_py_connection_arguments_are_accepted():
    r = minikv.Redis(host="localhost", port=6379, socket_timeout=5, retry_on_timeout=True,
                     health_check_interval=30, client_name="x", protocol=2)
    assert r.set("k", 1) is True
    with pytest.raises(TypeError):
        minikv.Redis(no_such_option=1)


def test_from_url_reads_db_and_decoding():
    r = minikv.Redis.from_url("redis://localhost:6379/3?decode_responses=true")
    r.set("k", "v")
    assert r.get("k") == "v"
    assert r._session.db == 3


def test_clock_and_store_conflict():
    clock = minikv.ManualClock()
    r = minikv.Redis(clock=clock)
    assert minikv.Redis(store=r.store, clock=clock).store is r.store
    with pytest.raises(ValueError):
        minikv.Redis(store=r.store, clock=minikv.ManualClock())


def test_context_manager_closes():
    with minikv.Redis() as r:
        r.set("k", "v", ex=10)
        assert r.store.expirer.running
    assert not r.store.expirer.running


def test_strict_redis_alias_and_backend_flag():
    assert minikv.StrictRedis is minikv.Redis
    assert minikv.BACKEND in ("compiled", "pure")


@pytest.mark.parametrize("name", ["RedisError", "ConnectionError", "TimeoutError",
                                  "ResponseError", "DataError", "PubSubError", "WatchError",
                                  "NoScriptError", "OutOfMemoryError", "ExecAbortError",
                                  "ReadOnlyError", "NoPermissionError", "BusyLoadingError",
                                  "LockError", "LockNotOwnedError"])
def test_exceptions_subclass_redis_py(name):
    ours = getattr(exceptions, name)
    assert issubclass(ours, getattr(redis.exceptions, name))
    assert issubclass(ours, exceptions.RedisError)


@pytest.mark.parametrize("reply, cls, message", [
    ("ERR syntax error", exceptions.ResponseError, "syntax error"),
    ("WRONGTYPE Operation against a key holding the wrong kind of value",
     exceptions.ResponseError, "WRONGTYPE Operation against a key holding the wrong kind of value"),
    ("EXECABORT Transaction discarded", exceptions.ExecAbortError, "Transaction discarded"),
    ("NOSCRIPT No matching script", exceptions.NoScriptError, "No matching script"),
    ("OOM command not allowed", exceptions.OutOfMemoryError, "command not allowed"),
])
def test_error_replies_map_like_redis_py(reply, cls, message):
    exc = exceptions.error_from_reply(reply)
    assert type(exc) is cls
    assert str(exc) == message


def test_engine_errors_are_catchable_as_redis_py_errors():
    r = minikv.Redis()
    r.set("k", "v")
    with pytest.raises(redis.exceptions.ResponseError):
        r.incr("k")


def test_without_redis_py_the_tree_stands_alone():
    code = (
        "import sys\n"
        "sys.modules['redis'] = None\n"
        "import minikv\n"
        "from minikv import exceptions\n"
        "assert exceptions.ResponseError.__mro__[1] is exceptions.RedisError\n"
        "r = minikv.Redis()\n"
        "r.set('k', 'v')\n"
        "try:\n"
        "    r.incr('k')\n"
        "except exceptions.ResponseError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "value is not an integer or out of range"
