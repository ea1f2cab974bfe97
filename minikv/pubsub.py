"""``PubSub``: redis-py's publish/subscribe object over the in-process bus.

``r.pubsub()`` returns one. Its API, state and messages are redis-py's
(``redis.client.PubSub``): ``subscribe``/``psubscribe``/``ssubscribe`` with
positional names or ``name=handler`` keywords, the unsubscribe family,
``get_message``, ``listen``, ``run_in_thread``, ``ping``, ``close``/``reset``,
the ``channels``/``patterns``/``shard_channels`` dicts (name -> handler) and
``subscribed``. Message dicts are exactly what redis-py yields::

    {'type': 'message', 'pattern': None, 'channel': b'news', 'data': b'hi'}

How it works: the PubSub's "connection" is an engine ``Subscriber`` (a
session whose replies go to an ``Inbox``, engine/pubsub.py), created on the
first command as redis-py connects on the first command. Commands run
through the command table under the store lock; replies — subscribe
confirmations, published messages, PONGs, errors — are queued in the inbox
in the order Redis would send them on the connection, and ``get_message``
pops them, waiting on the inbox's condition (woken by the publish itself, no
polling). As in redis-py, nothing is read while the object is not subscribed
to anything, and a subscription's bookkeeping (``channels`` etc.) is updated
on the client side when the command is sent and when the unsubscribe
confirmation is read.

Reply shapes follow what redis-py's default (RESP3) connection gives: a
``ping()`` yields ``{'type': 'pong', ..., 'data': b''}`` (or the message
given); other commands sent through ``execute_command`` queue their reply as
RESP3 allows on a subscribed connection. One deliberate difference: with
``decode_responses=True`` redis-py's RESP3 path mangles PONGs (it indexes
the string "PONG"); minikv yields the intended ``'pong'`` message there.

Slow readers: each PubSub's inbox holds at most ``output_buffer_limit``
bytes (default 32 MB, Redis's ``client-output-buffer-limit pubsub`` hard
limit; 0 = unlimited). A publish that would exceed it disconnects the
subscriber instead of blocking: its unread messages are dropped and the
next read raises ``ConnectionError`` saying the output buffer limit was
exceeded. As redis-py reconnects a PubSub whose connection dropped, the
operation after that reconnects and re-subscribes to everything in
``channels``/``patterns``/``shard_channels`` (the confirmations are
delivered as messages).

``PubSubCore`` holds what this class shares with ``minikv.asyncio.PubSub``:
sending on the connection, (re)subscribing, the client-side bookkeeping and
the shaping of replies into message dicts. Only the waiting for a reply
differs (a condition here, the event loop there).

Lifetime: a PubSub that is closed, or garbage-collected without being
closed, leaves the bus (weak references; see engine/pubsub.py). A
``run_in_thread`` worker keeps its PubSub alive until ``stop()``; the worker
waits for messages without a timeout and ``stop()`` wakes it, so it ends
promptly and never polls.
"""
import threading
import time

from minikv.api.expiry_args import list_or_args
from minikv.engine.commands import dispatch
from minikv.engine.errors import CommandError
from minikv.engine.pubsub import DEFAULT_OUTPUT_BUFFER_LIMIT, NO_REPLY, Inbox, Subscriber
from minikv.exceptions import ConnectionError, PubSubError, error_from_reply

try:  # redis-py's Subscription(name, handler) objects, when redis-py is installed
    from redis.typing import Subscription
except ImportError:
    Subscription = None

__all__ = ["PubSub", "PubSubCore", "PubSubWorkerThread", "DEFAULT_OUTPUT_BUFFER_LIMIT"]

_MESSAGE_TYPES = {b"message": "message", b"pmessage": "pmessage", b"smessage": "smessage",
                  b"subscribe": "subscribe", b"unsubscribe": "unsubscribe",
                  b"psubscribe": "psubscribe", b"punsubscribe": "punsubscribe",
                  b"ssubscribe": "ssubscribe", b"sunsubscribe": "sunsubscribe"}
_PATTERN_KINDS = frozenset(("psubscribe", "punsubscribe"))
_SHARD_KINDS = frozenset(("ssubscribe", "sunsubscribe"))

# What ``PubSubCore._take_reply`` returns when nothing is unread (a reply can be None).
NOTHING = object()


def _parse_subscriptions(args, kwargs):
    """{name: handler or None} from positional names/Subscriptions and keywords."""
    subscriptions = {}
    for arg in (list_or_args(args[0], args[1:]) if args else []):
        if Subscription is not None and isinstance(arg, Subscription):
            subscriptions[arg.name] = arg.handler
        else:
            subscriptions[arg] = None
    subscriptions.update(kwargs)
    return subscriptions


class PubSubCore:
    """What ``PubSub`` and ``minikv.asyncio.PubSub`` share: the connection's
    commands, the subscription bookkeeping and the shaping of replies into
    redis-py's message dicts. None of it waits; how a reader waits for a
    reply (a condition here, the event loop there) is each subclass's.

    ``inbox`` is the ``Inbox`` the connection's replies go to.
    """

    PUBLISH_MESSAGE_TYPES = ("message", "pmessage", "smessage")
    UNSUBSCRIBE_MESSAGE_TYPES = ("unsubscribe", "punsubscribe", "sunsubscribe")
    HEALTH_CHECK_MESSAGE = "redis-py-health-check"
    DISPLAY_NAME = "minikv.PubSub"

    def __init__(self, client, shard_hint, ignore_subscribe_messages, inbox):
        self.client = client
        self.shard_hint = shard_hint  # accepted for redis-py compatibility; one node
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.connection = None
        self._inbox = inbox
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
        self.shard_channels = {}
        self.pending_unsubscribe_shard_channels = set()
        self.patterns = {}
        self.pending_unsubscribe_patterns = set()

    @property
    def output_buffer_limit(self):
        return self._inbox.limit

    def __repr__(self):
        return (f"<{self.DISPLAY_NAME} channels={len(self.channels)} "
                f"patterns={len(self.patterns)} shard_channels={len(self.shard_channels)}>")

    # -- connection ----------------------------------------------------------
    def _disconnect(self):
        """Leave the bus, drop unread messages, forget every subscription."""
        connection, self.connection = self.connection, None
        if connection is not None:
            with self.client._lock:
                connection.store.pubsub.release(connection)
        self._inbox.clear()
        self._forget_subscriptions()

    def _new_connection(self):
        """A fresh Subscriber, on the client's current database."""
        client = self.client
        connection = self.connection = Subscriber(client.store, self._inbox, client._session.db)
        return connection

    def _resubscribe(self, connection):
        """What redis-py's ``on_connect`` does on a new connection: forget
        pending unsubscribes and subscribe again to everything tracked (the
        confirmations arrive as messages)."""
        self.pending_unsubscribe_channels.clear()
        self.pending_unsubscribe_patterns.clear()
        self.pending_unsubscribe_shard_channels.clear()
        for command, names in (("SUBSCRIBE", self.channels), ("PSUBSCRIBE", self.patterns),
                               ("SSUBSCRIBE", self.shard_channels)):
            if names:
                self._send(connection, [command, *names])

    def _send(self, connection, args):
        """Run a command on ``connection``; its reply (if any) goes to the inbox."""
        encode = self._encode
        argv = [encode(arg) for arg in args]
        with self.client._lock:
            try:
                reply = dispatch(connection, argv)
            except CommandError as exc:
                reply = exc
            if reply is not NO_REPLY:
                connection.reply(reply)

    # -- subscription bookkeeping (on the client side, as in redis-py) -------
    def _normalize_keys(self, data):
        """Names as messages carry them: bytes, or str with decode_responses."""
        encode = self._encode
        if self._decode:
            encoding, errors = self._encoding, self._encoding_errors
            return {encode(name).decode(encoding, errors): handler
                    for name, handler in data.items()}
        return {encode(name): handler for name, handler in data.items()}

    def _tracked(self, kind):
        """(subscriptions, pending unsubscribes) that a subscribe-family
        command or confirmation (``kind``: "SUBSCRIBE", "punsubscribe"...)
        is about."""
        kind = kind.lower()
        if kind in _PATTERN_KINDS:
            return self.patterns, self.pending_unsubscribe_patterns
        if kind in _SHARD_KINDS:
            return self.shard_channels, self.pending_unsubscribe_shard_channels
        return self.channels, self.pending_unsubscribe_channels

    def _subscribed_to(self, command, new):
        """Track ``new`` ({name: handler}), which SUBSCRIBE-family
        ``command`` was sent for; an unsubscribe pending for one of them no
        longer applies."""
        subscriptions, pending = self._tracked(command)
        new = self._normalize_keys(new)
        subscriptions.update(new)
        pending.difference_update(new)

    def _unsubscribing(self, command, args):
        """Mark the names UNSUBSCRIBE-family ``command`` leaves (``args``,
        or with none every name subscribed to) as pending until their
        confirmation is read; the arguments to send."""
        subscriptions, pending = self._tracked(command)
        if args:
            args = list_or_args(args[0], args[1:])
            names = self._normalize_keys(dict.fromkeys(args))
        else:
            names = subscriptions
        pending.update(names)
        return args

    def _unsubscribed(self, message_type, name):
        """An unsubscribe-family confirmation was read: ``name`` is
        forgotten if its unsubscribe is still pending."""
        subscriptions, pending = self._tracked(message_type)
        if name in pending:
            pending.remove(name)
            subscriptions.pop(name, None)

    def _require_handlers(self, shard_channels=True):
        """PubSubError for a subscription without a handler (before a
        worker or ``run`` takes over reading)."""
        kinds = [("Channel", self.channels), ("Pattern", self.patterns)]
        if shard_channels:
            kinds.append(("Shard Channel", self.shard_channels))
        for label, subscriptions in kinds:
            for name, handler in subscriptions.items():
                if handler is None:
                    raise PubSubError(f"{label}: '{name}' has no handler registered")

    # -- replies ---------------------------------------------------------------
    def _take_reply(self):
        """The oldest unread reply, or ``NOTHING``; raises, once, the
        ConnectionError an overflow left. Call holding the inbox's mutex."""
        inbox = self._inbox
        if inbox.error is not None:
            error, inbox.error = inbox.error, None
            raise ConnectionError(error)
        if inbox.items:
            return inbox.take()
        return NOTHING

    def _finish_reply(self, reply):
        """A reply taken from the inbox, decoded; an error reply is raised."""
        if isinstance(reply, CommandError):
            raise error_from_reply(reply.text)
        if self._decode:
            return self._decode_reply(reply)
        return reply

    def _decode_reply(self, reply):
        encoding, errors = self._encoding, self._encoding_errors
        if reply.__class__ is bytes:
            return reply.decode(encoding, errors)
        if reply.__class__ is tuple or reply.__class__ is list:
            return [item.decode(encoding, errors) if item.__class__ is bytes else item
                    for item in reply]
        return reply

    def _route(self, response, ignore_subscribe_messages):
        """(message, handler) for a reply: redis-py's message dict, and the
        handler that consumes it instead of the reader (None: the reader
        gets the message). The message is None for a nil reply and for a
        subscribe-family confirmation when those are ignored."""
        if response is None:
            return None, None
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
            self._unsubscribed(message_type, response[1])

        if message_type in self.PUBLISH_MESSAGE_TYPES:
            if message_type == "pmessage":
                handler = self.patterns.get(message["pattern"])
            elif message_type == "smessage":
                handler = self.shard_channels.get(message["channel"])
            else:
                handler = self.channels.get(message["channel"])
            if handler:
                return message, handler
        elif message_type != "pong":
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None, None
        return message, None


class PubSub(PubSubCore):
    """Publish/subscribe on a minikv store, with redis-py's ``PubSub`` API.

    Not meant to be shared by several reading threads at once (neither is
    redis-py's); subscribing from one thread while another reads is fine.
    """

    def __init__(self, client, shard_hint=None, ignore_subscribe_messages=False,
                 output_buffer_limit=DEFAULT_OUTPUT_BUFFER_LIMIT):
        self.subscribed_event = threading.Event()
        self._lock = threading.RLock()
        super().__init__(client, shard_hint, ignore_subscribe_messages,
                         Inbox(output_buffer_limit))
        health_check = self.HEALTH_CHECK_MESSAGE
        self._health_check_reply = health_check if self._decode else health_check.encode()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.reset()

    # -- connection ----------------------------------------------------------
    def reset(self):
        """Leave every channel and pattern, drop unread messages, forget handlers."""
        with self._lock:
            self._disconnect()
            self.subscribed_event.clear()
            self._inbox.wake()

    def close(self):
        self.reset()

    def _connect(self):
        """The live Subscriber, (re)creating it as redis-py (re)connects,
        and re-subscribing."""
        with self._lock:
            connection = self.connection
            if connection is not None and not connection.closed:
                return connection
            connection = self._new_connection()
            self._resubscribe(connection)
            return connection

    @property
    def subscribed(self):
        """True while subscribed to any channel, pattern or shard channel."""
        return self.subscribed_event.is_set()

    def execute_command(self, *args):
        """Send a command on the subscriber connection; its reply is queued.

        Like redis-py's, this returns None: the replies (confirmations,
        PONG, errors) are read with ``get_message``/``listen``.
        """
        with self._lock:
            self._send(self._connect(), args)

    def _subscribed_to(self, command, new):
        super()._subscribed_to(command, new)
        if not self.subscribed_event.is_set():
            self.subscribed_event.set()
            self._inbox.wake()  # a reader waiting for a subscription

    def _unsubscribed(self, message_type, name):
        super()._unsubscribed(message_type, name)
        if not self.channels and not self.patterns and not self.shard_channels:
            self.subscribed_event.clear()

    # -- subscribing ---------------------------------------------------------
    def subscribe(self, *args, **kwargs):
        """Subscribe to channels; ``channel=handler`` keywords (or redis-py
        ``Subscription`` objects) register a callable that receives the
        channel's messages instead of get_message()/listen()."""
        self._subscribe("SUBSCRIBE", args, kwargs)

    def unsubscribe(self, *args):
        """Unsubscribe from the given channels, or from all of them."""
        self._unsubscribe("UNSUBSCRIBE", args)

    def psubscribe(self, *args, **kwargs):
        """Subscribe to glob patterns (Redis's matching: ``*``, ``?``, ``[...]``, ``\\``)."""
        self._subscribe("PSUBSCRIBE", args, kwargs)

    def punsubscribe(self, *args):
        self._unsubscribe("PUNSUBSCRIBE", args)

    def ssubscribe(self, *args, target_node=None, **kwargs):
        """Subscribe to shard channels (SPUBLISH); one node, so one namespace."""
        self._subscribe("SSUBSCRIBE", args, kwargs)

    def sunsubscribe(self, *args, target_node=None):
        self._unsubscribe("SUNSUBSCRIBE", args)

    def _subscribe(self, command, args, kwargs):
        new = _parse_subscriptions(args, kwargs)
        self.execute_command(command, *new)
        self._subscribed_to(command, new)

    def _unsubscribe(self, command, args):
        self.execute_command(command, *self._unsubscribing(command, args))

    def ping(self, message=None):
        """Queue a PING; its PONG is read as a ``'pong'`` message. Returns None."""
        self.execute_command(*(("PING",) if message is None else ("PING", message)))

    # -- reading ---------------------------------------------------------------
    def get_message(self, ignore_subscribe_messages=False, timeout=0.0):
        """The next message, or None if none arrives within ``timeout`` seconds
        (None: wait for ever). Returns None at once while not subscribed,
        after waiting up to ``timeout`` for a subscription, as redis-py does."""
        return self._next_message(ignore_subscribe_messages, timeout, True, None)

    get_sharded_message = get_message

    def listen(self):
        """Yield messages while subscribed; blocks between them."""
        while self.subscribed:
            response = self.handle_message(self._read(None, False, None))
            if response is not None:
                yield response

    def _next_message(self, ignore_subscribe_messages, timeout, wait_for_subscription, running):
        response = self._read(timeout, wait_for_subscription, running)
        if response:
            return self.handle_message(response, ignore_subscribe_messages)
        return None

    def _read(self, timeout, wait_for_subscription, running):
        """The next reply (decoded), or None.

        None when ``timeout`` passes, when not subscribed and not
        ``wait_for_subscription``, when ``running`` (a worker's Event) is
        cleared, or when the reply is nil or redis-py's health-check PONG.
        Raises a queued error reply, and ConnectionError once after the
        inbox overflowed.
        """
        inbox = self._inbox
        ready = inbox.ready
        deadline = None
        if self.subscribed_event.is_set() and inbox.error is None:
            connection = self.connection
            if connection is None or connection.closed:
                self._connect()  # after an overflow was reported: reconnect
        with ready:
            while True:
                if running is not None and not running.is_set():
                    return None
                if self.subscribed_event.is_set():
                    reply = self._take_reply()
                    if reply is not NOTHING:
                        break
                elif not wait_for_subscription:
                    return None
                if timeout is None:
                    remaining = None
                else:
                    if deadline is None:
                        deadline = time.monotonic() + timeout
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                inbox.waiting += 1
                try:
                    ready.wait(remaining)
                finally:
                    inbox.waiting -= 1
        reply = self._finish_reply(reply)
        if reply == self._health_check_reply:
            return None
        return reply

    def handle_message(self, response, ignore_subscribe_messages=False):
        """Turn a reply into redis-py's message dict, or call its handler.

        Returns None for a message a handler consumed and for a
        subscribe-family confirmation when those are ignored.
        """
        message, handler = self._route(response, ignore_subscribe_messages)
        if handler is None:
            return message
        handler(message)
        return None

    # -- worker thread -------------------------------------------------------
    def run_in_thread(self, sleep_time=0.0, daemon=False, exception_handler=None,
                      pubsub=None, sharded_pubsub=False):
        """Start a thread that feeds every message to its handler.

        Every channel, pattern and shard channel must have a handler. The
        worker is woken by messages and by ``stop()``; ``sleep_time`` is
        accepted for redis-py compatibility but nothing needs to poll.
        """
        self._require_handlers()
        thread = PubSubWorkerThread(self if pubsub is None else pubsub, sleep_time,
                                    daemon=daemon, exception_handler=exception_handler,
                                    sharded_pubsub=sharded_pubsub)
        thread.start()
        return thread


class PubSubWorkerThread(threading.Thread):
    """redis-py's worker: handles messages until ``stop()``, then closes the PubSub.

    An exception from a read or a handler goes to ``exception_handler(exc,
    pubsub, thread)`` when given (the loop goes on), else ends the thread.
    """

    def __init__(self, pubsub, sleep_time, daemon=False, exception_handler=None,
                 sharded_pubsub=False):
        super().__init__()
        self.daemon = daemon
        self.pubsub = pubsub
        self.sleep_time = sleep_time
        self.exception_handler = exception_handler
        self.sharded_pubsub = sharded_pubsub
        self._running = threading.Event()

    def run(self):
        if self._running.is_set():
            return
        self._running.set()
        pubsub = self.pubsub
        running = self._running
        while running.is_set():
            try:
                pubsub._next_message(True, None, True, running)
            except BaseException as exc:
                if self.exception_handler is None:
                    raise
                self.exception_handler(exc, pubsub, self)
        pubsub.close()

    def stop(self):
        """Ask the worker to finish; it wakes at once, closes the PubSub and ends."""
        self._running.clear()
        self.pubsub._inbox.wake()
