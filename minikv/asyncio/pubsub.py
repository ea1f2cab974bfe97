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

The connection is an engine ``Subscriber`` whose inbox is a ``LoopInbox``:
commands run under the store lock as for the sync ``minikv.PubSub``, and a
reader with nothing to read awaits a ``LoopNotifier`` that every put
(a publish from any thread or event loop, a confirmation, an overflow)
resolves through the reader's loop — the loop is never blocked, and nothing
polls. ``get_message``'s timeout is the loop's (a socket timeout in
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

from minikv.api.expiry_args import list_or_args
from minikv.asyncio.waiting import LoopNotifier
from minikv.engine.commands import dispatch
from minikv.engine.errors import CommandError
from minikv.engine.pubsub import DEFAULT_OUTPUT_BUFFER_LIMIT, NO_REPLY, Inbox, Subscriber
from minikv.exceptions import ConnectionError, PubSubError, error_from_reply
from minikv.pubsub import _MESSAGE_TYPES, _parse_subscriptions

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


class PubSub:
    """Publish/subscribe on a minikv store with redis.asyncio's ``PubSub`` API."""

    PUBLISH_MESSAGE_TYPES = ("message", "pmessage", "smessage")
    UNSUBSCRIBE_MESSAGE_TYPES = ("unsubscribe", "punsubscribe", "sunsubscribe")
    HEALTH_CHECK_MESSAGE = "redis-py-health-check"

    def __init__(self, client, shard_hint=None, ignore_subscribe_messages=False,
                 output_buffer_limit=DEFAULT_OUTPUT_BUFFER_LIMIT):
        self.client = client  # the LoopSideClient of the async client
        self.shard_hint = shard_hint  # accepted for redis-py compatibility; one node
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.connection = None
        self._inbox = LoopInbox(output_buffer_limit)
        self._encode = client._encode
        self._decode = client._decode
        self._encoding = client._encoding
        self._encoding_errors = client._encoding_errors
        self._pong = "PONG" if self._decode else b"PONG"
        self._empty = "" if self._decode else b""
        self._forget_subscriptions()

    def _forget_subscriptions(self):
        self.channels = {}
        self.pending_unsubscribe_channels = set()
        self.patterns = {}
        self.pending_unsubscribe_patterns = set()
        self.shard_channels = {}
        self.pending_unsubscribe_shard_channels = set()

    @property
    def output_buffer_limit(self):
        return self._inbox.limit

    def __repr__(self):
        return (f"<minikv.asyncio.PubSub channels={len(self.channels)} "
                f"patterns={len(self.patterns)} shard_channels={len(self.shard_channels)}>")

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc_value, traceback):
        await self.aclose()

    # -- connection ------------------------------------------------------------------
    async def aclose(self):
        """Leave every channel and pattern, drop unread messages, forget handlers."""
        connection, self.connection = self.connection, None
        if connection is not None:
            with self.client._lock:
                connection.store.pubsub.release(connection)
        self._inbox.clear()
        self._forget_subscriptions()

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
        client = self.client
        self.connection = Subscriber(client.store, self._inbox, client._session.db)
        if connection is not None:  # reconnecting
            self.pending_unsubscribe_channels.clear()
            self.pending_unsubscribe_patterns.clear()
            self.pending_unsubscribe_shard_channels.clear()
            for command, names in (("SUBSCRIBE", self.channels), ("PSUBSCRIBE", self.patterns),
                                   ("SSUBSCRIBE", self.shard_channels)):
                if names:
                    self._send([command, *names])

    @property
    def subscribed(self):
        """True while subscribed to any channel, pattern or shard channel."""
        return bool(self.channels or self.patterns or self.shard_channels)

    async def execute_command(self, *args):
        """Send a command on the subscriber connection; its reply is read
        with ``get_message``/``listen``."""
        await self.connect()
        self._send(args)

    def _send(self, args):
        encode = self._encode
        argv = [encode(arg) for arg in args]
        connection = self.connection
        with self.client._lock:
            try:
                reply = dispatch(connection, argv)
            except CommandError as exc:
                reply = exc
            if reply is not NO_REPLY:
                connection.reply(reply)

    def _normalize_keys(self, data):
        """Names as messages carry them: bytes, or str with decode_responses."""
        encode = self._encode
        if self._decode:
            encoding, errors = self._encoding, self._encoding_errors
            return {encode(name).decode(encoding, errors): handler
                    for name, handler in data.items()}
        return {encode(name): handler for name, handler in data.items()}

    # -- subscribing -------------------------------------------------------------------
    async def subscribe(self, *args, **kwargs):
        """Subscribe to channels; ``channel=handler`` keywords (or redis-py
        ``Subscription`` objects) register a function or coroutine function
        that receives the channel's messages instead of get_message()/listen()."""
        new_channels = _parse_subscriptions(args, kwargs)
        await self.execute_command("SUBSCRIBE", *new_channels)
        new_channels = self._normalize_keys(new_channels)
        self.channels.update(new_channels)
        self.pending_unsubscribe_channels.difference_update(new_channels)

    async def unsubscribe(self, *args):
        """Unsubscribe from the given channels, or from all of them."""
        if args:
            args = list_or_args(args[0], args[1:])
            channels = self._normalize_keys(dict.fromkeys(args))
        else:
            channels = self.channels
        self.pending_unsubscribe_channels.update(channels)
        await self.execute_command("UNSUBSCRIBE", *args)

    async def psubscribe(self, *args, **kwargs):
        """Subscribe to glob patterns, with optional handlers as for ``subscribe``."""
        new_patterns = _parse_subscriptions(args, kwargs)
        await self.execute_command("PSUBSCRIBE", *new_patterns)
        new_patterns = self._normalize_keys(new_patterns)
        self.patterns.update(new_patterns)
        self.pending_unsubscribe_patterns.difference_update(new_patterns)

    async def punsubscribe(self, *args):
        if args:
            args = list_or_args(args[0], args[1:])
            patterns = self._normalize_keys(dict.fromkeys(args))
        else:
            patterns = self.patterns
        self.pending_unsubscribe_patterns.update(patterns)
        await self.execute_command("PUNSUBSCRIBE", *args)

    async def ssubscribe(self, *args, target_node=None, **kwargs):
        """Subscribe to shard channels (SPUBLISH); one node, so one namespace."""
        new_channels = _parse_subscriptions(args, kwargs)
        await self.execute_command("SSUBSCRIBE", *new_channels)
        new_channels = self._normalize_keys(new_channels)
        self.shard_channels.update(new_channels)
        self.pending_unsubscribe_shard_channels.difference_update(new_channels)

    async def sunsubscribe(self, *args, target_node=None):
        if args:
            args = list_or_args(args[0], args[1:])
            channels = self._normalize_keys(dict.fromkeys(args))
        else:
            channels = self.shard_channels
        self.pending_unsubscribe_shard_channels.update(channels)
        await self.execute_command("SUNSUBSCRIBE", *args)

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
                if inbox.error is not None:
                    error, inbox.error = inbox.error, None
                    raise ConnectionError(error)
                if inbox.items:
                    reply = inbox.take()
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
        if isinstance(reply, CommandError):
            raise error_from_reply(reply.text)
        if self._decode:
            reply = self._decode_reply(reply)
        return reply

    def _decode_reply(self, reply):
        encoding, errors = self._encoding, self._encoding_errors
        if reply.__class__ is bytes:
            return reply.decode(encoding, errors)
        if reply.__class__ is tuple or reply.__class__ is list:
            return [item.decode(encoding, errors) if item.__class__ is bytes else item
                    for item in reply]
        return reply

    async def handle_message(self, response, ignore_subscribe_messages=False):
        """Turn a reply into redis-py's message dict, or call (and await)
        its handler. None for a message a handler consumed and for a
        subscribe-family confirmation when those are ignored."""
        if response is None:
            return None
        if response.__class__ is bytes or response.__class__ is str:
            # a PONG: "PONG" for PING without argument, else the argument
            response = ("pong", self._empty if response == self._pong else response)
        kind = response[0]
        if kind.__class__ is bytes:
            message_type = _MESSAGE_TYPES.get(kind) or kind.decode("utf-8", "replace")
        else:
            message_type = kind
        if message_type == "pmessage":
            message = {"type": message_type, "pattern": response[1],
                       "channel": response[2], "data": response[3]}
        elif message_type == "pong":
            message = {"type": message_type, "pattern": None, "channel": None,
                       "data": response[1]}
        else:
            message = {"type": message_type, "pattern": None, "channel": response[1],
                       "data": response[2]}

        if message_type in self.UNSUBSCRIBE_MESSAGE_TYPES:
            name = response[1]
            if message_type == "punsubscribe":
                pending, subscriptions = self.pending_unsubscribe_patterns, self.patterns
            elif message_type == "sunsubscribe":
                pending, subscriptions = (self.pending_unsubscribe_shard_channels,
                                          self.shard_channels)
            else:
                pending, subscriptions = self.pending_unsubscribe_channels, self.channels
            if name in pending:
                pending.remove(name)
                subscriptions.pop(name, None)

        if message_type in self.PUBLISH_MESSAGE_TYPES:
            if message_type == "pmessage":
                handler = self.patterns.get(message["pattern"])
            elif message_type == "smessage":
                handler = self.shard_channels.get(message["channel"])
            else:
                handler = self.channels.get(message["channel"])
            if handler:
                if inspect.iscoroutinefunction(handler):
                    await handler(message)
                else:
                    handler(message)
                return None
        elif message_type != "pong":
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None
        return message

    async def run(self, *, exception_handler=None, poll_timeout=1.0, pubsub=None):
        """Feed every message to its handler until the task is cancelled
        (redis.asyncio's ``PubSub.run``). Every channel and pattern must
        have a handler. ``exception_handler(exc, pubsub)`` (may be a
        coroutine function) gets an exception instead of ending the loop."""
        for channel, handler in self.channels.items():
            if handler is None:
                raise PubSubError(f"Channel: '{channel}' has no handler registered")
        for pattern, handler in self.patterns.items():
            if handler is None:
                raise PubSubError(f"Pattern: '{pattern}' has no handler registered")
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
