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

__all__ = ["PubSub", "PubSubWorkerThread", "DEFAULT_OUTPUT_BUFFER_LIMIT"]

_MESSAGE_TYPES = {b"message": "message", b"pmessage": "pmessage", b"smessage": "smessage",
                  b"subscribe": "subscribe", b"unsubscribe": "unsubscribe",
                  b"psubscribe": "psubscribe", b"punsubscribe": "punsubscribe",
                  b"ssubscribe": "ssubscribe", b"sunsubscribe": "sunsubscribe"}


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


class PubSub:
    """Publish/subscribe on a minikv store, with redis-py's ``PubSub`` API.

    Not meant to be shared by several reading threads at once (neither is
    redis-py's); subscribing from one thread while another reads is fine.
    """

    PUBLISH_MESSAGE_TYPES = ("message", "pmessage", "smessage")
    UNSUBSCRIBE_MESSAGE_TYPES = ("unsubscribe", "punsubscribe", "sunsubscribe")
    HEALTH_CHECK_MESSAGE = "redis-py-health-check"

    def __init__(self, client, shard_hint=None, ignore_subscribe_messages=False,
                 output_buffer_limit=DEFAULT_OUTPUT_BUFFER_LIMIT):
        self.client = client
        self.shard_hint = shard_hint  # accepted for redis-py compatibility; one node
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self.connection = None
        self.subscribed_event = threading.Event()
        self._lock = threading.RLock()
        self._inbox = Inbox(output_buffer_limit)
        self._encode = client._encode
        self._decode = client._decode
        self._encoding = client._encoding
        self._encoding_errors = client._encoding_errors
        health_check = self.HEALTH_CHECK_MESSAGE
        self._health_check_reply = health_check if self._decode else health_check.encode()
        self._pong = "PONG" if self._decode else b"PONG"
        self._empty = "" if self._decode else b""
        self.reset()

    @property
    def output_buffer_limit(self):
        return self._inbox.limit

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.reset()

    def __repr__(self):
        return (f"<minikv.PubSub channels={len(self.channels)} patterns={len(self.patterns)} "
                f"shard_channels={len(self.shard_channels)}>")

    # -- connection ----------------------------------------------------------
    def reset(self):
        """Leave every channel and pattern, drop unread messages, forget handlers."""
        with self._lock:
            connection, self.connection = self.connection, None
            if connection is not None:
                with self.client._lock:
                    connection.store.pubsub.release(connection)
            self._inbox.clear()
            self.channels = {}
            self.pending_unsubscribe_channels = set()
            self.shard_channels = {}
            self.pending_unsubscribe_shard_channels = set()
            self.patterns = {}
            self.pending_unsubscribe_patterns = set()
            self.subscribed_event.clear()
            self._inbox.wake()

    def close(self):
        self.reset()

    def _connect(self):
        """The live Subscriber, (re)creating it as redis-py (re)connects.

        A new connection re-subscribes to everything this object tracks, as
        redis-py's ``on_connect`` does; the confirmations arrive as messages.
        """
        with self._lock:
            connection = self.connection
            if connection is not None and not connection.closed:
                return connection
            connection = self.connection = Subscriber(
                self.client.store, self._inbox, self.client._session.db)
            self.pending_unsubscribe_channels.clear()
            self.pending_unsubscribe_patterns.clear()
            self.pending_unsubscribe_shard_channels.clear()
            for command, names in (("SUBSCRIBE", self.channels), ("PSUBSCRIBE", self.patterns),
                                   ("SSUBSCRIBE", self.shard_channels)):
                if names:
                    self._send(connection, [command, *names])
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

    def _send(self, connection, args):
        encode = self._encode
        argv = [encode(arg) for arg in args]
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

    def _subscribed(self):
        if not self.subscribed_event.is_set():
            self.subscribed_event.set()
            self._inbox.wake()  # a reader waiting for a subscription

    # -- subscribing ---------------------------------------------------------
    def subscribe(self, *args, **kwargs):
        """Subscribe to channels; ``channel=handler`` keywords (or redis-py
        ``Subscription`` objects) register a callable that receives the
        channel's messages instead of get_message()/listen()."""
        new_channels = _parse_subscriptions(args, kwargs)
        self.execute_command("SUBSCRIBE", *new_channels)
        new_channels = self._normalize_keys(new_channels)
        self.channels.update(new_channels)
        self._subscribed()
        self.pending_unsubscribe_channels.difference_update(new_channels)

    def unsubscribe(self, *args):
        """Unsubscribe from the given channels, or from all of them."""
        if args:
            args = list_or_args(args[0], args[1:])
            channels = self._normalize_keys(dict.fromkeys(args))
        else:
            channels = self.channels
        self.pending_unsubscribe_channels.update(channels)
        self.execute_command("UNSUBSCRIBE", *args)

    def psubscribe(self, *args, **kwargs):
        """Subscribe to glob patterns (Redis's matching: ``*``, ``?``, ``[...]``, ``\\``)."""
        new_patterns = _parse_subscriptions(args, kwargs)
        self.execute_command("PSUBSCRIBE", *new_patterns)
        new_patterns = self._normalize_keys(new_patterns)
        self.patterns.update(new_patterns)
        self._subscribed()
        self.pending_unsubscribe_patterns.difference_update(new_patterns)

    def punsubscribe(self, *args):
        if args:
            args = list_or_args(args[0], args[1:])
            patterns = self._normalize_keys(dict.fromkeys(args))
        else:
            patterns = self.patterns
        self.pending_unsubscribe_patterns.update(patterns)
        self.execute_command("PUNSUBSCRIBE", *args)

    def ssubscribe(self, *args, target_node=None, **kwargs):
        """Subscribe to shard channels (SPUBLISH); one node, so one namespace."""
        new_channels = _parse_subscriptions(args, kwargs)
        self.execute_command("SSUBSCRIBE", *new_channels)
        new_channels = self._normalize_keys(new_channels)
        self.shard_channels.update(new_channels)
        self._subscribed()
        self.pending_unsubscribe_shard_channels.difference_update(new_channels)

    def sunsubscribe(self, *args, target_node=None):
        if args:
            args = list_or_args(args[0], args[1:])
            channels = self._normalize_keys(dict.fromkeys(args))
        else:
            channels = self.shard_channels
        self.pending_unsubscribe_shard_channels.update(channels)
        self.execute_command("SUNSUBSCRIBE", *args)

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
                    if inbox.error is not None:
                        error, inbox.error = inbox.error, None
                        raise ConnectionError(error)
                    if inbox.items:
                        reply = inbox.take()
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
        if isinstance(reply, CommandError):
            raise error_from_reply(reply.text)
        if self._decode:
            reply = self._decode_reply(reply)
        if reply == self._health_check_reply:
            return None
        return reply

    def _decode_reply(self, reply):
        encoding, errors = self._encoding, self._encoding_errors
        if reply.__class__ is bytes:
            return reply.decode(encoding, errors)
        if reply.__class__ is tuple or reply.__class__ is list:
            return [item.decode(encoding, errors) if item.__class__ is bytes else item
                    for item in reply]
        return reply

    def handle_message(self, response, ignore_subscribe_messages=False):
        """Turn a reply into redis-py's message dict, or call its handler.

        Returns None for a message a handler consumed and for a
        subscribe-family confirmation when those are ignored.
        """
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
            if not self.channels and not self.patterns and not self.shard_channels:
                self.subscribed_event.clear()

        if message_type in self.PUBLISH_MESSAGE_TYPES:
            if message_type == "pmessage":
                handler = self.patterns.get(message["pattern"])
            elif message_type == "smessage":
                handler = self.shard_channels.get(message["channel"])
            else:
                handler = self.channels.get(message["channel"])
            if handler:
                handler(message)
                return None
        elif message_type != "pong":
            if ignore_subscribe_messages or self.ignore_subscribe_messages:
                return None
        return message

    # -- worker thread -------------------------------------------------------
    def run_in_thread(self, sleep_time=0.0, daemon=False, exception_handler=None,
                      pubsub=None, sharded_pubsub=False):
        """Start a thread that feeds every message to its handler.

        Every channel, pattern and shard channel must have a handler. The
        worker is woken by messages and by ``stop()``; ``sleep_time`` is
        accepted for redis-py compatibility but nothing needs to poll.
        """
        for channel, handler in self.channels.items():
            if handler is None:
                raise PubSubError(f"Channel: '{channel}' has no handler registered")
        for pattern, handler in self.patterns.items():
            if handler is None:
                raise PubSubError(f"Pattern: '{pattern}' has no handler registered")
        for channel, handler in self.shard_channels.items():
            if handler is None:
                raise PubSubError(f"Shard Channel: '{channel}' has no handler registered")
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
