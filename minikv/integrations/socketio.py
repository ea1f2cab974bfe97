"""python-socketio client managers over ``Broadcast``: several servers, one room list.

A python-socketio server keeps its rooms in a client manager. With
``client_manager=MinikvManager(client)`` (``socketio.Server``) or
``AsyncMinikvManager(client)`` (``socketio.AsyncServer``), servers whose
clients share one minikv store (``minikv.Redis(store=...)`` in one
process) or one real Redis (``redis.Redis``) act as one: ``emit(...,
room=...)``, ``enter_room``/``leave_room`` and ``disconnect`` of a client
connected to another server, ``close_room``, and emit callbacks (``call``
too) work across them. Both build on python-socketio's own
``PubSubManager``/``AsyncPubSubManager``, which decide what to publish and
how to apply what arrives; these classes supply the transport:

- ``_publish(message)`` is ``Broadcast.publish`` on ``channel`` (default
  ``"socketio"``; all servers of one app must agree on it);
- ``_listen()`` iterates a ``Broadcast`` subscription to ``channel``,
  yielding the decoded message dicts.

Which ``Broadcast`` the async manager uses depends on its client:

- an asyncio client (``minikv.asyncio.Redis``, ``redis.asyncio.Redis``):
  ``AsyncBroadcast``. Everything runs on the server's event loop —
  publishes are awaited, the listener task iterates an
  ``AsyncSubscription`` whose reader is a task too; no thread at all.
- a sync client (``minikv.Redis``, ``redis.Redis``; also the default
  private ``minikv.Redis()``): ``Broadcast``, whose subscription reads in
  a thread of its own; the listener task iterates it asynchronously (the
  loop is never blocked waiting) — see Startup for the publishes.

Message encoding: JSON, through ``Broadcast``'s wire format — the same
bytes python-socketio's own ``RedisManager`` publishes (``json.dumps`` of
the message dict), so a server using ``socketio.RedisManager`` on the same
Redis and channel interoperates. python-socketio's messages are plain dicts
of strings, lists and ints plus the emitted data, which Socket.IO requires
to be JSON anyway; binary data in an emit is already split by
``PubSubManager`` into base64 attachments. The one gap is a callback's
arguments (a client acknowledging with bytes): python-socketio publishes
them as they are, which JSON cannot carry; these managers pack them the way
emit data is packed (placeholders plus base64 attachments, ``binary``
flag) and unpack them on the receiving server. The server's JSON module
(``socketio.Server(json=...)``) is used for encoding. pickle, which some
python-socketio backends use, is avoided on purpose: unpickling runs code
chosen by whoever can publish on the channel.

Startup: the subscription is made, and confirmed by the server, in
``initialize()`` — python-socketio calls it on the first connection to the
server, before that connection completes — so a server that has a client
always receives what is published after it. (If that subscription fails,
the error is logged and the listener keeps retrying, as below.) On
``AsyncMinikvManager`` over ``redis.Redis`` that one subscription round
trip runs on the event loop; every later publish runs in a worker thread
(``asyncio.to_thread``), and on minikv publishes are in-process calls of a
few microseconds. With an asyncio client, ``initialize()`` cannot await:
the listener task makes the first subscription, and ``pre_connect()``
(which python-socketio awaits first thing for every connection, before it
answers the client) waits for that first attempt — the same guarantee.

Failures: a subscription that overflows its buffer (``max_buffer``
messages unread: the server is not keeping up) or loses its connection is
logged as an error — some messages were lost — and replaced at once, then
with a backoff (1 s doubling to 60 s, as python-socketio's Redis managers
do) while subscribing fails. A failing publish raises to the caller.

Shutdown: python-socketio's ``shutdown()`` does not reach the client
manager, so call ``manager.close()`` (``await manager.aclose()`` for the
async one, on the server's loop): it unsubscribes, stops the listener and
the subscription's threads (tasks), and closes a client the manager
created. (With an asyncio client, ``close()`` from another thread only
cancels the listener task, which closes its subscription on its way out;
``aclose()`` waits for all of it.)
``client=None`` means a private ``minikv.Redis()`` — one server alone.
"""
import asyncio
import base64
import json as _json
import threading

from socketio.async_pubsub_manager import AsyncPubSubManager
from socketio.packet import Packet
from socketio.pubsub_manager import PubSubManager

from minikv.patterns._atomic import is_embedded
from minikv.patterns._io import call_sync, is_async_client, new_embedded_client
from minikv.patterns.broadcast import DEFAULT_MAX_BUFFER, JOIN_TIMEOUT, AsyncBroadcast, Broadcast

__all__ = ["MinikvManager", "AsyncMinikvManager"]

# Backoff between failed attempts to subscribe again, as python-socketio's
# Redis managers retry: 1 s, doubling, at most 60 s.
RETRY_FIRST_DELAY = 1.0
RETRY_MAX_DELAY = 60.0


class _ManagerClosed(BaseException):
    """Ends the listener of a closed manager.

    python-socketio's listener loop logs an error when ``_listen`` ends and
    retries on any ``Exception``; a BaseException passes through it to the
    ``_thread`` override below, which ends quietly.
    """


def _pack_binary_callback(message):
    """A callback message whose arguments hold bytes, packed as emit packs its data."""
    if message.get("method") == "callback":
        args = list(message["args"])
        if Packet.data_is_binary(args):
            args, attachments = Packet.deconstruct_binary(args)
            return {**message, "binary": True,
                    "args": [args, *[base64.b64encode(item).decode() for item in attachments]]}
    return message


def _unpack_binary_callback(message):
    if message.get("binary") and isinstance(message.get("args"), list) and message["args"]:
        packed = message["args"]
        attachments = [base64.b64decode(item) for item in packed[1:]]
        return {**message, "args": Packet.reconstruct_binary(packed[0], attachments)}
    return message


class _BroadcastTransport:
    """What both managers share: the Broadcast, the subscription, closing."""

    def _setup(self, client, max_buffer):
        self._owns_client = client is None
        self.client = new_embedded_client(False) if client is None else client
        self.max_buffer = max_buffer
        self._broadcast_class = Broadcast
        self._broadcast = None
        self._subscription = None
        self._closed = threading.Event()
        self._subscription_lock = threading.Lock()

    @property
    def broadcast(self):
        """The ``Broadcast`` (``AsyncBroadcast``) on ``client``, with the server's JSON module.

        Made on first use: python-socketio hands the manager its server's
        JSON module (``set_server``) after the constructor has run.
        """
        if self._broadcast is None:
            self._broadcast = self._broadcast_class(
                self.client, json=None if self.json is _json else self.json)
        return self._broadcast

    def _subscribe(self):
        return self.broadcast.subscribe(self.channel, max_buffer=self.max_buffer)

    def _subscribe_first(self):
        """The first subscription, in ``initialize()``; on failure the listener retries.

        python-socketio calls ``initialize()`` once: raising would leave the
        server without a listener for good.
        """
        try:
            subscription = self._subscribe()
        except Exception as exc:
            self._log_first_failure(exc)
        else:
            if not self._install(subscription):
                subscription.close()

    def _log_first_failure(self, error):
        self._get_logger().error("%s manager: cannot subscribe to %r (%s); retrying",
                                 self.name, self.channel, error)

    def _install(self, subscription):
        """Make ``subscription`` current, unless the manager was closed
        meanwhile: then False, and the caller closes it."""
        with self._subscription_lock:
            if not self._closed.is_set():
                self._subscription = subscription
                return True
        return False

    def _lost(self, error):
        """The current subscription failed (overflow, lost connection): an
        error unless the manager is closing (closing ends it too)."""
        if not self._closed.is_set():
            self._get_logger().error(
                "%s manager: subscription to %r lost, messages may be missing: %s",
                self.name, self.channel, error)

    def _stop_if_closed(self):
        """The listener's iteration ended: a closed manager stops listening."""
        if self._closed.is_set():
            raise _ManagerClosed

    def _retry_delay(self, error, delay):
        """The wait before the next attempt to subscribe again, after
        ``error`` ended the last one that waited ``delay`` (logged)."""
        delay = min(max(RETRY_FIRST_DELAY, delay * 2), RETRY_MAX_DELAY)
        self._get_logger().error("%s manager: cannot subscribe to %r (%s); retrying in %s s",
                                 self.name, self.channel, error, delay)
        return delay

    def _install_again(self, subscription):
        """``_install`` for a replacement subscription (logged when installed)."""
        if not self._install(subscription):
            return False
        self._get_logger().info("%s manager: subscribed to %r again", self.name, self.channel)
        return True

    def _close_transport(self):
        self._closed.set()
        with self._subscription_lock:
            subscription = self._subscription
        if subscription is not None:
            subscription.close()
        if self._owns_client:
            self.client.close()


class MinikvManager(_BroadcastTransport, PubSubManager):
    """Client manager for ``socketio.Server``: rooms shared through minikv or Redis pub/sub.

    ``client``: a ``minikv.Redis`` (servers sharing its store) or a
    ``redis.Redis``. ``channel``, ``write_only`` and ``logger`` are
    python-socketio's (``write_only=True``: emit from outside a server,
    receive nothing). ``max_buffer``: messages the listener may fall behind
    before its subscription is declared lost.
    """

    name = "minikv"

    def __init__(self, client=None, channel="socketio", write_only=False, logger=None,
                 json=None, max_buffer=DEFAULT_MAX_BUFFER):
        super().__init__(channel=channel, write_only=write_only, logger=logger, json=json)
        self._setup(client, max_buffer)

    def initialize(self):
        if not self.write_only:
            self._subscribe_first()
        super().initialize()  # starts the listener thread (_thread -> _listen)

    def _publish(self, data):
        return self.broadcast.publish(self.channel, _pack_binary_callback(data))

    def _listen(self):
        while True:
            subscription = self._subscription
            try:
                if subscription is not None:
                    for message in subscription:
                        yield message.data
            except Exception as exc:  # overflow, lost connection
                self._lost(exc)
            self._stop_if_closed()
            self._resubscribe()

    def _resubscribe(self):
        delay = 0.0
        while not self._closed.wait(delay):
            try:
                subscription = self._subscribe()
            except Exception as exc:
                delay = self._retry_delay(exc, delay)
                continue
            if not self._install_again(subscription):
                subscription.close()
            return

    def _handle_callback(self, message):
        super()._handle_callback(_unpack_binary_callback(message))

    def _thread(self):
        try:
            super()._thread()
        except _ManagerClosed:
            pass

    def close(self):
        """Unsubscribe and stop the listener thread (joined unless it is the caller)."""
        self._close_transport()
        listener = getattr(self, "thread", None)
        if listener is not None and listener is not threading.current_thread():
            listener.join(JOIN_TIMEOUT)


class AsyncMinikvManager(_BroadcastTransport, AsyncPubSubManager):
    """Client manager for ``socketio.AsyncServer``; see ``MinikvManager`` for the arguments.

    ``client`` may also be an asyncio client (``minikv.asyncio.Redis``,
    ``redis.asyncio.Redis``): then the manager runs on ``AsyncBroadcast``,
    on the server's loop only (see the module docstring). The listener is
    a task on the server's loop that awaits the subscription's async
    iterator; ``aclose()`` (on that loop) stops it.
    """

    name = "minikv-asyncio"

    def __init__(self, client=None, channel="socketio", write_only=False, logger=None,
                 json=None, max_buffer=DEFAULT_MAX_BUFFER):
        super().__init__(channel=channel, write_only=write_only, logger=logger, json=json)
        self._setup(client, max_buffer)
        self._embedded = is_embedded(self.client)
        self.asyncio_client = is_async_client(self.client)
        if self.asyncio_client:
            self._broadcast_class = AsyncBroadcast
        # Asyncio client: set once the listener's first subscription attempt
        # is over; pre_connect() waits for it (made in initialize()).
        self._first_attempt = None

    def initialize(self):
        if not self.write_only:
            if self.asyncio_client:
                self._first_attempt = asyncio.Event()  # the listener subscribes
            else:
                self._subscribe_first()
        super().initialize()  # starts the listener task (_thread -> _listen)

    async def pre_connect(self, eio_sid, namespace):
        # The first step of every connection, before the server answers it.
        first_attempt = self._first_attempt
        if first_attempt is not None and not first_attempt.is_set():
            await first_attempt.wait()
        return await super().pre_connect(eio_sid, namespace)

    async def _publish(self, data):
        message = _pack_binary_callback(data)
        if self.asyncio_client:
            return await self.broadcast.publish(self.channel, message)
        return await call_sync(self._embedded, self.broadcast.publish, self.channel, message)

    async def _subscribe_async(self):
        if self.asyncio_client:
            return await self.broadcast.subscribe(self.channel, max_buffer=self.max_buffer)
        return await call_sync(self._embedded, self._subscribe)

    async def _subscribe_first_async(self):
        """The asyncio client's first subscription, made by the listener."""
        try:
            subscription = await self._subscribe_async()
        except Exception as exc:
            self._log_first_failure(exc)
        else:
            if not self._install(subscription):
                await subscription.aclose()
        finally:
            self._first_attempt.set()

    async def _listen(self):
        if self._first_attempt is not None and not self._first_attempt.is_set():
            await self._subscribe_first_async()
        while True:
            subscription = self._subscription
            try:
                if subscription is not None:
                    async for message in subscription:
                        yield message.data
            except Exception as exc:  # overflow, lost connection
                self._lost(exc)
            self._stop_if_closed()
            await self._resubscribe()

    async def _resubscribe(self):
        delay = 0.0
        while True:
            if delay:
                await asyncio.sleep(delay)
            if self._closed.is_set():
                return
            try:
                subscription = await self._subscribe_async()
            except Exception as exc:
                delay = self._retry_delay(exc, delay)
                continue
            if not self._install_again(subscription):
                await subscription.aclose()
            return

    async def _handle_callback(self, message):
        await super()._handle_callback(_unpack_binary_callback(message))

    async def _thread(self):
        try:
            await super()._thread()
        except _ManagerClosed:
            pass
        finally:
            if self.asyncio_client:  # its subscription can only be closed on this loop
                with self._subscription_lock:
                    subscription = self._subscription
                if subscription is not None:
                    await subscription.aclose()

    def close(self):
        """Unsubscribe; the listener task ends on its loop. Safe from any thread.

        With an asyncio client the subscription is closed by the listener
        task as it ends (``aclose()`` waits for that)."""
        if self.asyncio_client:
            self._closed.set()
        else:
            self._close_transport()
        listener = getattr(self, "thread", None)
        if listener is not None and not listener.done():
            # A listener waiting out a retry delay is cancelled; one waiting
            # for a message ends by itself now that the subscription closed.
            listener.get_loop().call_soon_threadsafe(listener.cancel)

    async def aclose(self):
        """``close()`` from the server's loop, then wait for the listener task to end."""
        self._closed.set()
        if self._first_attempt is not None:
            self._first_attempt.set()  # a pre_connect() waiting for it goes on
        with self._subscription_lock:
            subscription = self._subscription
        if subscription is not None:
            await subscription.aclose()
        if self._owns_client:
            self.client.close()
        listener = getattr(self, "thread", None)
        if listener is not None and listener is not asyncio.current_task():
            if not listener.done():
                listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
