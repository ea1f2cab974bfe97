# cython: language_level=3, boundscheck=False, wraparound=False
# cython: binding=False, embedsignature=True, embedsignature.format=clinic
"""Compiled twin of ``minikv/_pycore.py``: the keyspace hot path in Cython.

Same names, same methods, same signatures, same results as the pure module,
which stays the reference: read it for what each method means. This file
only changes *how* the work is done, so that the operations every command
pays for (``lookup``/``lookup_read`` with the lazy expiry check, ``store``,
``replace``, ``delete``) cost a C call instead of a dozen bytecodes:

- ``Keyspace`` is a ``cdef class``; its attributes are C struct fields, so
  ``self.data``/``self._expires`` are pointer loads, not attribute lookups.
  ``data``, ``expires``, ``watched``, the callbacks and the counters are
  readable and writable from Python, so the pure-Python command modules use
  them as before.
- Keyspace notifications (``notify``) cost a C pointer test while off, in
  the same places as in the pure twin; so does the maxmemory tracker
  (``memory``), called exactly where the pure twin calls it.
- The WATCH signal every write sends (``signal_modified``) is a C test of
  ``watched``'s size, free when nothing is watched.
- ``data`` is a typed ``dict``: ``get``/``pop``/``[]=``/``in``/truth tests
  compile to the ``PyDict_*`` C API (one hash lookup each, no method lookup,
  no bound-method object).
- ``expires`` is an ``ExpiryTable`` (defined just below), a C hash table
  holding each time as an int64 inline: ~30 bytes per key with a TTL where a
  dict and an int object take ~80. The pure twin's is a dict with the same
  iteration order; ``expire_step`` walks the table's own array.
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
``data`` must be an exact ``dict`` (or None) and ``expires`` an
``ExpiryTable``, the counters, expiry times and clock readings ints that fit
in 64 bits, keys given a TTL exact ``bytes`` (all minikv keys are),
``ttl_armed`` reads back as a bool whatever was assigned (its truth value is
kept), and ``expire_step``'s ``sample`` an int that fits in a
``Py_ssize_t``; anything else raises TypeError/OverflowError where the pure
twin would accept it. The pure twin's private ``_expire`` is a C-only method
here, and it has ``_scan_keys``/``_scan_pos`` where this one has the table's
pass cursor.

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
``expire_step`` keeps its position in the table itself (which moves it
along when it rebuilds), re-reads it after every expiry, and holds its own
reference to the key it expires.

The module also holds the sorted sets' ``ScoreIndex``, a skip list with
spans (Redis's zskiplist), the compiled twin of ``minikv/_pyzset.py``; it is
described where it is defined, at the end of this file.
"""

cimport cython
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport Py_DECREF, Py_INCREF, PyObject
from libc.stdint cimport int32_t, int64_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memset
from posix.time cimport CLOCK_REALTIME, clock_gettime, timespec

__all__ = ["ExpiryTable", "FastPaths", "Keyspace", "ScoreIndex", "StoreLock", "wall_ms"]


def wall_ms():
    """Milliseconds since the Unix epoch, as ``time.time_ns() // 10**6``
    (the same CLOCK_REALTIME), without the Python-level arithmetic: the
    system clock every TTL check of a real-time store reads."""
    cdef timespec now
    clock_gettime(CLOCK_REALTIME, &now)
    return <long long>now.tv_sec * 1000 + now.tv_nsec // 1000000



# -- ExpiryTable: the keyspace's expiry index ---------------------------------
#
# ``Keyspace.expires``: key -> absolute expiry (int64 ms) of the keys that have
# a TTL. The pure twin uses a dict (``_pycore.ExpiryTable``); a dict costs a
# key with a TTL ~45 bytes of table plus a 32-byte int object for the time.
# This is the same thing in ~22-36 bytes a key, with the time stored inline:
#
# - ``entries``: a dense array of {key, when} in insertion order (CPython's
#   "compact dict" layout), 16 bytes each. ``key`` is an owned reference to an
#   exact ``bytes`` object (so hashing and comparing run no Python code: its
#   hash is cached in the object, equality is a length test and memcmp); NULL
#   marks a hole left by a removal.
# - ``index``: 2**k int32 slots, each EMPTY, DUMMY (a removed key: probes go
#   on past it) or the position of an entry. Probing is CPython's dict
#   recurrence ``i = 5*i + perturb + 1``, ``perturb >>= 5``, which reaches
#   every slot and mixes in all the hash bits.
#
# Sizes. After a rebuild the index is at most half full; it is rebuilt when
# live + DUMMY slots would pass 2/3 (growing) and when live keys fall under
# 1/8 of it (shrinking, so memory follows the keys down, as Redis's
# tryResizeHashTables does). The entry array grows by half when full (a
# realloc: positions do not move, so the index stays valid), unless a quarter
# of it is holes: then it is rebuilt, which drops the holes. A rebuild is
# O(entries) and happens only after O(entries) insertions or removals, so
# every operation is O(1) amortised; lookups are O(1) expected. While the
# table grows a key costs 1 to 1.5 entries (16 to 24 bytes) and 1.5 to 3
# index slots (6 to 12 bytes): 25 bytes at 1e6 keys, 31 at 1e5
# (benchmarks/memory.py). The index reaches 8 slots a key before it shrinks.
#
# Iteration (``items()``, ``values()``, ``iter()``) follows the entry array,
# skipping holes: the insertion order of a dict, which the pure twin has. An
# overwrite keeps its entry, a removed and re-added key goes to the end, and
# a rebuild keeps the order, exactly as in a dict, so both twins list their
# keys in the same order.
#
# The active-expiry pass (``Keyspace.expire_step``) has the pure twin's
# meaning: a pass walks the keys that had a TTL when it began, in order, and
# checks those that still have one when it reaches them. Here the pass is the
# range [cursor, pass_end) of positions, pass_end being the array's end when
# the pass began: keys added meanwhile land after it and wait for the next
# pass. A key removed while its position is still ahead of the cursor keeps
# its entry as "detached" (its pointer tagged with the low bit, which object
# alignment leaves free; no index slot points to it), so the walk still
# reaches it there and checks whether the key has a TTL again (re-added,
# elsewhere), as the pure twin's snapshot of keys does; the walk then drops
# it. Rebuilds carry the cursor and pass_end over to the compacted
# positions (holes are not part of any pass). So no key is missed or seen
# twice in a pass, whatever happens between steps, without copying the keys.

cdef enum:
    EXPIRY_MIN_SLOTS = 8     # index slots of an empty table; a power of two
    EXPIRY_MIN_ENTRIES = 8   # spare entries a rebuild leaves at least
    SLOT_EMPTY = -1
    SLOT_DUMMY = -2
    PERTURB_SHIFT = 5
    MAX_ENTRIES = 0x7FFFFFFF  # entry positions are int32 index values


cdef struct ExpiryEntry:
    PyObject *key   # NULL: a hole; low bit set: detached (see above)
    int64_t when


cdef extern from "Python.h":
    # For an exact bytes object: reads the cached hash (computed once), never fails.
    Py_hash_t _bytes_hash "PyObject_Hash"(PyObject *key) noexcept
    Py_ssize_t _bytes_size "PyBytes_GET_SIZE"(PyObject *key) noexcept
    char *_bytes_data "PyBytes_AS_STRING"(PyObject *key) noexcept


cdef inline bint _is_detached(PyObject *key) noexcept:
    return (<uintptr_t>key) & 1


cdef inline PyObject *_detached(PyObject *key) noexcept:
    return <PyObject *>((<uintptr_t>key) | 1)


cdef inline PyObject *_attached(PyObject *key) noexcept:
    return <PyObject *>((<uintptr_t>key) & ~(<uintptr_t>1))


cdef inline bint _same_key(PyObject *stored, PyObject *key) noexcept:
    cdef Py_ssize_t size
    if stored == key:
        return True
    size = _bytes_size(stored)
    return size == _bytes_size(key) and memcmp(_bytes_data(stored), _bytes_data(key), size) == 0


cdef inline Py_ssize_t _free_slot(int32_t *index, size_t mask, Py_hash_t hash) noexcept:
    """The first EMPTY or DUMMY slot on ``hash``'s probe path."""
    cdef size_t perturb = <size_t>hash
    cdef size_t i = perturb & mask
    while index[i] >= 0:
        perturb >>= PERTURB_SHIFT
        i = (i * 5 + perturb + 1) & mask
    return i


cdef Py_ssize_t _slots_for(Py_ssize_t keys) noexcept:
    """Index size for ``keys`` live keys: a power of two at least twice it."""
    cdef Py_ssize_t slots = EXPIRY_MIN_SLOTS
    while slots < 2 * keys:
        slots <<= 1
    return slots


@cython.final
cdef class ExpiryTable:
    """ExpiryTable()
--

    Key -> absolute expiry in ms: the keys of a keyspace that have a TTL.

    Keys are exact ``bytes``; times are ints that fit in 64 bits. Supports
    what minikv uses of a dict: ``t[key]``, ``t[key] = when``, ``del t[key]``,
    ``key in t``, ``len(t)``, ``get``, ``pop``, ``clear``, iteration over keys,
    ``items()`` and ``values()`` (iterators, in insertion order), and
    ``sys.getsizeof``. See the comment above the class for the layout.
    """

    cdef ExpiryEntry *entries
    cdef int32_t *index
    cdef Py_ssize_t slots       # index size, a power of two
    cdef Py_ssize_t fill        # index slots that are not EMPTY (live + DUMMY)
    cdef Py_ssize_t capacity    # allocated entries
    cdef Py_ssize_t used        # entries[:used] have been handed out
    cdef Py_ssize_t live        # keys present: len(table)
    cdef Py_ssize_t detached    # detached entries, all in [cursor, pass_end)
    cdef Py_ssize_t cursor      # the expiry pass: positions still to walk are
    cdef Py_ssize_t pass_end    # [cursor, pass_end); none when they are equal
    cdef Py_ssize_t version     # bumped by every insertion and removal

    def __cinit__(self):
        self.entries = <ExpiryEntry *>PyMem_Malloc(EXPIRY_MIN_ENTRIES * sizeof(ExpiryEntry))
        self.index = <int32_t *>PyMem_Malloc(EXPIRY_MIN_SLOTS * sizeof(int32_t))
        if self.entries is NULL or self.index is NULL:
            raise MemoryError()
        memset(self.index, 0xFF, EXPIRY_MIN_SLOTS * sizeof(int32_t))  # all SLOT_EMPTY
        self.slots = EXPIRY_MIN_SLOTS
        self.capacity = EXPIRY_MIN_ENTRIES

    def __dealloc__(self):
        self._release_keys()
        PyMem_Free(self.entries)
        PyMem_Free(self.index)

    cdef void _release_keys(self) noexcept:
        cdef Py_ssize_t pos
        cdef PyObject *key
        if self.entries is NULL:
            return
        for pos in range(self.used):
            key = self.entries[pos].key
            if key is not NULL:
                self.entries[pos].key = NULL
                Py_DECREF(<object>_attached(key))

    # -- the C interface (Keyspace) ----------------------------------------
    cdef inline Py_ssize_t _slot(self, PyObject *key, Py_hash_t hash) noexcept:
        """The index slot holding ``key`` (exact bytes), or -1. O(1) expected."""
        cdef size_t mask = self.slots - 1
        cdef size_t perturb = <size_t>hash
        cdef size_t i = perturb & mask
        cdef int32_t at
        while True:
            at = self.index[i]
            if at == SLOT_EMPTY:
                return -1
            if at >= 0 and _same_key(self.entries[at].key, key):
                return i
            perturb >>= PERTURB_SHIFT
            i = (i * 5 + perturb + 1) & mask

    cdef inline Py_ssize_t _find(self, object key) noexcept:
        """The entry position of ``key``, or -1 (also for a key that is not
        exact bytes: none is ever stored). O(1) expected."""
        cdef PyObject *k = <PyObject *>key
        cdef Py_ssize_t slot
        if not self.live or type(key) is not bytes:
            return -1
        slot = self._slot(k, _bytes_hash(k))
        return -1 if slot < 0 else self.index[slot]

    cdef int _set(self, object key, int64_t when) except -1:
        """Insert or overwrite. O(1) amortised."""
        cdef PyObject *k = <PyObject *>key
        cdef Py_hash_t hash
        cdef Py_ssize_t slot, pos
        if type(key) is not bytes:
            raise TypeError(f"expiry table keys must be bytes, not {type(key).__name__}")
        hash = _bytes_hash(k)
        slot = self._slot(k, hash)
        if slot >= 0:
            self.entries[self.index[slot]].when = when  # keeps its place, like a dict
            return 0
        if (self.fill + 1) * 3 > self.slots * 2 or (
                self.used == self.capacity
                and 4 * (self.used - self.live - self.detached) >= self.used):
            if self._rebuild(self.live + 1) < 0:
                raise MemoryError()
        if self.used == self.capacity and self._resize_entries(
                self.capacity + self.capacity // 2 + EXPIRY_MIN_ENTRIES) < 0:
            raise MemoryError()
        slot = _free_slot(self.index, self.slots - 1, hash)
        if self.index[slot] == SLOT_EMPTY:
            self.fill += 1
        pos = self.used
        self.index[slot] = <int32_t>pos
        Py_INCREF(key)
        self.entries[pos].key = k
        self.entries[pos].when = when
        self.used = pos + 1
        self.live += 1
        self.version += 1
        return 0

    cdef bint _discard(self, object key) noexcept:
        """Remove ``key`` if present; whether it was. O(1) amortised."""
        cdef Py_ssize_t slot, pos
        cdef PyObject *k
        if not self.live or type(key) is not bytes:
            return False
        slot = self._slot(<PyObject *>key, _bytes_hash(<PyObject *>key))
        if slot < 0:
            return False
        pos = self.index[slot]
        self.index[slot] = SLOT_DUMMY
        self.live -= 1
        self.version += 1
        k = self.entries[pos].key
        if self.cursor <= pos < self.pass_end:
            self.entries[pos].key = _detached(k)  # the pass still has to reach it
            self.detached += 1
        else:
            self.entries[pos].key = NULL
            Py_DECREF(<object>k)
        if self.slots > EXPIRY_MIN_SLOTS and self.live * 8 < self.slots:
            self._rebuild(self.live)  # out of memory: stay as large as before
        return True

    cdef int _clear(self) except -1:
        """Remove every key and return to the smallest size. O(entries)."""
        cdef ExpiryEntry *entries = <ExpiryEntry *>PyMem_Malloc(
            EXPIRY_MIN_ENTRIES * sizeof(ExpiryEntry))
        cdef int32_t *index = <int32_t *>PyMem_Malloc(EXPIRY_MIN_SLOTS * sizeof(int32_t))
        if entries is NULL or index is NULL:
            PyMem_Free(entries)
            PyMem_Free(index)
            raise MemoryError()
        memset(index, 0xFF, EXPIRY_MIN_SLOTS * sizeof(int32_t))
        self._release_keys()
        PyMem_Free(self.entries)
        PyMem_Free(self.index)
        self.entries, self.index = entries, index
        self.slots, self.capacity = EXPIRY_MIN_SLOTS, EXPIRY_MIN_ENTRIES
        self.fill = self.used = self.live = self.detached = 0
        self.cursor = self.pass_end = 0
        self.version += 1
        return 0

    cdef void _end_pass(self) noexcept:
        """Abandon the expiry pass under way, if any (the pure twin drops its
        snapshot): its detached entries become holes. O(rest of the pass)."""
        cdef Py_ssize_t pos
        for pos in range(self.cursor, self.pass_end):
            if _is_detached(self.entries[pos].key):
                self._drop_detached(pos)
        self.cursor = self.pass_end = 0

    cdef inline void _drop_detached(self, Py_ssize_t pos) noexcept:
        cdef PyObject *key = _attached(self.entries[pos].key)
        self.entries[pos].key = NULL
        self.detached -= 1
        Py_DECREF(<object>key)

    cdef inline void _skip_holes(self) noexcept:
        """Move the cursor past holes; end the pass if nothing is left in it."""
        while self.cursor < self.pass_end and self.entries[self.cursor].key is NULL:
            self.cursor += 1
        if self.cursor == self.pass_end:
            self.cursor = self.pass_end = 0

    # -- resizing -------------------------------------------------------------
    cdef int _resize_entries(self, Py_ssize_t capacity) noexcept:
        """Reallocate the entry array (``capacity`` >= ``used``); -1, and no
        change, if memory or the int32 positions run out."""
        cdef ExpiryEntry *entries
        if capacity > MAX_ENTRIES:
            capacity = MAX_ENTRIES
            if capacity <= self.used:
                return -1
        entries = <ExpiryEntry *>PyMem_Realloc(self.entries, capacity * sizeof(ExpiryEntry))
        if entries is NULL:
            return -1
        self.entries = entries
        self.capacity = capacity
        return 0

    cdef int _rebuild(self, Py_ssize_t keys) noexcept:
        """Drop the holes (entries keep their order), re-index the live keys in
        an index sized for ``keys``, carry the pass over, and size the entry
        array to 1.5 times what is kept. -1, and no change, if the new index
        cannot be allocated. O(used)."""
        cdef Py_ssize_t slots = _slots_for(keys)
        cdef int32_t *index = <int32_t *>PyMem_Malloc(slots * sizeof(int32_t))
        cdef ExpiryEntry *entries = self.entries
        cdef Py_ssize_t pos, kept = 0, cursor = 0, pass_end = 0
        cdef PyObject *key
        if index is NULL:
            return -1
        memset(index, 0xFF, slots * sizeof(int32_t))
        for pos in range(self.used):
            key = entries[pos].key
            if key is NULL:
                continue
            # Holes are in no pass: the pass keeps its entries, compacted.
            cursor += pos < self.cursor
            pass_end += pos < self.pass_end
            entries[kept] = entries[pos]
            if not _is_detached(key):
                index[_free_slot(index, slots - 1, _bytes_hash(key))] = <int32_t>kept
            kept += 1
        PyMem_Free(self.index)
        self.index = index
        self.slots = slots
        self.fill = self.live
        self.used = kept
        self.cursor, self.pass_end = cursor, pass_end
        # Failing to resize keeps the current array, which still holds them.
        self._resize_entries(kept + kept // 2 + EXPIRY_MIN_ENTRIES)
        return 0

    # -- the Python interface (engine modules, tests) ----------------------
    def __len__(self):
        return self.live

    def __contains__(self, key):
        return self._find(key) >= 0

    def __getitem__(self, key):
        cdef Py_ssize_t pos = self._find(key)
        if pos < 0:
            raise KeyError(key)
        return self.entries[pos].when

    def get(self, key, default=None, /):
        cdef Py_ssize_t pos = self._find(key)
        return default if pos < 0 else self.entries[pos].when

    def __setitem__(self, key, int64_t when):
        self._set(key, when)

    def __delitem__(self, key):
        if not self._discard(key):
            raise KeyError(key)

    def pop(self, key, *default):
        """pop(key[, default]): remove ``key`` and return its time, else
        ``default``, else raise KeyError."""
        cdef Py_ssize_t pos = self._find(key)
        cdef int64_t when
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        if pos < 0:
            if default:
                return default[0]
            raise KeyError(key)
        when = self.entries[pos].when
        self._discard(key)
        return when

    def clear(self):
        self._clear()

    def __iter__(self):
        return _ExpiryIter._new(self, ITER_KEYS)

    def items(self):
        return _ExpiryIter._new(self, ITER_ITEMS)

    def values(self):
        return _ExpiryIter._new(self, ITER_VALUES)

    def __sizeof__(self):
        """The object, its index and its entries (the times are inline)."""
        return (sizeof(ExpiryTable) + self.slots * sizeof(int32_t)
                + self.capacity * sizeof(ExpiryEntry))

    def __repr__(self):
        return f"ExpiryTable({dict(self.items())!r})"

    def _check(self):
        """Assert the invariants described above the class. O(entries)."""
        cdef Py_ssize_t pos, slot, live = 0, detached = 0, indexed = 0, filled = 0
        cdef PyObject *key
        cdef int32_t at
        assert self.slots >= EXPIRY_MIN_SLOTS and self.slots & (self.slots - 1) == 0
        assert self.fill * 3 <= self.slots * 2, (self.fill, self.slots)
        assert self.slots == EXPIRY_MIN_SLOTS or self.live * 8 >= self.slots, \
            (self.live, self.slots)
        assert 0 <= self.used <= self.capacity <= MAX_ENTRIES, (self.used, self.capacity)
        assert 0 <= self.cursor <= self.pass_end <= self.used, (self.cursor, self.pass_end)
        assert self.cursor == self.pass_end == 0 or (
            self.cursor < self.pass_end and self.entries[self.cursor].key is not NULL)
        for pos in range(self.used):
            key = self.entries[pos].key
            if key is NULL:
                continue
            assert type(<object>_attached(key)) is bytes, pos
            if _is_detached(key):
                assert self.cursor <= pos < self.pass_end, (pos, self.cursor, self.pass_end)
                detached += 1
            else:
                live += 1
                slot = self._slot(key, _bytes_hash(key))
                assert slot >= 0 and self.index[slot] == pos, (<object>key, pos, slot)
        assert (live, detached) == (self.live, self.detached), (live, detached)
        for slot in range(self.slots):
            at = self.index[slot]
            if at != SLOT_EMPTY:
                filled += 1
            if at >= 0:
                indexed += 1
                assert at < self.used and not _is_detached(self.entries[at].key)
                assert self.entries[at].key is not NULL
            else:
                assert at in (SLOT_EMPTY, SLOT_DUMMY), at
        assert (indexed, filled) == (self.live, self.fill), (indexed, filled)


cdef enum:
    ITER_KEYS
    ITER_VALUES
    ITER_ITEMS


@cython.final
@cython.auto_pickle(False)
cdef class _ExpiryIter:
    """Keys, times or (key, time) pairs of an ExpiryTable, in its order; a
    table that gains or loses a key meanwhile stops it with RuntimeError, as a
    dict does (and, as a dict's, once it has ended it stays ended)."""

    cdef ExpiryTable table  # None once the walk has ended
    cdef Py_ssize_t pos
    cdef Py_ssize_t version
    cdef int kind

    @staticmethod
    cdef _ExpiryIter _new(ExpiryTable table, int kind):
        cdef _ExpiryIter walk = _ExpiryIter.__new__(_ExpiryIter)
        walk.table = table
        walk.version = table.version
        walk.kind = kind
        return walk

    def __iter__(self):
        return self

    def __next__(self):
        cdef ExpiryTable table = self.table
        cdef PyObject *key
        if table is None:
            raise StopIteration
        if self.version != table.version:
            raise RuntimeError("ExpiryTable changed size during iteration")
        while self.pos < table.used:
            key = table.entries[self.pos].key
            self.pos += 1
            if key is NULL or _is_detached(key):
                continue
            if self.kind == ITER_KEYS:
                return <object>key
            if self.kind == ITER_VALUES:
                return table.entries[self.pos - 1].when
            return (<object>key, table.entries[self.pos - 1].when)
        self.table = None
        raise StopIteration


# Keyspace.compact rebuilds ``data`` above these (the pure twin's figures).
cdef enum:
    SPARSE_BYTES_PER_KEY = 256
    SPARSE_MIN_BYTES = 1 << 16


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
    # key -> absolute expiry (ms); the ``expires`` property. Never None.
    cdef ExpiryTable _expires
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

    def __cinit__(self, *args, **kwargs):
        # Here, not in __init__: the C code counts on the table being there,
        # even in an object that only ``__new__`` made.
        self._expires = ExpiryTable()

    def __init__(self, clock_ms, on_first_ttl=None, on_expired=None):
        self.data = {}
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

    @property
    def expires(self):
        return self._expires

    @expires.setter
    def expires(self, ExpiryTable table not None):
        self._expires = table

    def __len__(self):
        return len(self.data)

    def _check(self):
        """Assert the invariants: every key with a TTL exists; the table's own."""
        cdef dict data = self.data
        self._expires._check()
        for key in self._expires:
            assert key in data, key

    # -- reads ---------------------------------------------------------
    cdef inline object _lookup(self, object key):
        cdef object value = self.data.get(key)
        cdef ExpiryTable expires
        cdef Py_ssize_t at
        cdef int64_t when
        if value is not None:
            expires = self._expires
            if expires.live:
                at = expires._find(key)
                if at >= 0:
                    when = expires.entries[at].when  # before the clock's Python code runs
                    if <int64_t>self.clock_ms() > when:
                        self._expire(key)
                        return None
        return value

    def lookup(self, key):
        """The live value at ``key`` or None. O(1)."""
        return self._lookup(key)

    def lookup_read(self, key):
        """``lookup`` for read commands: also counts keyspace hits/misses."""
        return self._lookup_read(key)

    cdef object _lookup_read(self, object key):
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
        cdef Py_ssize_t at = self._expires._find(key)
        return None if at < 0 else self._expires.entries[at].when

    # -- writes --------------------------------------------------------
    # The writes below send "new" for an absent key just before adding it:
    # no subscriber can tell (the command holds the store lock), and it keeps
    # the cost to one test while notifications are off.
    def store(self, key, value):
        """Set ``key`` and drop any TTL it had (plain SET). O(1)."""
        self._store(key, value)

    cdef int _store(self, object key, object value) except -1:
        if self.notify is not None and self._lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        self._expires._discard(key)
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)
        return 0

    def replace(self, key, value):
        """Set ``key`` keeping its TTL (in-place updates, KEEPTTL). O(1)."""
        self._replace(key, value)

    cdef int _replace(self, object key, object value) except -1:
        if self.notify is not None and self._lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)
        return 0

    def store_with_expiry(self, key, value, when):
        """Set ``key`` to expire at ``when`` (absolute ms). O(1)."""
        self._store_with_expiry(key, value, when)

    cdef int _store_with_expiry(self, object key, object value, object when) except -1:
        if self.notify is not None and self._lookup(key) is None:
            self.notify.new_key(key)
        self.data[key] = value
        self._set_expiry(key, when)
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)
        return 0

    def set_expiry(self, key, when):
        self._expire_at(key, when)

    cdef int _expire_at(self, object key, object when) except -1:
        self._set_expiry(key, when)
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)
        return 0

    cdef int _set_expiry(self, object key, object when) except -1:
        self._expires._set(key, when)
        if not self.ttl_armed:
            self.ttl_armed = True
            if self.on_first_ttl is not None:
                self.on_first_ttl()
        return 0

    def persist(self, key):
        """Drop the TTL of ``key``; True if it had one."""
        if self._expires._discard(key):
            if self.watched:
                self._signal_modified(key)
            if self.memory is not None:
                self.memory.written(key)
            return True
        return False

    def delete(self, key):
        """Remove ``key`` (live or not); True if it existed. O(1)."""
        return self._delete(key)

    cdef bint _delete(self, object key) except -1:
        if self.data.pop(key, None) is None:
            return False
        self._expires._discard(key)
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
        self._modified(key)

    cdef int _modified(self, object key) except -1:
        if self.watched:
            self._signal_modified(key)
        if self.memory is not None:
            self.memory.written(key)
        return 0

    cdef int _signal_modified(self, object key) except -1:
        cdef object watchers = self.watched.get(key)
        if watchers is not None:
            watchers.touched(self, key)
        return 0

    def clear(self):
        """Empty the db. Watchers are not told here: FLUSHDB/FLUSHALL apply
        Redis's rule for a whole db first (engine/transactions.py)."""
        self.data.clear()
        self._expires._clear()
        if self.memory is not None:
            self.memory.cleared()

    def swap(self, Keyspace other):
        """Exchange contents with ``other`` (SWAPDB): clients keep their db,
        and so do WATCHes (``watched`` stays; SWAPDB tells them first)."""
        cdef Keyspace ks
        self.data, other.data = other.data, self.data
        self._expires, other._expires = other._expires, self._expires
        # A memory tracker holds its db's tables: it goes where they go.
        self.memory, other.memory = other.memory, self.memory
        self._expires._end_pass()
        other._expires._end_pass()
        for ks in (self, other):
            if ks._expires.live and not ks.ttl_armed:
                ks.ttl_armed = True
                if ks.on_first_ttl is not None:
                    ks.on_first_ttl()

    # -- expiry --------------------------------------------------------
    def compact(self):
        """Shrink ``data`` if it is mostly empty slots (see the pure twin).
        ``expires`` shrinks by itself as keys leave it. O(1), or O(len(data))
        for a rebuild, which the deletions that made it sparse paid for."""
        cdef dict data = self.data
        cdef dict live
        cdef Py_ssize_t size = data.__sizeof__()
        if size > SPARSE_MIN_BYTES and size > SPARSE_BYTES_PER_KEY * len(data):
            live = dict(data)  # sized for its keys
            data.clear()
            data.update(live)

    cdef int _expire(self, object key) except -1:
        del self.data[key]
        if not self._expires._discard(key):
            raise KeyError(key)
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

        Returns ``(checked, expired)``. A pass walks the keys that had a TTL
        when it began, in table order, checking those that still have one;
        the table keeps the position (see ExpiryTable), so no copy of the
        keys is made. O(sample) amortised.
        """
        cdef int64_t deadline = now
        cdef ExpiryTable table = self._expires
        cdef Py_ssize_t pos, at, walked = 0, checked = 0, expired = 0
        cdef PyObject *entry_key
        cdef int64_t when
        cdef object key
        if not table.live:
            return 0, 0
        if table.cursor == table.pass_end:
            table.cursor = 0
            table.pass_end = table.used
        while walked < sample:
            # An expiry runs callbacks: re-read the table and its position.
            table = self._expires
            pos = table.cursor
            if pos >= table.pass_end:
                break
            entry_key = table.entries[pos].key
            table.cursor = pos + 1
            if entry_key is NULL:
                continue  # a hole: not a key of this pass
            walked += 1
            if _is_detached(entry_key):
                # Removed after the pass began: does it have a TTL again?
                key = <object>_attached(entry_key)
                table._drop_detached(pos)
                at = table._find(key)
                if at < 0:
                    continue
                when = table.entries[at].when
            else:
                key = <object>entry_key
                when = table.entries[pos].when
            checked += 1
            if deadline > when:
                self._expire(key)
                expired += 1
        self._expires._skip_holes()
        return checked, expired


# -- ScoreIndex: the ordered half of a sorted set, a skip list with spans ---
#
# The compiled twin of minikv/_pyzset.py's ScoreIndex (read it for what each
# method means; results are identical). The layout is Redis's zskiplist
# (t_zset.c): Pugh's skip list whose nodes hold a C double and an owned
# reference to the member bytes; every forward link carries a ``span`` (how
# many rank steps it jumps), so a descent that adds up spans gives a rank in
# O(log n), and ``backward`` links walk the bottom level in reverse. Node
# heights are geometric with p = 1/4, at most 32 levels.
#
# Order: by score (``-0.0 == 0.0``, as C doubles compare; scores are never
# NaN), then by member bytes (memcmp over the common prefix, then the
# shorter first): exactly the tuple order the pure twin sorts by.
#
# Invariant kept by every change: at each level i < ``height``, the span of
# a link is the rank distance it covers, and a last link (forward NULL)
# spans to one past the last node (``len - rank``). ``_check`` verifies it.
#
# Iterators hold a node pointer; the index counts its structural changes and
# an iterator stops with RuntimeError instead of following a freed node.

cdef enum:
    ZSKIPLIST_MAXLEVEL = 32


cdef struct ZLevel:
    ZNode *forward
    Py_ssize_t span


cdef struct ZNode:
    double score
    PyObject *member
    ZNode *backward
    int height
    ZLevel *level   # ``height`` links, allocated right after the node


cdef uint64_t _random_state = 0x9E3779B97F4A7C15


cdef inline int _random_height() noexcept:
    """1 + how many times a 1-in-4 coin came up (xorshift64*), capped."""
    global _random_state
    cdef int height = 1
    cdef uint64_t bits
    while True:
        _random_state ^= _random_state >> 12
        _random_state ^= _random_state << 25
        _random_state ^= _random_state >> 27
        bits = (_random_state * <uint64_t>0x2545F4914F6CDD1D) >> 32
        # 16 two-bit draws per number: each is 0 with probability 1/4.
        while bits & 3 == 0 and height < ZSKIPLIST_MAXLEVEL:
            height += 1
            bits >>= 2
        if height == ZSKIPLIST_MAXLEVEL or bits & 3 != 0:
            return height


cdef inline int _member_cmp(PyObject *a, PyObject *b) noexcept:
    """<0, 0, >0 as bytes a < b, ==, > (Python's bytes order)."""
    cdef Py_ssize_t la = PyBytes_GET_SIZE(<object>a), lb = PyBytes_GET_SIZE(<object>b)
    cdef int found = memcmp(PyBytes_AS_STRING(<object>a), PyBytes_AS_STRING(<object>b),
                            la if la < lb else lb)
    if found:
        return found
    return (la > lb) - (la < lb)


cdef inline bint _before(ZNode *node, double score, PyObject *member) noexcept:
    """True when node's pair sorts strictly before (score, member)."""
    return node.score < score or (node.score == score and _member_cmp(node.member, member) < 0)


cdef ZNode *_node_new(int height, double score, PyObject *member) except NULL:
    cdef ZNode *node = <ZNode *>malloc(sizeof(ZNode) + height * sizeof(ZLevel))
    if node is NULL:
        raise MemoryError()
    node.score = score
    node.member = member
    node.backward = NULL
    node.height = height
    node.level = <ZLevel *>(<char *>node + sizeof(ZNode))
    cdef int i
    for i in range(height):
        node.level[i].forward = NULL
        node.level[i].span = 0
    return node


cdef inline tuple _pair(ZNode *node):
    return (node.score, <object>node.member)


cdef class ScoreIndex:
    """ScoreIndex(pairs=())
--

    (score, member) pairs in sorted-set order, in a skip list with spans.
    See the comment above and minikv/_pyzset.py.
    """

    cdef ZNode *header
    cdef ZNode *tail
    cdef Py_ssize_t length
    cdef int height          # levels in use (at least 1)
    cdef Py_ssize_t version  # structural changes, for the iterators

    def __cinit__(self):
        self.header = _node_new(ZSKIPLIST_MAXLEVEL, 0.0, NULL)
        self.tail = NULL
        self.length = 0
        self.height = 1
        self.version = 0

    def __init__(self, pairs=()):
        """Index the given (score, member) pairs (any order). O(n log n)."""
        for score, member in pairs:
            self.insert(score, member)

    def __dealloc__(self):
        cdef ZNode *node
        cdef ZNode *following
        if self.header is NULL:
            return
        node = self.header.level[0].forward
        while node is not NULL:
            following = node.level[0].forward
            Py_DECREF(<object>node.member)
            free(node)
            node = following
        free(self.header)
        self.header = NULL

    def __len__(self):
        return self.length

    def __iter__(self):
        return self.iter_from(0)

    def __reversed__(self):
        return self.iter_from(self.length - 1, True)

    # -- internals --------------------------------------------------------------
    cdef ZNode *_at(self, Py_ssize_t rank) noexcept:
        """The node of 0-based ``rank`` (which must be < len). O(log n)."""
        cdef ZNode *node = self.header
        cdef Py_ssize_t traversed = 0, wanted = rank + 1
        cdef int i
        for i in range(self.height - 1, -1, -1):
            while node.level[i].forward is not NULL and traversed + node.level[i].span <= wanted:
                traversed += node.level[i].span
                node = node.level[i].forward
            if traversed == wanted:
                return node
        return node

    cdef ZNode *_find(self, double score, PyObject *member, ZNode **update) noexcept:
        """Fill ``update`` with each level's last node before (score,
        member); return the node after it at the bottom level (or NULL)."""
        cdef ZNode *node = self.header
        cdef int i
        for i in range(self.height - 1, -1, -1):
            while node.level[i].forward is not NULL and _before(node.level[i].forward, score, member):
                node = node.level[i].forward
            update[i] = node
        return node.level[0].forward

    cdef void _unlink(self, ZNode *node, ZNode **update) noexcept:
        """Take ``node`` out of the lists (Redis's zslDeleteNode); the caller
        frees it. ``update[i]``: the last node before it at level i."""
        cdef int i
        for i in range(self.height):
            if update[i].level[i].forward == node:
                update[i].level[i].span += node.level[i].span - 1
                update[i].level[i].forward = node.level[i].forward
            else:
                update[i].level[i].span -= 1
        if node.level[0].forward is not NULL:
            node.level[0].forward.backward = node.backward
        else:
            self.tail = node.backward
        while self.height > 1 and self.header.level[self.height - 1].forward is NULL:
            self.height -= 1
        self.length -= 1
        self.version += 1

    cdef object _take(self, ZNode *node, ZNode **update):
        """Unlink and free ``node``; return its pair (the member reference
        passes to the tuple)."""
        self._unlink(node, update)
        pair = (node.score, <object>node.member)
        Py_DECREF(<object>node.member)
        free(node)
        return pair

    cdef void _rank_update(self, Py_ssize_t rank, ZNode **update) noexcept:
        """Fill ``update`` with each level's last node of rank < ``rank``
        (0-based; the header counts as rank -1)."""
        cdef ZNode *node = self.header
        cdef Py_ssize_t traversed = 0
        cdef int i
        for i in range(self.height - 1, -1, -1):
            while node.level[i].forward is not NULL and traversed + node.level[i].span <= rank:
                traversed += node.level[i].span
                node = node.level[i].forward
            update[i] = node

    # -- single pairs: O(log n) -------------------------------------------------
    def insert(self, double score, bytes member not None):
        cdef ZNode *update[ZSKIPLIST_MAXLEVEL]
        cdef Py_ssize_t rank[ZSKIPLIST_MAXLEVEL]
        cdef ZNode *node = self.header
        cdef PyObject *key = <PyObject *>member
        cdef int i, height
        for i in range(self.height - 1, -1, -1):
            rank[i] = 0 if i == self.height - 1 else rank[i + 1]
            while node.level[i].forward is not NULL and _before(node.level[i].forward, score, key):
                rank[i] += node.level[i].span
                node = node.level[i].forward
            update[i] = node
        height = _random_height()
        if height > self.height:
            for i in range(self.height, height):
                rank[i] = 0
                update[i] = self.header
                update[i].level[i].span = self.length
            self.height = height
        node = _node_new(height, score, key)
        Py_INCREF(member)
        for i in range(height):
            node.level[i].forward = update[i].level[i].forward
            update[i].level[i].forward = node
            node.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
            update[i].level[i].span = rank[0] - rank[i] + 1
        for i in range(height, self.height):
            update[i].level[i].span += 1
        node.backward = NULL if update[0] == self.header else update[0]
        if node.level[0].forward is not NULL:
            node.level[0].forward.backward = node
        else:
            self.tail = node
        self.length += 1
        self.version += 1

    def remove(self, double score, bytes member not None):
        cdef ZNode *update[ZSKIPLIST_MAXLEVEL]
        cdef ZNode *node = self._find(score, <PyObject *>member, update)
        if node is NULL or node.score != score or _member_cmp(node.member, <PyObject *>member) != 0:
            raise ValueError(f"{(score, member)!r} not in list")
        self._take(node, update)

    def move(self, double score, bytes member not None, double new_score):
        """Give a present pair a new score. When the new score keeps the
        node between its neighbours it is changed in place (Redis's
        zslUpdateScore, ZINCRBY's common case); else remove + insert."""
        cdef ZNode *update[ZSKIPLIST_MAXLEVEL]
        cdef PyObject *key = <PyObject *>member
        cdef ZNode *node = self._find(score, key, update)
        if node is NULL or node.score != score or _member_cmp(node.member, key) != 0:
            raise ValueError(f"{(score, member)!r} not in list")
        if (node.backward is NULL or _before(node.backward, new_score, key)) and \
                (node.level[0].forward is NULL
                 or not _before(node.level[0].forward, new_score, key)):
            node.score = new_score
            return
        self._take(node, update)
        self.insert(new_score, member)

    def rank(self, double score, bytes member not None):
        """How many pairs sort before (score, member): its rank if present."""
        return self._rank(score, member)

    cdef Py_ssize_t _rank(self, double score, bytes member) noexcept:
        cdef ZNode *node = self.header
        cdef PyObject *key = <PyObject *>member
        cdef Py_ssize_t traversed = 0
        cdef int i
        for i in range(self.height - 1, -1, -1):
            while node.level[i].forward is not NULL and _before(node.level[i].forward, score, key):
                traversed += node.level[i].span
                node = node.level[i].forward
        return traversed

    def pop_first(self):
        cdef ZNode *update[ZSKIPLIST_MAXLEVEL]
        if not self.length:
            raise IndexError("pop index out of range")
        self._rank_update(0, update)
        return self._take(self.header.level[0].forward, update)

    def pop_last(self):
        cdef ZNode *update[ZSKIPLIST_MAXLEVEL]
        if not self.length:
            raise IndexError("pop index out of range")
        self._rank_update(self.length - 1, update)
        return self._take(self.tail, update)

    # -- ranges -------------------------------------------------------------------
    def by_rank(self, Py_ssize_t start, Py_ssize_t stop, bint reverse=False):
        """Pairs of ranks [start, stop) (clipped to the index), ascending or
        descending. O(log n + (stop - start))."""
        cdef list found = []
        cdef ZNode *node
        cdef Py_ssize_t count
        start = max(start, 0)
        stop = min(stop, self.length)
        count = stop - start
        if count <= 0:
            return found
        if reverse:
            node = self._at(stop - 1)
            while count:
                found.append(_pair(node))
                node = node.backward
                count -= 1
        else:
            node = self._at(start)
            while count:
                found.append(_pair(node))
                node = node.level[0].forward
                count -= 1
        return found

    def delete_ranks(self, Py_ssize_t start, Py_ssize_t stop):
        """Remove the pairs of ranks [start, stop) (slice indices) and
        return them. O(log n + removed)."""
        cdef ZNode *update[ZSKIPLIST_MAXLEVEL]
        cdef ZNode *node
        cdef ZNode *following
        cdef list removed = []
        start, stop, _ = slice(start, stop).indices(self.length)
        if stop <= start:
            return removed
        self._rank_update(start, update)
        node = update[0].level[0].forward
        for _ in range(stop - start):
            following = node.level[0].forward
            removed.append(self._take(node, update))
            node = following
        return removed

    cdef Py_ssize_t _count_below(self, double score, bint inclusive) noexcept:
        """How many pairs have a score < ``score`` (<= when ``inclusive``)."""
        cdef ZNode *node = self.header
        cdef Py_ssize_t traversed = 0
        cdef ZNode *following
        cdef int i
        for i in range(self.height - 1, -1, -1):
            while True:
                following = node.level[i].forward
                if following is NULL or not (following.score < score
                                             or (inclusive and following.score == score)):
                    break
                traversed += node.level[i].span
                node = following
        return traversed

    def score_span(self, double low, bint low_open, double high, bint high_open):
        """(first, end): ranks of the pairs with low <(=) score <(=) high. O(log n)."""
        cdef Py_ssize_t first = self._count_below(low, low_open)
        cdef Py_ssize_t end = self._count_below(high, not high_open)
        return first, max(first, end)

    def lex_rank(self, bytes bound not None, bint after):
        """How many leading pairs have a member below ``bound`` (at most it
        when ``after``), searching by member alone. All scores equal (the
        case Redis defines): one descent, O(log n). Otherwise the pure
        twin's binary search over ranks, O(log² n), for the same answer."""
        cdef ZNode *node = self.header
        cdef ZNode *following
        cdef PyObject *key = <PyObject *>bound
        cdef Py_ssize_t traversed = 0, low, high, middle
        cdef int i, order
        if not self.length:
            return 0
        if self.header.level[0].forward.score == self.tail.score:
            for i in range(self.height - 1, -1, -1):
                while True:
                    following = node.level[i].forward
                    if following is NULL:
                        break
                    order = _member_cmp(following.member, key)
                    if not (order < 0 or (after and order == 0)):
                        break
                    traversed += node.level[i].span
                    node = following
            return traversed
        low, high = 0, self.length
        while low < high:
            middle = (low + high) // 2
            order = _member_cmp(self._at(middle).member, key)
            if order < 0 or (after and order == 0):
                low = middle + 1
            else:
                high = middle
        return low

    def iter_from(self, Py_ssize_t rank, bint reverse=False):
        """Pairs from ``rank`` up to the last (down to the first when
        ``reverse``), lazily; ranks are clipped like the pure twin's slice
        indices. O(log n) to start, O(1) per pair."""
        cdef _ScoreIter walk = _ScoreIter.__new__(_ScoreIter)
        cdef Py_ssize_t first, stop
        walk.index = self
        walk.version = self.version
        walk.reverse = reverse
        if reverse:
            first, stop, _ = slice(0, rank + 1).indices(self.length)
            walk.remaining = max(stop - first, 0)
            walk.node = self._at(stop - 1) if walk.remaining else NULL
        else:
            first, stop, _ = slice(rank, None).indices(self.length)
            walk.remaining = max(stop - first, 0)
            walk.node = self._at(first) if walk.remaining else NULL
        return walk

    # -- invariants ------------------------------------------------------------
    def _check(self):
        """Assert the skip list is well formed: strict (score, member) order
        with no NaN and each member once; backward links and tail; heights;
        at every level in use, links that visit exactly the nodes that tall
        with spans equal to the rank distance they cover. O(n · levels)."""
        cdef ZNode *node
        cdef ZNode *previous = NULL
        cdef Py_ssize_t count = 0, rank_of_here, rank_of_next
        cdef int i, tallest = 1
        ranks = {}   # node address -> 1-based rank (the header is 0)
        members = set()
        assert 1 <= self.height <= ZSKIPLIST_MAXLEVEL, self.height
        node = self.header.level[0].forward
        while node is not NULL:
            count += 1
            ranks[<uintptr_t>node] = count
            member = <object>node.member
            assert member.__class__ is bytes, member
            assert node.score == node.score, "NaN score"
            assert member not in members, member
            members.add(member)
            assert 1 <= node.height <= self.height, (node.height, self.height)
            tallest = max(tallest, node.height)
            assert node.backward == previous, count
            if previous is not NULL:
                assert _before(previous, node.score, node.member), (
                    _pair(previous), _pair(node))
            previous = node
            node = node.level[0].forward
        assert self.tail == previous
        assert count == self.length, (count, self.length)
        assert tallest == self.height, (tallest, self.height)
        ranks[<uintptr_t>self.header] = 0
        for i in range(self.height):
            node = self.header
            while True:
                rank_of_here = ranks[<uintptr_t>node]
                if node.level[i].forward is NULL:
                    assert node.level[i].span == self.length - rank_of_here, (i, rank_of_here)
                    break
                rank_of_next = ranks[<uintptr_t>node.level[i].forward]
                assert node.level[i].span == rank_of_next - rank_of_here, (i, rank_of_here)
                node = node.level[i].forward
        # Each level links exactly the nodes taller than it.
        for i in range(self.height):
            count = 0
            node = self.header.level[i].forward
            while node is not NULL:
                assert node.height > i
                count += 1
                node = node.level[i].forward
            previous = self.header.level[0].forward
            rank_of_here = 0
            while previous is not NULL:
                if previous.height > i:
                    rank_of_here += 1
                previous = previous.level[0].forward
            assert count == rank_of_here, (i, count, rank_of_here)


cdef class _ScoreIter:
    """A lazy walk over a ScoreIndex (see ``ScoreIndex.iter_from``)."""

    cdef ScoreIndex index
    cdef ZNode *node
    cdef Py_ssize_t remaining
    cdef Py_ssize_t version
    cdef bint reverse

    def __iter__(self):
        return self

    def __next__(self):
        cdef ZNode *node = self.node
        if not self.remaining:
            raise StopIteration
        if self.version != self.index.version:
            self.remaining = 0
            raise RuntimeError("ScoreIndex changed during iteration")
        self.remaining -= 1
        self.node = node.backward if self.reverse else node.level[0].forward
        return _pair(node)


include "_client.pxi"
include "_ratelimit.pxi"
