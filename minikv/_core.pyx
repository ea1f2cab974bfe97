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

The module also holds the sorted sets' ``ScoreIndex``, a skip list with
spans (Redis's zskiplist), the compiled twin of ``minikv/_pyzset.py``; it is
described where it is defined, at the end of this file.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.ref cimport Py_DECREF, Py_INCREF, PyObject
from libc.stdint cimport uint64_t, uintptr_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp
from posix.time cimport CLOCK_REALTIME, clock_gettime, timespec

__all__ = ["FastPaths", "Keyspace", "ScoreIndex", "StoreLock", "wall_ms"]


def wall_ms():
    """Milliseconds since the Unix epoch, as ``time.time_ns() // 10**6``
    (the same CLOCK_REALTIME), without the Python-level arithmetic: the
    system clock every TTL check of a real-time store reads."""
    cdef timespec now
    clock_gettime(CLOCK_REALTIME, &now)
    return <long long>now.tv_sec * 1000 + now.tv_nsec // 1000000



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
        return self.expires.get(key)

    # -- writes --------------------------------------------------------
    # The writes below send "new" for an absent key just before adding it:
    # no subscriber can tell (the command holds the store lock), and it keeps
    # the cost to one test while notifications are off.
    def store(self, key, value):
        """Set ``key`` and drop any TTL it had (plain SET). O(1)."""
        self._store(key, value)

    cdef int _store(self, object key, object value) except -1:
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
        return self._delete(key)

    cdef bint _delete(self, object key) except -1:
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
