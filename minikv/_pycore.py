"""Pure-Python twin of ``minikv/_core.pyx``: the keyspace hot path.

A ``Keyspace`` is one logical database: ``data`` maps key -> value and
``expires`` (an ``ExpiryTable``: a dict here, a C hash table with the same
order in the compiled twin) maps key -> absolute expiry in Unix
milliseconds, for the keys that have one (so a keyspace without TTLs costs
one empty dict). Every read
goes through ``lookup``, which deletes a key whose time has passed before
anyone can see it (Redis's lazy expiry). The active cycle calls
``expire_step``, which walks the expiry dict in slices, like Redis's
incremental scan of ``db->expires``, so every key with a TTL is visited once
per pass no matter how the dict changes in between.

WATCH support: ``watched`` maps each key some client WATCHes to the object
that tracks those watches (``engine/transactions.py``). Every change this
class makes to such a key — a write, a delete, a TTL set or dropped, a lazy
or active expiry — calls ``watched[key].touched(keyspace, key)`` after the
change, and command modules report in-place changes of a value (a field
added to a hash) with ``signal_modified``: that is Redis's
``signalModifiedKey``. With nothing watched it costs one truth test.

Keyspace notifications: ``notify`` is None while notify-keyspace-events is
empty, else the db's ``engine.notify.Notifier``. This class emits the
events only it sees happen: ``notify.new_key`` when a write adds an absent
key (Redis's dbAdd; a key whose TTL passed is expired first, which emits
``notify.expired``), ``notify.expired`` when a lazy lookup or the active
cycle removes a key, ``notify.key_miss`` when ``lookup_read`` misses.
While ``notify`` is None each costs one test (and a read that hits, none).

Memory accounting and access tracking (``engine/eviction.py``): ``memory``
is None while maxmemory is 0, else the db's tracker. This class tells it
``accessed(key)`` when ``lookup_read`` finds a key (an LRU/LFU access;
``lookup`` alone, the write commands' lookup, is none), ``written(key)``
after every change — a store, a TTL set or dropped, and through
``signal_modified`` an in-place change — and ``removed(key)``/``cleared()``
when keys leave. Each public method calls the tracker once per change.
While ``memory`` is None each costs one test.

Both modules export the same names with the same behaviour; ``minikv.backend``
picks one. Values are opaque here: the command modules give them meaning.
The sorted sets' ``ScoreIndex`` lives in ``minikv/_pyzset.py`` (the compiled
core has its own, a skip list); it is re-exported here so that both twins
export the same names.
"""
import threading
from time import time_ns

from minikv._pyzset import ScoreIndex

__all__ = ["ExpiryTable", "Keyspace", "ScoreIndex", "StoreLock", "wall_ms"]


def wall_ms():
    """Milliseconds since the Unix epoch: the system clock every TTL check
    of a real-time store reads (minikv.clock.SystemClock)."""
    return time_ns() // 1_000_000


# The store's mutex (engine/store.py). The compiled core has its own type
# with this interface, which its client fast paths take without a method
# call; here it is simply threading's.
StoreLock = threading.Lock

# ``Keyspace.expires``: key -> absolute expiry (ms) of the keys with a TTL. A
# dict here; the compiled twin's ExpiryTable is a C hash table offering the
# part of a dict's interface minikv uses (``[]``, ``[]=``, ``del``, ``in``,
# ``len``, ``get``, ``pop``, ``clear``, iteration, ``items()``, ``values()``)
# in the same order, with each time inline instead of an int object.
ExpiryTable = dict

# ``Keyspace.compact`` rebuilds a dict once its table takes more than this
# per key (a compact dict of bytes keys takes 30 to 60 bytes a key) and is
# not small. The compiled twin uses the same figures.
_SPARSE_BYTES_PER_KEY = 256
_SPARSE_MIN_BYTES = 1 << 16


def _compact(table):
    """Rebuild the dict ``table`` in place if it is sparse (Keyspace.compact)."""
    size = table.__sizeof__()
    if size > _SPARSE_MIN_BYTES and size > _SPARSE_BYTES_PER_KEY * len(table):
        live = dict(table)  # sized for its keys, in the same order
        table.clear()
        table.update(live)


class Keyspace:
    """One database. Expiry uses Redis's rule: expired once ``now > when``.

    ``clock_ms`` is a zero-argument callable returning integer milliseconds;
    it is read only when a key with a TTL is touched. ``on_first_ttl`` is
    called when a TTL is set while ``ttl_armed`` is False (initially, and
    after the expiry thread disarmed the keyspace to park or stop): that is
    how the active-expiry thread is started or woken, and it costs the hot
    path one attribute test.
    """

    __slots__ = ("data", "expires", "clock_ms", "on_first_ttl", "on_expired", "ttl_armed",
                 "hits", "misses", "expired", "watched", "notify", "memory", "_scan_keys",
                 "_scan_pos")

    def __init__(self, clock_ms, on_first_ttl=None, on_expired=None):
        self.data = {}
        self.expires = {}
        self.clock_ms = clock_ms
        self.on_first_ttl = on_first_ttl
        self.on_expired = on_expired
        self.ttl_armed = False
        self.hits = 0
        self.misses = 0
        self.expired = 0
        self.watched = {}
        self.notify = None
        self.memory = None
        self._scan_keys = []
        self._scan_pos = 0

    def __len__(self):
        return len(self.data)

    def _check(self):
        """Assert the invariants: every key with a TTL exists; TTLs are ints."""
        data = self.data
        for key, when in self.expires.items():
            assert key in data, key
            assert when.__class__ is int, when
        assert 0 <= self._scan_pos <= len(self._scan_keys)

    # -- reads ---------------------------------------------------------
    def lookup(self, key):
        """The live value at ``key`` or None. O(1)."""
        value = self.data.get(key)
        if value is not None:
            expires = self.expires
            if expires:
                when = expires.get(key)
                if when is not None and self.clock_ms() > when:
                    self._expire(key)
                    return None
        return value

    def lookup_read(self, key):
        """``lookup`` for read commands: also counts keyspace hits/misses."""
        value = self.lookup(key)
        if value is None:
            self.misses += 1
            if self.notify is not None:
                self.notify.key_miss(key)
        else:
            self.hits += 1
            if self.memory is not None:
                self.memory.accessed(key)
        return value

    def contains(self, key):
        return self.lookup(key) is not None

    def expiry(self, key):
        """Absolute expiry (ms) of a live key, or None if it has none."""
        return self.expires.get(key)

    # -- writes --------------------------------------------------------
    # The writes below send "new" for an absent key just before adding it:
    # no subscriber can tell (the command holds the store lock), and it keeps
    # the cost to one test while notifications are off.
    def store(self, key, value):
        """Set ``key`` and drop any TTL it had (plain SET). O(1)."""
        if self.notify is not None and self.lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        expires = self.expires
        if expires and key in expires:
            del expires[key]
        if self.watched:
            self._signal_watchers(key)
        if self.memory is not None:
            self.memory.written(key)

    def replace(self, key, value):
        """Set ``key`` keeping its TTL (in-place updates, KEEPTTL). O(1)."""
        if self.notify is not None and self.lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        if self.watched:
            self._signal_watchers(key)
        if self.memory is not None:
            self.memory.written(key)

    def store_with_expiry(self, key, value, when):
        """Set ``key`` to expire at ``when`` (absolute ms). O(1)."""
        if self.notify is not None and self.lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        self.set_expiry(key, when)

    def set_expiry(self, key, when):
        self.expires[key] = when
        if not self.ttl_armed:
            self.ttl_armed = True
            if self.on_first_ttl is not None:
                self.on_first_ttl()
        if self.watched:
            self._signal_watchers(key)
        if self.memory is not None:
            self.memory.written(key)

    def persist(self, key):
        """Drop the TTL of ``key``; True if it had one."""
        expires = self.expires
        if expires and key in expires:
            del expires[key]
            if self.watched:
                self._signal_watchers(key)
            if self.memory is not None:
                self.memory.written(key)
            return True
        return False

    def delete(self, key):
        """Remove ``key`` (live or not); True if it existed. O(1)."""
        if self.data.pop(key, None) is None:
            return False
        expires = self.expires
        if expires and key in expires:
            del expires[key]
        if self.memory is not None:
            self.memory.removed(key)
        if self.watched:
            self._signal_watchers(key)
        return True

    def signal_modified(self, key):
        """Tell the watchers of ``key``, if any, that its value changed.

        The methods here call it for their own writes; a command that
        changes a value in place (HSET on an existing hash, APPEND to a
        bytearray) calls it itself; it also tells the memory tracker. O(1).
        """
        self._signal_watchers(key)
        if self.memory is not None:
            self.memory.written(key)

    def _signal_watchers(self, key):
        watched = self.watched
        if watched:
            watchers = watched.get(key)
            if watchers is not None:
                watchers.touched(self, key)

    def clear(self):
        """Empty the db. Watchers are not told here: FLUSHDB/FLUSHALL apply
        Redis's rule for a whole db first (engine/transactions.py)."""
        self.data.clear()
        self.expires.clear()
        self._scan_keys = []
        self._scan_pos = 0
        if self.memory is not None:
            self.memory.cleared()

    def swap(self, other):
        """Exchange contents with ``other`` (SWAPDB): clients keep their db,
        and so do WATCHes (``watched`` stays; SWAPDB tells them first)."""
        self.data, other.data = other.data, self.data
        self.expires, other.expires = other.expires, self.expires
        # A memory tracker holds its db's dicts: it goes where they go.
        self.memory, other.memory = other.memory, self.memory
        self._scan_keys = other._scan_keys = []
        self._scan_pos = other._scan_pos = 0
        for ks in (self, other):
            if ks.expires and not ks.ttl_armed:
                ks.ttl_armed = True
                if ks.on_first_ttl is not None:
                    ks.on_first_ttl()

    # -- expiry --------------------------------------------------------
    def compact(self):
        """Shrink ``data`` and ``expires`` if they are mostly empty slots.

        A dict never shrinks as keys leave it (CPython reuses its table
        until it must grow), so a db whose keys mostly expired would keep
        its peak-size tables. Like Redis's tryResizeHashTables, run from its
        cron, the active-expiry cycle calls this for each db: a dict whose
        table takes more than _SPARSE_BYTES_PER_KEY a key is rebuilt in
        place (same object, same order). O(1), or O(len) for a rebuild,
        which the deletions that made the table sparse have paid for.
        """
        _compact(self.data)
        _compact(self.expires)

    def _expire(self, key):
        del self.data[key]
        del self.expires[key]
        self.expired += 1
        if self.on_expired is not None:
            self.on_expired(self, key)
        if self.memory is not None:
            self.memory.removed(key)
        if self.notify is not None:
            self.notify.expired(key)
        if self.watched:
            self._signal_watchers(key)

    def expire_step(self, now, sample):
        """Check up to ``sample`` keys with a TTL; delete the expired ones.

        Returns ``(checked, expired)``. A pass walks the keys that had a TTL
        when it began, in order, checking those that still have one: here a
        snapshot list of them, taken when the previous one is used up, so
        the cost of copying is amortised over the pass (8 bytes a key while
        it lasts; the compiled twin walks its table in place).
        """
        expires = self.expires
        if not expires:
            return 0, 0
        keys = self._scan_keys
        pos = self._scan_pos
        if pos >= len(keys):
            keys = self._scan_keys = list(expires)
            pos = 0
        end = pos + sample
        if end > len(keys):
            end = len(keys)
        checked = expired = 0
        while pos < end:
            key = keys[pos]
            pos += 1
            when = expires.get(key)
            if when is None:
                continue
            checked += 1
            if now > when:
                self._expire(key)
                expired += 1
        self._scan_pos = pos
        if pos >= len(keys):
            self._scan_keys = []
            self._scan_pos = 0
        return checked, expired
