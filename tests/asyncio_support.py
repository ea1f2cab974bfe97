"""Helpers shared by the asyncio client's tests (fixtures: asyncio_fixtures.py)."""
import asyncio
import threading

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


async def settle(task):
    """Await a cancelled task; True if it ended cancelled."""
    try:
        await task
    except asyncio.CancelledError:
        return True
    return False


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
