"""Pub/sub on the asyncio client, against redis.asyncio on the real server.

The ``ar`` tests run one body on minikv.asyncio and on redis.asyncio:
confirmations and messages, get_message's timeout, listen() as an async
iterator, run() with plain and coroutine handlers, and publishes from
another connection, a plain thread and another event loop. The minikv-only
tests cover cancellation of a waiting read, a second concurrent reader,
the output-buffer overflow and closing.
"""
import asyncio
import threading

import pytest
import redis.asyncio
from asyncio_support import is_minikv, port_of, sync_twin
from redis.exceptions import ConnectionError, PubSubError

import minikv
import minikv.asyncio

# the ar, ard, another and loop_thread fixtures
pytest_plugins = ["asyncio_fixtures"]


def subscribe_message(kind, name, count):
    return {"type": kind, "pattern": None, "channel": name, "data": count}


def message(channel, data, pattern=None):
    return {"type": "pmessage" if pattern else "message", "pattern": pattern,
            "channel": channel, "data": data}


@pytest.mark.asyncio
async def test_subscribe_publish_get_message(ar, another):
    publisher = another()
    pubsub = ar.pubsub()
    with pytest.raises(RuntimeError, match="pubsub connection not set"):
        await pubsub.get_message(timeout=0.01)
    assert pubsub.subscribed is False
    await pubsub.subscribe("news", "sport")
    assert pubsub.subscribed is True
    assert await pubsub.get_message(timeout=1) == subscribe_message("subscribe", b"news", 1)
    assert await pubsub.get_message(timeout=1) == subscribe_message("subscribe", b"sport", 2)
    assert await pubsub.get_message(timeout=0.01) is None  # nothing more: waits, then None
    assert await publisher.publish("news", "hello") == 1
    assert await pubsub.get_message(timeout=1) == message(b"news", b"hello")
    await pubsub.psubscribe("s*")
    assert await pubsub.get_message(timeout=1) == subscribe_message("psubscribe", b"s*", 3)
    assert await publisher.publish("sport", "goal") == 2
    assert await pubsub.get_message(timeout=1) == message(b"sport", b"goal")
    assert await pubsub.get_message(timeout=1) == message(b"sport", b"goal", pattern=b"s*")
    await pubsub.unsubscribe()
    await pubsub.punsubscribe()
    received = [await pubsub.get_message(timeout=1) for _ in range(3)]
    assert sorted(item["channel"] for item in received) == [b"news", b"s*", b"sport"]
    assert received[-1]["data"] == 0
    assert pubsub.subscribed is False
    await pubsub.aclose()


@pytest.mark.asyncio
async def test_ignore_subscribe_messages_and_ping(ar, another):
    publisher = another()
    async with ar.pubsub(ignore_subscribe_messages=True) as pubsub:
        await pubsub.subscribe("c")
        await pubsub.ping()
        assert await pubsub.get_message(timeout=1) is None  # the confirmation, ignored
        assert await pubsub.get_message(timeout=1) == {"type": "pong", "pattern": None,
                                                       "channel": None, "data": b""}
        await publisher.publish("c", "x")
        assert await pubsub.get_message(timeout=1) == message(b"c", b"x")


@pytest.mark.asyncio
async def test_decoded_messages(ard):
    pubsub = ard.pubsub()
    await pubsub.subscribe("é")
    assert await pubsub.get_message(timeout=1) == subscribe_message("subscribe", "é", 1)
    await ard.publish("é", "ü")
    assert await pubsub.get_message(timeout=1) == message("é", "ü")
    assert pubsub.channels == {"é": None}
    await pubsub.aclose()


@pytest.mark.asyncio
async def test_get_message_waits_for_a_publish_from_a_plain_thread(ar):
    pubsub = ar.pubsub()
    await pubsub.subscribe("c")
    await pubsub.get_message(timeout=1)
    publisher = sync_twin(ar)
    thread = threading.Timer(0.02, publisher.publish, ("c", "from a thread"))
    thread.start()
    # timeout=None waits for ever, without blocking the loop
    assert await asyncio.wait_for(pubsub.get_message(timeout=None), 10) == \
        message(b"c", b"from a thread")
    thread.join()
    publisher.close()
    await pubsub.aclose()


@pytest.mark.asyncio
async def test_get_message_woken_by_another_loop_in_another_thread(ar, loop_thread):
    pubsub = ar.pubsub()
    await pubsub.subscribe("c")
    await pubsub.get_message(timeout=1)

    async def publish_there():
        await asyncio.sleep(0.02)
        client = (minikv.asyncio.Redis(store=ar.store) if is_minikv(ar)
                  else redis.asyncio.Redis(port=port_of(ar)))
        try:
            return await client.publish("c", "from another loop")
        finally:
            await client.aclose()

    published = asyncio.wrap_future(loop_thread.run_coroutine(publish_there()))
    assert await asyncio.wait_for(pubsub.get_message(timeout=30), 10) == \
        message(b"c", b"from another loop")
    assert await published == 1
    await pubsub.aclose()


@pytest.mark.asyncio
async def test_listen_is_an_async_iterator(ar, another):
    publisher = another()
    pubsub = ar.pubsub()
    await pubsub.subscribe("c")

    async def publish_later():
        await asyncio.sleep(0.01)
        await publisher.publish("c", "1")
        await publisher.publish("c", "2")

    task = asyncio.create_task(publish_later())
    received = []
    async for item in pubsub.listen():
        received.append(item)
        if item["data"] == b"2":
            await pubsub.unsubscribe("c")
    await task
    assert received == [subscribe_message("subscribe", b"c", 1), message(b"c", b"1"),
                        message(b"c", b"2"), subscribe_message("unsubscribe", b"c", 0)]
    await pubsub.aclose()


@pytest.mark.asyncio
async def test_run_feeds_plain_and_coroutine_handlers(ar, another):
    publisher = another()
    pubsub = ar.pubsub()
    plain, awaited = [], []
    both = asyncio.Event()

    async def on_pattern(item):
        awaited.append(item)
        await asyncio.sleep(0)
        both.set()

    await pubsub.subscribe(news=plain.append)
    await pubsub.psubscribe(**{"p*": on_pattern})
    task = asyncio.create_task(pubsub.run(poll_timeout=0.05))
    await asyncio.sleep(0.01)
    await publisher.publish("news", "a")
    await publisher.publish("pattern", "b")
    await asyncio.wait_for(both.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert plain == [message(b"news", b"a")]
    assert awaited == [message(b"pattern", b"b", pattern=b"p*")]
    await pubsub.aclose()


@pytest.mark.asyncio
async def test_run_needs_a_handler_for_every_channel(ar):
    pubsub = ar.pubsub()
    await pubsub.subscribe("without")
    with pytest.raises(PubSubError, match="^Channel: 'b'without'' has no handler registered$"):
        await pubsub.run()
    await pubsub.aclose()


# -- minikv only -----------------------------------------------------------------------
@pytest.mark.asyncio
async def test_cancelled_read_leaves_the_pubsub_usable():
    client = minikv.asyncio.Redis()
    pubsub = client.pubsub()
    await pubsub.subscribe("c")
    assert await pubsub.get_message(timeout=1) == subscribe_message("subscribe", b"c", 1)
    reader = asyncio.create_task(pubsub.get_message(timeout=None))
    await asyncio.sleep(0.01)
    assert not reader.done()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    await client.publish("c", "kept")
    assert await pubsub.get_message(timeout=1) == message(b"c", b"kept")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(pubsub.get_message(timeout=None), 0.01)
    await client.publish("c", "still")
    assert await pubsub.get_message(timeout=1) == message(b"c", b"still")


@pytest.mark.asyncio
async def test_one_reader_at_a_time():
    client = minikv.asyncio.Redis()
    pubsub = client.pubsub()
    await pubsub.subscribe("c")
    await pubsub.get_message(timeout=1)
    first = asyncio.create_task(pubsub.get_message(timeout=None))
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="another coroutine is already reading"):
        await pubsub.get_message(timeout=1)
    await client.publish("c", "x")
    assert await asyncio.wait_for(first, 10) == message(b"c", b"x")


@pytest.mark.asyncio
async def test_overflow_disconnects_then_resubscribes():
    client = minikv.asyncio.Redis()
    pubsub = client.pubsub(output_buffer_limit=200)
    await pubsub.subscribe("c")
    for _ in range(10):
        await client.publish("c", "x" * 30)
    with pytest.raises(ConnectionError, match="output buffer limit"):
        await pubsub.get_message(timeout=1)
    # the next read reconnects and subscribes again
    assert await pubsub.get_message(timeout=1) == subscribe_message("subscribe", b"c", 1)
    assert await client.publish("c", "after") == 1
    assert await pubsub.get_message(timeout=1) == message(b"c", b"after")


@pytest.mark.asyncio
async def test_aclose_leaves_the_bus_and_wakes_nothing_later():
    client = minikv.asyncio.Redis()
    sync = minikv.Redis(store=client.store)
    pubsub = client.pubsub()
    await pubsub.subscribe("c")
    await pubsub.psubscribe("p*")
    assert sync.pubsub_numsub("c") == [(b"c", 1)] and sync.pubsub_numpat() == 1
    await pubsub.aclose()
    assert sync.pubsub_numsub("c") == [(b"c", 0)] and sync.pubsub_numpat() == 0
    assert pubsub.subscribed is False
    assert sync.publish("c", "nobody") == 0


@pytest.mark.asyncio
async def test_sync_and_async_subscribers_on_one_store():
    client = minikv.asyncio.Redis()
    sync_pubsub = minikv.Redis(store=client.store).pubsub(ignore_subscribe_messages=True)
    async_pubsub = client.pubsub(ignore_subscribe_messages=True)
    sync_pubsub.subscribe("c")
    await async_pubsub.subscribe("c")
    assert sync_pubsub.get_message(timeout=1) is None  # the confirmations, ignored
    assert await async_pubsub.get_message(timeout=1) is None
    assert await client.publish("c", "both") == 2
    assert sync_pubsub.get_message(timeout=1) == message(b"c", b"both")
    assert await async_pubsub.get_message(timeout=1) == message(b"c", b"both")
    sync_pubsub.close()


@pytest.mark.asyncio
async def test_aclose_ends_a_waiting_read_and_listen():
    client = minikv.asyncio.Redis()
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("c")
    assert await pubsub.get_message(timeout=1) is None  # the confirmation

    async def listen_all():
        return [item async for item in pubsub.listen()]

    listener = asyncio.create_task(listen_all())
    await asyncio.sleep(0.01)
    assert not listener.done()
    await pubsub.aclose()
    assert await asyncio.wait_for(listener, 10) == []
