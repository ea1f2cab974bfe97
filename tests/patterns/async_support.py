"""The async twin of ``backend`` (tests/patterns/conftest.py) for the async
patterns; a test module loads it with ``pytest_plugins = ["async_support"]``.

``async_backend`` is parametrized: ``minikv`` is a ``minikv.asyncio.Redis``
on a manual clock (``await advance(s)`` ticks it: no sleeping), ``redis``
is a ``redis.asyncio.Redis`` on the private redis-server, flushed first
(``await advance(s)`` sleeps for real with ``asyncio.sleep``, so tests keep
their periods short there). ``.client``, ``.kind``, ``.embedded``,
``.clock`` (None on redis), ``.new_client(**kwargs)``: another async client
on the same store or server, closed at the end of the test.
"""
import pytest_asyncio
import redis
import redis.asyncio
from backends import AsyncBackend

import minikv
import minikv.asyncio


@pytest_asyncio.fixture(params=["minikv", "redis"])
async def async_backend(request):
    made = []
    if request.param == "minikv":
        clock = minikv.ManualClock(start=1_700_000_000)
        client = minikv.asyncio.Redis(clock=clock)

        def new_client(**kwargs):
            other = minikv.asyncio.Redis(store=client.store, **kwargs)
            made.append(other)
            return other
    else:
        clock = None
        port = request.getfixturevalue("redis_port")
        admin = redis.Redis(port=port)
        admin.flushall()
        admin.close()
        client = redis.asyncio.Redis(port=port)

        def new_client(**kwargs):
            other = redis.asyncio.Redis(port=port, **kwargs)
            made.append(other)
            return other
    yield AsyncBackend(request.param, client, clock, new_client)
    for other in made:
        await other.aclose()
    await client.aclose()
