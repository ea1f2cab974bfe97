# cython: language_level=3, boundscheck=False, wraparound=False
# cython: binding=False, embedsignature=True, embedsignature.format=clinic
"""Compiled twin of ``minikv/_pycore.py``: the keyspace hot path in Cython.

Same names, same methods, same signatures, same results as the pure module,
which stays the reference: read it for what each method means. This file
only changes *how* the work is done, so that the operations every command
pays for (``lookup``/``lookup_read`` with the lazy expiry check, ``store``,
``replace``, ``delete``) cost a C call instead of a dozen bytecodes:

- ``Keyspace`` is a ``cdef class``; its attributes are C struct fields, so
  ``self.data``/``self.expires`` are pointer loads, not attribute lookups.
  ``data``, ``expires``, ``watched``, the callbacks and the counters are
  ``public`` so the pure-Python command modules read and write them as before.
- Keyspace notifications (``notify``) cost a C pointer test while off, in
  the same places as in the pure twin; so does the maxmemory tracker
  (``memory``), called exactly where the pure twin calls it.
- The WATCH signal every write sends (``signal_modified``) is a C test of
  ``watched``'s size, free when nothing is watched.
- ``data`` and ``expires`` are typed ``dict``: ``get``/``pop``/``[]=``/``in``/
  truth tests compile to the ``PyDict_*`` C API (one hash lookup each, no
  method lookup, no bound-method object).
- ``hits``/``misses``/``expired`` are C ``long long`` counters and
  ``ttl_armed`` a C ``bint``.
- Internal calls (``lookup_read`` -> lookup, ``store_with_expiry`` ->
  set_expiry, the expiry of one key) are ``cdef`` calls.
- Methods are plain C methods (``binding=False``), a few ns cheaper to call
  than Cython function objects; ``embedsignature`` in clinic format still
  gives them ``__text_signature__``, so ``inspect.signature`` of a bound
  method matches the pure twin's.
- ``clock_ms`` is still a Python callable, and it is called only when the key
  has a TTL, exactly as in the pure twin: a keyspace without TTLs never
  reads the clock.

The visible differences are in what the types admit, never in results:
``data``/``expires`` must be exact ``dict`` objects (or None), the counters
ints that fit in 64 bits, ``ttl_armed`` reads back as a bool whatever was
assigned (its truth value is kept), and ``expire_step``'s ``sample`` an int that fits
in a ``Py_ssize_t``; anything else raises TypeError/OverflowError where the
pure twin would accept it. The pure twin's private ``_expire`` is a C-only
method here, and ``_scan_keys``/``_scan_pos`` are not visible from Python.

Threads: every method is called with the owning store's ``threading.Lock``
held (commands and the active-expiry thread alike), so no two calls on one
store's keyspaces ever overlap; the lock, not the GIL, makes a command
atomic. Nothing here releases the GIL (no ``nogil`` sections). The only
points where other Python code can run in the middle of a method are the
calls into ``clock_ms``, ``on_first_ttl``, ``on_expired``, ``notify``,
``memory``, a watched key's ``touched`` and the keys' own
``__hash__``/``__eq__``; across those, this code keeps owned references
(typed ``object``/``dict``/``list`` locals), never borrowed pointers, so a
callback that mutates the keyspace cannot leave a dangling value behind.
``expire_step`` walks its own snapshot list, which is replaced but never
mutated in place, so indexing it without bounds checks stays within range.
"""

__all__ = ["Keyspace"]


# The first lines of the class docstring are CPython's text-signature
# convention ("Name(args)" then a "--" line): they give the compiled class
# the same ``inspect.signature`` as the pure one.
cdef class Keyspace:
    """Keyspace(clock_ms, on_first_ttl=None, on_expired=None)
--

    One database. Expiry uses Redis's rule: expired once ``now > when``.

    ``clock_ms`` is a zero-argument callable returning integer milliseconds;
    it is read only when a key with a TTL is touched. ``on_first_ttl`` is
    called when a TTL is set while ``ttl_armed`` is False (initially, and
    after the expiry thread disarmed the keyspace to park or stop): that is
    how the active-expiry thread is started or woken, and it costs the hot
    path one attribute test.
    """

    cdef public dict data
    cdef public dict expires
    cdef public object clock_ms
    cdef public object on_first_ttl
    cdef public object on_expired
    cdef public bint ttl_armed
    cdef public long long hits
    cdef public long long misses
    cdef public long long expired
    # key -> its watchers (engine/transactions.py); see _pycore.Keyspace.
    cdef public dict watched
    # None, or the db's engine.notify.Notifier; see _pycore.Keyspace.
    cdef public object notify
    # None, or the db's engine.eviction tracker; see _pycore.Keyspace.
    cdef public object memory
    # expire_step's snapshot of the expiry dict's keys and its position in it.
    cdef list _scan_keys
    cdef Py_ssize_t _scan_pos

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
        cdef dict data = self.data
        for key, when in self.expires.items():
            assert key in data, key
            assert type(when) is int, when
        assert 0 <= self._scan_pos <= len(self._scan_keys)

    # -- reads ---------------------------------------------------------
    cdef inline object _lookup(self, object key):
        cdef object value = self.data.get(key)
        cdef dict expires
        cdef object when
        if value is not None:
            expires = self.expires
            if expires:
                when = expires.get(key)
                if when is not None and self.clock_ms() > when:
                    self._expire(key)
                    return None
        return value

    def lookup(self, key):
        """The live value at ``key`` or None. O(1)."""
        return self._lookup(key)

    def lookup_read(self, key):
        """``lookup`` for read commands: also counts keyspace hits/misses."""
        cdef object value = self._lookup(key)
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
        return self._lookup(key) is not None

    def expiry(self, key):
        """Absolute expiry (ms) of a live key, or None if it has none."""
        return self.expires.get(key)

    # -- writes --------------------------------------------------------
    # The writes below send "new" for an absent key just before adding it:
    # no subscriber can tell (the command holds the store lock), and it keeps
    # the cost to one test while notifications are off.
    def store(self, key, value):
        """Set ``key`` and drop any TTL it had (plain SET). O(1)."""
        cdef dict expires
        if self.notify is not None and self._lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        expires = self.expires
        if expires:
            expires.pop(key, None)
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)

    def replace(self, key, value):
        """Set ``key`` keeping its TTL (in-place updates, KEEPTTL). O(1)."""
        if self.notify is not None and self._lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)

    def store_with_expiry(self, key, value, when):
        """Set ``key`` to expire at ``when`` (absolute ms). O(1)."""
        if self.notify is not None and self._lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        self._set_expiry(key, when)
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)

    def set_expiry(self, key, when):
        self._set_expiry(key, when)
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)

    cdef int _set_expiry(self, object key, object when) except -1:
        self.expires[key] = when
        if not self.ttl_armed:
            self.ttl_armed = True
            if self.on_first_ttl is not None:
                self.on_first_ttl()
        return 0

    def persist(self, key):
        """Drop the TTL of ``key``; True if it had one."""
        cdef dict expires = self.expires
        if expires and key in expires:
            del expires[key]
            if self.watched:
                self._signal_modified(key)
            if self.memory is not None:
                self.memory.written(key)
            return True
        return False

    def delete(self, key):
        """Remove ``key`` (live or not); True if it existed. O(1)."""
        cdef dict expires
        if self.data.pop(key, None) is None:
            return False
        expires = self.expires
        if expires:
            expires.pop(key, None)
        if self.memory is not None:
            self.memory.removed(key)
        if self.watched:
            self._signal_modified(key)
        return True

    def signal_modified(self, key):
        """Tell the watchers of ``key``, if any, that its value changed.

        The methods here call it for their own writes; a command that
        changes a value in place (HSET on an existing hash, APPEND to a
        bytearray) calls it itself; it also tells the memory tracker. O(1).
        """
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)

    cdef int _signal_modified(self, object key) except -1:
        cdef object watchers = self.watched.get(key)
        if watchers is not None:
            watchers.touched(self, key)
        return 0

    def clear(self):
        """Empty the db. Watchers are not told here: FLUSHDB/FLUSHALL apply
        Redis's rule for a whole db first (engine/transactions.py)."""
        self.data.clear()
        self.expires.clear()
        self._scan_keys = []
        self._scan_pos = 0
        if self.memory is not None:
            self.memory.cleared()

    def swap(self, Keyspace other):
        """Exchange contents with ``other`` (SWAPDB): clients keep their db,
        and so do WATCHes (``watched`` stays; SWAPDB tells them first)."""
        cdef Keyspace ks
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
    cdef int _expire(self, object key) except -1:
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
            self._signal_modified(key)
        return 0

    def expire_step(self, now, Py_ssize_t sample):
        """Check up to ``sample`` keys with a TTL; delete the expired ones.

        Returns ``(checked, expired)``. Walks a snapshot of the expiry dict's
        keys; a fresh snapshot is taken when the previous one is used up, so
        the cost of copying is amortised over a full pass.
        """
        cdef dict expires = self.expires
        cdef list keys
        cdef Py_ssize_t pos, end, size
        cdef Py_ssize_t checked = 0, expired = 0
        cdef object key, when
        if not expires:
            return 0, 0
        keys = self._scan_keys
        pos = self._scan_pos
        if pos >= len(keys):
            keys = self._scan_keys = list(expires)
            pos = 0
        size = len(keys)
        # pos + sample could overflow for a huge sample; compare first.
        end = size if sample > size - pos else pos + sample
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
        if pos >= size:
            self._scan_keys = []
            self._scan_pos = 0
        return checked, expired
