"""pytest plugin: minikv fixtures and the ``minikv_patch`` marker.

Registered through the ``pytest11`` entry point, so installing minikv makes
these available to every test suite (or load it with
``-p minikv.testing.pytest_plugin``). All fixtures are function-scoped:
every test starts with fresh stores.

- ``minikv_clock`` — a ``minikv.ManualClock`` standing at the wall time the
  test started; ``minikv_clock.advance(seconds)`` is time travel for every
  store built on it: keys expire, blocked calls time out, rate-limit
  windows and session TTLs age.
- ``minikv_redis`` — a ``minikv.Redis`` on a fresh store on that clock.
- ``minikv_async_redis`` — the same as ``minikv.asyncio.Redis``.
- ``minikv_patch`` — ``patch_redis(clock=minikv_clock)`` active for the
  test (see minikv/testing/__init__.py): redis-py clients the code under
  test builds are minikv clients on fresh stores on the same clock. The
  value is the ``RedisPatch``; ``minikv_patch.client()`` reaches the data
  ``redis.Redis()`` sees.
- ``@pytest.mark.minikv_patch`` — the same as requesting ``minikv_patch``.

The clock starts at the wall time rather than a fixed date because the code
under test often mixes ``time.time()`` with Redis TTLs (``EXPIREAT now +
ttl``); a clock far from it would make such code see everything expired.

minikv and redis-py are imported when a fixture is first used, not when
pytest loads the plugin: a project that has minikv installed without
redis-py still starts.
"""
import pytest

MARKER = "minikv_patch"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{MARKER}: run the test under minikv.testing.patch_redis(): redis-py clients it "
        f"builds are minikv clients on fresh stores on the minikv_clock")


@pytest.fixture
def minikv_clock():
    """A ``minikv.ManualClock`` at the current wall time; ``advance()`` it."""
    from minikv.clock import ManualClock

    return ManualClock()


@pytest.fixture
def minikv_redis(minikv_clock):
    """A ``minikv.Redis`` on a fresh store on ``minikv_clock``."""
    from minikv.client import Redis

    client = Redis(clock=minikv_clock)
    yield client
    client.close()


@pytest.fixture
def minikv_async_redis(minikv_clock):
    """A ``minikv.asyncio.Redis`` on a fresh store on ``minikv_clock``."""
    try:
        from minikv.asyncio import Redis
    except ImportError as exc:
        pytest.skip(f"minikv.asyncio is not available: {exc}")
    client = Redis(clock=minikv_clock)
    yield client
    # Nothing to await: the private store only has its expiry thread to stop.
    client.store.close()


@pytest.fixture
def minikv_patch(minikv_clock):
    """``patch_redis(clock=minikv_clock)`` for the test; its ``RedisPatch``."""
    from minikv.testing import patch_redis

    with patch_redis(clock=minikv_clock) as patch:
        yield patch


@pytest.fixture(autouse=True)
def _minikv_patch_marker(request):
    """Apply ``minikv_patch`` to tests marked with it (autouse fixtures are
    set up before the test's own, so its fixtures see the patch too)."""
    if request.node.get_closest_marker(MARKER) is not None:
        request.getfixturevalue("minikv_patch")
