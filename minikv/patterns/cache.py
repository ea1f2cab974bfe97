"""A cache on an embedded minikv or a real Redis: TTLs, tags, single-flight.

Keys. A cache owns every key that starts with ``<namespace>:`` or
``<namespace>|``:

- ``<ns>:<key>``        an entry: a string, the serialized value, with the
                        entry's TTL as the key's TTL;
- ``<ns>|meta:<key>``   a hash beside an entry set with tags or with a
                        compute time: field ``d`` (XFetch's delta, ms) and
                        one field ``t:<tag set key>`` per tag; same TTL;
- ``<ns>|tag:<tag>``    a set: the entry keys set with that tag;
- ``<ns>|lease:<key>``, ``<ns>|waiters:<key>``, ``<ns>|wake:<key>``: the
                        short-lived single-flight coordination of one key.

So namespaces must not nest: with caches ``app`` and ``app:x`` on one
database, ``app``'s ``clear()`` takes ``app:x``'s keys too.

Operations, each one round trip on a real Redis (one command, or one Lua
script through ``AtomicStep``) and the same step natively on minikv:

- ``get`` is a single GET, then the serializer. On the embedded engine that
  is the client's compiled GET fast path and a one-byte type test: the hit
  path holds no lock of its own (the statistics counters are lock-free, see
  ``_Counter``). ``get_many`` is one MGET.
- ``set`` without tags is a single SET (PX for a TTL). With tags it is a
  step: SET, the meta hash, and SADD to each tag set — O(tags).
- ``invalidate_tag`` is one step: SMEMBERS of the tag set, DEL of each
  member and its meta hash — O(entries set with that tag), never a walk of
  the keyspace. A tag set lives as long as its longest-lived entry (its TTL
  is raised on each SADD and by ``touch``), and each SADD checks two random
  members and drops those whose entry is gone, so tag sets of expiring
  entries neither leak nor grow without bound. An entry re-set without a
  tag stays in that tag's set until then: invalidating the tag drops it
  too — a spurious miss, never a stale hit.
- ``clear`` walks the namespace with ``SCAN MATCH <ns>[:|]*`` and UNLINKs
  what it finds, page by page: O(keys in the database) in total, in pages
  of 1000, several round trips but never blocking the server for long; no
  per-entry index is kept (that would cost every set a write and could
  drift). Entries set while it runs may survive it. Single-flight leases in
  progress are left alone.

Single-flight (``get_or_set``, ``cached``). Threads of one ``Cache`` that
miss the same key meet in-process first: one becomes the leader, the others
wait on a ``threading.Event`` and get its result or its exception (tasks of
one event loop do the same on an ``asyncio.Event``). Across
clients (other processes, other ``Cache`` objects) the leader holds a lease,
``SET <ns>|lease:<key> <token> NX PX <lease>``, taken in the same step that
finds the entry missing. A client that finds the lease taken registers as a
waiter (INCR of ``<ns>|waiters:<key>``, same step) and blocks in BLPOP on
``<ns>|wake:<key>`` — no polling. The leader stores the value, releases the
lease and pushes one wake-up per registered waiter, in one step; if its
function raises, it releases the lease and wakes the waiters all the same,
and they retry (one of them takes the lease). A waiter's BLPOP times out
when the lease would expire, so a leader that died is replaced after at
most ``lease`` seconds: nobody waits forever.

XFetch (``beta > 0``): the entry's compute time (delta) is stored in its
meta hash; a hit with ``remaining TTL <= -delta * beta * ln(random())``
recomputes early (Vattani et al., "Optimal Probabilistic Cache Stampede
Prevention", 2015) if it can take the lease without waiting, and otherwise
serves the cached value. ``random`` is injectable for deterministic tests.

Bounded size (embedded only): ``Cache(max_bytes=..., eviction="lru")``
creates its private store with ``maxmemory`` and ``allkeys-lru`` (or
``allkeys-lfu``): the engine evicts as Redis would (engine/eviction.py),
and ``stats().evictions`` reports its count. Every key of the cache is
evictable, the meta hashes and tag sets too: an evicted entry is a miss,
but ``invalidate_tag`` cannot reach an entry whose tag set was evicted —
use an unbounded store where tag invalidation must be exact. A cache given
a client uses that store's limits as they are: on a shared store under an
``allkeys-*`` policy its entries are evicted along with everything else.

asyncio. ``AsyncCache`` is ``Cache`` over an asyncio client
(``minikv.asyncio.Redis`` or ``redis.asyncio.Redis``): the same
constructor, methods and keys, every store access awaited, the
single-flight wait a BLPOP awaited on the loop. Both classes are shells
over ``_CacheCore``, which holds each operation's logic once: the requests
and reply decoding of the single-round-trip operations, and the flows of
the others (coroutines over an I/O adapter, patterns/_io.py). A ``Cache``
and an ``AsyncCache`` on one store share entries, tags and leases.
"""
import functools
import hashlib
import inspect
import itertools
import json
import logging
import math
import pickle
import random as _random
import secrets
import threading
import time
from enum import Enum
from typing import NamedTuple

from minikv.patterns._atomic import AtomicStep
from minikv.patterns._io import (AsyncIO, BlockingIO, ThreadedWaitIO, check_client_kind,
                                new_embedded_client, run_inline)

__all__ = ["AsyncCache", "Cache", "CacheInfo", "CacheStats", "JsonSerializer",
           "PickleSerializer"]

log = logging.getLogger(__name__)

# How many keys a ``clear`` asks SCAN for per round trip.
CLEAR_PAGE = 1000


# -- serializers --------------------------------------------------------------
class JsonSerializer:
    """The default: bytes and str as they are, everything else as JSON.

    What is stored, by the value's type:

    - ``bytes`` (and ``bytearray``/``memoryview``): the byte ``0x01`` then
      the bytes unchanged; read back as ``bytes``;
    - ``str``: the byte ``0x02`` then its UTF-8 encoding; read back as the
      same ``str``;
    - anything else: compact JSON text, read back with ``json.loads``
      (so tuples come back as lists and dict keys as strings). An ``int``
      is stored as its decimal text, which is what lets ``Cache.incr`` use
      INCRBY on it.

    JSON text never starts with 0x01 or 0x02, so the three kinds cannot be
    mistaken for one another, and bytes never go through an encoding.
    """

    __slots__ = ()

    def dumps(self, value):
        cls = value.__class__
        if cls is bytes:
            return b"\x01" + value
        if cls is str:
            return b"\x02" + value.encode()
        if isinstance(value, (bytes, bytearray, memoryview)):
            return b"\x01" + bytes(value)
        if isinstance(value, str):
            return b"\x02" + str(value).encode()
        return json.dumps(value, separators=(",", ":")).encode()

    def loads(self, data):
        if data:
            kind = data[0]
            if kind == 1:
                return data[1:]
            if kind == 2:
                return data[1:].decode()
        return json.loads(data)


class PickleSerializer:
    """Any picklable value — only for a store nobody else can write.

    Warning: unpickling runs code chosen by whoever wrote the bytes. With
    this serializer, anyone able to write a key in the cache's namespace
    (another client of the same Redis, a compromised service sharing it)
    can execute arbitrary code in every process that reads the cache. That
    is why it is never the default: choose it explicitly, and only for a
    store you fully control.

    Integers are stored as their decimal text (not pickled) so that
    ``Cache.incr`` works; everything else is pickled with the highest
    protocol, whose output always starts with the byte 0x80.
    """

    __slots__ = ()

    def dumps(self, value):
        if value.__class__ is int:
            return str(value).encode()
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    def loads(self, data):
        if data[:1] == b"\x80":
            return pickle.loads(data)
        return int(data)


def _serializer(choice):
    if choice is None or choice == "json":
        return JsonSerializer()
    if choice == "pickle":
        return PickleSerializer()
    if callable(getattr(choice, "dumps", None)) and callable(getattr(choice, "loads", None)):
        return choice
    raise TypeError("serializer is 'json', 'pickle' or an object with dumps() and loads()")


# -- small helpers ---------------------------------------------------------------
class _Counter:
    """An exact event count that threads bump without taking a lock.

    ``bump`` is ``itertools.count().__next__``: one C call, which the GIL
    makes atomic, so concurrent bumps are never lost (``n += 1`` on an
    attribute can lose them). Reading is a ``next`` as well, so ``value``
    subtracts the reads made so far; readers serialize on a lock, bumpers
    never touch it.
    """

    __slots__ = ("bump", "_reads", "_lock")

    def __init__(self):
        self.bump = itertools.count().__next__
        self._reads = 0
        self._lock = threading.Lock()

    def value(self):
        with self._lock:
            seen = self.bump() - self._reads
            self._reads += 1
            return seen


class _Flight:
    """One in-process computation of a key that other callers wait for:
    ``done`` is a ``threading.Event`` for threads, an ``asyncio.Event`` for
    the tasks of one event loop (see patterns/_io.py)."""

    __slots__ = ("done", "data", "error", "abandoned")

    def __init__(self, done):
        self.done = done
        self.data = None  # what the leader stored (bytes): each caller loads its own value
        self.error = None
        self.abandoned = False  # the leader was cancelled or interrupted: retry


class CacheStats(NamedTuple):
    """``Cache.stats()``: this ``Cache`` object's own counts (hits and misses
    of ``get``/``get_many``/``get_or_set``/cached calls, entries it stored),
    and the evictions of its private store (None when it shares a store or
    talks to a Redis server: those count other keys too)."""
    hits: int
    misses: int
    sets: int
    evictions: "int | None"


class CacheInfo(NamedTuple):
    """A cached function's ``cache_info()``: calls served from the cache,
    calls that missed it, and how many of those ran the function here (the
    others got a value computed by another thread or client)."""
    hits: int
    misses: int
    computations: int


def _key_bytes(key):
    cls = key.__class__
    if cls is str:
        return key.encode()
    if cls is bytes:
        return key
    if isinstance(key, str):
        return str(key).encode()
    if isinstance(key, (bytes, bytearray, memoryview)):
        return bytes(key)
    raise TypeError(f"cache keys are str or bytes, not {cls.__name__}")


def _milliseconds(seconds, name):
    if seconds.__class__ is bool or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name} is a number of seconds, not {seconds.__class__.__name__}")
    if not seconds > 0 or seconds == math.inf:
        raise ValueError(f"{name} must be a positive, finite number of seconds")
    ms = round(seconds * 1000)
    if ms < 1:
        raise ValueError(f"{name} must be at least 0.001 seconds")
    return ms


def _glob_escape(data):
    """``data`` matched literally by a Redis glob pattern."""
    out = bytearray()
    for byte in data:
        if byte in b"*?[]\\":
            out.append(92)
        out.append(byte)
    return bytes(out)


def _stable_text(value):
    """A text that is the same for equal arguments in every process and on
    every Python version — what a cached function's default key hashes."""
    cls = value.__class__
    if value is None or cls is bool:
        return repr(value)
    if cls is int:
        return str(value)
    if cls is float:
        return "f" + repr(value)
    if cls is str:
        return json.dumps(value)  # ASCII escapes: independent of the Unicode tables
    if cls is bytes:
        return "b" + value.hex()
    if cls is tuple:
        return "(" + ",".join(map(_stable_text, value)) + ")"
    if cls is list:
        return "[" + ",".join(map(_stable_text, value)) + "]"
    if cls is dict:
        items = sorted(_stable_text(k) + ":" + _stable_text(v) for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if cls is set or cls is frozenset:
        return "set{" + ",".join(sorted(map(_stable_text, value))) + "}"
    if isinstance(value, Enum):
        return f"{cls.__module__}.{cls.__qualname__}.{value.name}"
    raise TypeError(f"no stable cache key for a {cls.__name__} argument: "
                    f"pass key= to cached() to build the key yourself")


# -- the atomic steps (Lua on a Redis server, Python on minikv) ---------------
# Shared Lua: tag set lifetimes, writing an entry with its meta hash, and
# releasing a lease. ``life`` is the tag set's PTTL before the write.
_LUA_PRELUDE = """
local function outlive(key, ttl, life)
  if ttl == 0 then
    if life >= 0 then redis.call('PERSIST', key) end
  elseif life == -2 or (life >= 0 and life < ttl) then
    redis.call('PEXPIRE', key, ttl)
  end
end

local function write_entry(entry, meta, value, ttl, delta, tags)
  if ttl > 0 then
    redis.call('SET', entry, value, 'PX', ttl)
  else
    redis.call('SET', entry, value)
  end
  redis.call('DEL', meta)
  if tonumber(delta) < 0 and #tags == 0 then return end
  local fields = {}
  if tonumber(delta) >= 0 then fields[1] = 'd'; fields[2] = delta end
  for _, tag in ipairs(tags) do
    local life = redis.call('PTTL', tag)
    redis.call('SADD', tag, entry)
    outlive(tag, ttl, life)
    for _, member in ipairs(redis.call('SRANDMEMBER', tag, 2)) do
      if redis.call('EXISTS', member) == 0 then redis.call('SREM', tag, member) end
    end
    fields[#fields + 1] = 't:' .. tag
    fields[#fields + 1] = '1'
  end
  redis.call('HSET', meta, unpack(fields))
  if ttl > 0 then redis.call('PEXPIRE', meta, ttl) end
end

local function release(lease, waiters, wake, token, lease_ms)
  if redis.call('GET', lease) == token then redis.call('DEL', lease) end
  local count = tonumber(redis.call('GET', waiters) or 0)
  redis.call('DEL', waiters)
  for _ = 1, count do redis.call('RPUSH', wake, '1') end
  if count > 0 then redis.call('PEXPIRE', wake, lease_ms) end
end
"""


def _outlive(call, key, ttl, life):
    if ttl == 0:
        if life >= 0:
            call("PERSIST", key)
    elif life == -2 or 0 <= life < ttl:
        call("PEXPIRE", key, ttl)


def _write_entry(call, entry, meta, value, ttl, delta, tags):
    if ttl > 0:
        call("SET", entry, value, "PX", ttl)
    else:
        call("SET", entry, value)
    call("DEL", meta)
    if delta < 0 and not tags:
        return
    fields = ["d", delta] if delta >= 0 else []
    for tag in tags:
        life = call("PTTL", tag)
        call("SADD", tag, entry)
        _outlive(call, tag, ttl, life)
        for member in call("SRANDMEMBER", tag, 2):
            if not call("EXISTS", member):
                call("SREM", tag, member)
        fields += [b"t:" + tag, "1"]
    call("HSET", meta, *fields)
    if ttl > 0:
        call("PEXPIRE", meta, ttl)


def _release(call, lease, waiters, wake, token, lease_ms):
    if call("GET", lease) == token:
        call("DEL", lease)
    count = int(call("GET", waiters) or 0)
    call("DEL", waiters)
    for _ in range(count):
        call("RPUSH", wake, "1")
    if count > 0:
        call("PEXPIRE", wake, lease_ms)


# STORE: n entries with one TTL, delta and tag list; then, with a lease,
# release it and wake its waiters (the end of a single-flight computation).
# KEYS: entry_1, meta_1, ..., entry_n, meta_n, tag sets..., [lease, waiters, wake]
# ARGV: n, ttl_ms (0 = none), delta_ms (-1 = none), lease_ms (0 = no lease), token,
#       value_1, ..., value_n
def _store_native(context, keys, args):
    call = context.call
    count, ttl, delta, lease_ms, token = args[:5]
    tag_end = len(keys) - 3 if lease_ms > 0 else len(keys)
    tags = keys[2 * count:tag_end]
    for i in range(count):
        _write_entry(call, keys[2 * i], keys[2 * i + 1], args[5 + i], ttl, delta, tags)
    if lease_ms > 0:
        _release(call, *keys[tag_end:], token, lease_ms)
    return count


_STORE = AtomicStep(_LUA_PRELUDE + """
local n, ttl, lease_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
local tag_end = #KEYS
if lease_ms > 0 then tag_end = tag_end - 3 end
local tags = {}
for i = 2 * n + 1, tag_end do tags[#tags + 1] = KEYS[i] end
for i = 1, n do
  write_entry(KEYS[2 * i - 1], KEYS[2 * i], ARGV[5 + i], ttl, ARGV[3], tags)
end
if lease_ms > 0 then
  release(KEYS[tag_end + 1], KEYS[tag_end + 2], KEYS[tag_end + 3], ARGV[5], lease_ms)
end
return n
""", _store_native)


# CLAIM: the entry if it is there ({0, value}); else the lease if free ({1});
# else register as a waiter ({2, lease's remaining ms}).
# KEYS: entry, lease, waiters   ARGV: token, lease_ms
def _claim_native(context, keys, args):
    call = context.call
    entry, lease, waiters = keys
    token, lease_ms = args
    value = call("GET", entry)
    if value is not None:
        return [0, value]
    if call("SET", lease, token, "NX", "PX", lease_ms) is not None:
        return [1]
    call("INCR", waiters)
    call("PEXPIRE", waiters, lease_ms)
    return [2, call("PTTL", lease)]


_CLAIM = AtomicStep("""
local value = redis.call('GET', KEYS[1])
if value then return {0, value} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {2, redis.call('PTTL', KEYS[2])}
""", _claim_native)


# RELEASE: give up a lease (the computation failed) and wake its waiters.
# KEYS: lease, waiters, wake   ARGV: token, lease_ms
def _release_native(context, keys, args):
    _release(context.call, *keys, *args)
    return 1


_RELEASE = AtomicStep(_LUA_PRELUDE + """
release(KEYS[1], KEYS[2], KEYS[3], ARGV[1], tonumber(ARGV[2]))
return 1
""", _release_native)


# READ: {value, PTTL, delta} for XFetch.   KEYS: entry, meta
def _read_native(context, keys, args):
    call = context.call
    entry, meta = keys
    return [call("GET", entry), call("PTTL", entry), call("HGET", meta, "d")]


_READ = AtomicStep("""
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]),
        redis.call('HGET', KEYS[2], 'd')}
""", _read_native)


# DELETE: the entry and its meta hash; 1 if the entry existed.  KEYS: entry, meta
def _delete_native(context, keys, args):
    removed = context.call("DEL", keys[0])
    context.call("DEL", keys[1])
    return removed


_DELETE = AtomicStep("""
local removed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
return removed
""", _delete_native)


# TOUCH: a new TTL (0 = none) for an entry, its meta hash, and its tag sets
# where they would otherwise die first; 0 if there is no entry.
# KEYS: entry, meta   ARGV: ttl_ms
def _touch_native(context, keys, args):
    call = context.call
    entry, meta = keys
    ttl = args[0]
    if not call("EXISTS", entry):
        return 0
    if ttl > 0:
        call("PEXPIRE", entry, ttl)
        call("PEXPIRE", meta, ttl)
    else:
        call("PERSIST", entry)
        call("PERSIST", meta)
    for field in call("HKEYS", meta):
        if field[:2] == b"t:":
            tag = field[2:]
            life = call("PTTL", tag)
            if life != -2:
                _outlive(call, tag, ttl, life)
    return 1


_TOUCH = AtomicStep(_LUA_PRELUDE + """
local ttl = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
else
  redis.call('PERSIST', KEYS[1])
  redis.call('PERSIST', KEYS[2])
end
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(field, 1, 2) == 't:' then
    local tag = string.sub(field, 3)
    local life = redis.call('PTTL', tag)
    if life ~= -2 then outlive(tag, ttl, life) end
  end
end
return 1
""", _touch_native)


# INCR with a TTL for a counter that has none yet.  KEYS: entry  ARGV: delta, ttl_ms
def _incr_native(context, keys, args):
    call = context.call
    value = call("INCRBY", keys[0], args[0])
    if call("PTTL", keys[0]) == -1:
        call("PEXPIRE", keys[0], args[1])
    return value


_INCR = AtomicStep("""
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
""", _incr_native)


# INVALIDATE: every entry of a tag set (and its meta hash), then the set;
# how many entries were there.  KEYS: tag set  ARGV: len(entry prefix), meta prefix
def _invalidate_native(context, keys, args):
    call = context.call
    skip, meta_prefix = args
    members = call("SMEMBERS", keys[0])
    call("DEL", keys[0])
    removed = 0
    for entry in members:
        removed += call("DEL", entry)
        call("DEL", meta_prefix + entry[skip:])
    return removed


_INVALIDATE = AtomicStep("""
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
local skip = tonumber(ARGV[1])
local removed = 0
for _, entry in ipairs(members) do
  removed = removed + redis.call('DEL', entry)
  redis.call('DEL', ARGV[2] .. string.sub(entry, skip + 1))
end
return removed
""", _invalidate_native)


# -- what Cache and AsyncCache share ---------------------------------------------
class _CacheCore:
    """What ``Cache`` and ``AsyncCache`` share: options, key layout,
    counters, and every operation's logic.

    A single-round-trip operation is split in what it sends (``_*_request``,
    ``_prepare_set``: keys, arguments, checks — all before any I/O) and
    what its reply means (``_entry_value``, ``_found``...); each class's
    method is the shell between them: one client call or one step, plain
    in ``Cache``, awaited in ``AsyncCache``. An operation of several round
    trips or with waits (``clear``, ``get_or_set``'s single-flight) is one
    *flow*: a coroutine over an I/O adapter (patterns/_io.py), which
    ``Cache`` runs inline over its sync client (and over ``ThreadedWaitIO``
    for cached coroutine functions) and ``AsyncCache`` awaits."""

    def __init__(self, client=None, *, namespace="cache", ttl=None, serializer=None,
                 max_bytes=None, eviction="lru", lease=10.0, random=None):
        if not isinstance(namespace, str) or not namespace:
            raise ValueError("namespace must be a non-empty str")
        if eviction not in ("lru", "lfu"):
            raise ValueError("eviction is 'lru' or 'lfu'")
        self._default_ttl_ms = 0 if ttl is None else _milliseconds(ttl, "ttl")
        self._lease_ms = _milliseconds(lease, "lease")
        self._serializer = _serializer(serializer)
        self._loads = self._serializer.loads
        self._dumps = self._serializer.dumps
        self._random = _random.random if random is None else random
        if client is None:
            if max_bytes is None:
                client = new_embedded_client(self._async_client)
            else:
                client = new_embedded_client(self._async_client, maxmemory=max_bytes,
                                             maxmemory_policy=f"allkeys-{eviction}")
            self._owns_client = True
        else:
            if max_bytes is not None:
                raise ValueError("max_bytes bounds the cache's own private store; to bound a "
                                 "client you pass, create it with minikv.Redis(maxmemory=..., "
                                 "maxmemory_policy=...) or CONFIG SET")
            check_client_kind(client, self._async_client, type(self).__name__,
                              "Cache" if self._async_client else "AsyncCache")
            if client.get_encoder().decode_responses:
                raise ValueError("the cache needs a client without decode_responses: "
                                 "values are bytes")
            self._owns_client = False
        self.client = client
        self.namespace = namespace
        space = namespace.encode()
        self._entry_prefix = space + b":"
        self._meta_prefix = space + b"|meta:"
        self._tag_prefix = space + b"|tag:"
        self._lease_prefix = space + b"|lease:"
        self._waiters_prefix = space + b"|waiters:"
        self._wake_prefix = space + b"|wake:"
        self._clear_pattern = _glob_escape(space) + b"[:|]*"
        self._hits = _Counter()
        self._misses = _Counter()
        self._sets = _Counter()
        self._count_hit = self._hits.bump
        self._count_miss = self._misses.bump
        # In-process single-flight: key bytes (threads) or (loop, key bytes)
        # (tasks of one loop) -> _Flight. ``setdefault`` picks one leader.
        self._flights = {}
        self._bind(client)

    def __repr__(self):
        return f"<{type(self).__name__} namespace={self.namespace!r} client={self.client!r}>"

    # -- requests: what a single-round-trip operation sends ---------------------------
    def _ttl_ms(self, ttl):
        return self._default_ttl_ms if ttl is None else _milliseconds(ttl, "ttl")

    def _tag_keys(self, tags):
        if isinstance(tags, (str, bytes)):
            raise TypeError("tags is a collection of tags, not one tag")
        prefix = self._tag_prefix
        return list(dict.fromkeys(prefix + _key_bytes(tag) for tag in tags))

    def _entry(self, key):
        return self._entry_prefix + _key_bytes(key)

    def _entry_and_meta(self, key):
        k = _key_bytes(key)
        return self._entry_prefix + k, self._meta_prefix + k

    def _prepare_set(self, key, value, ttl, tags):
        """(key bytes, data, ttl ms, tag set keys) of a ``set``: every
        argument checked before anything is sent."""
        k = _key_bytes(key)
        ttl_ms = self._ttl_ms(ttl)
        tag_keys = self._tag_keys(tags)
        return k, self._dumps(value), ttl_ms, tag_keys

    def _items(self, mapping):
        return [(_key_bytes(key), self._dumps(value)) for key, value in mapping.items()]

    def _store_request(self, items, ttl_ms, tag_keys, delta_ms=-1, token=None):
        """KEYS and ARGV of a STORE step: ``items`` are (key bytes, data);
        with a lease ``token``, the step also releases it and wakes its
        waiters. (The caller counts the sets once the step ran.)"""
        keys = []
        for k, _ in items:
            keys += [self._entry_prefix + k, self._meta_prefix + k]
        keys += tag_keys
        lease_ms = 0
        if token is not None:
            k = items[0][0]
            keys += [self._lease_prefix + k, self._waiters_prefix + k, self._wake_prefix + k]
            lease_ms = self._lease_ms
        args = [len(items), ttl_ms, delta_ms, lease_ms, token or b""]
        args += [data for _, data in items]
        return keys, args

    def _count_sets(self, count):
        for _ in range(count):
            self._sets.bump()

    def _incr_request(self, key, delta, ttl):
        """(entry, ttl ms) of an ``incr``."""
        if delta.__class__ is not int:
            raise TypeError(f"delta is an int, not {delta.__class__.__name__}")
        return self._entry(key), self._ttl_ms(ttl)

    def _invalidate_request(self, tag):
        return (self._tag_prefix + _key_bytes(tag),), (len(self._entry_prefix), self._meta_prefix)

    # -- replies ----------------------------------------------------------------------
    def _entry_value(self, data, default):
        """A GET's reply as ``get`` returns it, counted as a hit or a miss."""
        if data is None:
            self._count_miss()
            return default
        self._count_hit()
        return self._loads(data)

    def _found(self, keys, replies):
        """An MGET's replies as ``get_many`` returns them."""
        found = {}
        for key, data in zip(keys, replies):
            if data is None:
                self._count_miss()
            else:
                self._count_hit()
                found[key] = self._loads(data)
        return found

    def _stats(self, info):
        """``stats()``, given INFO stats of a private store (None otherwise)."""
        evictions = None if info is None else info["evicted_keys"]
        return CacheStats(self._hits.value(), self._misses.value(), self._sets.value(),
                          evictions)

    def _hit(self, data, info):
        """A ``get_or_set``/cached call served from the cache."""
        self._count_hit()
        if info is not None:
            info.hits.bump()
        return self._loads(data)

    def _draw_early(self, left_ms, delta, beta):
        """XFetch: recompute a hit early? (delta: the stored compute time)."""
        if delta is None or left_ms <= 0:
            return False
        draw = self._random()
        gap = -int(delta) * beta * math.log(draw) if draw > 0 else math.inf
        return gap >= left_ms

    # -- flows: several round trips, or waiting -----------------------------------------
    async def _clear(self, io):
        entry_prefix = self._entry_prefix
        in_flight = (self._lease_prefix, self._waiters_prefix, self._wake_prefix)
        removed = 0
        cursor = 0
        while True:
            cursor, keys = await io.command("scan", cursor, match=self._clear_pattern,
                                            count=CLEAR_PAGE)
            entries = [key for key in keys if key.startswith(entry_prefix)]
            others = [key for key in keys
                      if not key.startswith(entry_prefix) and not key.startswith(in_flight)]
            if entries:
                removed += await io.command("unlink", *entries)
            if others:
                await io.command("unlink", *others)
            if not cursor:
                return removed

    # -- single-flight: flows over the adapter they are given ---------------------------
    async def _lookup(self, io, k, fn, ttl_ms, tag_keys, beta, info):
        """``get_or_set``: the entry, or ``fn()``'s result stored."""
        if beta:
            data, left_ms, delta = await io.step(
                _READ, (self._entry_prefix + k, self._meta_prefix + k), ())
        else:
            data = await io.command("get", self._entry_prefix + k)
        if data is None:
            return await self._miss(io, k, fn, ttl_ms, tag_keys, beta > 0, info)
        value = self._hit(data, info)
        if beta and self._draw_early(left_ms, delta, beta):
            value = await self._refresh_early(io, k, fn, value, ttl_ms, tag_keys, info)
        return value

    async def _miss(self, io, k, fn, ttl_ms, tag_keys, keep_delta, info):
        self._count_miss()
        if info is not None:
            info.misses.bump()
        data = await self._single_flight(
            io, k, lambda: self._fill_shared(io, k, fn, ttl_ms, tag_keys, keep_delta, info))
        return self._loads(data)  # a value of its own for each caller

    async def _single_flight(self, io, k, lead):
        """Coalesce with this process's other callers of ``k`` (threads, or
        tasks of this event loop): one runs ``lead()``, the others wait for
        its data or its exception, and retry if it was cancelled."""
        flights = self._flights
        key = io.flight_key(k)
        while True:
            flight = flights.get(key)
            if flight is None:
                mine = _Flight(io.event())
                flight = flights.setdefault(key, mine)  # atomic: one leader
                if flight is mine:
                    break
            await io.wait(flight.done)
            if flight.error is not None:
                raise flight.error
            if not flight.abandoned:
                return flight.data
        try:
            flight.data = await lead()
            return flight.data
        except Exception as exc:
            flight.error = exc
            raise
        except BaseException:
            flight.abandoned = True
            raise
        finally:
            del flights[key]
            flight.done.set()

    async def _fill_shared(self, io, k, fn, ttl_ms, tag_keys, keep_delta, info):
        """The stored data (bytes): found, computed here, or computed by the
        lease holder this call waited for."""
        token = _token()
        claim = (self._entry_prefix + k, self._lease_prefix + k, self._waiters_prefix + k)
        while True:
            reply = await io.step(_CLAIM, claim, (token, self._lease_ms))
            if reply[0] == 0:
                return reply[1]
            if reply[0] == 1:
                return await self._compute(io, k, fn, token, ttl_ms, tag_keys, keep_delta,
                                           info)
            # BLPOP ends at a wake-up pushed by the lease holder, or when the
            # lease expires (then claim again: takeover).
            await io.blocking("blpop", [self._wake_prefix + k],
                              timeout=max(reply[1], 1) / 1000)

    async def _compute(self, io, k, fn, token, ttl_ms, tag_keys, keep_delta, info):
        """Run ``fn`` holding the lease; store, release and wake, or on an
        error (or a cancellation) release and wake — the waiters retry —
        and re-raise."""
        try:
            if info is not None:
                info.computations.bump()
            started = time.perf_counter()
            value = await io.call(fn)
            data = self._dumps(value)
        except BaseException:
            keys = (self._lease_prefix + k, self._waiters_prefix + k, self._wake_prefix + k)
            await io.step(_RELEASE, keys, (token, self._lease_ms))
            raise
        delta_ms = round((time.perf_counter() - started) * 1000) if keep_delta else -1
        store = self._store_request([(k, data)], ttl_ms, tag_keys, delta_ms, token)
        await io.step(_STORE, *store)
        self._count_sets(1)
        return data

    async def _refresh_early(self, io, k, fn, cached_value, ttl_ms, tag_keys, info):
        """XFetch drew an early recomputation: do it if nobody else is."""
        token = _token()
        if not await io.command("set", self._lease_prefix + k, token, nx=True,
                                px=self._lease_ms):
            return cached_value
        try:
            return self._loads(await self._compute(io, k, fn, token, ttl_ms, tag_keys, True,
                                                   info))
        except Exception:
            # The cached value is still valid: a failed early refresh must
            # not turn a hit into an error.
            log.warning("early recomputation of %r failed; serving the cached value",
                        k, exc_info=True)
            return cached_value

    # -- the decorator ------------------------------------------------------------------
    def _decorator(self, ttl, key, tags, beta):
        """``cached``'s arguments checked once; the decorator."""
        if callable(ttl) and key is None:
            return self._decorator(None, None, tags, beta)(ttl)
        options = (self._ttl_ms(ttl), self._tag_keys(tags), _check_beta(beta))

        def decorate(func):
            return _cached_function(self, func, key, options)
        return decorate


# -- the cache --------------------------------------------------------------------
class Cache(_CacheCore):
    """A cache in a minikv store or a Redis server (see the module docstring).

    >>> cache = Cache()
    >>> cache.set("greeting", "hello", ttl=60)
    >>> cache.get("greeting")
    'hello'
    >>> cache.set("user:1", {"name": "Ada"}, tags=["users"])
    >>> cache.get_or_set("user:2", lambda: {"name": "Grace"}, tags=["users"])
    {'name': 'Grace'}
    >>> cache.invalidate_tag("users")
    2
    >>> cache.get("user:1") is None
    True
    >>> @cache.cached(ttl=300)
    ... def square(n):
    ...     return n * n
    >>> square(12), square(12), square.cache_info()
    (144, 144, CacheInfo(hits=1, misses=1, computations=1))
    >>> cache.close()

    ``client`` is a ``minikv.Redis`` or a ``redis.Redis`` (without
    ``decode_responses``); by default a new private ``minikv.Redis()``.
    ``ttl`` is the default lifetime in seconds of what the cache stores
    (None: no expiry); every method's ``ttl=None`` means this default.
    ``serializer``: ``"json"`` (the default, see ``JsonSerializer``),
    ``"pickle"`` (see the warning on ``PickleSerializer``) or any object
    with ``dumps(value) -> bytes`` and ``loads(bytes) -> value``.
    ``max_bytes`` bounds a private embedded store, evicting by ``eviction``
    (``"lru"`` or ``"lfu"``). ``lease`` is how long (seconds) a
    single-flight computation may run before another client takes over.
    ``random`` is the ``() -> float in [0, 1)`` XFetch draws from.
    """

    _async_client = False

    def _bind(self, client):
        self._io = BlockingIO(client)
        self._loop_io = ThreadedWaitIO(client)  # for cached coroutine functions
        self._client_get = client.get

    def close(self):
        """Close the client if the cache created it."""
        if self._owns_client:
            self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # -- reading -----------------------------------------------------------------
    def get(self, key, default=None):
        """The value stored under ``key``, or ``default``. One GET."""
        # ``_entry`` with the common key types inline: the benchmarked hit path.
        cls = key.__class__
        if cls is str:
            entry = self._entry_prefix + key.encode()
        elif cls is bytes:
            entry = self._entry_prefix + key
        else:
            entry = self._entry(key)
        return self._entry_value(self._client_get(entry), default)

    def get_many(self, keys):
        """``{key: value}`` for the keys that have an entry. One MGET."""
        keys = list(keys)
        replies = self.client.mget([self._entry(k) for k in keys]) if keys else ()
        return self._found(keys, replies)

    def ttl(self, key):
        """Seconds ``key`` has left (ms precision); None if it never
        expires; 0 if there is no such entry. One PTTL."""
        return _seconds_left(self.client.pttl(self._entry(key)))

    # -- writing -----------------------------------------------------------------
    def set(self, key, value, ttl=None, tags=()):
        """Store ``value`` under ``key`` for ``ttl`` seconds (default: the
        cache's), reachable by ``invalidate_tag`` of each of ``tags``.
        One SET without tags; one step with them (O(tags))."""
        k, data, ttl_ms, tag_keys = self._prepare_set(key, value, ttl, tags)
        if tag_keys:
            _STORE(self.client, *self._store_request([(k, data)], ttl_ms, tag_keys))
        else:
            _set_entry(self.client.set, self._entry_prefix + k, data, ttl_ms)
        self._sets.bump()

    def set_many(self, mapping, ttl=None, tags=()):
        """Store every ``key: value`` of ``mapping``, all or nothing, with
        one TTL and one set of tags. One step, O(entries x tags)."""
        items = self._items(mapping)
        if items:
            _STORE(self.client, *self._store_request(items, self._ttl_ms(ttl),
                                                     self._tag_keys(tags)))
            self._count_sets(len(items))

    def delete(self, key):
        """Remove ``key``'s entry; True if there was one. One step."""
        return bool(_DELETE(self.client, self._entry_and_meta(key)))

    def touch(self, key, ttl=None):
        """Give ``key`` a new lifetime of ``ttl`` seconds from now (default:
        the cache's; no expiry if that is None); True if the entry exists.
        Its tag sets are made to live at least as long. One step."""
        return bool(_TOUCH(self.client, self._entry_and_meta(key), (self._ttl_ms(ttl),)))

    def incr(self, key, delta=1, ttl=None):
        """Add ``delta`` to the integer stored under ``key`` (0 if absent)
        and return the result, atomically. A counter without an expiry (a new
        one) gets ``ttl`` seconds (default: the cache's); an existing
        expiry is kept, so increments do not extend a counter's window.
        Values stored by ``set`` as ints (or by ``incr``) can be
        incremented; anything else raises Redis's "value is not an integer"
        error. One INCRBY, or one step with a TTL."""
        entry, ttl_ms = self._incr_request(key, delta, ttl)
        if ttl_ms == 0:
            return self.client.incrby(entry, delta)
        return _INCR(self.client, (entry,), (delta, ttl_ms))

    def invalidate_tag(self, tag):
        """Remove every entry set with ``tag``; how many there were.
        O(entries in the tag set), one step."""
        return _INVALIDATE(self.client, *self._invalidate_request(tag))

    def clear(self):
        """Remove every entry of this namespace (and its tags); how many
        entries there were. Keys of other namespaces are never touched.
        SCAN MATCH page by page: O(keys in the database) in total."""
        return run_inline(self._clear(self._io))

    def stats(self):
        """``CacheStats(hits, misses, sets, evictions)`` — see CacheStats."""
        return self._stats(self.client.info("stats") if self._owns_client else None)

    # -- single-flight ---------------------------------------------------------------
    def get_or_set(self, key, fn, ttl=None, *, tags=(), beta=0.0):
        """The value under ``key``; on a miss, ``fn()``'s result, stored
        for ``ttl`` seconds with ``tags``. Concurrent misses of one key run
        ``fn`` once (see the module docstring); the others wait and get its
        value. If ``fn`` raises, callers waiting on the same ``Cache``
        object get that exception, and callers of other clients retry.
        ``beta > 0`` turns on XFetch early recomputation (1.0 is the
        paper's choice): the computation's duration is then stored with the
        entry. What is returned is what a ``get`` would return (the
        serializer's round trip), on the computing call as on the others."""
        return self._get_or_compute(_key_bytes(key), fn, self._ttl_ms(ttl),
                                    self._tag_keys(tags), _check_beta(beta), None)

    def _get_or_compute(self, k, fn, ttl_ms, tag_keys, beta, info):
        if beta:
            return run_inline(self._lookup(self._io, k, fn, ttl_ms, tag_keys, beta, info))
        # _lookup's plain GET and hit inline: a cached function's hot path.
        data = self._client_get(self._entry_prefix + k)
        if data is not None:
            return self._hit(data, info)
        return run_inline(self._miss(self._io, k, fn, ttl_ms, tag_keys, False, info))

    # -- the decorator ----------------------------------------------------------------
    def cached(self, ttl=None, key=None, *, tags=(), beta=0.0):
        """Decorate a function or an ``async def`` coroutine function so
        that its results are cached (single-flight, as ``get_or_set``).

        The key of a call is ``<module>.<qualname>:<32 hex digits>``: the
        BLAKE2b-128 digest of a canonical text of its arguments, bound to
        the signature with defaults applied — so ``f(1)``, ``f(x=1)`` and
        ``f(1, y=<default>)`` share an entry, and the key is the same in
        every process and Python version. Arguments may be None, bool, int,
        float, str, bytes, tuples, lists, dicts, sets, frozensets and enum
        members (nested freely); 1, 1.0 and True are different keys.
        Anything else raises TypeError (a method's ``self`` too): pass
        ``key=``, a function of the call's arguments returning the key (str
        or bytes) to use as is.

        A coroutine function's wrapper reads and writes the store
        synchronously, as the sync client does (microseconds embedded, one
        round trip on Redis); only waiting for another client's computation
        runs in a worker thread, so the event loop is never blocked on it.
        Concurrent calls in one event loop share one computation. (With an
        asyncio client, use ``AsyncCache.cached``: nothing runs in a thread.)

        The wrapper has ``invalidate(*args, **kwargs)`` (remove that
        call's entry; True if there was one), ``cache_key(*args,
        **kwargs)`` and ``cache_info()`` (a ``CacheInfo``). ``beta > 0``
        turns on XFetch early recomputation. ``@cache.cached`` without
        arguments works too.
        """
        return self._decorator(ttl, key, tags, beta)

    def _wrap(self, func, cache_key, options):
        if inspect.iscoroutinefunction(func):
            return _coroutine_wrapper(self, self._loop_io, func, cache_key, options)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            k = _key_bytes(cache_key(*args, **kwargs))
            return self._get_or_compute(k, lambda: func(*args, **kwargs), *options)
        return wrapper


# -- the asyncio twin ---------------------------------------------------------------
class AsyncCache(_CacheCore):
    """``Cache`` for asyncio: the same constructor, keys, steps and
    behaviour, every store access awaited on an asyncio client.

    >>> import asyncio
    >>> async def main():
    ...     cache = AsyncCache()
    ...     await cache.set("greeting", "hello", ttl=60)
    ...     @cache.cached(ttl=300)
    ...     async def square(n):
    ...         return n * n
    ...     found = await cache.get("greeting"), await square(12), await square(12)
    ...     await cache.close()
    ...     return found, square.cache_info()
    >>> asyncio.run(main())
    (('hello', 144, 144), CacheInfo(hits=1, misses=1, computations=1))

    ``client`` is a ``minikv.asyncio.Redis`` or a ``redis.asyncio.Redis``
    (without ``decode_responses``); by default a new private
    ``minikv.asyncio.Redis()``. The other options are ``Cache``'s. Entries,
    tags and leases are laid out as ``Cache`` lays them out, so a ``Cache``
    and an ``AsyncCache`` on one store or server share entries and
    single-flight leases.

    Single-flight: the tasks of one event loop that miss a key together
    meet on an ``asyncio.Event`` (per key, per loop): one runs ``fn``, the
    others get its value or its exception; if the leader is cancelled, they
    retry. Across clients (other processes, other caches, other loops) the
    lease protocol of the module docstring applies, the wait being a BLPOP
    awaited on the asyncio client — minikv.asyncio waits without blocking
    the loop, redis.asyncio awaits its socket. ``fn`` may be a plain
    function (called on the loop: keep it short) or return an awaitable
    (an ``async def``), which is awaited. A leader cancelled while ``fn``
    runs releases its lease and wakes the waiters before the cancellation
    propagates.
    """

    _async_client = True

    def _bind(self, client):
        self._io = AsyncIO(client)

    async def close(self):
        """Close the client if the cache created it."""
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.close()

    async def get(self, key, default=None):
        """As ``Cache.get``. One GET."""
        return self._entry_value(await self.client.get(self._entry(key)), default)

    async def get_many(self, keys):
        """As ``Cache.get_many``. One MGET."""
        keys = list(keys)
        replies = await self.client.mget([self._entry(k) for k in keys]) if keys else ()
        return self._found(keys, replies)

    async def ttl(self, key):
        """As ``Cache.ttl``. One PTTL."""
        return _seconds_left(await self.client.pttl(self._entry(key)))

    async def set(self, key, value, ttl=None, tags=()):
        """As ``Cache.set``. One SET, or one step with tags."""
        k, data, ttl_ms, tag_keys = self._prepare_set(key, value, ttl, tags)
        if tag_keys:
            await _STORE.run_async(self.client,
                                   *self._store_request([(k, data)], ttl_ms, tag_keys))
        else:
            await _set_entry(self.client.set, self._entry_prefix + k, data, ttl_ms)
        self._sets.bump()

    async def set_many(self, mapping, ttl=None, tags=()):
        """As ``Cache.set_many``. One step."""
        items = self._items(mapping)
        if items:
            await _STORE.run_async(self.client, *self._store_request(
                items, self._ttl_ms(ttl), self._tag_keys(tags)))
            self._count_sets(len(items))

    async def delete(self, key):
        """As ``Cache.delete``. One step."""
        return bool(await _DELETE.run_async(self.client, self._entry_and_meta(key)))

    async def touch(self, key, ttl=None):
        """As ``Cache.touch``. One step."""
        return bool(await _TOUCH.run_async(self.client, self._entry_and_meta(key),
                                           (self._ttl_ms(ttl),)))

    async def incr(self, key, delta=1, ttl=None):
        """As ``Cache.incr``. One INCRBY, or one step with a TTL."""
        entry, ttl_ms = self._incr_request(key, delta, ttl)
        if ttl_ms == 0:
            return await self.client.incrby(entry, delta)
        return await _INCR.run_async(self.client, (entry,), (delta, ttl_ms))

    async def invalidate_tag(self, tag):
        """As ``Cache.invalidate_tag``. One step."""
        return await _INVALIDATE.run_async(self.client, *self._invalidate_request(tag))

    async def clear(self):
        """As ``Cache.clear``: SCAN MATCH and UNLINK, page by page."""
        return await self._clear(self._io)

    async def stats(self):
        """As ``Cache.stats``."""
        return self._stats(await self.client.info("stats") if self._owns_client else None)

    async def get_or_set(self, key, fn, ttl=None, *, tags=(), beta=0.0):
        """As ``Cache.get_or_set``; ``fn`` may be a plain function or
        return an awaitable (see the class docstring for single-flight)."""
        return await self._lookup(self._io, _key_bytes(key), fn, self._ttl_ms(ttl),
                                  self._tag_keys(tags), _check_beta(beta), None)

    def cached(self, ttl=None, key=None, *, tags=(), beta=0.0):
        """Decorate an ``async def`` coroutine function so that its results
        are cached, single-flight, as ``Cache.cached`` does (same keys,
        same options). The wrapper is a coroutine function; its
        ``invalidate(*args, **kwargs)`` is a coroutine too, ``cache_key``
        and ``cache_info`` are plain. A plain function raises TypeError:
        decorate it with ``Cache.cached``, or wrap the call in an
        ``async def``."""
        return self._decorator(ttl, key, tags, beta)

    def _wrap(self, func, cache_key, options):
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"AsyncCache.cached decorates coroutine functions (async def), "
                            f"not {func!r}: use Cache.cached for plain functions")
        return _coroutine_wrapper(self, self._io, func, cache_key, options)


class _FunctionCounters:
    __slots__ = ("hits", "misses", "computations")

    def __init__(self):
        self.hits = _Counter()
        self.misses = _Counter()
        self.computations = _Counter()

    def info(self):
        return CacheInfo(self.hits.value(), self.misses.value(), self.computations.value())


def _cached_function(cache, func, key, options):
    """The cached wrapper of ``func``; ``options``: (ttl_ms, tag keys, beta)."""
    signature = inspect.signature(func)
    name = f"{func.__module__}.{func.__qualname__}"
    counters = _FunctionCounters()

    def cache_key(*args, **kwargs):
        if key is not None:
            return key(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        text = ",".join(f"{param}={_stable_text(value)}"
                        for param, value in bound.arguments.items())
        return f"{name}:{hashlib.blake2b(text.encode(), digest_size=16).hexdigest()}"

    def invalidate(*args, **kwargs):
        return cache.delete(cache_key(*args, **kwargs))  # awaitable on an AsyncCache

    wrapper = cache._wrap(func, cache_key, (*options, counters))
    wrapper.cache = cache
    wrapper.cache_key = cache_key
    wrapper.cache_info = counters.info
    wrapper.invalidate = invalidate
    return wrapper


def _coroutine_wrapper(cache, io, func, cache_key, options):
    """A cached coroutine function: ``_lookup`` over ``io``."""
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        k = _key_bytes(cache_key(*args, **kwargs))
        return await cache._lookup(io, k, lambda: func(*args, **kwargs), *options)
    return wrapper


def _set_entry(set_method, entry, data, ttl_ms):
    """A plain entry's SET: the client's ``set`` called with the expiry
    option that fits (EX for whole seconds: the clients' fast path). What
    an asyncio client's ``set`` returns, the caller awaits."""
    if ttl_ms == 0:
        return set_method(entry, data)
    if ttl_ms % 1000 == 0:
        return set_method(entry, data, ex=ttl_ms // 1000)
    return set_method(entry, data, px=ttl_ms)


def _seconds_left(ms):
    """A PTTL reply as ``ttl`` returns it."""
    if ms == -1:
        return None
    if ms < 0:
        return 0
    return ms / 1000


def _token():
    """A lease holder's identity: only its holder deletes a lease."""
    return secrets.token_hex(16).encode()


def _check_beta(beta):
    if beta.__class__ is bool or not isinstance(beta, (int, float)) or not 0 <= beta < math.inf:
        raise ValueError("beta is a finite number >= 0 (0: no early recomputation)")
    return float(beta)
