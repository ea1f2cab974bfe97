"""The pytest plugin of minikv.testing, run in inner pytest sessions
(pytester): its fixtures, the ``minikv_patch`` marker, fresh stores per test,
time travel through ``minikv_clock``, and its entry point."""
import contextlib
import sys
from pathlib import Path

import pytest

# Imported in the outer session on purpose: an in-process pytester run drops
# the modules first imported inside it when it ends, while the hooks that
# minikv.testing installs once keep the client classes they were built
# from; a later test of the outer session must see those same classes.
import minikv.testing  # noqa: F401

with contextlib.suppress(ImportError):
    import minikv.asyncio  # noqa: F401

pytest_plugins = ["pytester"]

PLUGIN = "minikv.testing.pytest_plugin"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_inner(pytester):
    """Run the inner session with the plugin loaded as a module (``-p``),
    whether or not the installed entry point (``minikv``) would load it too:
    blocking the entry point's name avoids registering the plugin twice."""
    def run(source, *args):
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
        pytester.makepyfile(source)
        return pytester.runpytest_inprocess("-p", "no:minikv", "-p", PLUGIN,
                                            "-p", "no:cacheprovider", "--strict-markers", *args)
    return run


def test_fixtures_give_a_fresh_store_per_test(run_inner):
    result = run_inner("""
        import minikv

        def test_first(minikv_redis):
            assert isinstance(minikv_redis, minikv.Redis)
            assert minikv_redis.dbsize() == 0
            minikv_redis.set("left", "behind")

        def test_second(minikv_redis):
            assert minikv_redis.dbsize() == 0
    """)
    result.assert_outcomes(passed=2)


def test_minikv_clock_is_manual_and_drives_minikv_redis(run_inner):
    result = run_inner("""
        import time
        import minikv

        def test_ttl(minikv_clock, minikv_redis):
            assert isinstance(minikv_clock, minikv.ManualClock)
            assert abs(minikv_clock.time() - time.time()) < 3600
            assert minikv_redis.store.clock is minikv_clock
            minikv_redis.set("k", "v", ex=60)
            minikv_clock.advance(60.001)
            assert minikv_redis.get("k") is None
    """)
    result.assert_outcomes(passed=1)


def test_marker_patches_redis_py_for_the_test(run_inner):
    result = run_inner("""
        import pytest
        import redis
        import minikv

        def remember(user):
            # application code: builds its own client
            client = redis.Redis.from_url("redis://localhost:6379/0")
            client.set("user", user, ex=30)

        def recall():
            return redis.Redis().get("user")

        @pytest.mark.minikv_patch
        def test_patched(minikv_clock):
            remember("ada")
            assert isinstance(redis.Redis(), minikv.Redis)
            assert recall() == b"ada"
            minikv_clock.advance(30.001)
            assert recall() is None

        @pytest.mark.minikv_patch
        def test_fresh_servers_per_test():
            assert recall() is None

        def test_unmarked_tests_see_redis_py():
            assert type(redis.Redis()) is redis.client.Redis
    """)
    result.assert_outcomes(passed=3)


def test_marker_applies_before_the_tests_own_fixtures(run_inner):
    result = run_inner("""
        import pytest
        import redis
        import minikv

        @pytest.fixture
        def app_client():
            return redis.Redis()

        @pytest.mark.minikv_patch
        def test_fixture_client_is_patched(app_client, minikv_patch):
            assert isinstance(app_client, minikv.Redis)
            app_client.set("k", "v")
            assert minikv_patch.client().get("k") == b"v"
    """)
    result.assert_outcomes(passed=1)


def test_marker_on_a_class_applies_to_its_tests(run_inner):
    result = run_inner("""
        import pytest
        import redis
        import minikv

        @pytest.mark.minikv_patch
        class TestPatched:
            def test_one(self):
                assert isinstance(redis.Redis(), minikv.Redis)

            def test_two(self):
                assert isinstance(redis.StrictRedis(), minikv.Redis)
    """)
    result.assert_outcomes(passed=2)


def test_minikv_patch_fixture_shares_the_clock(run_inner):
    result = run_inner("""
        import redis

        def test_patch(minikv_patch, minikv_clock):
            assert minikv_patch.clock is minikv_clock
            client = redis.Redis(db=2)
            client.set("k", "v", px=100)
            assert minikv_patch.client(db=2).get("k") == b"v"
            minikv_clock.advance(0.101)
            assert client.get("k") is None

        def test_restored_after_a_patched_test():
            assert type(redis.Redis()) is redis.client.Redis
    """)
    result.assert_outcomes(passed=2)


def test_patch_is_restored_when_the_test_fails(run_inner):
    result = run_inner("""
        import pytest
        import redis

        @pytest.mark.minikv_patch
        def test_fails():
            redis.Redis().set("k", "v")
            assert False, "deliberate"

        def test_after():
            assert type(redis.Redis()) is redis.client.Redis
    """)
    result.assert_outcomes(passed=1, failed=1)


def test_marker_is_registered(run_inner):
    result = run_inner("""
        def test_nothing():
            pass
    """, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.minikv_patch: *patch_redis()*"])


def test_async_fixture(run_inner):
    result = run_inner("""
        import pytest

        @pytest.mark.asyncio
        async def test_async(minikv_async_redis, minikv_clock):
            assert await minikv_async_redis.set("k", "v", ex=10) is True
            assert await minikv_async_redis.get("k") == b"v"
            minikv_clock.advance(10.001)
            assert await minikv_async_redis.get("k") is None

        @pytest.mark.asyncio
        async def test_fresh(minikv_async_redis):
            assert await minikv_async_redis.dbsize() == 0
    """)
    result.assert_outcomes(passed=2)


def test_entry_point_names_the_plugin():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    with open(ROOT / "pyproject.toml", "rb") as file:
        project = tomllib.load(file)["project"]
    assert project["entry-points"]["pytest11"] == {"minikv": PLUGIN}
    __import__(PLUGIN)
    assert PLUGIN in sys.modules


def test_installed_entry_point_loads_the_plugin(pytester):
    from importlib.metadata import entry_points

    installed = [ep for ep in entry_points(group="pytest11") if ep.name == "minikv"]
    if not installed:
        pytest.skip("minikv is not pip-installed: no pytest11 entry point to load")
    assert installed[0].value == PLUGIN
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile("""
        def test_uses_plugin_fixture(minikv_redis):
            assert minikv_redis.ping() is True
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
