"""Broadcast on both backends: wire format, receiver counts, patterns, the
three ways to consume, the overflow policies, closing.

Waiting is never a sleep: ``Subscription.sync()`` returns once everything
published before it was read by the subscription's reader thread (a PING
on its connection, answered behind those messages), and consumers are
awaited with events and conditions bounded by ``WAIT``.
"""
import asyncio
import doctest
import json
import logging
import threading

import pytest

import minikv.patterns.broadcast as broadcast_module
from minikv.patterns import Broadcast
from minikv.patterns.broadcast import Message, SubscriptionOverflowError
from tests.helpers import Call

WAIT = 10


def run(scenario):
    """asyncio.run with a bound: a bug fails the test instead of hanging it."""
    return asyncio.run(asyncio.wait_for(scenario, 3 * WAIT))


def broadcast_threads():
    return [thread for thread in threading.enumerate()
            if thread.name.startswith("minikv-broadcast") and thread.is_alive()]


@pytest.fixture
def hub(backend):
    hub = Broadcast(backend.client)
    yield hub
    hub.close()
    assert broadcast_threads() == []


def drain(subscription):
    """Everything buffered right now (after a sync()), without waiting."""
    messages = []
    while (message := subscription.get(timeout=0)) is not None:
        messages.append(message.data)
    return messages


class Recorder:
    """A callback that records messages and the thread that delivered them."""

    def __init__(self):
        self.messages = []
        self.threads = set()
        self._changed = threading.Condition()

    def __call__(self, message):
        with self._changed:
            self.messages.append(message.data)
            self.threads.add(threading.current_thread().name)
            self._changed.notify_all()

    def wait_count(self, count):
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.messages) >= count, WAIT), \
                f"expected {count} messages, got {self.messages}"
        return list(self.messages)


def test_docstring_example_runs():
    results = doctest.testmod(broadcast_module)
    assert results.attempted > 0 and results.failed == 0


# -- values and the wire format ----------------------------------------------------
def test_json_values_and_bytes_arrive_as_published(hub):
    values = [{"user": 7, "tags": ["a", "b"], "score": 2.5, "ok": True, "none": None},
              [1, "two", [3]], "plain text", "héllo ✓", 42, -1.5, None, False,
              b"\x00\x01\xffbinary", b"", b"\x01starts with the marker"]
    with hub.subscribe("events") as sub:
        for value in values:
            assert hub.publish("events", value) == 1
        hub.publish("events", bytearray(b"bytearray"))
        hub.publish("events", memoryview(b"view"))
        hub.publish("events", ("tuple", 1))
        sub.sync(WAIT)
        expected = values + [b"bytearray", b"view", ["tuple", 1]]
        # Compared with their types: 1 == True and 42 == 42.0 would hide a mix-up.
        assert [(type(v), v) for v in drain(sub)] == [(type(v), v) for v in expected]


def test_wire_format_is_a_marker_for_bytes_and_json_for_the_rest(backend, hub):
    raw = backend.client.pubsub()
    raw.subscribe("wire")
    assert raw.get_message(timeout=WAIT)["type"] == "subscribe"
    hub.publish("wire", {"a": [1, 2]})
    hub.publish("wire", "é")
    hub.publish("wire", b"\x00bytes")
    payloads = [raw.get_message(timeout=WAIT)["data"] for _ in range(3)]
    raw.close()
    assert payloads == [b'{"a":[1,2]}', '"é"'.encode(), b"\x01\x00bytes"]
    assert [hub.decode(payload) for payload in payloads] == [{"a": [1, 2]}, "é", b"\x00bytes"]


def test_foreign_payloads_arrive_decoded_if_json_else_raw(backend, hub):
    with hub.subscribe("mixed") as sub:
        backend.client.publish("mixed", b'{"from": "redis-cli"}')
        backend.client.publish("mixed", b"plain words")
        backend.client.publish("mixed", b"")
        backend.client.publish("mixed", b"\xff\xfe not utf-8")
        sub.sync(WAIT)
        assert drain(sub) == [{"from": "redis-cli"}, b"plain words", b"", b"\xff\xfe not utf-8"]


def test_values_json_cannot_carry_are_refused_at_publish(hub):
    with pytest.raises(TypeError):
        hub.publish("events", {1, 2})
    with pytest.raises(TypeError):
        hub.publish("events", {"nested": b"bytes"})


class TaggedJSON:
    """A json module stand-in: every value wrapped in a one-item list."""

    @staticmethod
    def dumps(value):
        return "[" + repr(value).replace("'", '"') + "]"

    @staticmethod
    def loads(text):
        return json.loads(text)[0]


def test_a_json_module_can_be_swapped_in(backend):
    with Broadcast(backend.client, json=TaggedJSON) as hub, hub.subscribe("c") as sub:
        assert hub.encode({"k": 1}) == b'[{"k": 1}]'
        hub.publish("c", {"k": 1})
        sub.sync(WAIT)
        assert drain(sub) == [{"k": 1}]


# -- receivers and patterns --------------------------------------------------------
def test_publish_returns_the_number_of_receivers(backend, hub):
    assert hub.publish("news", "nobody") == 0
    first = hub.subscribe("news")
    second = Broadcast(backend.new_client()).subscribe("news", "other")
    assert hub.publish("news", "both") == 2
    # Reached through its channel and through a pattern: counted and delivered twice.
    both = hub.subscribe("news", patterns=["n*"])
    assert hub.publish("news", "three subscriptions") == 4
    both.sync(WAIT)
    assert [(m.channel, m.pattern, m.data) for m in [both.get(0), both.get(0)]] == [
        ("news", None, "three subscriptions"), ("news", "n*", "three subscriptions")]
    for subscription in (first, second, both):
        subscription.close()
    assert hub.publish("news", "closed") == 0  # close() waits for the unsubscription


def test_patterns_deliver_channel_and_pattern_names(hub):
    with hub.subscribe(patterns=["user:*", b"room:?"]) as sub:
        assert sub.patterns == ("user:*", "room:?")
        assert hub.publish("user:42", {"login": True}) == 1
        assert hub.publish("room:1", "hi") == 1
        assert hub.publish("room:12", "no match") == 0
        assert hub.publish(b"user:\xc3\xa9", 1) == 1
        sub.sync(WAIT)
        assert [sub.get(0), sub.get(0), sub.get(0)] == [
            Message("user:42", {"login": True}, "user:*"),
            Message("room:1", "hi", "room:?"),
            Message("user:é", 1, "user:*")]
        assert sub.get(0) is None


def test_a_single_pattern_string_is_one_pattern(hub):
    with hub.subscribe(patterns="a*") as sub:
        assert sub.patterns == ("a*",)


def test_subscribe_is_live_when_it_returns(backend, hub):
    """No race: a publish from another client right after subscribe() is received."""
    other = Broadcast(backend.new_client())
    for attempt in range(20):
        with hub.subscribe(f"live:{attempt}", patterns=[f"p{attempt}:*"]) as sub:
            assert other.publish(f"live:{attempt}", attempt) == 1
            assert other.publish(f"p{attempt}:x", attempt) == 1
            assert sub.get(timeout=WAIT).data == attempt


# -- the three ways to consume ------------------------------------------------------
def test_iteration_blocks_until_messages_and_ends_on_close(hub):
    sub = hub.subscribe("feed")
    received = []
    got_two = threading.Event()

    def consume():
        for message in sub:
            received.append(message.data)
            if len(received) == 2:
                got_two.set()
        return "iteration ended"

    consumer = Call(consume)
    consumer.start()
    hub.publish("feed", 1)
    hub.publish("feed", 2)
    assert got_two.wait(WAIT)
    sub.close()  # wakes the blocked for loop
    assert consumer.outcome() == "iteration ended"
    assert received == [1, 2]
    assert list(sub) == [] and sub.get() is None and sub.closed


def test_get_times_out_with_none(hub):
    with hub.subscribe("quiet") as sub:
        assert sub.get(timeout=0) is None
        assert sub.get(timeout=0.01) is None
        assert not sub.closed


def test_messages_of_each_publisher_keep_their_order(backend, hub):
    publishers, count = 4, 150
    with hub.subscribe("ordered", max_buffer=publishers * count) as sub:
        def publish(index):
            other = Broadcast(backend.new_client())
            for n in range(count):
                other.publish("ordered", [index, n])

        threads = [Call(publish, index) for index in range(publishers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.outcome()
        sub.sync(WAIT)
        messages = drain(sub)
    assert len(messages) == publishers * count
    for index in range(publishers):
        assert [n for i, n in messages if i == index] == list(range(count))


def test_async_iteration_does_not_block_the_event_loop(hub):
    async def scenario():
        async with hub.subscribe("async") as sub:
            loop_ran = threading.Event()
            got_both = asyncio.Event()

            async def consume():
                received = []
                async for message in sub:
                    received.append(message.data)
                    if len(received) == 2:
                        got_both.set()
                return received

            def publisher():
                # Publishes only once the loop ran another coroutine while the
                # consumer awaited: a consumer blocking the loop would make
                # this wait time out and publish False.
                hub.publish("async", {"loop ran meanwhile": loop_ran.wait(WAIT)})
                hub.publish("async", "second")

            consumer = asyncio.create_task(consume())
            await asyncio.sleep(0)  # the consumer is now awaiting its first message
            loop_ran.set()
            await asyncio.to_thread(publisher)
            await asyncio.wait_for(got_both.wait(), WAIT)
            await asyncio.to_thread(sub.close)  # from another thread: ends the async for
            return await asyncio.wait_for(consumer, WAIT)

    assert run(scenario()) == [{"loop ran meanwhile": True}, "second"]


def test_async_iteration_receives_in_order_and_aclose_ends_it(hub):
    async def scenario():
        sub = hub.subscribe("async-order")
        for n in range(5):
            hub.publish("async-order", n)
        received = []
        async for message in sub:
            received.append(message.data)
            if len(received) == 5:
                await sub.aclose()
        assert [message async for message in sub] == []
        return received

    assert run(scenario()) == [0, 1, 2, 3, 4]


def test_cancelled_async_wait_leaves_the_subscription_usable(hub):
    async def scenario():
        async with hub.subscribe("cancel") as sub:
            waiting = asyncio.create_task(sub.__anext__())
            await asyncio.sleep(0)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await asyncio.to_thread(hub.publish, "cancel", "after cancel")
            return await asyncio.wait_for(sub.__anext__(), WAIT)

    assert run(scenario()).data == "after cancel"


def test_callbacks_run_in_the_dispatcher_thread_in_order(hub):
    recorder = Recorder()
    with hub.subscribe("calls", on_message=recorder) as sub:
        for n in range(5):
            hub.publish("calls", n)
        assert recorder.wait_count(5) == [0, 1, 2, 3, 4]
        assert recorder.threads == {"minikv-broadcast-callbacks"}
        with pytest.raises(RuntimeError, match="consumed by callbacks"):
            iter(sub)
        with pytest.raises(RuntimeError, match="consumed by callbacks"):
            sub.get(0)


def test_messages_before_the_first_callback_are_handed_to_it(hub):
    with hub.subscribe("late") as sub:
        hub.publish("late", "early")
        sub.sync(WAIT)
        recorder = sub.on_message(Recorder())  # returns the callback: a decorator too
        hub.publish("late", "later")
        assert recorder.wait_count(2) == ["early", "later"]


def test_a_failing_callback_is_logged_and_delivery_goes_on(hub, caplog):
    recorder = Recorder()

    def fragile(message):
        if message.data == "bad":
            raise ValueError("callback bug")

    with hub.subscribe("fragile") as sub:
        sub.on_message(fragile)
        sub.on_message(recorder)
        hub.publish("fragile", "bad")
        hub.publish("fragile", "good")
        assert recorder.wait_count(2) == ["bad", "good"]
    assert any("callback" in record.getMessage() and record.exc_info
               and record.exc_info[0] is ValueError for record in caplog.records)


def test_iterated_subscription_refuses_callbacks(hub):
    with hub.subscribe("iterated") as sub:
        assert sub.get(0) is None
        with pytest.raises(RuntimeError, match="consumed by iteration"):
            sub.on_message(print)


# -- overflow policies --------------------------------------------------------------
# drop_oldest keeps the newest messages, drop_newest the backlog.
DROP_POLICIES = [("drop_oldest", [4, 5, 6]), ("drop_newest", [1, 2, 3])]


@pytest.mark.parametrize("overflow, kept", DROP_POLICIES, ids=[p for p, _ in DROP_POLICIES])
def test_a_drop_policy_keeps_its_end_of_the_buffer(hub, overflow, kept):
    with hub.subscribe("full", max_buffer=3, overflow=overflow) as sub:
        for n in range(1, 7):
            hub.publish("full", n)
        sub.sync(WAIT)
        assert (sub.received, sub.dropped, sub.pending) == (6, 3, 3)
        assert drain(sub) == kept
        hub.publish("full", 7)
        sub.sync(WAIT)
        assert drain(sub) == [7]


def test_error_policy_delivers_the_buffer_then_raises_and_unsubscribes(hub):
    sub = hub.subscribe("full", max_buffer=3)  # overflow="error" is the default
    for n in range(1, 7):
        hub.publish("full", n)
    with pytest.raises(SubscriptionOverflowError, match="3 messages unread"):
        sub.sync(WAIT)
    assert [sub.get(0).data for _ in range(3)] == [1, 2, 3]
    with pytest.raises(SubscriptionOverflowError):
        sub.get(0)
    with pytest.raises(SubscriptionOverflowError):
        next(iter(sub))
    assert isinstance(sub.error, SubscriptionOverflowError)
    sub.close()
    assert hub.publish("full", "gone") == 0
    assert broadcast_threads() == []
    assert list(sub) == []  # closed by the user: iteration simply ends


def test_error_policy_in_async_iteration(hub):
    async def scenario():
        sub = hub.subscribe("full", max_buffer=2)
        for n in range(1, 4):
            hub.publish("full", n)
        with pytest.raises(SubscriptionOverflowError):
            sub.sync(WAIT)  # all three read before consuming: the third overflowed
        received = []

        async def consume():
            async for message in sub:
                received.append(message.data)
        with pytest.raises(SubscriptionOverflowError):
            await asyncio.wait_for(consume(), WAIT)
        await sub.aclose()
        return received

    assert run(scenario()) == [1, 2]


def slow_callback(recorder):
    """A callback that holds message 1 until released: (callback, entered, release)."""
    entered, release = threading.Event(), threading.Event()

    def slow(message):
        if message.data == 1:
            entered.set()
            assert release.wait(WAIT)
        recorder(message)
    return slow, entered, release


def test_overflow_applies_while_a_callback_is_slow(hub):
    recorder = Recorder()
    slow, entered, release = slow_callback(recorder)
    with hub.subscribe("slow", max_buffer=2, overflow="drop_oldest", on_message=slow) as sub:
        hub.publish("slow", 1)
        assert entered.wait(WAIT)
        for n in range(2, 7):  # the dispatcher holds 1: the buffer keeps the newest two
            hub.publish("slow", n)
        sub.sync(WAIT)
        assert sub.dropped == 3
        release.set()
        assert recorder.wait_count(3) == [1, 5, 6]


def test_error_policy_with_callbacks_is_logged_and_kept(hub, caplog):
    recorder = Recorder()
    slow, entered, release = slow_callback(recorder)
    sub = hub.subscribe("slow", max_buffer=2, on_message=slow)
    hub.publish("slow", 1)
    assert entered.wait(WAIT)
    for n in range(2, 5):
        hub.publish("slow", n)
    with pytest.raises(SubscriptionOverflowError):
        sub.sync(WAIT)
    release.set()
    assert recorder.wait_count(3) == [1, 2, 3]
    sub._dispatcher.join(WAIT)
    assert not sub._dispatcher.is_alive()
    assert isinstance(sub.error, SubscriptionOverflowError)
    assert any(record.levelno == logging.ERROR and "failed" in record.getMessage()
               for record in caplog.records)
    sub.close()


# -- closing -----------------------------------------------------------------------
def test_close_stops_every_thread_and_is_idempotent(backend, hub):
    recorder = Recorder()
    with hub.subscribe("a", patterns=["b*"], on_message=recorder) as sub:
        assert len(broadcast_threads()) == 2  # reader and dispatcher
        hub.publish("a", 1)
        recorder.wait_count(1)
    assert broadcast_threads() == []
    sub.close()
    assert sub.closed and hub.publish("a", 2) == 0 and hub.publish("bb", 2) == 0
    sub.sync(WAIT)  # returns at once on a closed subscription


def test_close_drops_unread_messages(hub):
    sub = hub.subscribe("unread")
    hub.publish("unread", 1)
    sub.sync(WAIT)
    assert sub.pending == 1
    sub.close()
    assert sub.pending == 0 and sub.get(0) is None and list(sub) == []


def test_a_callback_may_close_its_own_subscription(hub):
    closed = threading.Event()

    def close_on_first(message):
        sub.close()
        closed.set()

    sub = hub.subscribe("self-close", on_message=close_on_first)
    hub.publish("self-close", "bye")
    assert closed.wait(WAIT)
    sub._dispatcher.join(WAIT)
    assert broadcast_threads() == []
    assert hub.publish("self-close", "again") == 0


def test_async_with_closes(hub):
    async def scenario():
        async with hub.subscribe("ctx") as sub:
            assert not sub.closed
        return sub

    sub = run(scenario())
    assert sub.closed and broadcast_threads() == []


def test_broadcast_close_closes_its_subscriptions_and_own_client():
    hub = Broadcast()  # a private minikv store, closed with the hub
    subs = [hub.subscribe("x"), hub.subscribe(patterns=["y*"])]
    assert len(broadcast_threads()) == 2
    with hub:
        pass
    assert all(sub.closed for sub in subs) and broadcast_threads() == []


def test_bad_arguments(backend, hub):
    with pytest.raises(ValueError, match="at least one channel or pattern"):
        hub.subscribe()
    with pytest.raises(ValueError, match="overflow must be one of"):
        hub.subscribe("c", overflow="block")
    for size in (0, -1, 1.5, True, None):
        with pytest.raises(ValueError, match="max_buffer must be a positive int"):
            hub.subscribe("c", max_buffer=size)
    with pytest.raises(ValueError, match="decode_responses=False"):
        Broadcast(backend.new_client(decode_responses=True))
    assert broadcast_threads() == []
