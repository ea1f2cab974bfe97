"""Helpers shared by the asyncio tests (the client's fixtures: asyncio_fixtures.py)."""
import asyncio
import doctest
import functools
import threading

import pytest
import redis

import minikv

WAIT_SECONDS = 10


def is_minikv(client):
    return type(client).__module__.startswith("minikv")


def port_of(client):
    return client.connection_pool.connection_kwargs["port"]


def sync_twin(client):
    """A sync client on the same store or server as the async ``client``."""
    if is_minikv(client):
        return minikv.Redis(store=client.store)
    return redis.Redis(port=port_of(client))


async def blocked_count(client):
    return (await client.info("clients"))["blocked_clients"]


async def wait_blocked(client, count):
    """Yield to the loop (test side only) until ``count`` calls are blocked."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while await blocked_count(client) != count:
        assert loop.time() < deadline, f"expected {count} blocked clients"
        await asyncio.sleep(0.002)


def bounded(seconds=3 * WAIT_SECONDS):
    """``@bounded()``: an asyncio test that a bug fails after ``seconds``
    instead of hanging."""
    def decorate(test):
        @functools.wraps(test)
        async def run(*args, **kwargs):
            return await asyncio.wait_for(test(*args, **kwargs), seconds)
        return pytest.mark.asyncio(run)
    return decorate


async def wait_until(predicate, what):
    """Yield to the loop (test side only) until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.002)


async def settle(task):
    """Await a cancelled task; True if it ended cancelled."""
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


def class_doctests(module, *classes):
    """Run the examples in the docstrings of ``classes`` (and their methods)
    with ``module``'s globals; doctest's ``(failed, attempted)`` counts."""
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    for cls in classes:
        for test in finder.find(cls, cls.__name__, globs=vars(module)):
            runner.run(test)
    return runner.summarize(verbose=False)


class LoopThread(threading.Thread):
    """An event loop of its own in a thread of its own; ``run_coroutine``
    hands it a coroutine and returns a concurrent.futures.Future."""

    def __init__(self):
        super().__init__(daemon=True)
        self.loop = asyncio.new_event_loop()
        self.start()

    def run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run_coroutine(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.join(WAIT_SECONDS)
        self.loop.close()
