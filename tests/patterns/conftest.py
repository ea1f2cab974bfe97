"""Pattern tests run every body on both kinds of client.

``backend`` is parametrized: ``minikv`` is an embedded client on a manual
clock (``advance`` ticks it: no sleeping), ``redis`` is redis-py on the
private redis-server (``advance`` sleeps for real, so tests keep their
periods short there). ``backend.client`` is the client, ``backend.kind``
says which, ``backend.new_client()`` another client on the same data.
"""
import pytest
from backends import Backend

import minikv


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
