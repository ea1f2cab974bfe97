"""Keyspace notifications (Redis 7.0's notify.c).

``CONFIG SET notify-keyspace-events <flags>`` makes every change to the
keyspace publish events through the pub/sub bus (``store.pubsub``):

- on ``__keyspace@<db>__:<key>`` with the event name as message (flag K),
- on ``__keyevent@<db>__:<event>`` with the key as message (flag E),

for the event classes the flags select: g generic (DEL, EXPIRE, RENAME...),
$ strings, l lists, s sets, h hashes, z sorted sets, x expired, e evicted,
t streams, m key misses, d module events, n new keys; A is "g$lshzxetd".
Redis sends nothing unless K or E and a class of the event are both set.

How commands emit
-----------------
Each db's ``Keyspace`` has a ``notify`` attribute: None while the
configuration is empty, else a ``Notifier`` for that db. That is the one
check a command pays while notifications are off::

    notify = ks.notify
    if notify is not None:
        notify(STRING, b"set", key)

(``emit(ks, STRING, b"set", key)`` does the same in one call, for paths
where a function call does not matter.) Commands emit after the change,
with Redis's event names and in Redis's order; a command that changes
nothing emits nothing. The keyspace core emits three events itself, where
only it knows they happen (``Notifier.new_key``/``expired``/``key_miss``):

- ``new`` (n) when a write adds a key that was absent (Redis's dbAdd); it
  comes before the command's own event, as in Redis;
- ``expired`` (x) when a lazy lookup or the active expiry cycle removes a
  key whose time passed;
- ``keymiss`` (m) when a read lookup (``lookup_read``) finds nothing.

``evicted`` (e) is emitted by eviction: ``emit(ks, EVICTED, b"evicted", key)``
with the evicted key's db keyspace, after removing it.

Which read lookups send keymiss follows Redis's lookupKeyRead: the read
commands, the sources of the STORE forms, SORT's BY/GET keys, COPY's
source; never the write commands' lookups (LPOP, LSET... on a missing key)
nor OBJECT (Redis's LOOKUP_NONOTIFY). FLUSHDB, FLUSHALL and SWAPDB send
nothing, as in Redis 7.0. The d (module) class is accepted but never
fires: minikv has no modules.

Configuration changes go through ``configure(store)`` (CONFIG SET calls it),
which gives each keyspace a fresh Notifier or None. A Notifier holds the
bus and its db number, never the store: a keyspace must not reference its
store (see Store.__init__). Keyspace objects keep their db number for life
(SWAPDB swaps their contents), so a Notifier's number stays right.

Cost with notifications on: one flag test per event; channel names are
only built when some channel or pattern has a subscriber; then
O(subscribers + patterns) per published message (``PubSubBus.publish``).
"""

__all__ = ["KEYSPACE", "KEYEVENT", "GENERIC", "STRING", "LIST", "SET", "HASH", "ZSET",
           "EXPIRED", "EVICTED", "STREAM", "KEY_MISS", "MODULE", "NEW",
           "Notifier", "configure", "emit", "event_flags"]

# Redis's NOTIFY_* bits.
KEYSPACE = 1 << 0   # K
KEYEVENT = 1 << 1   # E
GENERIC = 1 << 2    # g
STRING = 1 << 3     # $
LIST = 1 << 4       # l
SET = 1 << 5        # s
HASH = 1 << 6       # h
ZSET = 1 << 7       # z
EXPIRED = 1 << 8    # x
EVICTED = 1 << 9    # e
STREAM = 1 << 10    # t
KEY_MISS = 1 << 11  # m
MODULE = 1 << 13    # d
NEW = 1 << 14       # n

_FLAG_BITS = {"K": KEYSPACE, "E": KEYEVENT, "g": GENERIC, "$": STRING, "l": LIST, "s": SET,
              "h": HASH, "z": ZSET, "x": EXPIRED, "e": EVICTED, "t": STREAM, "m": KEY_MISS,
              "d": MODULE, "n": NEW}


def event_flags(letters):
    """The NOTIFY_* bit set of parsed config letters (``Config`` expands "A")."""
    bits = 0
    for letter in letters:
        bits |= _FLAG_BITS[letter]
    return bits


class Notifier:
    """``Keyspace.notify`` of one db while notify-keyspace-events is set.

    Called with the store lock held, like every command; publishing never
    blocks (a slow subscriber is disconnected by the bus instead).
    """

    __slots__ = ("bus", "flags", "keyspace_prefix", "keyevent_prefix")

    def __init__(self, bus, db_index, flags):
        self.bus = bus
        self.flags = flags
        self.keyspace_prefix = b"__keyspace@%d__:" % db_index
        self.keyevent_prefix = b"__keyevent@%d__:" % db_index

    def __call__(self, event_type, event, key):
        """Publish ``event`` (bytes) about ``key`` if its class is enabled."""
        if self.flags & event_type:
            self._publish(event, key)

    def _publish(self, event, key):
        bus = self.bus
        if bus.listening():
            flags = self.flags
            if flags & KEYSPACE:
                bus.publish(self.keyspace_prefix + key, event)
            if flags & KEYEVENT:
                bus.publish(self.keyevent_prefix + event, key)

    # The keyspace core's own events.
    def new_key(self, key):
        if self.flags & NEW:
            self._publish(b"new", key)

    def expired(self, key):
        if self.flags & EXPIRED:
            self._publish(b"expired", key)

    def key_miss(self, key):
        if self.flags & KEY_MISS:
            self._publish(b"keymiss", key)


def emit(ks, event_type, event, key):
    """Notify ``event`` about ``key`` in the db of ``ks``; nothing while off."""
    notify = ks.notify
    if notify is not None:
        notify(event_type, event, key)


def configure(store):
    """Give every db the Notifier the current configuration asks for.

    No Notifier at all unless some class and K or E are set: otherwise
    Redis publishes nothing, and the commands keep their one failing check.
    """
    flags = event_flags(store.config["notify-keyspace-events"])
    active = flags & (KEYSPACE | KEYEVENT) and flags & ~(KEYSPACE | KEYEVENT)
    for index, ks in enumerate(store.dbs):
        ks.notify = Notifier(store.pubsub, index, flags) if active else None
