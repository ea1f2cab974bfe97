"""Fixtures of the asyncio client's tests; a test module loads them with
``pytest_plugins = ["asyncio_fixtures"]``.

``ar`` (and ``ard``, decode_responses=True) is parametrized like ``r``: the
same async test body runs against ``minikv.asyncio.Redis`` and against
``redis.asyncio.Redis`` on the private redis-server (flushed first).
``another`` builds more async clients of the same kind on the same store
or server (other connections); ``loop_thread`` is another event loop
running in another thread.
"""
import pytest
import pytest_asyncio
import redis
import redis.asyncio
from asyncio_support import LoopThread, is_minikv, port_of

import minikv
import minikv.asyncio


async def _make_async_client(kind, request, **kwargs):
    if kind == "minikv":
        return minikv.asyncio.Redis(**kwargs)
    port = request.getfixturevalue("redis_port")
    admin = redis.Redis(port=port)
    admin.flushall()
    admin.close()
    return redis.asyncio.Redis(port=port, **kwargs)


@pytest_asyncio.fixture(params=["minikv", "redis"])
async def ar(request):
    """The same async test body on minikv.asyncio and on redis.asyncio."""
    client = await _make_async_client(request.param, request)
    yield client
    await client.aclose()


@pytest_asyncio.fixture(params=["minikv", "redis"])
async def ard(request):
    """As ``ar`` with decode_responses=True."""
    client = await _make_async_client(request.param, request, decode_responses=True)
    yield client
    await client.aclose()


@pytest_asyncio.fixture
async def another(ar):
    """``another(**kwargs)``: one more async client on ``ar``'s store or server."""
    made = []

    def build(**kwargs):
        if is_minikv(ar):
            client = minikv.asyncio.Redis(store=ar.store, **kwargs)
        else:
            client = redis.asyncio.Redis(port=port_of(ar), **kwargs)
        made.append(client)
        return client

    yield build
    if not is_minikv(ar):  # leave no client blocked on the shared server
        admin = redis.Redis(port=port_of(ar))
        for info in admin.client_list():
            if "b" in info["flags"]:
                admin.client_unblock(info["id"])
        admin.close()
    for client in made:
        await client.aclose()


@pytest.fixture
def loop_thread():
    """Another event loop, running in another thread."""
    thread = LoopThread()
    yield thread
    thread.stop()
