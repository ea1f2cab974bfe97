"""minikv under real third-party code that builds or takes redis-py clients:
redis-py's own Lock, python-redis-lock, rq and Flask-Session, run unchanged
against ``minikv.Redis`` or under ``patch_redis()`` (which the libraries'
``isinstance(client, redis.Redis)`` checks need). A ManualClock stands in
for waiting wherever a lock or session must expire."""
import asyncio
import signal
import threading
import time
from datetime import timedelta

import pytest
import redis
from helpers import check_lock_ttl_steps
from redis.exceptions import LockError, LockNotOwnedError

import minikv
from minikv.testing import patch_redis

START = 1_700_000_000


@pytest.fixture
def clock():
    return minikv.ManualClock(start=START)


@pytest.fixture
def fake(clock):
    """patch_redis() on the manual clock, for the length of a test."""
    with patch_redis(clock=clock) as patch:
        yield patch


def wait_until(condition, timeout=30.0):
    """Poll ``condition`` (for another thread's effect); False on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


# -- redis-py's Lock -------------------------------------------------------------
@pytest.fixture(params=["minikv.Redis", "patched redis.Redis"])
def lock_client(request, clock):
    """redis-py's Lock takes any client: a plain minikv.Redis, or the
    redis.Redis that code under patch_redis() builds."""
    if request.param == "minikv.Redis":
        client = minikv.Redis(clock=clock)
        yield client
        client.close()
    else:
        with patch_redis(clock=clock):
            yield redis.Redis()


def test_redis_py_lock_acquire_extend_release(lock_client):
    lock = lock_client.lock("resource", timeout=10)
    assert lock.acquire(blocking=False) is True
    assert lock.locked() and lock.owned()
    assert 9_000 < lock_client.pttl("resource") <= 10_000
    check_lock_ttl_steps(lock, lock_client)
    lock.release()
    assert not lock.locked()
    assert lock_client.exists("resource") == 0


def test_redis_py_lock_is_exclusive(lock_client):
    first = redis.lock.Lock(lock_client, "resource", timeout=10)
    second = redis.lock.Lock(lock_client, "resource", timeout=10)
    assert first.acquire(blocking=False)
    assert second.acquire(blocking=False) is False
    # Blocking with a deadline gives up (wall-clock sleeps of redis-py).
    assert second.acquire(blocking=True, blocking_timeout=0.05) is False
    assert not second.owned()
    with pytest.raises(LockError, match="not owned or is already unlocked"):
        second.release()
    first.release()
    assert second.acquire(blocking=False) is True
    second.release()


def test_redis_py_lock_expires_with_time_travel(lock_client, clock):
    lock = lock_client.lock("resource", timeout=5)
    assert lock.acquire(blocking=False)
    clock.advance(5.001)
    assert not lock.locked()
    with pytest.raises(LockNotOwnedError, match="Cannot extend a lock that's no longer owned"):
        lock.extend(5)
    other = lock_client.lock("resource", timeout=5)
    assert other.acquire(blocking=False)
    with pytest.raises(LockNotOwnedError, match="Cannot release a lock that's no longer owned"):
        lock.release()
    assert other.owned()
    other.release()


def test_redis_py_lock_as_context_manager(lock_client):
    with lock_client.lock("resource", timeout=10) as held:
        assert held.owned()
        assert lock_client.get("resource") == held.local.token
    assert lock_client.exists("resource") == 0


def test_redis_py_asyncio_lock_expires_with_time_travel(clock):
    import redis.asyncio
    from redis.asyncio.lock import Lock as AsyncLock

    async def main():
        with patch_redis(clock=clock):
            client = redis.asyncio.Redis()
            lock = client.lock("resource", timeout=5)
            assert await lock.acquire(blocking=False)
            assert await lock.owned()
            assert await lock.extend(5)
            assert 9_000 < await client.pttl("resource") <= 10_000
            clock.advance(10.001)
            assert not await lock.locked()
            other = AsyncLock(client, "resource", timeout=5)
            assert await other.acquire(blocking=False)
            with pytest.raises(LockNotOwnedError):
                await lock.release()
            await other.release()
            return await client.exists("resource")

    assert asyncio.run(main()) == 0


# -- python-redis-lock ---------------------------------------------------------
def test_python_redis_lock_requires_a_redis_py_client(clock):
    import redis_lock

    # Its default strict mode checks isinstance(client, StrictRedis): a
    # plain minikv.Redis is refused, the client patch_redis() hands out is
    # accepted.
    with pytest.raises(ValueError, match="redis_client must be instance of StrictRedis"):
        redis_lock.Lock(minikv.Redis(clock=clock), "job")
    with patch_redis(clock=clock):
        assert redis_lock.Lock(redis.StrictRedis(), "job").acquire(blocking=False)


def test_python_redis_lock_acquire_extend_release(fake):
    import redis_lock

    client = redis.Redis()
    lock = redis_lock.Lock(client, "job", expire=30)
    assert lock.acquire(blocking=False) is True
    assert lock.locked()
    assert client.ttl("lock:job") == 30
    assert redis_lock.Lock(client, "job", expire=30).acquire(blocking=False) is False
    lock.extend(expire=60)
    assert client.ttl("lock:job") == 60
    lock.release()
    assert not lock.locked()
    # The release signal: a one-element list that expires on its own.
    assert client.lrange("lock-signal:job", 0, -1) == [b"1"]
    assert 0 < client.pttl("lock-signal:job") <= 1000
    with pytest.raises(redis_lock.NotAcquired):
        lock.release()


def test_python_redis_lock_expires_with_time_travel(fake, clock):
    import redis_lock

    client = redis.Redis()
    lock = redis_lock.Lock(client, "job", expire=5)
    assert lock.acquire(blocking=False)
    clock.advance(5.001)
    assert not lock.locked()
    with pytest.raises(redis_lock.NotAcquired):
        lock.extend()
    other = redis_lock.Lock(client, "job", expire=5)
    assert other.acquire(blocking=False)
    with pytest.raises(redis_lock.NotAcquired):
        lock.release()
    other.release()


def test_python_redis_lock_waiter_is_woken_by_release(fake):
    # The waiter blocks in BLPOP on the signal list; the release script
    # pushes to it from Lua, which must wake a client blocked in another
    # thread (no clock tick involved: the manual clock never moves here).
    import redis_lock

    holder = redis_lock.Lock(redis.Redis(), "job", expire=60)
    assert holder.acquire(blocking=False)
    acquired = []
    waiter = threading.Thread(
        target=lambda: acquired.append(redis_lock.Lock(redis.Redis(), "job", expire=60).acquire()))
    waiter.start()
    admin = fake.client()
    assert wait_until(lambda: admin.info("clients")["blocked_clients"] == 1)
    holder.release()
    waiter.join(30)
    assert acquired == [True]
    assert admin.ttl("lock:job") == 60


def test_python_redis_lock_auto_renewal(fake, clock):
    import redis_lock

    client = redis.Redis()
    lock = redis_lock.Lock(client, "job", expire=1, auto_renewal=True)
    assert lock.acquire(blocking=False)
    try:
        clock.advance(0.9)
        # The library's renewal thread (every 2/3 s of wall time) runs its
        # EXTEND script, which sets the TTL back to a full second.
        assert wait_until(lambda: client.pttl("lock:job") == 1000)
    finally:
        lock.release()
    assert client.exists("lock:job") == 0


# -- rq ------------------------------------------------------------------------------
def add(a, b):
    return a + b


def record_run(value):
    """An rq job with a visible effect: it builds its own client."""
    redis.Redis().rpush("ran", value)
    return value


@pytest.fixture(autouse=True)
def rq_signal_handlers_restored():
    """rq's workers take over SIGINT and SIGTERM and leave them so: a later
    Ctrl-C or CI's SIGTERM would raise rq's StopRequested in whatever runs."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


# rq names its connection (CLIENT SETNAME, CLIENT INFO) and only warns without.
@pytest.mark.filterwarnings("error:CLIENT SETNAME command not supported")
def test_rq_worker_runs_an_enqueued_job():
    import rq

    with patch_redis() as fake:
        queue = rq.Queue("default", connection=redis.Redis())
        job = queue.enqueue(record_run, "first")
        assert job.get_status() == rq.job.JobStatus.QUEUED
        assert queue.count == 1
        assert rq.job.Job.fetch(job.id, connection=redis.Redis()).func_name.endswith("record_run")
        worker = rq.SimpleWorker([queue], connection=redis.Redis())
        worker.work(burst=True)
        assert fake.client().lrange("ran", 0, -1) == [b"first"]
        assert queue.count == 0


def test_rq_job_result_is_fetched():
    import rq

    with patch_redis():
        queue = rq.Queue("default", connection=redis.Redis())
        job = queue.enqueue(add, 2, 3)
        rq.SimpleWorker([queue], connection=redis.Redis()).work(burst=True)
        job.refresh()
        assert job.get_status() == rq.job.JobStatus.FINISHED
        assert job.return_value() == 5
        # Read back with XREAD (BLOCK): the result is there, no wait.
        assert job.latest_result(timeout=5).return_value == 5


# -- Flask-Session ---------------------------------------------------------------------
def make_app(**config):
    from flask import Flask, session
    from flask_session import Session

    app = Flask(__name__)
    app.config.update(SESSION_TYPE="redis", SECRET_KEY="test",
                      PERMANENT_SESSION_LIFETIME=timedelta(seconds=60), **config)
    Session(app)

    @app.post("/login/<name>")
    def login(name):
        session["user"] = name
        return "ok"

    @app.get("/whoami")
    def whoami():
        return session.get("user", "anonymous")

    return app


def test_flask_session_survives_requests(fake):
    app = make_app(SESSION_REDIS=redis.Redis())
    with app.test_client() as browser:
        assert browser.post("/login/ada").text == "ok"
        assert browser.get("/whoami").text == "ada"
        assert browser.get("/whoami").text == "ada"
    keys = fake.client().keys("session:*")
    assert len(keys) == 1
    assert fake.client().ttl(keys[0]) == 60
    with app.test_client() as stranger:
        assert stranger.get("/whoami").text == "anonymous"


def test_flask_session_expires_with_time_travel(fake, clock):
    app = make_app(SESSION_REDIS=redis.Redis())
    with app.test_client() as browser:
        browser.post("/login/ada")
        clock.advance(59)
        assert browser.get("/whoami").text == "ada"  # each request renews it
        clock.advance(60.001)
        assert browser.get("/whoami").text == "anonymous"


def test_flask_session_default_client_is_patched_too(fake):
    # Without SESSION_REDIS, Flask-Session builds redis.Redis() itself
    # (on localhost, with a warning): under the patch that is minikv.
    with pytest.warns(RuntimeWarning, match="No valid Redis instance provided"):
        app = make_app()
    with app.test_client() as browser:
        browser.post("/login/grace")
        assert browser.get("/whoami").text == "grace"
    assert len(fake.client().keys("session:*")) == 1
