"""Test harness: a private real redis-server as the referee, both backends.

- ``redis_port`` starts ``redis-server`` from PATH on a free port with no
  persistence, once per session, and kills it at the end. Without a
  redis-server the differential tests are skipped — unless
  ``MINIKV_REQUIRE_REDIS=1`` (CI sets it), where that is a failure.
- ``r`` is parametrized: the same test body runs against ``minikv.Redis``
  and against ``redis.Redis`` on the private server (flushed first), so
  every literal expectation in a test is checked against real Redis too.
- ``MINIKV_EXPECT_BACKEND`` (set by .ci/run) fails the run if the backend
  that loaded is not the one the run meant to test.
"""
import faulthandler
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, settings

import minikv
from helpers import blocking_calls

settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("nightly", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REQUIRE_REDIS = os.environ.get("MINIKV_REQUIRE_REDIS") == "1"


def pytest_report_header(config):
    return f"minikv backend: {minikv.BACKEND}; redis-server: {shutil.which('redis-server')}"


def pytest_sessionstart(session):
    expected = os.environ.get("MINIKV_EXPECT_BACKEND")
    if expected and expected != minikv.BACKEND:
        raise pytest.UsageError(
            f"MINIKV_EXPECT_BACKEND={expected} but minikv loaded the {minikv.BACKEND} backend")


EXIT_WATCHDOG_SECONDS = 60


def pytest_unconfigure(config):
    """A thread a failed test left running (a script spinning on a manual
    clock, a worker never told to stop) would hold the interpreter at exit
    forever after the report is printed. From here on, a process still alive
    after a minute prints every thread's stack and exits with status 1."""
    faulthandler.dump_traceback_later(EXIT_WATCHDOG_SECONDS, exit=True, file=sys.__stderr__)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_port():
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not on PATH (install Debian's redis-server)"
        if REQUIRE_REDIS:
            pytest.fail(message)
        pytest.skip(message)
    import redis

    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("private redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield port
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def real_redis(redis_port):
    """A redis-py client on the private server, every database empty."""
    import redis

    client = redis.Redis(port=redis_port)
    client.flushall()
    client.config_set("notify-keyspace-events", "")
    yield client
    client.close()


def _make_client(kind, request, **kwargs):
    if kind == "minikv":
        client = minikv.Redis(**kwargs)
        request.addfinalizer(client.close)
        return client
    import redis

    port = request.getfixturevalue("redis_port")
    admin = redis.Redis(port=port)
    admin.flushall()
    admin.close()
    client = redis.Redis(port=port, **kwargs)
    request.addfinalizer(client.close)
    return client


@pytest.fixture(params=["minikv", "redis"])
def r(request):
    """The same test body on minikv and on real Redis."""
    return _make_client(request.param, request)


@pytest.fixture(params=["minikv", "redis"])
def rd(request):
    """As ``r`` with decode_responses=True."""
    return _make_client(request.param, request, decode_responses=True)


@pytest.fixture
def client_factory(request):
    """Build more clients of the same kind as ``r`` for the current test."""
    def build(kind, **kwargs):
        return _make_client(kind, request, **kwargs)
    return build


@pytest.fixture
def clock():
    return minikv.ManualClock(start=1_700_000_000)


@pytest.fixture
def mr(clock):
    """A minikv client on a manual clock, for expiry tests."""
    client = minikv.Redis(clock=clock)
    yield client
    client.close()


@pytest.fixture
def block(r):
    """``block("blpop", "k", 0)``: that call on a new client of ``r``'s
    server or store, returned (a started helpers.Call) once it is blocked."""
    with blocking_calls(r) as start:
        yield start
