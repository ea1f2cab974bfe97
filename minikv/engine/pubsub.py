"""The pub/sub bus (Redis's pubsub.c): channels, patterns, shard channels.

Model
-----
A subscriber is a ``Subscriber``: a ``Session`` (what Redis calls a client)
whose replies do not go back to a caller but into its ``Inbox``, as a
subscribed connection's replies go into its output buffer. ``minikv.PubSub``
owns one Subscriber (its "connection") and one Inbox, and reads the Inbox.
SUBSCRIBE and friends are ordinary commands of the table below; they run
under the store lock like every command, and each channel's confirmation is
put in the Inbox there, so confirmations and messages published by other
threads are ordered exactly as Redis orders them on the connection.

``PubSubBus`` (``store.pubsub``) maps each channel, pattern and shard channel
to its subscribers in subscription order. ``publish(channel, message)``
delivers, with the store lock held, first to the channel's subscribers, then
for each matching pattern (in the order patterns were first subscribed) to
that pattern's subscribers, and returns the number of receivers as Redis
counts them: a subscriber reached through its channel and through two
patterns counts three times and receives three messages. Sharded pub/sub
(SSUBSCRIBE/SPUBLISH) is a separate namespace without patterns, as on one
Redis node. Keyspace notifications publish through ``publish`` too; it never
blocks and never waits for a reader. Cost: O(subscribers of the channel +
number of patterns) per publish; the message tuple is built once and shared
by every receiver.

Bounded inboxes (``client-output-buffer-limit pubsub``)
--------------------------------------------------------
An Inbox counts what it holds in bytes: each message at its RESP2 wire size
(what Redis keeps in the output buffer; ``*3\\r\\n$7\\r\\nmessage\\r\\n...``).
When a reply would take it over its limit (``DEFAULT_OUTPUT_BUFFER_LIMIT`` =
32 MB, Redis's hard pubsub limit; 0 = unlimited) the subscriber is
disconnected as Redis disconnects it: it leaves every channel and pattern
at once, its unread messages are discarded, and its reader's next read
raises ``ConnectionError`` saying the limit was exceeded. The publisher is
never slowed down or blocked by a slow reader, and a slow reader is never
silently stalled.

Lifetime
--------
The bus holds subscribers through weak references only, so a ``PubSub``
that is dropped without ``close()`` does not leak: when its Subscriber is
freed, the weak reference's callback records it (a list append — the
callback can run inside any thread, even one holding the store lock, so it
must not take the lock) and the next bus operation, under the lock, removes
its subscriptions. ``close()`` removes them at once.

Wake-ups
--------
An Inbox's ``ready`` condition is notified on every put while a reader is
waiting on it; readers never poll. Lock order is store lock, then
``ready``: writers hold the store lock, readers take only ``ready``.
"""
import threading
import weakref
from collections import deque

from minikv.engine.commands import command
from minikv.engine.errors import CommandError, unknown_subcommand, wrong_arity
from minikv.engine.glob import compile_glob, glob_match
from minikv.engine.session import Session

__all__ = ["DEFAULT_OUTPUT_BUFFER_LIMIT", "NO_REPLY", "Inbox", "PubSubBus", "Subscriber",
           "resp_size"]

DEFAULT_OUTPUT_BUFFER_LIMIT = 32 * 1024 * 1024

# What a subscribe-family handler returns: its replies already went to the inbox.
NO_REPLY = object()

_MESSAGE = b"message"
_PMESSAGE = b"pmessage"
_SMESSAGE = b"smessage"


def _bulk_size(length):
    """RESP2 size of a bulk string of ``length`` bytes: $<len>\\r\\n<data>\\r\\n."""
    if length < 10:
        return length + 6
    if length < 100:
        return length + 7
    if length < 1000:
        return length + 8
    return length + len(str(length)) + 5


def resp_size(reply):
    """The bytes ``reply`` takes in RESP2, as Redis counts its output buffer."""
    cls = reply.__class__
    if cls is bytes or cls is bytearray:
        return _bulk_size(len(reply))
    if cls is int:
        return len(str(reply)) + 3
    if reply is None:
        return 5
    if cls is list or cls is tuple:
        return len(str(len(reply))) + 3 + sum(resp_size(item) for item in reply)
    if isinstance(reply, CommandError):
        return len(reply.text) + 3
    return len(str(reply)) + 3


# Fixed part of a message's size: the array header and the type word.
_MESSAGE_HEAD = 4 + _bulk_size(len(_MESSAGE))
_PMESSAGE_HEAD = 4 + _bulk_size(len(_PMESSAGE))


def _message_size(head, channel, message):
    return head + _bulk_size(len(channel)) + _bulk_size(len(message))


class Inbox:
    """A subscriber's unread replies: bounded, and the writer never waits.

    Entries are ``(size, reply)`` pairs; one published message is one pair
    shared by all its receivers. ``put`` is called with the store lock held;
    the reader (``minikv.PubSub``) waits on ``ready`` and pops with ``take``.
    ``error`` is the text of a pending ConnectionError after an overflow.
    """

    __slots__ = ("items", "buffered", "limit", "mutex", "ready", "waiting", "error")

    def __init__(self, limit=DEFAULT_OUTPUT_BUFFER_LIMIT):
        if limit < 0:
            raise ValueError("output_buffer_limit must be >= 0 (0 = unlimited)")
        self.items = deque()
        self.buffered = 0
        self.limit = limit
        # ``mutex`` is ``ready``'s lock, entered directly on the hot path.
        self.mutex = threading.Lock()
        self.ready = threading.Condition(self.mutex)
        self.waiting = 0
        self.error = None

    def put(self, entry):
        """Queue ``entry``; False (and nothing queued) if that exceeds the limit."""
        with self.mutex:
            buffered = self.buffered + entry[0]
            if self.limit and buffered > self.limit:
                return False
            self.buffered = buffered
            self.items.append(entry)
            if self.waiting:
                self.ready.notify()
            return True

    def take(self):
        """Pop the oldest reply; the caller holds ``ready`` and saw ``items``."""
        size, reply = self.items.popleft()
        self.buffered -= size
        return reply

    def overflowed(self):
        """Discard everything and leave the error for the reader's next read."""
        with self.ready:
            self.error = (f"Connection closed by server: the subscriber exceeded its output "
                          f"buffer limit of {self.limit} bytes (client-output-buffer-limit "
                          f"pubsub); unread messages were discarded")
            self.items.clear()
            self.buffered = 0
            self.ready.notify_all()

    def clear(self):
        with self.ready:
            self.items.clear()
            self.buffered = 0
            self.error = None
            self.ready.notify_all()

    def wake(self):
        """Wake every waiting reader so it re-checks its state (subscribed, stop)."""
        with self.ready:
            self.ready.notify_all()


class Subscriber(Session):
    """A client in subscribe mode: its replies go to ``inbox``.

    ``channels``, ``patterns`` and ``shard_channels`` are its subscriptions
    (dicts used as ordered sets). ``closed`` is set once the bus dropped it
    (``close()`` or an output-buffer overflow); a closed subscriber receives
    nothing more.
    """

    __slots__ = ("inbox", "channels", "patterns", "shard_channels", "ref", "closed")

    def __init__(self, store, inbox, db=0):
        Session.__init__(self, store, db)
        self.inbox = inbox
        self.channels = {}
        self.patterns = {}
        self.shard_channels = {}
        self.ref = None
        self.closed = False

    def count(self):
        """Redis's clientSubscriptionsCount: channels plus patterns."""
        return len(self.channels) + len(self.patterns)

    def reply(self, reply):
        """Queue a reply for the reader (store lock held)."""
        if not self.closed and not self.inbox.put((resp_size(reply), reply)):
            self.store.pubsub.disconnect(self)


class _Pattern:
    __slots__ = ("pattern", "regex", "subscribers")

    def __init__(self, pattern):
        self.pattern = pattern
        self.regex = compile_glob(pattern)
        self.subscribers = {}

    def matches(self, channel):
        if not channel:  # Redis's matcher: an empty string matches only ""
            return not self.pattern
        return self.regex.fullmatch(channel) is not None


class PubSubBus:
    """Channel, pattern and shard-channel subscriptions of one store.

    Every method runs with the store lock held.
    """

    __slots__ = ("channels", "patterns", "shard_channels", "_members", "_dead")

    def __init__(self):
        self.channels = {}        # channel -> {weakref(Subscriber): None}
        self.patterns = {}        # pattern -> _Pattern
        self.shard_channels = {}  # shard channel -> {weakref(Subscriber): None}
        # weakref -> its subscriber's (channels, patterns, shard_channels),
        # so a collected subscriber's subscriptions can still be found.
        self._members = {}
        # Weak references whose subscriber was collected; the callback only
        # appends here (it may run in a thread that holds the store lock).
        self._dead = []

    # -- membership ------------------------------------------------------
    def _ref(self, subscriber):
        ref = subscriber.ref
        if ref is None:
            ref = subscriber.ref = weakref.ref(subscriber, self._dead.append)
            self._members[ref] = (subscriber.channels, subscriber.patterns,
                                  subscriber.shard_channels)
        return ref

    def _purge(self):
        """Forget subscribers that were garbage-collected without close()."""
        dead = self._dead
        while dead:
            ref = dead.pop()
            subscriptions = self._members.pop(ref, None)
            if subscriptions is not None:
                self._remove(ref, *subscriptions)

    def _remove(self, ref, channels, patterns, shard_channels):
        for channel in channels:
            _discard(self.channels, channel, ref)
        for pattern in patterns:
            entry = self.patterns[pattern]
            del entry.subscribers[ref]
            if not entry.subscribers:
                del self.patterns[pattern]
        for channel in shard_channels:
            _discard(self.shard_channels, channel, ref)

    def release(self, subscriber):
        """Drop every subscription of ``subscriber``; it receives nothing more."""
        if self._dead:
            self._purge()
        subscriber.closed = True
        ref = subscriber.ref
        if ref is not None and self._members.pop(ref, None) is not None:
            self._remove(ref, subscriber.channels, subscriber.patterns,
                         subscriber.shard_channels)
        subscriber.channels.clear()
        subscriber.patterns.clear()
        subscriber.shard_channels.clear()

    def disconnect(self, subscriber):
        """Output buffer overflow: drop the subscriber as Redis closes the client."""
        self.release(subscriber)
        subscriber.inbox.overflowed()

    # -- subscribe / unsubscribe ------------------------------------------
    def subscribe(self, subscriber, channel):
        """Add a channel subscription; returns the subscriber's new count."""
        if self._dead:
            self._purge()
        if channel not in subscriber.channels:
            subscriber.channels[channel] = None
            self.channels.setdefault(channel, {})[self._ref(subscriber)] = None
        return subscriber.count()

    def unsubscribe(self, subscriber, channel):
        if self._dead:
            self._purge()
        if channel in subscriber.channels:
            del subscriber.channels[channel]
            _discard(self.channels, channel, subscriber.ref)
        return subscriber.count()

    def psubscribe(self, subscriber, pattern):
        if self._dead:
            self._purge()
        if pattern not in subscriber.patterns:
            subscriber.patterns[pattern] = None
            entry = self.patterns.get(pattern)
            if entry is None:
                entry = self.patterns[pattern] = _Pattern(pattern)
            entry.subscribers[self._ref(subscriber)] = None
        return subscriber.count()

    def punsubscribe(self, subscriber, pattern):
        if self._dead:
            self._purge()
        if pattern in subscriber.patterns:
            del subscriber.patterns[pattern]
            entry = self.patterns[pattern]
            del entry.subscribers[subscriber.ref]
            if not entry.subscribers:
                del self.patterns[pattern]
        return subscriber.count()

    def ssubscribe(self, subscriber, channel):
        """Shard channels count apart from channels and patterns, as in Redis."""
        if self._dead:
            self._purge()
        if channel not in subscriber.shard_channels:
            subscriber.shard_channels[channel] = None
            self.shard_channels.setdefault(channel, {})[self._ref(subscriber)] = None
        return len(subscriber.shard_channels)

    def sunsubscribe(self, subscriber, channel):
        if self._dead:
            self._purge()
        if channel in subscriber.shard_channels:
            del subscriber.shard_channels[channel]
            _discard(self.shard_channels, channel, subscriber.ref)
        return len(subscriber.shard_channels)

    # -- publishing ---------------------------------------------------------
    def publish(self, channel, message):
        """Deliver ``message`` on ``channel``; returns Redis's receiver count.

        ``channel`` and ``message`` are bytes. Never blocks: a subscriber
        whose inbox would overflow is disconnected instead (it still counts
        as a receiver of this message, as in Redis).
        """
        if self._dead:
            self._purge()
        receivers = 0
        overflowed = None
        subscribers = self.channels.get(channel)
        if subscribers:
            entry = (_message_size(_MESSAGE_HEAD, channel, message),
                     (_MESSAGE, channel, message))
            for ref in subscribers:
                subscriber = ref()
                if subscriber is not None:
                    receivers += 1
                    if not subscriber.inbox.put(entry):
                        overflowed = _append(overflowed, subscriber)
        if self.patterns:
            for entry_pattern in self.patterns.values():
                if entry_pattern.matches(channel):
                    pattern = entry_pattern.pattern
                    entry = (_message_size(_PMESSAGE_HEAD, channel, message)
                             + _bulk_size(len(pattern)),
                             (_PMESSAGE, pattern, channel, message))
                    for ref in entry_pattern.subscribers:
                        subscriber = ref()
                        if subscriber is not None:
                            receivers += 1
                            if not subscriber.inbox.put(entry):
                                overflowed = _append(overflowed, subscriber)
        if overflowed:
            self._disconnect_all(overflowed)
        return receivers

    def spublish(self, channel, message):
        """SPUBLISH: only the shard channel's subscribers; no patterns."""
        if self._dead:
            self._purge()
        receivers = 0
        overflowed = None
        subscribers = self.shard_channels.get(channel)
        if subscribers:
            entry = (_message_size(_MESSAGE_HEAD, channel, message),
                     (_SMESSAGE, channel, message))
            for ref in subscribers:
                subscriber = ref()
                if subscriber is not None:
                    receivers += 1
                    if not subscriber.inbox.put(entry):
                        overflowed = _append(overflowed, subscriber)
        if overflowed:
            self._disconnect_all(overflowed)
        return receivers

    def _disconnect_all(self, subscribers):
        for subscriber in subscribers:
            if not subscriber.closed:  # overflowed on a channel and a pattern
                self.disconnect(subscriber)

    # -- introspection (PUBSUB, INFO) ---------------------------------------
    def listening(self):
        """True if any channel or pattern has a subscriber: callers that would
        format a channel name just to publish (notifications) check this first."""
        return bool(self.channels or self.patterns)

    def channel_names(self, pattern=None):
        if self._dead:
            self._purge()
        return [channel for channel in self.channels
                if pattern is None or glob_match(pattern, channel)]

    def shard_channel_names(self, pattern=None):
        if self._dead:
            self._purge()
        return [channel for channel in self.shard_channels
                if pattern is None or glob_match(pattern, channel)]

    def numsub(self, channel):
        if self._dead:
            self._purge()
        return len(self.channels.get(channel, ()))

    def shard_numsub(self, channel):
        if self._dead:
            self._purge()
        return len(self.shard_channels.get(channel, ()))

    def numpat(self):
        """PUBSUB NUMPAT: distinct patterns with at least one subscriber."""
        if self._dead:
            self._purge()
        return len(self.patterns)

    def stats(self):
        """INFO's pubsub_channels, pubsub_patterns and pubsubshard_channels."""
        if self._dead:
            self._purge()
        return len(self.channels), len(self.patterns), len(self.shard_channels)


def _discard(table, name, ref):
    subscribers = table[name]
    del subscribers[ref]
    if not subscribers:
        del table[name]


def _append(items, item):
    if items is None:
        return [item]
    items.append(item)
    return items


# -- commands -----------------------------------------------------------------
def _subscriber(session, name):
    if session.__class__ is not Subscriber:
        raise CommandError(f"ERR {name} is only available on a PubSub object "
                           f"(client.pubsub()) in minikv")
    return session


def _subscribe_each(session, args, name, add):
    subscriber = _subscriber(session, name)
    kind = name.lower().encode()
    for channel in args:
        if subscriber.closed:  # the confirmations overflowed the inbox
            break
        subscriber.reply((kind, channel, add(subscriber, channel)))
    return NO_REPLY


def _unsubscribe_each(session, args, name, remove, current, count):
    """With no names: every current subscription, or one reply with a nil name."""
    subscriber = _subscriber(session, name)
    kind = name.lower().encode()
    names = args if args else list(current(subscriber))
    if not names:
        subscriber.reply((kind, None, count(subscriber)))
    for channel in names:
        if subscriber.closed:
            break
        subscriber.reply((kind, channel, remove(subscriber, channel)))
    return NO_REPLY


def _shard_count(subscriber):
    return len(subscriber.shard_channels)


# SUBSCRIBE channel [channel ...]
@command("subscribe", -2, "pubsub noscript loading stale")
def cmd_subscribe(session, args):
    return _subscribe_each(session, args, "SUBSCRIBE", session.store.pubsub.subscribe)


# UNSUBSCRIBE [channel [channel ...]]
@command("unsubscribe", -1, "pubsub noscript loading stale")
def cmd_unsubscribe(session, args):
    return _unsubscribe_each(session, args, "UNSUBSCRIBE", session.store.pubsub.unsubscribe,
                             lambda subscriber: subscriber.channels, Subscriber.count)


# PSUBSCRIBE pattern [pattern ...]
@command("psubscribe", -2, "pubsub noscript loading stale")
def cmd_psubscribe(session, args):
    return _subscribe_each(session, args, "PSUBSCRIBE", session.store.pubsub.psubscribe)


# PUNSUBSCRIBE [pattern [pattern ...]]
@command("punsubscribe", -1, "pubsub noscript loading stale")
def cmd_punsubscribe(session, args):
    return _unsubscribe_each(session, args, "PUNSUBSCRIBE", session.store.pubsub.punsubscribe,
                             lambda subscriber: subscriber.patterns, Subscriber.count)


# SSUBSCRIBE shardchannel [shardchannel ...]
@command("ssubscribe", -2, "pubsub noscript loading stale")
def cmd_ssubscribe(session, args):
    return _subscribe_each(session, args, "SSUBSCRIBE", session.store.pubsub.ssubscribe)


# SUNSUBSCRIBE [shardchannel [shardchannel ...]]
@command("sunsubscribe", -1, "pubsub noscript loading stale")
def cmd_sunsubscribe(session, args):
    return _unsubscribe_each(session, args, "SUNSUBSCRIBE", session.store.pubsub.sunsubscribe,
                             lambda subscriber: subscriber.shard_channels, _shard_count)


# PUBLISH channel message
@command("publish", 3, "pubsub loading stale fast")
def cmd_publish(session, args):
    return session.store.pubsub.publish(args[0], args[1])


# SPUBLISH shardchannel message
@command("spublish", 3, "pubsub loading stale fast")
def cmd_spublish(session, args):
    return session.store.pubsub.spublish(args[0], args[1])


# PUBSUB <subcommand> [argument ...]
#
# Registered as one command rather than "pubsub|..." table entries because
# Redis's error for CHANNELS/SHARDCHANNELS with too many arguments names the
# subcommand as the client typed it, which only the full argv carries.
@command("pubsub", -2, "pubsub loading stale")
def cmd_pubsub(session, args):
    typed = args[0]
    name = typed.lower()
    entry = _PUBSUB_SUBCOMMANDS.get(name)
    if entry is None:
        raise CommandError(unknown_subcommand(typed.decode(errors="replace"), "PUBSUB"))
    arity, handler = entry
    argc = len(args) + 1
    if (arity > 0 and argc != arity) or argc < -arity:
        raise CommandError(wrong_arity("pubsub|" + name.decode()))
    return handler(session.store.pubsub, typed, args[1:])


def _pattern_argument(typed, rest):
    """CHANNELS/SHARDCHANNELS take at most one pattern (Redis checks argc itself)."""
    if len(rest) > 1:
        raise CommandError(f"ERR unknown subcommand or wrong number of arguments for "
                           f"'{typed.decode(errors='replace')}'. Try PUBSUB HELP.")
    return rest[0] if rest else None


# PUBSUB CHANNELS [pattern]
def _pubsub_channels(bus, typed, rest):
    return bus.channel_names(_pattern_argument(typed, rest))


# PUBSUB SHARDCHANNELS [pattern]
def _pubsub_shardchannels(bus, typed, rest):
    return bus.shard_channel_names(_pattern_argument(typed, rest))


# PUBSUB NUMSUB [channel ...]
def _pubsub_numsub(bus, typed, rest):
    reply = []
    for channel in rest:
        reply += [channel, bus.numsub(channel)]
    return reply


# PUBSUB SHARDNUMSUB [shardchannel ...]
def _pubsub_shardnumsub(bus, typed, rest):
    reply = []
    for channel in rest:
        reply += [channel, bus.shard_numsub(channel)]
    return reply


# PUBSUB NUMPAT
def _pubsub_numpat(bus, typed, rest):
    return bus.numpat()


_HELP = [
    b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CHANNELS [<pattern>]",
    b"    Return the currently active channels matching a <pattern> (default: '*').",
    b"NUMPAT",
    b"    Return number of subscriptions to patterns.",
    b"NUMSUB [<channel> ...]",
    b"    Return the number of subscribers for the specified channels, excluding",
    b"    pattern subscriptions(default: no channels).",
    b"SHARDCHANNELS [<pattern>]",
    b"    Return the currently active shard level channels matching a <pattern> "
    b"(default: '*').",
    b"SHARDNUMSUB [<shardchannel> ...]",
    b"    Return the number of subscribers for the specified shard level channel(s)",
    b"HELP",
    b"    Prints this help.",
]


# PUBSUB HELP
def _pubsub_help(bus, typed, rest):
    return list(_HELP)


# name -> (Redis arity counting "pubsub" and the subcommand, handler)
_PUBSUB_SUBCOMMANDS = {
    b"channels": (-2, _pubsub_channels),
    b"shardchannels": (-2, _pubsub_shardchannels),
    b"numsub": (-2, _pubsub_numsub),
    b"shardnumsub": (-2, _pubsub_shardnumsub),
    b"numpat": (2, _pubsub_numpat),
    b"help": (2, _pubsub_help),
}
