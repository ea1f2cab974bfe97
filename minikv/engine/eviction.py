"""maxmemory: incremental memory accounting, access tracking and eviction.

Configuration. ``CONFIG SET maxmemory <bytes>`` (or ``minikv.Redis(
maxmemory=..., maxmemory_policy=...)`` for a new store) and the usual
maxmemory-policy, maxmemory-samples, lfu-log-factor and lfu-decay-time.
``configure(store)`` applies them. While maxmemory is 0 (the default)
nothing here exists: ``store.memory`` and every ``Keyspace.memory`` are
None, which costs the keyspace core a C pointer test per operation and the
client's write fast paths one attribute test. Setting maxmemory builds the
tracking state with one walk over the keys (O(keys), once); setting it back
to 0 drops it.

Accounting. What a key costs is defined in engine/memory.py (MEMORY
USAGE's formula; INFO's used_memory is the total kept here). Each db's
``KeyTracker`` (``Keyspace.memory``) keeps every key's last computed size,
and ``MemoryLimit.used`` (``store.memory``) their sum. The keyspace core calls
the tracker on every change: ``written(key)`` for a store, a TTL change or
an in-place change of the value (``signal_modified``), ``removed(key)`` for
a delete or an expiry, ``cleared()`` for FLUSHDB. A written key is only
marked dirty — a command may signal before it changes the value — and is
re-measured once the command is over (``settle``): O(1) for a string, and
for a collection its container (exact, O(1)) plus its length times a mean
element size that is re-sampled only after as many changes as it had
elements, or when its length halved or doubled: O(1) amortised. So the
total is always current at command boundaries, and no decision walks the
keyspace.

When eviction runs. As in Redis's processCommand, before each command
(``admit``): if the store is over maxmemory, evict; if it still is (the
policy finds nothing to evict), a command flagged ``denyoom`` fails with
Redis's OOM error before it changes anything — reads, DEL and the other
non-denyoom commands still run — and inside MULTI every command but
EXEC/DISCARD is refused and dooms the transaction (EXEC of a transaction
holding a denyoom command is then aborted with EXECABORT). Unlike Redis,
eviction also runs right after every write command (``finish``), so that
between commands memory stays at or under the limit whenever the policy can
evict: Redis lets one command push it over and evicts at the next. Nothing
is evicted in the middle of a command, a MULTI/EXEC or a script — except by
CONFIG SET lowering maxmemory, which evicts at once, as in Redis. Lua
scripts get Redis's rule: a denyoom redis.call is refused if the store was
over the limit when the script started and the script has not written yet
(``script_write_refused``). The client's fast paths (SET, INCR, HSET, LPUSH,
SADD, ZADD...) apply the same checks around their engine call
(``limited_write``).

Policies, each O(1) amortised per evicted key:

- allkeys-lru is exact LRU: each db's tracker keeps its keys in an
  ``OrderedDict`` in access order (a hit moves the key to the end, O(1)),
  so the least recently used key of a db is its first; the victim is the
  oldest of the (at most 16) first keys. Exact rather than sampled because
  the ordered dict costs O(1) per access and per eviction, no more than
  sampling, and makes "the most recently used keys survive" a guarantee
  rather than a likelihood (Redis's approximation also ranks keys by a
  clock with one-second resolution).
- volatile-lru, allkeys-lfu, volatile-lfu and volatile-ttl are sampled like
  Redis: each round draws maxmemory-samples keys per db (from the keys with
  a TTL for volatile-*), scores them — idle time, 255 minus the decayed LFU
  counter, or how soon the TTL ends — into a 16-entry eviction pool kept
  across rounds, and evicts the best-scored key of the pool that still
  exists. volatile-lru cannot use the access order directly: keys with a
  TTL are interleaved there with keys without one.
- allkeys-random and volatile-random evict one random key of the next
  non-empty db, round robin across dbs, as Redis does.
- volatile-* with no key that has a TTL, and noeviction, evict nothing:
  denyoom commands get the OOM error.

Random keys come from a ``KeySampler``: a snapshot list of a dict's keys,
drawn from at random and re-taken after as many draws as it had keys (or
when the dict doubled), so a draw is O(1) amortised; keys deleted since the
snapshot are dropped when drawn, keys added since are missed until the next
snapshot. When a db has no more keys than the sample size, all are taken,
which makes small cases exact. SWAPDB moves each tracker with its db's
data; the eviction pool remembers db numbers, as Redis's does.

Access tracking (the read path's cost, only while maxmemory is set). A key
counts as accessed when a read finds it (``Keyspace.lookup_read``) and each
time a write changes it; a key a command creates starts as just accessed
(LRU) or with Redis's initial LFU counter, 5, and filling it in that same
command is no further access. OBJECT and MEMORY USAGE read without
touching, as in Redis. That gives Redis's count (one per key lookup) for
the common commands — checked against redis-server with lfu-log-factor 0 in
tests/test_eviction.py. Known differences, all about what counts as one
access: a write command that ends up changing nothing (SET NX on an
existing key, EXPIRE ... GT that does not apply, SADD of present members)
counts none; GETEX with an expiry counts two (its read and its write);
TYPE, EXISTS and the TTL family count one (Redis reads those with
LOOKUP_NOTOUCH; here they share GET's read path); RENAME and MOVE give the
destination fresh access data (Redis moves the object with its counter).

- LRU family (every policy but *-lfu): the last access time in store-clock
  milliseconds. OBJECT IDLETIME answers whole seconds since then; a key that
  existed when tracking started counts from that moment.
- LFU (*-lfu): Redis's 8-bit logarithmic counter with its 16-bit
  minute-clock access time, packed as ``minutes << 8 | counter``: on access
  the counter first loses one per lfu-decay-time minutes since the last
  access, then grows by one with probability
  1 / ((counter - 5) * lfu-log-factor + 1) (always below 5), saturating at
  255. OBJECT FREQ answers the decayed counter. Both read the store clock,
  so a ManualClock drives them.

While maxmemory is 0 there is no tracking: OBJECT IDLETIME and OBJECT FREQ
answer an error saying so (Redis always tracks; minikv will not make every
read pay for it by default).
"""
import random
from bisect import insort
from collections import OrderedDict
from sys import getsizeof

from minikv.engine.blocking import serve_ready_keys
from minikv.engine.errors import EXECABORT_OOM, OOM, CommandError
from minikv.engine.memory import (
    DEFAULT_SAMPLES, DICT_SLOT_BYTES, INT_BYTES, ORDERED_SLOT_BYTES, TTL_BYTES, collection_mean,
    is_collection, key_bytes,
)
from minikv.engine.notify import EVICTED, emit
from minikv.engine.transactions import discard_transaction

__all__ = ["KeySampler", "LfuTracker", "LruTracker", "MemoryLimit", "configure",
           "limited_write", "script_write_refused"]

LFU_INIT_VAL = 5  # Redis's counter for a new key
LFU_COUNTER_MAX = 255
LFU_MINUTES_MASK = 0xFFFF  # Redis keeps the decay time in 16 bits of minutes
EVICTION_POOL_SIZE = 16  # Redis's EVPOOL_SIZE
# What a collection's cached element mean costs the tracker: a dict slot, a
# 4-item list, a float and two ints.
MEAN_ENTRY_BYTES = DICT_SLOT_BYTES + 56 + 4 * 8 + 24 + 2 * INT_BYTES
# Inside MULTI, Redis refuses every command but these while out of memory.
_ALLOWED_IN_MULTI_WHEN_OOM = frozenset(("exec", "discard", "quit", "reset"))


class KeySampler:
    """Random keys of a dict (``source``), O(1) amortised per key drawn.

    See the module docstring. The snapshot is a list; a drawn key that is
    no longer in the dict is swap-removed from it.
    """

    __slots__ = ("source", "keys", "budget", "snapshot_size")

    def __init__(self, source):
        self.source = source
        self.keys = []
        self.budget = 0
        self.snapshot_size = 0

    def _snapshot(self):
        keys = self.keys = list(self.source)
        self.budget = self.snapshot_size = len(keys)
        return keys

    def sample(self, count):
        """Up to ``count`` keys drawn at random (repeats possible); every key
        when the dict has no more than ``count``."""
        source = self.source
        if len(source) <= count:
            return list(source)
        keys = self.keys
        if self.budget <= 0 or len(source) > 2 * self.snapshot_size:
            keys = self._snapshot()
        picked = []
        rand = random.random  # a float draw: several times cheaper than randrange
        while len(picked) < count:
            if not keys:
                keys = self._snapshot()
            index = int(rand() * len(keys))
            key = keys[index]
            self.budget -= 1
            if key in source:
                picked.append(key)
            else:
                last = keys.pop()
                if index < len(keys):
                    keys[index] = last
        return picked

    def clear(self):
        self.keys = []
        self.budget = self.snapshot_size = 0


class KeyTracker:
    """``Keyspace.memory`` of one db: sizes, dirty keys and access data.

    Holds the db's ``data`` and ``expires`` dicts (never the keyspace: a
    keyspace must not be part of a reference cycle). A keyspace replaces
    those dicts only in SWAPDB, which swaps the trackers with them.
    Subclasses define the access data (``access``) and how it changes.
    """

    __slots__ = ("limit", "data", "expires", "sizes", "means", "dirty", "created", "access",
                 "all_keys", "ttl_keys")
    # What the tracker keeps per key, counted in the key's size (see
    # engine/memory.py): its size (a dict slot and an int) and its access
    # data (subclasses).
    TRACKING_BYTES = DICT_SLOT_BYTES + INT_BYTES

    def __init__(self, limit, data, expires):
        self.limit = limit
        self.data = data
        self.expires = expires
        self.sizes = {}
        self.means = {}
        self.dirty = set()
        # Keys this command created: a creation is their first access, so
        # the command filling them in place does not count another.
        self.created = set()
        self.all_keys = KeySampler(data)
        self.ttl_keys = KeySampler(expires)
        access = self.access = self.new_access()
        fresh = self.fresh()
        for key in data:
            access[key] = fresh
        total = 0
        sizes = self.sizes
        for key, value in data.items():
            size = sizes[key] = self.measure(key, value)
            total += size
        limit.used += total

    def tracking_bytes(self, value):
        """The tracker's bytes for a key holding ``value``."""
        if is_collection(value):
            return self.TRACKING_BYTES + MEAN_ENTRY_BYTES
        return self.TRACKING_BYTES

    def measure(self, key, value):
        """The key's size by engine/memory.py's formula, with the cached
        element mean of a collection (re-sampled as the docstring says)."""
        if not is_collection(value):
            if self.means:
                self.means.pop(key, None)  # it held a collection before
            return key_bytes(key, value, key in self.expires, tracking=self.TRACKING_BYTES)
        length = len(value)
        entry = self.means.get(key)
        if entry is not None and entry[0] is value and entry[3] > 0 \
                and entry[2] // 2 <= length <= entry[2] * 2:
            entry[3] -= 1
            mean = entry[1]
        else:
            mean = collection_mean(value, DEFAULT_SAMPLES)
            self.means[key] = [value, mean, length, length]
        return key_bytes(key, value, key in self.expires,
                         tracking=self.TRACKING_BYTES + MEAN_ENTRY_BYTES, mean=mean)

    # -- called by the keyspace core ---------------------------------------
    def written(self, key):
        """``key`` was stored or changed: re-measure it after the command.

        A command may signal a key that is not (or no longer) there; that
        must not leave access data behind for a key that does not exist."""
        if key in self.data:
            dirty = self.dirty
            if not dirty:
                self.limit.pending.append(self)
            dirty.add(key)
            access = self.access
            if key not in access:
                access[key] = self.fresh()
                self.created.add(key)
            elif key not in self.created:
                self.touch(key)

    def removed(self, key):
        """``key`` left the db (delete, expiry, eviction)."""
        size = self.sizes.pop(key, None)
        if size is not None:
            self.limit.used -= size
        self.means.pop(key, None)
        self.dirty.discard(key)
        self.created.discard(key)
        self.access.pop(key, None)

    def cleared(self):
        """The db was emptied (FLUSHDB/FLUSHALL). O(keys)."""
        self.limit.used -= sum(self.sizes.values())
        self.sizes.clear()
        self.means.clear()
        self.dirty.clear()
        self.created.clear()
        self.access.clear()
        self.all_keys.clear()
        self.ttl_keys.clear()

    # -- for the limit ------------------------------------------------------
    def settle(self):
        """Re-measure the keys written since the last settle."""
        data, expires, sizes, means = self.data, self.expires, self.sizes, self.means
        # The string case of engine/memory.key_bytes, inlined: this runs
        # after every write command.
        string_base = DICT_SLOT_BYTES + self.TRACKING_BYTES
        delta = 0
        # Every dirty key exists: ``removed`` takes a key out of ``dirty``.
        for key in self.dirty:
            value = data[key]
            cls = value.__class__
            if cls is bytes or cls is bytearray:
                size = string_base + getsizeof(key) + getsizeof(value)
                if key in expires:
                    size += TTL_BYTES
                if means:
                    means.pop(key, None)  # it held a collection before
            else:
                size = self.measure(key, value)
            delta += size - sizes.get(key, 0)
            sizes[key] = size
        self.dirty.clear()
        self.created.clear()
        self.limit.used += delta

    def sample(self, volatile, count):
        return (self.ttl_keys if volatile else self.all_keys).sample(count)


class LruTracker(KeyTracker):
    """Access data of the LRU family: key -> last access (ms), in access order."""

    __slots__ = ()
    # plus an ordered-dict slot (with its node) and the access-time int
    TRACKING_BYTES = KeyTracker.TRACKING_BYTES + ORDERED_SLOT_BYTES + INT_BYTES

    new_access = staticmethod(OrderedDict)

    def fresh(self):
        return self.limit.clock_ms()

    def touch(self, key):
        access = self.access
        access[key] = self.limit.clock_ms()
        access.move_to_end(key)

    accessed = touch  # a read found ``key``

    def idle_seconds(self, key):
        """OBJECT IDLETIME: whole seconds since the last access."""
        return (self.limit.clock_ms() - self.access[key]) // 1000

    def eviction_score(self, key, now):
        """Higher is evicted first: idle time (ms)."""
        return now - self.access[key]


class LfuTracker(KeyTracker):
    """Access data of the LFU policies: key -> minutes << 8 | counter."""

    __slots__ = ()
    # plus a dict slot and the packed access int
    TRACKING_BYTES = KeyTracker.TRACKING_BYTES + DICT_SLOT_BYTES + INT_BYTES

    new_access = staticmethod(dict)

    def fresh(self):
        return self.limit.lfu_minutes() << 8 | LFU_INIT_VAL

    def touch(self, key):
        access = self.access
        access[key] = self.limit.lfu_incremented(access[key])

    accessed = touch  # a read found ``key``

    def frequency(self, key):
        """OBJECT FREQ: the decayed counter, not stored (reading is no access)."""
        limit = self.limit
        return limit.lfu_decayed(self.access[key], limit.lfu_minutes())

    def eviction_score(self, key, now):
        """Higher is evicted first: 255 minus the decayed counter."""
        return LFU_COUNTER_MAX - self.frequency(key)


class MemoryLimit:
    """``store.memory`` while maxmemory is set: the running total, the
    settings, the eviction pool and the commands' admission rules.

    Holds the clock's ``ms`` and the store's stats dict, never the store or
    its keyspaces (they are passed in): no reference cycle through them.
    """

    __slots__ = ("maxmemory", "policy", "volatile", "_choose", "samples", "log_factor",
                 "decay_time", "used", "clock_ms", "stats", "pending", "pool", "next_db",
                 "oom_at_start")

    def __init__(self, clock_ms, stats):
        self.clock_ms = clock_ms
        self.stats = stats
        self.maxmemory = 0
        self.policy = self.volatile = self._choose = None
        self.samples = DEFAULT_SAMPLES
        self.log_factor = 10
        self.decay_time = 1
        self.used = 0
        # Trackers with dirty keys, settled after the command.
        self.pending = []
        # (score, db index, key), ascending: the best candidate is last.
        self.pool = []
        self.next_db = 0
        # Redis's pre_command_oom_state: was the store over the limit (and
        # unable to evict) when the current command started? Scripts read it.
        self.oom_at_start = False

    # -- LFU arithmetic (Redis's evict.c) -----------------------------------
    def lfu_minutes(self):
        return (self.clock_ms() // 60_000) & LFU_MINUTES_MASK

    def lfu_decayed(self, packed, now_minutes):
        """The counter minus one per decay period elapsed (LFUDecrAndReturn)."""
        counter = packed & 0xFF
        if not self.decay_time:
            return counter
        last = packed >> 8
        if now_minutes >= last:
            elapsed = now_minutes - last
        else:  # the 16-bit minute clock wrapped (Redis's LFUTimeElapsed)
            elapsed = LFU_MINUTES_MASK - last + now_minutes
        periods = elapsed // self.decay_time
        return counter - periods if periods < counter else 0

    def lfu_incremented(self, packed):
        """An access: decay, then the logarithmic increment (LFULogIncr)."""
        now = self.lfu_minutes()
        counter = self.lfu_decayed(packed, now)
        if counter < LFU_COUNTER_MAX:
            base = counter - LFU_INIT_VAL
            if base < 0:
                base = 0
            if random.random() < 1.0 / (base * self.log_factor + 1):
                counter += 1
        return now << 8 | counter

    # -- accounting -----------------------------------------------------------
    def settle(self):
        """Re-measure every key written since the last settle."""
        pending = self.pending
        while pending:
            pending.pop().settle()

    def enforce(self, dbs):
        """Evict until at or under maxmemory; False if the policy ran out of
        keys to evict first."""
        self.settle()
        while self.used > self.maxmemory:
            if not self.evict_one(dbs):
                return False
        return True

    # -- admission: before a command ----------------------------------------
    def _out_of_memory(self, dbs):
        """Over the limit even after evicting what the policy allows?"""
        if self.pending:
            self.settle()
        return self.used > self.maxmemory and not self.enforce(dbs)

    def admit(self, dbs, denyoom):
        """A client fast path is about to write: evict if over the limit; if
        that is not enough, refuse a denyoom write (raise OOM)."""
        if self._out_of_memory(dbs) and denyoom:
            raise CommandError(OOM)

    def admit_command(self, session, cmd):
        """Redis's maxmemory check in processCommand, for ``dispatch``."""
        out_of_memory = self.oom_at_start = self._out_of_memory(session.store.dbs)
        if not out_of_memory:
            return
        queue = session.multi
        if queue is not None and cmd.name not in _ALLOWED_IN_MULTI_WHEN_OOM:
            session.multi_failed = True  # Redis's flagTransaction
            raise CommandError(OOM)
        if "denyoom" in cmd.flags:
            raise CommandError(OOM)
        if cmd.name == "exec" and queue and any("denyoom" in queued.flags
                                                for queued, _ in queue):
            discard_transaction(session)
            raise CommandError(EXECABORT_OOM)

    def finish(self, dbs):
        """After a command: settle its writes, evict down to the limit."""
        pending = self.pending
        while pending:
            pending.pop().settle()
        if self.used > self.maxmemory:
            self.enforce(dbs)

    # -- eviction --------------------------------------------------------------
    def set_policy(self, policy):
        """Select how victims are chosen: ``_choose(self, dbs)`` (a plain
        function, so that the limit holds no bound method of itself)."""
        self.pool.clear()  # scores of another policy mean something else
        self.policy = policy
        self.volatile = policy.startswith("volatile-")
        if policy == "noeviction":
            self._choose = None
        elif policy == "allkeys-lru":
            self._choose = MemoryLimit._least_recently_used
        elif policy.endswith("-random"):
            self._choose = MemoryLimit._random_key
        else:
            self._choose = MemoryLimit._best_of_pool

    def evict_one(self, dbs):
        """Evict one key chosen by the policy; False if there is none."""
        choose = self._choose
        victim = None if choose is None else choose(self, dbs)
        if victim is None:
            return False
        index, key = victim
        ks = dbs[index]
        ks.delete(key)
        self.stats["evicted_keys"] += 1
        emit(ks, EVICTED, b"evicted", key)
        return True

    def _least_recently_used(self, dbs):
        """The first key of the db whose first key was accessed longest ago."""
        best = None
        for index, ks in enumerate(dbs):
            access = ks.memory.access
            if access:
                key = next(iter(access))
                when = access[key]
                if best is None or when < best[0]:
                    best = (when, index, key)
        return None if best is None else best[1:]

    def _random_key(self, dbs):
        count = len(dbs)
        volatile = self.volatile
        for _ in range(count):
            self.next_db = index = (self.next_db + 1) % count
            keys = dbs[index].memory.sample(volatile, 1)
            if keys:
                return index, keys[0]
        return None

    def _best_of_pool(self, dbs):
        """Redis's evictionPoolPopulate + pick, until a live key is found."""
        pool = self.pool
        volatile = self.volatile
        ttl = self.policy == "volatile-ttl"
        while True:
            now = self.clock_ms()
            sampled = False
            for index, ks in enumerate(dbs):
                tracker = ks.memory
                expires = tracker.expires
                if not (expires if volatile else tracker.data):
                    continue
                sampled = True
                for key in tracker.sample(volatile, self.samples):
                    score = -expires[key] if ttl else tracker.eviction_score(key, now)
                    self._pool_add((score, index, key))
            if not sampled:
                return None
            while pool:
                _, index, key = pool.pop()
                tracker = dbs[index].memory
                if key in (tracker.expires if volatile else tracker.data):
                    return index, key

    def _pool_add(self, entry):
        pool = self.pool
        if len(pool) >= EVICTION_POOL_SIZE:
            if entry <= pool[0]:
                return
            del pool[0]
        insort(pool, entry)


# -- what the rest of minikv calls ---------------------------------------------
def configure(store):
    """Apply the maxmemory settings of ``store.config`` (CONFIG SET calls
    this, and the client constructor). Evicts at once if over the new limit.

    O(1) unless tracking starts or switches between LRU and LFU data (a
    new policy family), which walks the keys once.
    """
    config = store.config
    maxmemory = config["maxmemory"]
    limit = store.memory
    if not maxmemory:
        if limit is not None:
            store.memory = None
            for ks in store.dbs:
                ks.memory = None
        return
    if limit is None:
        limit = store.memory = MemoryLimit(store.clock.ms, store.stats)
    policy = config["maxmemory-policy"]
    limit.maxmemory = maxmemory
    limit.samples = config["maxmemory-samples"]
    limit.log_factor = config["lfu-log-factor"]
    limit.decay_time = config["lfu-decay-time"]
    if policy != limit.policy:
        limit.set_policy(policy)
    tracker_class = LfuTracker if policy.endswith("-lfu") else LruTracker
    if any(ks.memory.__class__ is not tracker_class for ks in store.dbs):
        limit.pending.clear()
        limit.used = 0
        for ks in store.dbs:
            ks.memory = tracker_class(limit, ks.data, ks.expires)
    limit.enforce(store.dbs)


def limited_write(store, denyoom, write, args):
    """``write(*args)``, a client fast path's engine call, while maxmemory
    is set: what ``dispatch`` does around a command — admit (evict, or raise
    OOM if ``denyoom``), write, serve the blocked clients it made ready,
    settle and evict."""
    limit = store.memory
    if limit.pending or limit.used > limit.maxmemory:
        limit.admit(store.dbs, denyoom)
    try:
        return write(*args)
    finally:
        if store.blocked.ready:
            serve_ready_keys(store)
        limit.finish(store.dbs)


def script_write_refused(store, cmd, script_wrote):
    """Redis's scriptVerifyOOM for redis.call: refuse a denyoom command if
    the store was out of memory when the script started and the script has
    not written yet (after a write, stopping halfway would be worse)."""
    limit = store.memory
    return (limit is not None and limit.oom_at_start and not script_wrote
            and "denyoom" in cmd.flags)
