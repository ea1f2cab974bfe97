"""Pub/sub across threads: delivery, wake-ups, slow readers, cleanup (minikv).

- 4 publisher threads x 4 subscriber threads, 100,000 messages in all:
  every subscriber receives every message exactly once, and each
  publisher's messages in the order it published them.
- A reader blocked in ``get_message(timeout=10)`` or ``listen()`` is woken
  by the publish itself: the tests check it returned the message while
  ``join`` waited less than that timeout, so a reader that only looked
  again when its timeout expired would fail them.
- A slow subscriber is disconnected, never blocks the publisher, and its
  next read raises ConnectionError.
- A PubSub that is closed or garbage-collected leaves the bus; workers and
  their threads end on ``stop()``.

The test side polls only to learn that a reader is already waiting
(``inbox.waiting``); the implementation never polls.
"""
import gc
import threading
import time
import weakref

import pytest
from helpers import raises
from redis.exceptions import ConnectionError

import minikv

JOIN_SECONDS = 10
PUBLISHERS = 4
SUBSCRIBERS = 4
MESSAGES = 100_000


def wait_until(predicate):
    deadline = time.monotonic() + JOIN_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)


def waiting_readers(p):
    return p._inbox.waiting


class Reader(threading.Thread):
    """Runs ``call()`` once in a thread; ``outcome()`` joins and returns it."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call = call
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.call()
        except BaseException as exc:  # handed to the test thread
            self.error = exc

    def outcome(self, join_seconds=JOIN_SECONDS / 2):
        self.join(join_seconds)
        assert not self.is_alive(), "the reader was not woken"
        if self.error is not None:
            raise self.error
        return self.result


# -- delivery under concurrency ---------------------------------------------------
def test_four_publishers_four_subscribers_every_message_once_in_order():
    r = minikv.Redis()
    per_publisher = MESSAGES // PUBLISHERS
    pubsubs = []
    for _ in range(SUBSCRIBERS):
        p = r.pubsub(ignore_subscribe_messages=True)
        p.subscribe("stream")
        pubsubs.append(p)
    start = threading.Barrier(PUBLISHERS + SUBSCRIBERS)
    received = [[] for _ in range(SUBSCRIBERS)]

    def subscribe(p, into):
        start.wait()
        for message in p.listen():
            into.append(message["data"])
            if len(into) == MESSAGES:
                return

    def publish(number):
        client = minikv.Redis(store=r.store)  # a client of its own, as an app thread has
        start.wait()
        for seq in range(per_publisher):
            client.publish("stream", f"{number}:{seq}")

    threads = [threading.Thread(target=subscribe, args=(p, into), daemon=True)
               for p, into in zip(pubsubs, received)]
    threads += [threading.Thread(target=publish, args=(n,), daemon=True)
                for n in range(PUBLISHERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()

    for messages in received:
        assert len(messages) == MESSAGES
        assert len(set(messages)) == MESSAGES
        last = [-1] * PUBLISHERS
        for data in messages:
            number, seq = map(int, data.split(b":"))
            assert seq == last[number] + 1, "a publisher's messages out of order"
            last[number] = seq
        assert last == [per_publisher - 1] * PUBLISHERS
    for p in pubsubs:
        assert p.get_message() is None
        p.close()


def test_publish_order_is_the_same_for_every_subscriber():
    """Publishes are serialized by the store lock: all subscribers see one order."""
    r = minikv.Redis()
    subscribers = [r.pubsub(ignore_subscribe_messages=True) for _ in range(3)]
    for p in subscribers:
        p.subscribe("a", "b")
    publishers = [threading.Thread(
        target=lambda channel=channel: [r.publish(channel, i) for i in range(2000)])
        for channel in ("a", "b")]
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join(JOIN_SECONDS)
    orders = []
    for p in subscribers:
        messages = [p.get_message() for _ in range(4002)]
        orders.append([(m["channel"], m["data"]) for m in messages if m is not None])
        p.close()
    assert len(orders[0]) == 4000
    assert orders[0] == orders[1] == orders[2]


# -- wake-ups -------------------------------------------------------------------------
def test_get_message_is_woken_by_publish():
    r = minikv.Redis()
    p = r.pubsub(ignore_subscribe_messages=True)
    p.subscribe("wake")
    assert p.get_message() is None  # the confirmation
    reader = Reader(lambda: p.get_message(timeout=JOIN_SECONDS))
    reader.start()
    wait_until(lambda: waiting_readers(p) == 1)
    assert r.publish("wake", "now") == 1
    assert reader.outcome() == {"type": "message", "pattern": None, "channel": b"wake",
                                "data": b"now"}
    p.close()


def test_listen_is_woken_by_publish_and_ends_on_unsubscribe():
    r = minikv.Redis()
    p = r.pubsub(ignore_subscribe_messages=True)
    p.psubscribe("job.*")
    reader = Reader(lambda: [m["data"] for m in p.listen()])
    reader.start()
    wait_until(lambda: waiting_readers(p) == 1)
    r.publish("job.1", "a")
    wait_until(lambda: waiting_readers(p) == 1)
    r.publish("job.2", "b")
    p.punsubscribe()  # from this thread, while the reader waits
    assert reader.outcome() == [b"a", b"b"]


def test_get_message_waiting_for_a_subscription_is_woken_by_subscribe():
    """timeout=None before any subscription waits for one, as in redis-py."""
    r = minikv.Redis()
    p = r.pubsub()
    reader = Reader(lambda: p.get_message(timeout=None))
    reader.start()
    wait_until(lambda: waiting_readers(p) == 1)
    p.subscribe("late")
    assert reader.outcome() == {"type": "subscribe", "pattern": None, "channel": b"late",
                                "data": 1}
    p.close()


def test_close_ends_a_blocked_listen():
    r = minikv.Redis()
    p = r.pubsub()
    p.subscribe("x")
    assert p.get_message()["type"] == "subscribe"
    reader = Reader(lambda: list(p.listen()))
    reader.start()
    wait_until(lambda: waiting_readers(p) == 1)
    p.close()
    assert reader.outcome() == []


# -- worker threads -------------------------------------------------------------------
def test_worker_stops_promptly_and_closes_its_pubsub():
    r = minikv.Redis()
    baseline = threading.active_count()
    p = r.pubsub()
    seen = []
    p.subscribe(tick=lambda message: seen.append(message["data"]))
    worker = p.run_in_thread()  # sleep_time=0: redis-py would spin; minikv waits
    wait_until(lambda: waiting_readers(p) == 1)
    r.publish("tick", "1")
    wait_until(lambda: seen == [b"1"])
    wait_until(lambda: waiting_readers(p) == 1)
    worker.stop()
    worker.join(JOIN_SECONDS / 2)
    assert not worker.is_alive()
    assert r.pubsub_numsub("tick") == [(b"tick", 0)]
    assert threading.active_count() == baseline


def test_worker_exception_handler_sees_the_overflow_and_the_worker_recovers():
    r = minikv.Redis()
    p = r.pubsub(output_buffer_limit=300)
    errors, seen, gate = [], [], threading.Event()

    def slow_handler(message):
        seen.append(message["data"])
        gate.wait(JOIN_SECONDS)  # hold the worker while the inbox overflows

    def on_error(exc, pubsub, thread):
        errors.append(exc)

    p.subscribe(slow=slow_handler)
    worker = p.run_in_thread(exception_handler=on_error, daemon=True)
    r.publish("slow", "first")
    wait_until(lambda: seen == [b"first"])
    for i in range(20):
        r.publish("slow", "x" * 50)  # the worker is busy: the inbox overflows
    gate.set()
    wait_until(lambda: len(errors) == 1)
    assert isinstance(errors[0], ConnectionError)
    assert "output buffer limit of 300 bytes" in str(errors[0])
    wait_until(lambda: r.pubsub_numsub("slow") == [(b"slow", 1)])  # re-subscribed
    r.publish("slow", "after")
    wait_until(lambda: seen[-1:] == [b"after"])
    worker.stop()
    worker.join(JOIN_SECONDS)
    assert not worker.is_alive()


# -- slow subscribers --------------------------------------------------------------------
def test_slow_subscriber_never_blocks_the_publisher():
    r = minikv.Redis()
    p = r.pubsub(output_buffer_limit=64 * 1024)
    p.subscribe("firehose")
    fast = r.pubsub(output_buffer_limit=0)  # unlimited, read at the end
    fast.subscribe("firehose")
    counts = []
    publisher = threading.Thread(
        target=lambda: counts.extend(r.publish("firehose", "z" * 1000) for _ in range(1000)))
    publisher.start()
    publisher.join(JOIN_SECONDS)
    assert not publisher.is_alive()
    # a message takes 1040 bytes in RESP2: 64 KB hold the 37-byte confirmation
    # and 62 of them, the 63rd overflows; the unlimited subscriber gets all
    assert counts[:63] == [2] * 63 and counts[63:] == [1] * 937
    with raises(ConnectionError, "Connection closed by server: the subscriber exceeded its "
                                 "output buffer limit of 65536 bytes (client-output-buffer-limit "
                                 "pubsub); unread messages were discarded"):
        p.get_message()
    assert sum(1 for _ in range(1001) if fast.get_message()) == 1001
    p.close()
    fast.close()


def test_overflow_wakes_a_waiting_reader_with_the_error():
    r = minikv.Redis()
    p = r.pubsub(output_buffer_limit=100)
    p.subscribe("c")
    p.psubscribe("never")
    reader = Reader(lambda: [p.get_message(timeout=None) for _ in range(3)])
    reader.start()
    wait_until(lambda: waiting_readers(p) == 1 and not p._inbox.items)
    r.publish("c", "y" * 200)
    with pytest.raises(ConnectionError, match="output buffer limit of 100 bytes"):
        reader.outcome()
    p.close()


# -- cleanup -----------------------------------------------------------------------
def test_garbage_collected_pubsub_leaves_the_bus():
    r = minikv.Redis()
    p = r.pubsub()
    p.subscribe("a", "b")
    p.psubscribe("a*")
    p.ssubscribe("s")
    pubsub_ref, connection_ref = weakref.ref(p), weakref.ref(p.connection)
    clients = r.info("clients")["connected_clients"]
    del p
    gc.collect()
    assert pubsub_ref() is None and connection_ref() is None
    assert r.publish("a", "x") == 0
    assert r.pubsub_numsub("a", "b") == [(b"a", 0), (b"b", 0)]
    assert r.pubsub_numpat() == 0
    assert r.pubsub_shardnumsub("s") == [(b"s", 0)]
    assert r.store.pubsub.stats() == (0, 0, 0)
    assert not r.store.pubsub._members
    assert r.info("clients")["connected_clients"] == clients - 1


def test_pubsub_in_a_reference_cycle_is_collected():
    """A handler that refers back to its PubSub (a bound method of an object
    holding it) makes a cycle: the cyclic collector frees it all the same."""

    class Listener:
        def __init__(self, client):
            self.pubsub = client.pubsub()
            self.pubsub.subscribe(events=self.on_event)

        def on_event(self, message):
            pass

    r = minikv.Redis()
    listener = Listener(r)
    listener_ref = weakref.ref(listener)
    del listener
    gc.collect()
    assert listener_ref() is None
    assert r.pubsub_numsub("events") == [(b"events", 0)]
    assert r.publish("events", "x") == 0


def test_many_dropped_pubsubs_leak_nothing():
    r = minikv.Redis()
    gc.collect()
    threads = threading.active_count()
    for i in range(200):
        p = r.pubsub()
        p.subscribe(f"ch{i % 7}")
        p.psubscribe(f"p{i % 5}*")
        if i % 2:
            p.close()
        r.publish(f"ch{i % 7}", "m")
    del p
    gc.collect()
    assert r.store.pubsub.stats() == (0, 0, 0)
    assert not r.store.pubsub._members and not r.store.pubsub._dead
    assert threading.active_count() == threads


def test_close_releases_queued_messages():
    r = minikv.Redis()
    p = r.pubsub()
    p.subscribe("q")
    for _ in range(100):
        r.publish("q", "m")
    assert p._inbox.buffered > 0
    p.close()
    assert p._inbox.buffered == 0 and not p._inbox.items
