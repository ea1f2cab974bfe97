"""``minikv.asyncio.PubSub``: redis.asyncio's PubSub over the in-process bus.

``r.pubsub()`` returns one: ``await p.subscribe(...)`` (and ``psubscribe``,
``ssubscribe``, the unsubscribe family, ``ping``), ``await
p.get_message(ignore_subscribe_messages=False, timeout=0.0)``, ``async for
message in p.listen()``, ``await p.run()`` (handlers; cancel the task to
stop it), ``aclose()``, ``async with``. Handlers may be plain functions or
coroutine functions. State and message dicts are redis.asyncio's:
``subscribed`` is true while ``channels``, ``patterns`` or
``shard_channels`` hold anything, and reading before the first subscribe
raises the same RuntimeError.

The connection is an engine ``Subscriber`` whose inbox is a ``LoopInbox``.
Sending commands, the subscription bookkeeping and the message dicts are
the sync ``minikv.PubSub``'s (their shared base, ``PubSubCore``); only
waiting differs: a reader with nothing to read awaits a ``LoopNotifier``
that every put (a publish from any thread or event loop, a confirmation,
an overflow) resolves through the reader's loop — the loop is never
blocked, and nothing polls. ``get_message``'s timeout is the loop's (a socket timeout in
redis-py), not the store clock. One coroutine reads a PubSub at a time, as
with redis.asyncio's connection; a second concurrent reader gets a
RuntimeError. A slow reader overflows as the sync PubSub does (see
minikv/pubsub.py): the next read raises ConnectionError, the one after it
reconnects and re-subscribes.

One deliberate difference, as in ``minikv.PubSub``: with
``decode_responses=True``, redis-py mangles the PONG of ``ping()``; minikv
yields the intended ``'pong'`` message.
"""
import asyncio
import inspect
import warnings

from minikv.asyncio.waiting import LoopNotifier
from minikv.engine.pubsub import DEFAULT_OUTPUT_BUFFER_LIMIT, Inbox
from minikv.pubsub import NOTHING, PubSubCore, _parse_subscriptions

__all__ = ["PubSub", "LoopInbox"]


class LoopInbox(Inbox):
    """An ``Inbox`` read by a coroutine: every change wakes its reader.

    ``reader`` is the ``LoopNotifier`` of the coroutine awaiting a reply,
    set (under ``mutex``) only after it found the inbox empty; a writer
    reads it after queueing, so a reply is never left unannounced.
    """

    __slots__ = ("reader",)

    def __init__(self, limit=DEFAULT_OUTPUT_BUFFER_LIMIT):
        super().__init__(limit)
        self.reader = None

    def put(self, entry):
        queued = Inbox.put(self, entry)
        reader = self.reader
        if queued and reader is not None:
            reader.notify()
        return queued

    def overflowed(self):
        Inbox.overflowed(self)
        self._wake_reader()

    def clear(self):
        Inbox.clear(self)
        self._wake_reader()

    def wake(self):
        Inbox.wake(self)
        self._wake_reader()

    def _wake_reader(self):
        reader = self.reader
        if reader is not None:
            reader.notify()


class PubSub(PubSubCore):
    """Publish/subscribe on a minikv store with redis.asyncio's ``PubSub`` API."""

    DISPLAY_NAME = "minikv.asyncio.PubSub"

    def __init__(self, client, shard_hint=None, ignore_subscribe_messages=False,
                 output_buffer_limit=DEFAULT_OUTPUT_BUFFER_LIMIT):
        # client: the LoopSideClient of the async client
        super().__init__(client, shard_hint, ignore_subscribe_messages,
                         LoopInbox(output_buffer_limit))

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc_value, traceback):
        await self.aclose()

    # -- connection ------------------------------------------------------------------
    async def aclose(self):
        """Leave every channel and pattern, drop unread messages, forget handlers."""
        self._disconnect()

    async def close(self):
        """Deprecated alias of ``aclose()``, as in redis.asyncio."""
        warnings.warn("Call to deprecated close. (Use aclose() instead) -- Deprecated since "
                      "version 5.0.1.", DeprecationWarning, stacklevel=2)
        await self.aclose()

    async def reset(self):
        """Deprecated alias of ``aclose()``, as in redis.asyncio."""
        warnings.warn("Call to deprecated reset. (Use aclose() instead) -- Deprecated since "
                      "version 5.0.1.", DeprecationWarning, stacklevel=2)
        await self.aclose()

    async def connect(self):
        """Make sure the PubSub is connected; a new connection (after an
        overflow dropped the old one) re-subscribes to everything tracked,
        as redis-py's ``on_connect`` does."""
        connection = self.connection
        if connection is not None and not connection.closed:
            return
        new_connection = self._new_connection()
        if connection is not None:  # reconnecting
            self._resubscribe(new_connection)

    @property
    def subscribed(self):
        """True while subscribed to any channel, pattern or shard channel."""
        return bool(self.channels or self.patterns or self.shard_channels)

    async def execute_command(self, *args):
        """Send a command on the subscriber connection; its reply is read
        with ``get_message``/``listen``."""
        await self.connect()
        self._send(self.connection, args)

    # -- subscribing -------------------------------------------------------------------
    async def subscribe(self, *args, **kwargs):
        """Subscribe to channels; ``channel=handler`` keywords (or redis-py
        ``Subscription`` objects) register a function or coroutine function
        that receives the channel's messages instead of get_message()/listen()."""
        await self._subscribe("SUBSCRIBE", args, kwargs)

    async def unsubscribe(self, *args):
        """Unsubscribe from the given channels, or from all of them."""
        await self._unsubscribe("UNSUBSCRIBE", args)

    async def psubscribe(self, *args, **kwargs):
        """Subscribe to glob patterns, with optional handlers as for ``subscribe``."""
        await self._subscribe("PSUBSCRIBE", args, kwargs)

    async def punsubscribe(self, *args):
        await self._unsubscribe("PUNSUBSCRIBE", args)

    async def ssubscribe(self, *args, target_node=None, **kwargs):
        """Subscribe to shard channels (SPUBLISH); one node, so one namespace."""
        await self._subscribe("SSUBSCRIBE", args, kwargs)

    async def sunsubscribe(self, *args, target_node=None):
        await self._unsubscribe("SUNSUBSCRIBE", args)

    async def _subscribe(self, command, args, kwargs):
        new = _parse_subscriptions(args, kwargs)
        await self.execute_command(command, *new)
        self._subscribed_to(command, new)

    async def _unsubscribe(self, command, args):
        await self.execute_command(command, *self._unsubscribing(command, args))

    async def ping(self, message=None):
        """Send a PING; its PONG is read as a ``'pong'`` message."""
        await self.execute_command(*(("PING",) if message is None else ("PING", message)))

    # -- reading ---------------------------------------------------------------------------
    async def get_message(self, ignore_subscribe_messages=False, timeout=0.0):
        """The next message, or None if none arrives within ``timeout``
        seconds (None: wait for one). Waits without blocking the loop."""
        response = await self.parse_response(block=(timeout is None), timeout=timeout)
        if response:
            return await self.handle_message(response, ignore_subscribe_messages)
        return None

    get_sharded_message = get_message

    async def listen(self):
        """Yield messages while subscribed, awaiting each."""
        while self.subscribed:
            response = await self.handle_message(await self.parse_response(block=True))
            if response is not None:
                yield response

    async def check_health(self):
        """No connection to check in-process; fails as redis.asyncio's does
        before the first subscribe."""
        if self.connection is None:
            raise RuntimeError("pubsub connection not set: "
                               "did you forget to call subscribe() or psubscribe()?")

    async def parse_response(self, block=True, timeout=0):
        """The next reply (decoded), waiting for ever with ``block``, else up
        to ``timeout`` seconds; None if there is none by then."""
        await self.check_health()
        inbox = self._inbox
        if self.connection.closed and inbox.error is None:
            await self.connect()  # the overflow was reported: reconnect
        loop = asyncio.get_running_loop()
        deadline = None if block else loop.time() + timeout
        while True:
            with inbox.mutex:
                reply = self._take_reply()
                if reply is not NOTHING:
                    break
                remaining = None
                if deadline is not None:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        return None
                if inbox.reader is not None:
                    raise RuntimeError("another coroutine is already reading this PubSub")
                notifier = inbox.reader = LoopNotifier(loop)
            try:
                await asyncio.wait((notifier.future,), timeout=remaining)
            finally:
                inbox.reader = None
            if self.connection is None:
                return None  # closed (aclose) while this read waited
        return self._finish_reply(reply)

    async def handle_message(self, response, ignore_subscribe_messages=False):
        """Turn a reply into redis-py's message dict, or call (and await)
        its handler. None for a message a handler consumed and for a
        subscribe-family confirmation when those are ignored."""
        message, handler = self._route(response, ignore_subscribe_messages)
        if handler is None:
            return message
        if inspect.iscoroutinefunction(handler):
            await handler(message)
        else:
            handler(message)
        return None

    async def run(self, *, exception_handler=None, poll_timeout=1.0, pubsub=None):
        """Feed every message to its handler until the task is cancelled
        (redis.asyncio's ``PubSub.run``). Every channel and pattern must
        have a handler. ``exception_handler(exc, pubsub)`` (may be a
        coroutine function) gets an exception instead of ending the loop."""
        self._require_handlers(shard_channels=False)  # as redis.asyncio checks
        await self.connect()
        source = self if pubsub is None else pubsub
        while True:
            try:
                await source.get_message(ignore_subscribe_messages=True, timeout=poll_timeout)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                if exception_handler is None:
                    raise
                result = exception_handler(exc, self)
                if inspect.isawaitable(result):
                    await result
            # Let other tasks run even when messages keep coming.
            await asyncio.sleep(0)
