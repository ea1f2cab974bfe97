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
wait on a ``threading.Event`` and get its result or its exception. Across
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
"""
import asyncio
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

from minikv.patterns._atomic import AtomicStep, is_embedded

__all__ = ["Cache", "CacheInfo", "CacheStats", "JsonSerializer", "PickleSerializer"]

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
    """One in-process computation of a key that other threads wait for."""

    __slots__ = ("done", "value", "error", "abandoned")

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error = None
        self.abandoned = False  # the leader left by KeyboardInterrupt & co: retry


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


# -- the cache --------------------------------------------------------------------
class Cache:
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
            import minikv
            if max_bytes is None:
                client = minikv.Redis()
            else:
                client = minikv.Redis(maxmemory=max_bytes,
                                      maxmemory_policy=f"allkeys-{eviction}")
            self._owns_client = True
        else:
            if max_bytes is not None:
                raise ValueError("max_bytes bounds the cache's own private store; to bound a "
                                 "client you pass, create it with minikv.Redis(maxmemory=..., "
                                 "maxmemory_policy=...) or CONFIG SET")
            if _decodes_responses(client):
                raise ValueError("the cache needs a client without decode_responses: "
                                 "values are bytes")
            self._owns_client = False
        self.client = client
        self.namespace = namespace
        self._client_get = client.get
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
        self._flights = {}
        self._async_flights = {}
        self._flights_lock = threading.Lock()

    def __repr__(self):
        return f"<Cache namespace={self.namespace!r} client={self.client!r}>"

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
        cls = key.__class__
        if cls is str:
            entry = self._entry_prefix + key.encode()
        elif cls is bytes:
            entry = self._entry_prefix + key
        else:
            entry = self._entry_prefix + _key_bytes(key)
        data = self._client_get(entry)
        if data is None:
            self._count_miss()
            return default
        self._count_hit()
        return self._loads(data)

    def get_many(self, keys):
        """``{key: value}`` for the keys that have an entry. One MGET."""
        keys = list(keys)
        if not keys:
            return {}
        prefix = self._entry_prefix
        found = {}
        for key, data in zip(keys, self.client.mget([prefix + _key_bytes(k) for k in keys])):
            if data is None:
                self._count_miss()
            else:
                self._count_hit()
                found[key] = self._loads(data)
        return found

    def ttl(self, key):
        """Seconds ``key`` has left (ms precision); None if it never
        expires; 0 if there is no such entry. One PTTL."""
        ms = self.client.pttl(self._entry_prefix + _key_bytes(key))
        if ms == -1:
            return None
        if ms < 0:
            return 0
        return ms / 1000

    # -- writing -----------------------------------------------------------------
    def set(self, key, value, ttl=None, tags=()):
        """Store ``value`` under ``key`` for ``ttl`` seconds (default: the
        cache's), reachable by ``invalidate_tag`` of each of ``tags``.
        One SET without tags; one step with them (O(tags))."""
        k = _key_bytes(key)
        ttl_ms = self._ttl_ms(ttl)
        tag_keys = self._tag_keys(tags)
        data = self._dumps(value)
        if tag_keys:
            self._store([(k, data)], ttl_ms, tag_keys)
            return
        # A plain SET leaves a meta hash of an earlier tagged set in place:
        # it dies with its old TTL, and until then it can only make a tag
        # invalidation drop this entry too or steer XFetch's draw.
        entry = self._entry_prefix + k
        if ttl_ms == 0:
            self.client.set(entry, data)
        elif ttl_ms % 1000 == 0:
            self.client.set(entry, data, ex=ttl_ms // 1000)  # the clients' fast path
        else:
            self.client.set(entry, data, px=ttl_ms)
        self._sets.bump()

    def set_many(self, mapping, ttl=None, tags=()):
        """Store every ``key: value`` of ``mapping``, all or nothing, with
        one TTL and one set of tags. One step, O(entries x tags)."""
        items = [(_key_bytes(key), self._dumps(value)) for key, value in mapping.items()]
        if items:
            self._store(items, self._ttl_ms(ttl), self._tag_keys(tags))

    def delete(self, key):
        """Remove ``key``'s entry; True if there was one. One step."""
        k = _key_bytes(key)
        return bool(_DELETE(self.client, (self._entry_prefix + k, self._meta_prefix + k)))

    def touch(self, key, ttl=None):
        """Give ``key`` a new lifetime of ``ttl`` seconds from now (default:
        the cache's; no expiry if that is None); True if the entry exists.
        Its tag sets are made to live at least as long. One step."""
        k = _key_bytes(key)
        keys = (self._entry_prefix + k, self._meta_prefix + k)
        return bool(_TOUCH(self.client, keys, (self._ttl_ms(ttl),)))

    def incr(self, key, delta=1, ttl=None):
        """Add ``delta`` to the integer stored under ``key`` (0 if absent)
        and return the result, atomically. A counter without an expiry (a new
        one) gets ``ttl`` seconds (default: the cache's); an existing
        expiry is kept, so increments do not extend a counter's window.
        Values stored by ``set`` as ints (or by ``incr``) can be
        incremented; anything else raises Redis's "value is not an integer"
        error. One INCRBY, or one step with a TTL."""
        if delta.__class__ is not int:
            raise TypeError(f"delta is an int, not {delta.__class__.__name__}")
        entry = self._entry_prefix + _key_bytes(key)
        ttl_ms = self._ttl_ms(ttl)
        if ttl_ms == 0:
            return self.client.incrby(entry, delta)
        return _INCR(self.client, (entry,), (delta, ttl_ms))

    def invalidate_tag(self, tag):
        """Remove every entry set with ``tag``; how many there were.
        O(entries in the tag set), one step."""
        keys = (self._tag_prefix + _key_bytes(tag),)
        return _INVALIDATE(self.client, keys, (len(self._entry_prefix), self._meta_prefix))

    def clear(self):
        """Remove every entry of this namespace (and its tags); how many
        entries there were. Keys of other namespaces are never touched.
        SCAN MATCH page by page: O(keys in the database) in total."""
        client = self.client
        entry_prefix = self._entry_prefix
        in_flight = (self._lease_prefix, self._waiters_prefix, self._wake_prefix)
        removed = 0
        cursor = 0
        while True:
            cursor, keys = client.scan(cursor, match=self._clear_pattern, count=CLEAR_PAGE)
            entries = [key for key in keys if key.startswith(entry_prefix)]
            others = [key for key in keys
                      if not key.startswith(entry_prefix) and not key.startswith(in_flight)]
            if entries:
                removed += client.unlink(*entries)
            if others:
                client.unlink(*others)
            if not cursor:
                return removed

    def stats(self):
        """``CacheStats(hits, misses, sets, evictions)`` — see CacheStats."""
        evictions = None
        if self._owns_client:
            evictions = self.client.info("stats")["evicted_keys"]
        return CacheStats(self._hits.value(), self._misses.value(), self._sets.value(),
                          evictions)

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
            found, value, early = self._read_xfetch(k, beta)
        else:
            data = self._client_get(self._entry_prefix + k)
            found, early = data is not None, False
            value = None if data is None else self._loads(data)
        if found:
            self._count_hit()
            if info is not None:
                info.hits.bump()
            if early:
                value = self._refresh_early(k, fn, value, ttl_ms, tag_keys, info)
            return value
        self._count_miss()
        if info is not None:
            info.misses.bump()
        return self._fill(k, fn, ttl_ms, tag_keys, beta > 0, info)

    def _fill(self, k, fn, ttl_ms, tag_keys, keep_delta, info):
        """Coalesce with this process's other threads, then across clients."""
        while True:
            with self._flights_lock:
                flight = self._flights.get(k)
                leading = flight is None
                if leading:
                    flight = self._flights[k] = _Flight()
            if leading:
                break
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            if not flight.abandoned:
                return self._loads(flight.value)  # a value of its own for each caller
        try:
            flight.value = self._fill_shared(k, fn, ttl_ms, tag_keys, keep_delta, info)
            return self._loads(flight.value)
        except Exception as exc:
            flight.error = exc
            raise
        except BaseException:
            flight.abandoned = True
            raise
        finally:
            with self._flights_lock:
                del self._flights[k]
            flight.done.set()

    def _fill_shared(self, k, fn, ttl_ms, tag_keys, keep_delta, info):
        """The stored data (bytes): found, computed here, or computed by the
        lease holder this call waited for."""
        token = _token()
        while True:
            reply = self._claim(k, token)
            if reply[0] == 0:
                return reply[1]
            if reply[0] == 1:
                return self._compute(k, fn, token, ttl_ms, tag_keys, keep_delta, info)
            self._wait_for_wake(k, reply[1])

    def _claim(self, k, token):
        keys = (self._entry_prefix + k, self._lease_prefix + k, self._waiters_prefix + k)
        return _CLAIM(self.client, keys, (token, self._lease_ms))

    def _wait_for_wake(self, k, lease_left_ms):
        # BLPOP ends at a wake-up pushed by the lease holder, or when the
        # lease expires (then the caller claims again: takeover).
        self.client.blpop([self._wake_prefix + k], timeout=max(lease_left_ms, 1) / 1000)

    def _compute(self, k, fn, token, ttl_ms, tag_keys, keep_delta, info):
        """Run ``fn`` holding the lease; store, release and wake, or on an
        error release and wake (the waiters retry) and re-raise."""
        try:
            if info is not None:
                info.computations.bump()
            started = time.perf_counter()
            value = fn()
            data = self._dumps(value)
        except BaseException:
            self._release(k, token)
            raise
        delta_ms = round((time.perf_counter() - started) * 1000) if keep_delta else -1
        self._store([(k, data)], ttl_ms, tag_keys, delta_ms, token)
        return data

    def _release(self, k, token):
        keys = (self._lease_prefix + k, self._waiters_prefix + k, self._wake_prefix + k)
        _RELEASE(self.client, keys, (token, self._lease_ms))

    # -- XFetch --------------------------------------------------------------------------
    def _read_xfetch(self, k, beta):
        """(found, value, recompute early?) in one step."""
        data, left_ms, delta = _READ(self.client, (self._entry_prefix + k, self._meta_prefix + k))
        if data is None:
            return False, None, False
        early = False
        if delta is not None and left_ms > 0:
            draw = self._random()
            gap = -int(delta) * beta * math.log(draw) if draw > 0 else math.inf
            early = gap >= left_ms
        return True, self._loads(data), early

    def _try_lease(self, k):
        token = _token()
        taken = self.client.set(self._lease_prefix + k, token, nx=True, px=self._lease_ms)
        return token if taken else None

    def _refresh_early(self, k, fn, cached_value, ttl_ms, tag_keys, info):
        """XFetch drew an early recomputation: do it if nobody else is."""
        token = self._try_lease(k)
        if token is None:
            return cached_value
        try:
            return self._loads(self._compute(k, fn, token, ttl_ms, tag_keys, True, info))
        except Exception:
            # The cached value is still valid: a failed early refresh must
            # not turn a hit into an error.
            log.warning("early recomputation of %r failed; serving the cached value",
                        k, exc_info=True)
            return cached_value

    # -- async single-flight -----------------------------------------------------------
    async def _aget_or_compute(self, k, make_awaitable, ttl_ms, tag_keys, beta, info):
        if beta:
            found, value, early = self._read_xfetch(k, beta)
        else:
            data = self._client_get(self._entry_prefix + k)
            found, early = data is not None, False
            value = None if data is None else self._loads(data)
        if found:
            self._count_hit()
            info.hits.bump()
            if early:
                token = self._try_lease(k)
                if token is not None:
                    try:
                        return self._loads(await self._acompute(
                            k, make_awaitable, token, ttl_ms, tag_keys, True, info))
                    except Exception:
                        log.warning("early recomputation of %r failed; serving the cached "
                                    "value", k, exc_info=True)
            return value
        self._count_miss()
        info.misses.bump()
        loop = asyncio.get_running_loop()
        flight_key = (loop, k)
        while True:
            future = self._async_flights.get(flight_key)
            if future is None:
                break
            await asyncio.wait([future])  # never cancels the leader's computation
            if not future.cancelled():
                return self._loads(future.result())
        future = self._async_flights[flight_key] = loop.create_future()
        try:
            value = await self._afill_shared(k, make_awaitable, ttl_ms, tag_keys, beta > 0,
                                             info)
        except asyncio.CancelledError:
            future.cancel()  # the waiters try again
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        else:
            future.set_result(value)
            return self._loads(value)
        finally:
            del self._async_flights[flight_key]

    async def _afill_shared(self, k, make_awaitable, ttl_ms, tag_keys, keep_delta, info):
        token = _token()
        loop = asyncio.get_running_loop()
        while True:
            reply = self._claim(k, token)
            if reply[0] == 0:
                return reply[1]
            if reply[0] == 1:
                return await self._acompute(k, make_awaitable, token, ttl_ms, tag_keys,
                                            keep_delta, info)
            # The blocking wait runs in a worker thread: the event loop goes on.
            await loop.run_in_executor(None, self._wait_for_wake, k, reply[1])

    async def _acompute(self, k, make_awaitable, token, ttl_ms, tag_keys, keep_delta, info):
        try:
            info.computations.bump()
            started = time.perf_counter()
            value = await make_awaitable()
            data = self._dumps(value)
        except BaseException:
            self._release(k, token)
            raise
        delta_ms = round((time.perf_counter() - started) * 1000) if keep_delta else -1
        self._store([(k, data)], ttl_ms, tag_keys, delta_ms, token)
        return data

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
        Concurrent calls in one event loop share one computation.

        The wrapper has ``invalidate(*args, **kwargs)`` (remove that
        call's entry; True if there was one), ``cache_key(*args,
        **kwargs)`` and ``cache_info()`` (a ``CacheInfo``). ``beta > 0``
        turns on XFetch early recomputation. ``@cache.cached`` without
        arguments works too.
        """
        if callable(ttl) and key is None:
            return self.cached()(ttl)
        ttl_ms = self._ttl_ms(ttl)
        tag_keys = self._tag_keys(tags)
        beta = _check_beta(beta)

        def decorate(func):
            return _cached_function(self, func, ttl_ms, key, tag_keys, beta)
        return decorate

    # -- internals -------------------------------------------------------------------
    def _ttl_ms(self, ttl):
        return self._default_ttl_ms if ttl is None else _milliseconds(ttl, "ttl")

    def _tag_keys(self, tags):
        if isinstance(tags, (str, bytes)):
            raise TypeError("tags is a collection of tags, not one tag")
        prefix = self._tag_prefix
        return list(dict.fromkeys(prefix + _key_bytes(tag) for tag in tags))

    def _store(self, items, ttl_ms, tag_keys, delta_ms=-1, token=None):
        """One STORE step: ``items`` are (key bytes, data); with a lease
        ``token``, release it and wake its waiters in the same step."""
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
        _STORE(self.client, keys, args)
        for _ in items:
            self._sets.bump()


class _FunctionCounters:
    __slots__ = ("hits", "misses", "computations")

    def __init__(self):
        self.hits = _Counter()
        self.misses = _Counter()
        self.computations = _Counter()

    def info(self):
        return CacheInfo(self.hits.value(), self.misses.value(), self.computations.value())


def _cached_function(cache, func, ttl_ms, key, tag_keys, beta):
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
        return cache.delete(cache_key(*args, **kwargs))

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            k = _key_bytes(cache_key(*args, **kwargs))
            return await cache._aget_or_compute(k, lambda: func(*args, **kwargs), ttl_ms,
                                                tag_keys, beta, counters)
    else:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            k = _key_bytes(cache_key(*args, **kwargs))
            return cache._get_or_compute(k, lambda: func(*args, **kwargs), ttl_ms, tag_keys,
                                         beta, counters)

    wrapper.cache = cache
    wrapper.cache_key = cache_key
    wrapper.cache_info = counters.info
    wrapper.invalidate = invalidate
    return wrapper


def _token():
    """A lease holder's identity: only its holder deletes a lease."""
    return secrets.token_hex(16).encode()


def _check_beta(beta):
    if beta.__class__ is bool or not isinstance(beta, (int, float)) or not 0 <= beta < math.inf:
        raise ValueError("beta is a finite number >= 0 (0: no early recomputation)")
    return float(beta)


def _decodes_responses(client):
    if is_embedded(client):
        return client._decode
    pool = getattr(client, "connection_pool", None)
    return bool(pool is not None and pool.connection_kwargs.get("decode_responses"))
