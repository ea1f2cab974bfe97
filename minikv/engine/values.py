"""The value types a key can hold, and what TYPE / OBJECT ENCODING call them.

Strings are stored as ``bytes`` (the common, immutable case) or as
``bytearray`` once APPEND or SETRANGE has modified them in place — which is
exactly when Redis's encoding becomes "raw", and what makes repeated APPEND
amortised O(1) as in Redis. Every other type is a class of its own that
answers the same three questions, so generic commands (TYPE, OBJECT, COPY,
SCAN TYPE, SORT) need no per-type code:

- ``TYPE_NAME`` — what TYPE replies;
- ``encoding()`` — what OBJECT ENCODING replies (Redis never converts a
  compact encoding back, so types remember when they outgrew it);
- ``duplicate()`` — an independent deep copy, for COPY.

The stream type, ``Stream``, lives with its commands in engine/streams.py:
it emulates Redis's node layout, which its commands' replies depend on.
"""
import random
from collections import deque

from minikv.backend import ScoreIndex
from minikv.engine.errors import CommandError, WRONGTYPE
from minikv.engine.numbers import parse_int

STRING_TYPES = (bytes, bytearray)


class Hash(dict):
    """field (bytes) -> value (bytes). ``hashtable`` mirrors Redis's encoding."""

    __slots__ = ("hashtable",)
    TYPE_NAME = b"hash"

    def __init__(self, *args):
        dict.__init__(self, *args)
        self.hashtable = False

    def encoding(self):
        return b"hashtable" if self.hashtable else b"listpack"

    def duplicate(self):
        copy = Hash(self)
        copy.hashtable = self.hashtable
        return copy


class List(deque):
    """A list: a deque, O(1) at both ends. Redis 7.0 always says "quicklist"."""

    __slots__ = ()
    TYPE_NAME = b"list"

    def encoding(self):
        return b"quicklist"

    def duplicate(self):
        return List(self)


class Set(set):
    """A set of bytes members, with O(1) random picks.

    ``hashtable`` turns True once the set stops qualifying for Redis's
    intset encoding (all members integers and at most
    set-max-intset-entries of them); Redis never converts back, but SPOP's
    "keep the few remaining members" path builds a new set (see sets.py).

    Random access. A Python set cannot pick a random member: ``set.pop()``
    takes an arbitrary one, not a random one, and indexing needs a list.
    So the first random pick (SPOP, SRANDMEMBER) builds ``_pool``, a list
    of the members, O(n) once; from then on the set keeps it up to date in
    O(1) per change:

    - every member is in the pool exactly once;
    - a removed member stays in the pool and is recorded in ``_stale`` (a
      set) until a pick lands on it and swap-removes it; re-adding it just
      forgets that it was stale, so it is never in the pool twice;
    - when more than half the pool is stale the pool is dropped (and
      rebuilt by the next pick), so a pick succeeds with probability >= 1/2.

    A pick is uniform over the live members and costs O(1) expected,
    amortised (the rebuilds are paid for by the removals and additions
    since the previous one). A set nobody picks from costs nothing extra.

    Change membership only through ``add``/``discard``/``update``/
    ``difference_update``/``pop_random`` below; the other in-place set
    operators of the base class would bypass the pool.
    """

    __slots__ = ("hashtable", "_pool", "_stale")
    TYPE_NAME = b"set"

    def __init__(self, *args):
        set.__init__(self, *args)
        self.hashtable = False
        self._pool = None
        self._stale = None

    def encoding(self):
        return b"hashtable" if self.hashtable else b"intset"

    def duplicate(self):
        copy = Set(self)
        copy.hashtable = self.hashtable
        return copy

    # -- membership changes: O(1) per member ------------------------------
    def add(self, member):
        """Add ``member``; True if it was new."""
        if member in self:
            return False
        set.add(self, member)
        pool = self._pool
        if pool is not None:
            stale = self._stale
            if member in stale:
                stale.remove(member)
            else:
                pool.append(member)
        return True

    def discard(self, member):
        """Remove ``member``; True if it was there."""
        if member not in self:
            return False
        set.remove(self, member)
        if self._pool is not None:
            stale = self._stale
            stale.add(member)
            if len(stale) > len(self):
                self._pool = self._stale = None
        return True

    def update(self, members):
        """Add every member; returns how many were new."""
        if self._pool is None:
            size = len(self)
            set.update(self, members)
            return len(self) - size
        return sum(self.add(member) for member in members)

    def difference_update(self, members):
        """Remove every member; returns how many were there."""
        if self._pool is None:
            size = len(self)
            set.difference_update(self, members)
            return size - len(self)
        return sum(self.discard(member) for member in members)

    # -- random picks ------------------------------------------------------
    def _ready_pool(self):
        pool = self._pool
        if pool is None:
            pool = self._pool = list(self)
            self._stale = set()
        return pool

    def _pick(self, remove):
        """A uniformly random live member, swap-removed from the pool (and
        from the set) if ``remove``. Stale entries met on the way are
        dropped. The set must not be empty."""
        pool = self._ready_pool()
        stale = self._stale
        randrange = random.randrange
        while True:
            index = randrange(len(pool))
            member = pool[index]
            live = member not in stale
            if live and not remove:
                return member
            last = pool.pop()
            if index < len(pool):
                pool[index] = last
            if live:
                set.remove(self, member)
                if len(stale) > len(self):
                    self._pool = self._stale = None
                return member
            stale.remove(member)

    def _check(self):
        """Assert the pool's invariants (for tests)."""
        if self._pool is None:
            assert self._stale is None
            return
        stale = self._stale
        assert len(self._pool) == len(set(self._pool)), "a member is in the pool twice"
        assert set(self._pool) == self | stale
        assert stale.isdisjoint(self)
        assert len(stale) <= len(self)

    def random_member(self):
        """One member chosen uniformly. O(1) expected, amortised."""
        return self._pick(False)

    def pop_random(self):
        """Remove and return a member chosen uniformly. O(1) expected, amortised."""
        return self._pick(True)

    def random_choices(self, count):
        """``count`` independent uniform picks (repeats allowed). O(count)."""
        pool = self._ready_pool()
        if not self._stale:
            return random.choices(pool, k=count)
        return [self._pick(False) for _ in range(count)]

    def random_sample(self, count):
        """``count`` distinct members (0 < count < len) in random order.

        As Redis does: when ``count`` is a large part of the set, sample
        from a full copy, O(n) = O(count); otherwise pick until ``count``
        distinct members came up, O(count) expected since each pick is new
        with probability >= 2/3.
        """
        if count * 3 > len(self):
            return random.sample(list(self), count)
        chosen = {}
        while len(chosen) < count:
            chosen[self._pick(False)] = None
        return list(chosen)


class ZSet:
    """A sorted set: ``scores``, a dict member (bytes) -> score (float), for
    O(1) ZSCORE and membership, and ``index``, the backend's ``ScoreIndex``
    of (score, member) pairs in Redis's order (minikv/_pyzset.py describes
    it) for O(log n) rank and range queries. Iterating yields the members in
    that order.

    ``skiplist`` mirrors Redis's encoding: False while the set is what Redis
    keeps as a listpack (at most zset-max-listpack-entries members, none
    longer than zset-max-listpack-value bytes), True once it outgrew that;
    engine/zsets.py decides when, as Redis does. Change members only through
    the methods below, which keep the dict and the index in step.
    """

    __slots__ = ("scores", "index", "skiplist")
    TYPE_NAME = b"zset"

    def __init__(self, skiplist=False):
        self.scores = {}
        self.index = ScoreIndex()
        self.skiplist = skiplist

    def __len__(self):
        return len(self.scores)

    def __iter__(self):
        return (member for _, member in self.index)

    def encoding(self):
        return b"skiplist" if self.skiplist else b"listpack"

    def duplicate(self):
        copy = ZSet(self.skiplist)
        copy.scores = dict(self.scores)
        copy.index = ScoreIndex(self.index)
        return copy

    # -- changes: O(log n) each -----------------------------------------
    def add(self, member, score):
        """Add a member that is not in the set."""
        self.scores[member] = score
        self.index.insert(score, member)

    def rescore(self, member, score):
        """Give a member of the set a new score."""
        scores = self.scores
        self.index.move(scores[member], member, score)
        scores[member] = score

    def discard(self, member):
        """Remove ``member``; True if it was there."""
        score = self.scores.pop(member, None)
        if score is None:
            return False
        self.index.remove(score, member)
        return True

    def pop_first(self):
        """Remove and return the (member, score) of the lowest rank."""
        score, member = self.index.pop_first()
        del self.scores[member]
        return member, score

    def pop_last(self):
        """Remove and return the (member, score) of the highest rank."""
        score, member = self.index.pop_last()
        del self.scores[member]
        return member, score

    def delete_ranks(self, start, stop):
        """Remove the members of ranks [start, stop); returns how many."""
        scores = self.scores
        removed = self.index.delete_ranks(start, stop)
        for _, member in removed:
            del scores[member]
        return len(removed)

def type_name(value):
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return b"string"
    return cls.TYPE_NAME


def encoding_name(value):
    """What OBJECT ENCODING says for a value."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return string_encoding(value)
    return value.encoding()


def copy_value(value):
    """An independent duplicate of a value, as COPY makes it. O(size).

    ``bytes`` are immutable, so the object itself serves as its copy; a
    ``bytearray`` stays a bytearray (Redis keeps the "raw" encoding).
    """
    cls = value.__class__
    if cls is bytes:
        return value
    if cls is bytearray:
        return bytearray(value)
    return value.duplicate()


def string_encoding(value):
    """Redis's choice for a string: int, embstr (<= 44 bytes) or raw."""
    if value.__class__ is bytearray:
        return b"raw"
    if len(value) <= 20 and parse_int(value) is not None:
        return b"int"
    return b"embstr" if len(value) <= 44 else b"raw"


def wrong_type():
    return CommandError(WRONGTYPE)


def typed_lookups(cls):
    """The two lookups of the commands of one type, for values of class
    ``cls``: ``(read, for_write)``. Each is ``(ks, key) -> value``, None if
    the key is missing, WRONGTYPE if it holds another type. ``read`` is for
    read commands and counts a keyspace hit or miss (``lookup_read``);
    ``for_write`` does not (``lookup``).

    Made per type rather than one function taking the class: they run in
    every command of the type, and a closure costs what a plain function
    does. (Strings have their own: two classes, and reads convert.)
    """
    def read(ks, key):
        value = ks.lookup_read(key)
        if value is None or value.__class__ is cls:
            return value
        raise wrong_type()

    def for_write(ks, key):
        value = ks.lookup(key)
        if value is None or value.__class__ is cls:
            return value
        raise wrong_type()

    return read, for_write
