"""Broadcast: publish/subscribe between servers, on an embedded minikv or a real Redis.

``Broadcast(client)`` publishes Python values on Redis pub/sub channels and
subscribes to channels and glob patterns. Several processes (or several
servers in one process) sharing a Redis — or several objects sharing one
minikv store — see each other's messages. Delivery is Redis pub/sub's:
at most once, in publish order per publisher, to whoever is subscribed at
the moment of the publish; nothing is stored.

Wire format (what ``publish`` sends, what a subscription decodes), so that
every party — other languages included — agrees:

- ``bytes`` (and ``bytearray``/``memoryview``): the byte ``0x01`` followed
  by the bytes unchanged; delivered as ``bytes``;
- anything else: its JSON text in UTF-8 (compact, non-ASCII left as is);
  delivered as ``json.loads`` gives it back (tuples arrive as lists, dict
  keys as strings). A ``str`` is sent as a JSON string (``"hi"`` with the
  quotes). Values JSON cannot encode raise ``TypeError`` at ``publish``.

JSON text never starts with 0x01, so the two kinds cannot be confused. A
payload that is neither (a plain ``PUBLISH ch hello`` from redis-cli) is
delivered as its raw bytes — so a foreign publisher's JSON arrives decoded
and anything else arrives untouched. ``Broadcast(json=module)`` swaps the
JSON implementation (anything with the standard library's ``dumps`` and
``loads``).

Subscriptions. ``subscribe(*channels, patterns=...)`` returns a
``Subscription`` whose messages are ``Message(channel, data, pattern)``
tuples (``channel``/``pattern`` as ``str``; ``pattern`` is None unless the
message matched a pattern). It is live when ``subscribe`` returns: the
server has confirmed every channel and pattern, so a publish made after
that reaches it and counts in ``publish``'s receiver count.

Each subscription owns one redis-py-style ``PubSub`` (``client.pubsub()``)
and one reader thread that waits on it — on minikv ``get_message`` waits
on the inbox's condition, woken by the publish itself; on redis-py it
blocks on the socket — decodes each message and puts it in a bounded
buffer (``max_buffer`` messages). Nothing polls. The buffer is read in one
of two ways, not both (mixing them raises ``RuntimeError``, as it would
split one stream between two consumers):

- iteration: ``for message in sub``, ``async for message in sub``, or
  ``sub.get(timeout)``. The async iterator never blocks the event loop: the
  reader thread hands each arrival to the loop with
  ``loop.call_soon_threadsafe``, which resolves the future ``__anext__`` is
  awaiting.
- callbacks: ``sub.on_message(callback)`` (or ``subscribe(...,
  on_message=callback)``, which misses nothing). Callbacks run in the
  subscription's dispatcher thread, in arrival order; one that raises is
  logged and the next message is delivered all the same.

Overflow: when a message arrives and ``max_buffer`` are unread, the
``overflow`` policy decides, and ``sub.dropped`` counts what was lost:

- ``"error"`` (default): the subscription fails the way Redis disconnects a
  subscriber over its output-buffer limit — it unsubscribes and stops; the
  messages already buffered are still delivered, then iteration raises
  ``SubscriptionOverflowError`` (callbacks: the error is logged and kept in
  ``sub.error``). Loss is never silent.
- ``"drop_oldest"``: the oldest unread message is discarded to make room —
  the reader keeps the newest (latest-state feeds).
- ``"drop_newest"``: the arriving message is discarded — the reader keeps
  the oldest backlog intact.

The buffer is what protects the connection: with a slow consumer the
reader keeps draining the server's output buffer, so a real Redis never
disconnects the subscriber for being slow unless the policy says so.
A broken connection ends the subscription the same way as ``"error"``,
with the connection's exception (redis-py first retries and re-subscribes
on its own; what was published meanwhile is lost, as pub/sub always is).

Closing: ``close()``, ``with``, ``async with`` (``aclose()``). Close
unsubscribes (and waits for the server's confirmation, so receiver counts
are exact right after it), discards unread messages, ends iteration
(``StopIteration``/``StopAsyncIteration``, ``get`` returns None), and joins
the reader and dispatcher threads (except the calling one, when a callback
closes its own subscription). ``Broadcast.close()`` closes every
subscription it made, and the client if it created it.

``sub.sync(timeout)`` returns once every message published before the call
has reached the buffer (or been dropped by the policy): it sends a PING on
the subscription's connection and waits for the PONG, which the server
queues behind those messages. Useful for tests and for handovers.

Asyncio: ``AsyncBroadcast(client)`` is the same hub for a
``minikv.asyncio.Redis`` or a ``redis.asyncio.Redis`` (default: a new
private ``minikv.asyncio.Redis()``): ``await hub.publish(channel, message)``
and ``await hub.subscribe(...)``, same arguments, same wire format, same
``Message`` tuples. Its ``AsyncSubscription`` has no thread at all: the
reader is a task on the event loop of ``subscribe`` that awaits the async
client's ``pubsub().get_message(timeout=None)`` (on minikv that awaits the
publish's wake-up, on redis.asyncio the socket: the loop is never
blocked), and fills the same bounded buffer under the same overflow
policies. Consume it with ``async for``, ``await sub.get(timeout)``, or
callbacks — ``sub.on_message(callback)`` with a plain function or a
coroutine function, run in order by a dispatcher task (a coroutine
callback is awaited before the next message is delivered, so a slow one
lets the buffer fill, as a slow callback thread does). ``await
sub.sync(timeout)``, ``await sub.close()`` (also ``aclose()``, ``async
with``; it waits for the reader and dispatcher tasks, so none is left
behind) and ``await hub.close()`` mirror the sync ones. An
``AsyncSubscription`` belongs to the loop that made it: use it from that
loop only (publishers may be anywhere — other threads, loops, processes).

What the two hubs share is in this module once: the wire format
(``_Hub``), and the subscription's arguments, counters, buffer, overflow
policy and end-of-stream rules (``_SubscriptionCore``); ``Subscription``
and ``AsyncSubscription`` only supply the reading (a thread / a task) and
the waiting (a condition / ``asyncio.Event``).
"""
import asyncio
import inspect
import itertools
import json as _json
import logging
import threading
import time
import weakref
from collections import deque
from typing import Any, NamedTuple, Optional

from minikv.patterns._atomic import is_embedded
from minikv.patterns._io import call_sync, is_async_client, new_embedded_client

__all__ = ["Broadcast", "Message", "Subscription", "AsyncBroadcast", "AsyncSubscription",
           "SubscriptionOverflowError", "OVERFLOW_POLICIES"]

log = logging.getLogger(__name__)

BYTES_MARKER = b"\x01"
OVERFLOW_POLICIES = ("error", "drop_oldest", "drop_newest")
DEFAULT_MAX_BUFFER = 10_000
# How long subscribe() waits for the server to confirm the subscriptions.
SUBSCRIBE_TIMEOUT = 10.0
# How long close() waits for a thread (a task) to finish; a thread still
# running then is a daemon and is reported (a server that stopped
# answering); a task still running then is cancelled.
JOIN_TIMEOUT = 10.0

_sync_tokens = itertools.count(1)
_END = object()    # the stream is over
_EMPTY = object()  # nothing buffered yet


class SubscriptionOverflowError(Exception):
    """A subscription with ``overflow="error"`` received a message while its buffer was full."""


class Message(NamedTuple):
    channel: str
    data: Any
    pattern: Optional[str] = None


def _name(raw):
    """A channel or pattern name as a str; undecodable bytes survive (surrogateescape)."""
    return raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw


def _wake_future(future):
    if not future.done():
        future.set_result(None)


class _Hub:
    """What ``Broadcast`` and ``AsyncBroadcast`` share: the client (a private
    embedded one when given none) and its check, the JSON module, the wire
    format, the subscriptions made."""

    def _setup(self, client, json, asyncio_client):
        self._owns_client = client is None
        if client is None:
            client = new_embedded_client(asyncio_client)
        elif is_async_client(client) != asyncio_client:
            kind, other = ("a sync", "Broadcast") if asyncio_client \
                else ("an asyncio", "AsyncBroadcast")
            raise TypeError(f"{type(self).__name__} got {kind} client ({type(client).__name__}); "
                            f"use {other} with it")
        # Every kind of client (minikv or redis-py, sync or asyncio) has redis-py's encoder.
        if client.get_encoder().decode_responses:
            raise ValueError(f"{type(self).__name__} needs a client with "
                             f"decode_responses=False (payloads may be binary)")
        self.client = client
        if json is None:
            self._dumps = _json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
            self._loads = _json.loads
        else:
            self._dumps, self._loads = json.dumps, json.loads
        self._subscriptions = weakref.WeakSet()

    def __repr__(self):
        return f"<{type(self).__name__} client={self.client!r}>"

    # -- wire format ---------------------------------------------------------
    def encode(self, message):
        """The payload ``publish`` sends for ``message`` (see the module docstring)."""
        if isinstance(message, (bytes, bytearray, memoryview)):
            return BYTES_MARKER + bytes(message)
        text = self._dumps(message)
        return text.encode("utf-8") if isinstance(text, str) else text

    def decode(self, payload):
        """The value a payload carries; a payload in neither format comes back as is."""
        if payload[:1] == BYTES_MARKER:
            return payload[1:]
        try:
            return self._loads(payload.decode("utf-8"))
        except Exception:  # not ours (plain text from another publisher): hand it over raw
            return payload


def _as_patterns(patterns):
    """``subscribe``'s ``patterns``: one pattern string, or an iterable of them."""
    return (patterns,) if isinstance(patterns, (str, bytes)) else tuple(patterns)


class Broadcast(_Hub):
    """Publish values on channels; subscribe to channels and patterns.

    ``client`` is a ``minikv.Redis`` or a ``redis.Redis`` (default: a new
    private ``minikv.Redis()``), with ``decode_responses=False``: payloads
    may be binary. ``json`` replaces the standard library's JSON module.

    >>> import minikv
    >>> from minikv.patterns import Broadcast
    >>> hub = Broadcast(minikv.Redis())
    >>> with hub.subscribe("news", patterns=["chat:*"]) as sub:
    ...     hub.publish("news", {"headline": "minikv ships"})
    ...     hub.publish("chat:42", b"\\x00raw bytes")
    ...     sub.get(timeout=5)
    ...     sub.get(timeout=5)
    1
    1
    Message(channel='news', data={'headline': 'minikv ships'}, pattern=None)
    Message(channel='chat:42', data=b'\\x00raw bytes', pattern='chat:*')
    >>> hub.publish("news", "nobody listens")
    0
    >>> hub.close()
    """

    def __init__(self, client=None, *, json=None):
        self._setup(client, json, asyncio_client=False)
        self._lock = threading.Lock()

    # -- publishing -------------------------------------------------------------
    def publish(self, channel, message):
        """Publish ``message`` on ``channel``; returns how many subscriptions received it.

        One PUBLISH (one round trip on a real Redis). As in Redis, a
        subscription reached through its channel and through a pattern
        counts (and receives) once per match.
        """
        return self.client.publish(channel, self.encode(message))

    # -- subscribing ------------------------------------------------------------
    def subscribe(self, *channels, patterns=(), max_buffer=DEFAULT_MAX_BUFFER,
                  overflow="error", on_message=None):
        """A live ``Subscription`` to ``channels`` and glob ``patterns``.

        ``max_buffer`` unread messages at most; ``overflow`` is the policy
        when it is full (``"error"``, ``"drop_oldest"``, ``"drop_newest"``).
        ``on_message`` registers a callback before the first message can
        arrive. Returns once the server confirmed the subscriptions.
        """
        subscription = Subscription(self, channels, _as_patterns(patterns), max_buffer,
                                    overflow, on_message)
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def close(self):
        """Close every subscription made here, and the client if this object created it."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.close()
        if self._owns_client:
            self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class AsyncBroadcast(_Hub):
    """``Broadcast`` for asyncio: the same hub over an async client.

    ``client`` is a ``minikv.asyncio.Redis`` or a ``redis.asyncio.Redis``
    (default: a new private ``minikv.asyncio.Redis()``), with
    ``decode_responses=False``. Payloads are ``Broadcast``'s, so a sync
    ``Broadcast`` and an ``AsyncBroadcast`` on the same store or Redis talk
    to each other.

    >>> import asyncio
    >>> from minikv.patterns import AsyncBroadcast
    >>> async def main():
    ...     async with AsyncBroadcast() as hub:
    ...         async with await hub.subscribe("news", patterns=["chat:*"]) as sub:
    ...             print(await hub.publish("news", {"headline": "minikv ships"}))
    ...             print(await hub.publish("chat:42", b"\\x00raw bytes"))
    ...             print(await sub.get(timeout=5))
    ...             print(await sub.get(timeout=5))
    ...         print(await hub.publish("news", "nobody listens"))
    >>> asyncio.run(main())
    1
    1
    Message(channel='news', data={'headline': 'minikv ships'}, pattern=None)
    Message(channel='chat:42', data=b'\\x00raw bytes', pattern='chat:*')
    0
    """

    def __init__(self, client=None, *, json=None):
        self._setup(client, json, asyncio_client=True)

    async def publish(self, channel, message):
        """Publish ``message`` on ``channel``; the number of subscriptions that received it.

        One PUBLISH, as ``Broadcast.publish``.
        """
        return await self.client.publish(channel, self.encode(message))

    async def subscribe(self, *channels, patterns=(), max_buffer=DEFAULT_MAX_BUFFER,
                        overflow="error", on_message=None):
        """A live ``AsyncSubscription``; the arguments are ``Broadcast.subscribe``'s.

        ``on_message`` may be a plain function or a coroutine function.
        Returns once the server confirmed the subscriptions. The
        subscription's tasks run on the calling loop.
        """
        subscription = AsyncSubscription(self, channels, _as_patterns(patterns), max_buffer,
                                         overflow)
        await subscription._start(on_message)
        self._subscriptions.add(subscription)
        return subscription

    async def close(self):
        """Close every subscription made here, and the client if this object created it."""
        for subscription in list(self._subscriptions):
            await subscription.close()
        if self._owns_client:
            await self.client.aclose()

    aclose = close

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.close()


class _SubscriptionCore:
    """What both kinds of subscription share: arguments, names, counters, the
    buffer under its overflow policy, who consumes it, and when the stream
    is over.

    Not thread-safe by itself: ``Subscription`` calls these methods with its
    condition held; an ``AsyncSubscription`` lives on one event loop, where
    nothing interleaves between two awaits.
    """

    def __init__(self, broadcast, channels, patterns, max_buffer, overflow):
        if not channels and not patterns:
            raise ValueError("subscribe() needs at least one channel or pattern")
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {', '.join(OVERFLOW_POLICIES)}; "
                             f"got {overflow!r}")
        if isinstance(max_buffer, bool) or not isinstance(max_buffer, int) or max_buffer < 1:
            raise ValueError(f"max_buffer must be a positive int; got {max_buffer!r}")
        self.channels = tuple(_name(channel) for channel in channels)
        self.patterns = tuple(_name(pattern) for pattern in patterns)
        self._subscribe_args = channels, patterns  # as given: what SUBSCRIBE/PSUBSCRIBE send
        self.max_buffer = max_buffer
        self.overflow = overflow
        self.received = 0
        self.dropped = 0
        self.error = None
        self._broadcast = broadcast
        self._decode = broadcast.decode
        self._buffer = deque()
        self._ended = False          # no more messages will be buffered
        self._closed = False         # close() was called
        self._unsubscribing = False  # UNSUBSCRIBE/PUNSUBSCRIBE sent: the reader winds down
        self._reader_done = False
        self._consumer = None        # "iteration" or "callbacks", fixed by the first use
        self._callbacks = []

    def __repr__(self):
        state = "closed" if self._closed else "ended" if self._ended else "open"
        return (f"<{type(self).__name__} {state} channels={list(self.channels)} "
                f"patterns={list(self.patterns)} pending={len(self._buffer)}>")

    @property
    def pending(self):
        return len(self._buffer)

    @property
    def closed(self):
        return self._closed

    def _names(self):
        return ", ".join([*self.channels, *self.patterns])

    def _message(self, raw):
        """A ``message``/``pmessage`` dict of redis-py's PubSub as a ``Message``."""
        pattern = raw["pattern"]
        return Message(_name(raw["channel"]), self._decode(raw["data"]),
                       None if pattern is None else _name(pattern))

    def _admit(self, message):
        """Count ``message`` in and buffer it under the overflow policy.

        Returns the ``SubscriptionOverflowError`` that must end the
        subscription (policy ``"error"`` with a full buffer), else None.
        """
        self.received += 1
        buffer = self._buffer
        if len(buffer) >= self.max_buffer:
            self.dropped += 1
            if self.overflow == "drop_newest":
                return None
            if self.overflow == "error":
                return SubscriptionOverflowError(
                    f"subscription to {self._names()} overflowed: {self.max_buffer} "
                    f"messages unread; it was closed")
            buffer.popleft()  # "drop_oldest"
        buffer.append(message)
        return None

    def _end(self, error):
        """No more messages (``error``: why, if it failed): wake every waiter."""
        if self._ended:
            return
        self._ended = True
        if self.error is None:
            self.error = error
        self._wake_everyone()

    def _claim_for(self, consumer):
        if self._consumer is None:
            self._consumer = consumer
        elif self._consumer != consumer:
            raise RuntimeError(f"this subscription is consumed by {self._consumer}; "
                               f"subscribe again to consume by {consumer} too")

    def _take(self):
        """The next message, ``_END``, or ``_EMPTY``; raises the error that
        ended the subscription once the buffer is read."""
        if self._closed:
            return _END
        if self._buffer:
            return self._buffer.popleft()
        if self._ended:
            if self.error is not None:
                raise self.error
            return _END
        return _EMPTY


class Subscription(_SubscriptionCore):
    """Messages of some channels and patterns: an iterator, an async iterator,
    a callback registrar. Made by ``Broadcast.subscribe``; see the module
    docstring for buffering, overflow and closing.

    ``received`` counts the messages read from the connection, ``dropped``
    those the overflow policy discarded, ``pending`` those waiting unread;
    ``error`` is the exception that ended the subscription, if any.
    """

    def __init__(self, broadcast, channels, patterns, max_buffer, overflow, on_message):
        super().__init__(broadcast, channels, patterns, max_buffer, overflow)
        self._cond = threading.Condition()
        self._dispatcher = None
        self._async_waiters = []     # (loop, future) of pending __anext__ calls
        self._syncs = {}             # PING token -> Event set when its PONG is read
        pubsub = self._pubsub = broadcast.client.pubsub()
        try:
            if channels:
                pubsub.subscribe(*channels)
            if patterns:
                pubsub.psubscribe(*patterns)
        except BaseException:
            pubsub.close()
            raise
        # Messages wait on the connection until the reader starts: a callback
        # registered now sees the first of them.
        if on_message is not None:
            self.on_message(on_message)
        self._reader = threading.Thread(target=self._read_loop, daemon=True,
                                        name="minikv-broadcast-reader")
        self._reader.start()
        try:
            self.sync(SUBSCRIBE_TIMEOUT)
        except BaseException:
            self.close()
            raise

    # -- reader thread -----------------------------------------------------------
    def _read_loop(self):
        pubsub = self._pubsub
        try:
            while True:
                try:
                    message = pubsub.get_message(timeout=None)
                except Exception as exc:  # connection lost; minikv: output buffer limit
                    if not self._unsubscribing:
                        log.warning("subscription to %s ended: %s", self._names(), exc)
                        with self._cond:
                            self._end(exc)
                    return
                if message is None:
                    continue
                kind = message["type"]
                if kind == "message" or kind == "pmessage":
                    if not self._ended and not self._deliver(message):
                        return  # overflowed and could not even unsubscribe
                elif kind == "pong":
                    with self._cond:
                        done = self._syncs.get(message["data"])
                    if done is not None:
                        done.set()
                elif (kind == "unsubscribe" or kind == "punsubscribe") \
                        and message["data"] == 0 and self._unsubscribing:
                    return  # the server confirmed the last unsubscription
        finally:
            with self._cond:
                pubsub.close()  # under the lock: no sync()/close() is sending meanwhile
                self._reader_done = True
                self._end(None)

    def _deliver(self, raw):
        """Buffer one message under the overflow policy; False: stop reading now."""
        message = self._message(raw)
        with self._cond:
            if self._ended:
                return True
            error = self._admit(message)
            if error is not None:
                log.warning("%s", error)
                self._end(error)
                return self._unsubscribe_locked()
            self._cond.notify()
            if self._async_waiters:
                self._wake_async_locked()
        return True

    def _wake_everyone(self):  # condition held
        self._cond.notify_all()
        for done in self._syncs.values():
            done.set()
        self._wake_async_locked()

    def _wake_async_locked(self):
        waiters, self._async_waiters = self._async_waiters, []
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_wake_future, future)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                pass

    def _unsubscribe_locked(self):
        """Ask the server to end the subscriptions; the reader stops at the last
        confirmation. False if that could not be sent (the connection is gone)."""
        if self._unsubscribing or self._reader_done:
            return True
        self._unsubscribing = True
        try:
            if self.channels:
                self._pubsub.unsubscribe()
            if self.patterns:
                self._pubsub.punsubscribe()
        except Exception as exc:
            log.warning("unsubscribing %s failed: %s", self._names(), exc)
            return False
        return True

    # -- reading the buffer -----------------------------------------------------
    def _claim(self, consumer):
        if self._consumer != consumer:
            with self._cond:
                self._claim_for(consumer)

    def _next(self, timeout):
        with self._cond:
            message = self._take()
            if message is _EMPTY and timeout != 0:
                deadline = None if timeout is None else time.monotonic() + timeout
                while message is _EMPTY:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._cond.wait(remaining)
                    message = self._take()
            return message

    def get(self, timeout=None):
        """The next message; None if ``timeout`` seconds pass first (None: wait
        for ever) or when the subscription is closed (``closed`` tells which).
        Raises the error that ended the subscription once its messages are read."""
        self._claim("iteration")
        message = self._next(timeout)
        return None if message is _EMPTY or message is _END else message

    def __iter__(self):
        self._claim("iteration")
        return self

    def __next__(self):
        message = self._next(None)
        if message is _END:
            raise StopIteration
        return message

    def __aiter__(self):
        self._claim("iteration")
        return self

    async def __anext__(self):
        while True:
            with self._cond:
                message = self._take()
                if message is _EMPTY:
                    loop = asyncio.get_running_loop()
                    future = loop.create_future()
                    waiter = (loop, future)
                    self._async_waiters.append(waiter)
            if message is _END:
                raise StopAsyncIteration
            if message is not _EMPTY:
                return message
            try:
                await future
            finally:
                if not future.done():  # cancelled: withdraw the waiter
                    with self._cond:
                        if waiter in self._async_waiters:
                            self._async_waiters.remove(waiter)

    # -- callbacks ---------------------------------------------------------------
    def on_message(self, callback):
        """Call ``callback(message)`` for each message, in the dispatcher thread.

        Returns ``callback``, so it works as a decorator. Messages that
        arrived before the first callback was registered are delivered to it.
        """
        self._claim("callbacks")
        with self._cond:
            self._callbacks.append(callback)
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch_loop, daemon=True,
                                                    name="minikv-broadcast-callbacks")
                self._dispatcher.start()
        return callback

    def _dispatch_loop(self):
        while True:
            try:
                message = self._next(None)
            except Exception as exc:  # the error that ended the subscription
                log.error("subscription to %s failed: %s", self._names(), exc)
                return
            if message is _END:
                return
            for callback in list(self._callbacks):
                try:
                    callback(message)
                except Exception:
                    log.exception("Broadcast callback %r failed on %r", callback, message)

    # -- sync and close ----------------------------------------------------------
    def sync(self, timeout=None):
        """Wait until every message published before this call was buffered.

        Raises ``TimeoutError`` after ``timeout`` seconds, and the error that
        ended the subscription if it failed meanwhile; returns at once on a
        closed subscription.
        """
        token = b"minikv-broadcast-sync:%d" % next(_sync_tokens)
        done = threading.Event()
        try:
            with self._cond:
                if self._ended:
                    done.set()
                else:
                    self._syncs[token] = done
                    self._pubsub.ping(token)
            if not done.wait(timeout):
                raise TimeoutError(f"no answer from the server within {timeout} s")
        finally:
            with self._cond:
                self._syncs.pop(token, None)
        if self.error is not None and not self._closed:
            raise self.error

    def close(self):
        """Unsubscribe, drop unread messages, end iteration, stop the threads."""
        with self._cond:
            self._closed = True
            self._buffer.clear()
            self._end(None)
            # If this fails the connection is gone, and the reader's read fails too.
            self._unsubscribe_locked()
        current = threading.current_thread()
        for thread in (self._reader, self._dispatcher):
            if thread is not None and thread is not current:
                thread.join(JOIN_TIMEOUT)
                if thread.is_alive():
                    log.warning("%s did not stop within %s s", thread.name, JOIN_TIMEOUT)

    async def aclose(self):
        """``close()`` without blocking the event loop on a network round trip."""
        await call_sync(is_embedded(self._broadcast.client), self.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.aclose()


class AsyncSubscription(_SubscriptionCore):
    """``Subscription`` for asyncio, made by ``AsyncBroadcast.subscribe``:
    an async iterator, ``await get(timeout)``, a callback registrar.

    A reader task (``minikv-broadcast-reader``) awaits the async client's
    PubSub and fills the buffer; ``on_message`` callbacks run in a
    dispatcher task (``minikv-broadcast-callbacks``). Both run on the loop
    that made the subscription; ``close()`` waits for them (a task still
    running after ``JOIN_TIMEOUT`` is cancelled). ``received``,
    ``dropped``, ``pending``, ``error`` as on ``Subscription``.
    """

    def __init__(self, broadcast, channels, patterns, max_buffer, overflow):
        super().__init__(broadcast, channels, patterns, max_buffer, overflow)
        self._loop = asyncio.get_running_loop()
        # Set when a message is buffered or the stream ends; a consumer that
        # finds the buffer empty clears it before waiting.
        self._arrived = asyncio.Event()
        self._syncs = {}  # PING token -> future resolved when its PONG is read
        # One sender at a time on the PubSub, and none once the reader
        # closed it (redis.asyncio would open a new connection to send).
        self._sending = asyncio.Lock()
        self._reader = None
        self._dispatcher = None
        self._pubsub = broadcast.client.pubsub()

    async def _start(self, on_message):
        channels, patterns = self._subscribe_args
        pubsub = self._pubsub
        try:
            if channels:
                await pubsub.subscribe(*channels)
            if patterns:
                await pubsub.psubscribe(*patterns)
        except BaseException:
            await pubsub.aclose()
            raise
        # Messages wait on the connection until the reader starts: a callback
        # registered now sees the first of them.
        if on_message is not None:
            self.on_message(on_message)
        self._reader = self._loop.create_task(self._read_loop(),
                                              name="minikv-broadcast-reader")
        try:
            await self.sync(SUBSCRIBE_TIMEOUT)
        except BaseException:
            await self.close()
            raise

    # -- reader task ---------------------------------------------------------------
    async def _read_loop(self):
        pubsub = self._pubsub
        try:
            while True:
                try:
                    message = await pubsub.get_message(timeout=None)
                except Exception as exc:  # connection lost; minikv: output buffer limit
                    if not self._unsubscribing:
                        log.warning("subscription to %s ended: %s", self._names(), exc)
                        self._end(exc)
                    return
                if message is None:
                    continue
                kind = message["type"]
                if kind == "message" or kind == "pmessage":
                    if not self._ended and not await self._deliver(message):
                        return  # overflowed and could not even unsubscribe
                elif kind == "pong":
                    done = self._syncs.get(message["data"])
                    if done is not None:
                        _wake_future(done)
                elif (kind == "unsubscribe" or kind == "punsubscribe") \
                        and message["data"] == 0 and self._unsubscribing:
                    return  # the server confirmed the last unsubscription
        finally:
            self._reader_done = True
            self._end(None)
            async with self._sending:
                await pubsub.aclose()

    async def _deliver(self, raw):
        """Buffer one message under the overflow policy; False: stop reading now."""
        error = self._admit(self._message(raw))
        if error is not None:
            log.warning("%s", error)
            self._end(error)
            return await self._unsubscribe()
        self._arrived.set()
        return True

    def _wake_everyone(self):
        self._arrived.set()
        for done in self._syncs.values():
            _wake_future(done)

    async def _unsubscribe(self):
        """As ``Subscription._unsubscribe_locked``: False if it could not be sent."""
        if self._unsubscribing or self._reader_done:
            return True
        self._unsubscribing = True
        try:
            async with self._sending:
                if not self._reader_done:
                    if self.channels:
                        await self._pubsub.unsubscribe()
                    if self.patterns:
                        await self._pubsub.punsubscribe()
        except Exception as exc:
            log.warning("unsubscribing %s failed: %s", self._names(), exc)
            return False
        return True

    # -- reading the buffer ---------------------------------------------------------
    async def _next(self, timeout):
        message = self._take()
        if message is not _EMPTY or timeout == 0:
            return message
        loop = self._loop
        deadline = None if timeout is None else loop.time() + timeout
        arrived = self._arrived
        while message is _EMPTY:
            arrived.clear()
            if deadline is None:
                await arrived.wait()
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(arrived.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
            message = self._take()
        return message

    async def get(self, timeout=None):
        """The next message; None if ``timeout`` seconds pass first (None: wait
        for ever) or when the subscription is closed (``closed`` tells which).
        Raises the error that ended the subscription once its messages are read."""
        self._claim_for("iteration")
        message = await self._next(timeout)
        return None if message is _EMPTY or message is _END else message

    def __aiter__(self):
        self._claim_for("iteration")
        return self

    async def __anext__(self):
        message = await self._next(None)
        if message is _END:
            raise StopAsyncIteration
        return message

    # -- callbacks -------------------------------------------------------------------
    def on_message(self, callback):
        """Call ``callback(message)`` for each message, in the dispatcher task;
        a coroutine function's result is awaited before the next message.

        Returns ``callback``, so it works as a decorator. Messages that
        arrived before the first callback was registered are delivered to it.
        Call it on the subscription's loop.
        """
        self._claim_for("callbacks")
        self._callbacks.append(callback)
        if self._dispatcher is None:
            self._dispatcher = self._loop.create_task(self._dispatch_loop(),
                                                      name="minikv-broadcast-callbacks")
        return callback

    async def _dispatch_loop(self):
        while True:
            try:
                message = await self._next(None)
            except Exception as exc:  # the error that ended the subscription
                log.error("subscription to %s failed: %s", self._names(), exc)
                return
            if message is _END:
                return
            for callback in list(self._callbacks):
                try:
                    result = callback(message)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("AsyncBroadcast callback %r failed on %r", callback, message)

    # -- sync and close ------------------------------------------------------------
    async def sync(self, timeout=None):
        """Return once every message published before this call was buffered.

        As ``Subscription.sync``: ``TimeoutError`` after ``timeout`` seconds,
        the error that ended the subscription if it failed meanwhile, at
        once on a closed subscription.
        """
        token = b"minikv-broadcast-sync:%d" % next(_sync_tokens)
        done = self._loop.create_future()
        self._syncs[token] = done
        try:
            async with self._sending:
                if self._ended:
                    _wake_future(done)
                else:
                    await self._pubsub.ping(token)
            # asyncio.wait: a cancelled or timed-out sync leaves ``done`` alone.
            finished, _ = await asyncio.wait((done,), timeout=timeout)
            if not finished:
                raise TimeoutError(f"no answer from the server within {timeout} s")
        finally:
            self._syncs.pop(token, None)
        if self.error is not None and not self._closed:
            raise self.error

    async def close(self):
        """Unsubscribe, drop unread messages, end iteration, and wait for the
        reader and dispatcher tasks to finish (except the calling one, when
        a callback closes its own subscription)."""
        self._closed = True
        self._buffer.clear()
        self._end(None)
        # If this fails the connection is gone, and the reader's read fails too.
        await self._unsubscribe()
        current = asyncio.current_task()
        for task in (self._reader, self._dispatcher):
            if task is None or task is current or task.done():
                continue
            finished, _ = await asyncio.wait((task,), timeout=JOIN_TIMEOUT)
            if not finished:
                log.warning("%s did not stop within %s s: cancelled", task.get_name(),
                            JOIN_TIMEOUT)
                task.cancel()
                await asyncio.wait((task,), timeout=JOIN_TIMEOUT)

    aclose = close

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.close()
