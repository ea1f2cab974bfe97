"""Pattern tests run every body on both kinds of client.

``backend`` is parametrized: ``minikv`` is an embedded client on a manual
clock (``advance`` ticks it: no sleeping), ``redis`` is redis-py on the
private redis-server (``advance`` sleeps for real, so tests keep their
periods short there). ``backend.client`` is the client, ``backend.kind``
says which, ``backend.new_client()`` another client on the same data.
"""
import time

import pytest

import minikv


class Backend:
    def __init__(self, kind, client, clock, new_client):
        self.kind = kind
        self.client = client
        self.clock = clock
        self.new_client = new_client

    @property
    def embedded(self):
        return self.kind == "minikv"

    def advance(self, seconds):
        """Let ``seconds`` pass: a manual clock tick, or a real sleep."""
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds)


@pytest.fixture(params=["minikv", "redis"])
def backend(request):
    if request.param == "minikv":
        clock = minikv.ManualClock(start=1_700_000_000)
        client = minikv.Redis(clock=clock)
        request.addfinalizer(client.close)

        def new_client(**kwargs):
            return minikv.Redis(store=client.store, **kwargs)
        return Backend("minikv", client, clock, new_client)
    import redis

    port = request.getfixturevalue("redis_port")
    client = redis.Redis(port=port)
    client.flushall()
    request.addfinalizer(client.close)

    def new_client(**kwargs):
        other = redis.Redis(port=port, **kwargs)
        request.addfinalizer(other.close)
        return other
    return Backend("redis", client, None, new_client)
