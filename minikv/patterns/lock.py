"""A distributed lock and a counting semaphore that wake waiters instead of polling.

``Lock`` is a drop-in for redis-py's ``redis.lock.Lock`` — same constructor,
same methods, same errors and messages (``LockError``, ``LockNotOwnedError``,
minikv's classes subclassing redis-py's) — and its lock key is the same:
a string holding the owner's token, with the lock's TTL. So our ``Lock`` and
redis-py's exclude each other on one name. What it adds:

- a **fencing token**: every successful acquire increments ``<name>:fence``
  in the same atomic step and hands the new value to the holder
  (``lock.fencing_token``): strictly increasing per lock name, so a storage
  service can refuse writes carrying a token older than one it has seen
  (a holder whose TTL ran out cannot overwrite its successor's work);
- **no polling**: a waiter blocks in BLPOP on a signal list and is woken by
  the release (below); ``sleep`` is accepted for redis-py compatibility and
  not used;
- ``auto_renew=True``: a daemon thread (an asyncio task for ``AsyncLock``)
  keeps the lock's TTL up while it is held (every ``timeout / 3`` seconds,
  at most ``max_renewals`` times), and stops at release, when ownership is
  lost, or when the lock object is garbage-collected (it holds the lock
  only through a weak reference);
- ``fair=True``: first come, first served among fair waiters;
- ``Semaphore``: at most ``limit`` holders, each with its own token and
  expiry, woken the same way.

Data layout for a lock named ``<name>``::

    <name>                 STRING  the holder's token, with the lock's TTL
    <name>:fence           STRING  integer, INCR'd on every acquire (no TTL:
                                   it must never go back)
    <name>:waiters         ZSET    waiter id -> lease expiry (ms, server time)
    <name>:queue           ZSET    fair waiters: waiter id -> arrival ticket
    <name>:signal          LIST    the wake token of unfair waiters (<= 1)
    <name>:signal:<waiter> LIST    the wake token of the fair queue's head (<= 1)

Every operation is one atomic step (patterns/_atomic.py): one EVALSHA round
trip on a real Redis, one native function under the store lock on minikv;
``locked``/``owned`` are a single GET. Times for expiry decisions (leases,
deadlines) are read by the step from the server (TIME in Lua, the store's
clock natively), never from the client's clock. On a ``ManualClock`` store,
waits therefore end only as that clock moves.

How a waiter is woken (``acquire``). The acquire step tries ``SET NX``. When
the lock is held, the *same step* registers the caller in ``<name>:waiters``
with a lease (``wait_lease`` seconds) and returns how long to wait; the
caller then BLPOPs its signal list (``<name>:signal``, or its own list in
fair mode) for at most that long and retries the step. The release step
deletes the lock and, if anyone is registered, pushes a wake token — also
in one step. Redis (and minikv) hand a pushed element to one blocked BLPOP
client, so a release wakes one waiter, which retries at once.

Why no wake-up is lost. Registration happens atomically with the failed
attempt, so any release after that attempt sees the registration and pushes
a token; the token stays in the list until popped, so a waiter that has not
reached its BLPOP yet finds it there. The woken waiter either takes the
lock or finds it taken by someone else — whose release will push again.
Two fallbacks bound every wait even when a process dies at the wrong
moment: the wait is at most the lock's remaining TTL (+1 ms; an expiry
pushes nothing) and at most ``wait_lease / 2``, after which the waiter
retries, renewing its lease. (A real Redis ends BLPOP timeouts on its cron
tick — every 100 ms at the default ``hz 10`` — so fallbacks and
``blocking_timeout`` fire up to that late there; wake-ups are immediate.)

Why stale tokens cannot accumulate or make a waiter spin. A release pushes
only when someone is registered and the signal list is empty, so a list
holds at most one token; lists carry a TTL of ``wait_lease``. A token only
means "the lock is free": every successful acquire deletes the pending
tokens in the same step. So a waiter that pops a token and still fails to
acquire saw the lock taken after the token was pushed — that acquire removed
all remaining tokens, and the waiter blocks until the next release: each
token causes at most one failed retry, and each failed retry is matched by
another client's successful acquire (progress). (A holder that does not
clear tokens — redis-py's ``Lock`` — can leave one behind: it still costs
each waiter at most one retry, as the list then is empty.)

Fairness (``fair=True``). Fair waiters also join ``<name>:queue``, ordered
by arrival; only the head may take the lock, and a release wakes exactly
the head through its own list. A newcomer finding a queue waits its turn
even if the lock is free. Dead waiters cannot block the queue forever: an
entry whose lease runs out (its waiter stopped renewing it) is dropped by
the next step that runs — live waiters retry every ``wait_lease / 2``, so
within about 1.5 leases — and if that makes a new head while the lock is
free, that step wakes it. Fairness holds among fair users of a name; an
unfair ``Lock`` (or redis-py's) on the same name may overtake the queue.

Mixing with redis-py's ``Lock``: exclusion holds, but its release pushes no
token and its acquire bumps no fence, so our waiters behind it fall back to
the TTL/lease timeouts. The fair waiters' lists are named inside the
steps: all of a lock's keys must live on one server (no Redis Cluster).
A ``redis.Redis`` with a ``socket_timeout`` must allow a BLPOP of
``wait_lease / 2`` seconds.

asyncio: ``AsyncLock`` and ``AsyncSemaphore`` are the same algorithm on
``minikv.asyncio.Redis`` or ``redis.asyncio.Redis``: the same steps (run
with ``AtomicStep.run_async``), arguments, reply reading, keys and errors —
they share all of it with the sync classes (``_LockBase``,
``_SemaphoreBase``, ``_Attempt``) and differ only in how they call and
wait: an awaited BLPOP, which never blocks the event loop, and a renewal
*task* for ``auto_renew``. So sync and async holders of one name exclude
and wake each other. A hold belongs to the asyncio task that took it, as a
sync hold belongs to its thread (``thread_local=False``: to the object).

Cancellation. A waiting task can be cancelled at any await
(``task.cancel()``, ``asyncio.timeout``), or lose its connection. It then
runs one more step, WITHDRAW (SEM_WITHDRAW), shielded from a second
cancellation, that leaves nothing behind: its registration and wake token
go, and if the lock is free the next waiter is woken — so a wake token the
cancelled task had just been handed is not lost (minikv's BLPOP also gives
a served element back on cancellation; on a real Redis the token may be
gone with the dropped connection, and this wake replaces it). If the
cancellation came while an acquire step was in flight — possible on a real
Redis only — that step may have taken the lock or slot with nobody to hear
it: WITHDRAW releases it then (it holds the attempt's token).
"""
import asyncio
import itertools
import logging
import os
import secrets
import threading
import weakref
from types import SimpleNamespace

from minikv.engine.strings import get_string
from minikv.engine.zsets import rank_range, read_zset
from minikv.exceptions import LockError, LockNotOwnedError
from minikv.patterns._atomic import LUA_KEEP_ALIVE, LUA_NOW_MS, AtomicStep, keep_alive
from minikv.patterns._io import new_embedded_client

__all__ = ["AsyncLock", "AsyncSemaphore", "Lock", "Semaphore"]

logger = logging.getLogger(__name__)

# Waiters whose lease ran out are dropped at most this many per step, so a
# step's cost stays bounded after a crowd of waiters died at once.
PRUNE_BATCH = 100

_LUA_COMMON = LUA_NOW_MS + LUA_KEEP_ALIVE + """
-- deadline of a wait: ARGV says how long (ms, -1 forever) on the first try,
-- and carries the deadline itself (0 = not yet known) afterwards
local function wait_deadline(now, blocking, deadline)
  if deadline ~= 0 then return deadline end
  if blocking < 0 then return -1 end
  return now + blocking
end
-- how long a registered waiter blocks before it retries on its own
local function wait_ms(now, deadline, lease, until_free)
  local wait = math.max(1, math.floor(lease / 2))
  if deadline >= 0 and deadline - now < wait then wait = deadline - now end
  if until_free and until_free < wait then wait = until_free end
  return wait
end
"""


def _deadline(now, blocking_ms, deadline):
    if deadline != 0:
        return deadline
    if blocking_ms < 0:
        return -1
    return now + blocking_ms


def _wait_ms(now, deadline, lease, until_free):
    wait = max(1, lease // 2)
    if deadline >= 0 and deadline - now < wait:
        wait = deadline - now
    if until_free is not None and until_free < wait:
        wait = until_free
    return wait


# ---------------------------------------------------------------------------
# Lock steps. KEYS: lock, fence, waiters, queue, signal (see the layout).

_LUA_LOCK = _LUA_COMMON + """
local function box(waiter) return KEYS[5] .. ':' .. waiter end
local function prune(now)
  local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. now, 'LIMIT', 0, %d)
  if #dead == 0 then return end
  redis.call('ZREM', KEYS[3], unpack(dead))
  redis.call('ZREM', KEYS[4], unpack(dead))
  for i = 1, #dead do dead[i] = box(dead[i]) end
  redis.call('DEL', unpack(dead))
end
-- the lock is free: the queue's head, and one unfair waiter, must hear it
local function wake(lease)
  if redis.call('EXISTS', KEYS[1]) == 1 then return end
  local queued = redis.call('ZCARD', KEYS[4])
  if queued > 0 then
    local head = box(redis.call('ZRANGE', KEYS[4], 0, 0)[1])
    if redis.call('LLEN', head) == 0 then
      redis.call('RPUSH', head, 1)
      redis.call('PEXPIRE', head, lease)
    end
  end
  if redis.call('ZCARD', KEYS[3]) > queued and redis.call('LLEN', KEYS[5]) == 0 then
    redis.call('RPUSH', KEYS[5], 1)
    redis.call('PEXPIRE', KEYS[5], lease)
  end
end
-- a waiter stops waiting: its registration and its wake token go, and a
-- free lock is announced to whoever waits on
local function leave(waiter, lease)
  redis.call('ZREM', KEYS[3], waiter)
  if redis.call('ZREM', KEYS[4], waiter) == 1 then redis.call('DEL', box(waiter)) end
  wake(lease)
end
""" % PRUNE_BATCH


def _box(signal, waiter):
    return signal + b":" + waiter


# The native twins skip the commands that would find their key missing or
# change nothing, deciding that with typed reads of the keyspace (no command
# dispatch): the hand-off path — release, then the woken waiter's acquire —
# runs three commands on each side. The outcome is the Lua script's.

def _zcard(ks, key):
    zset = read_zset(ks, key)
    return 0 if zset is None else len(zset.scores)


def _lowest_score(ks, key):
    """The smallest score in the sorted set at ``key``, or None."""
    first = rank_range(ks, key, 0, 0, False)
    return first[0][0] if first else None


def _prune_lock(call, ks, keys, now):
    _, _, waiters, queue, signal = keys
    oldest = _lowest_score(ks, waiters)
    if oldest is None or oldest >= now:
        return
    dead = call("ZRANGEBYSCORE", waiters, "-inf", b"(%d" % now, "LIMIT", 0, PRUNE_BATCH)
    call("ZREM", waiters, *dead)
    if ks.contains(queue):
        call("ZREM", queue, *dead)
    call("DEL", *[_box(signal, waiter) for waiter in dead])


def _wake_lock(call, ks, keys, lease):
    lock, _, waiters, queue, signal = keys
    present = ks.contains
    if present(lock) or not present(waiters):  # every queued waiter is in waiters
        return
    queued = _zcard(ks, queue)
    if queued:
        head = _box(signal, rank_range(ks, queue, 0, 0, False)[0][1])
        if not present(head):
            call("RPUSH", head, 1)
            call("PEXPIRE", head, lease)
    if _zcard(ks, waiters) > queued and not present(signal):
        call("RPUSH", signal, 1)
        call("PEXPIRE", signal, lease)


def _leave_lock(call, ks, keys, waiter, lease):
    _, _, waiters, queue, signal = keys
    present = ks.contains
    if present(waiters):
        call("ZREM", waiters, waiter)
    if present(queue) and call("ZREM", queue, waiter):
        call("DEL", _box(signal, waiter))
    _wake_lock(call, ks, keys, lease)


def _queue_head(ks, queue):
    first = rank_range(ks, queue, 0, 0, False)
    return first[0][1] if first else None


# ACQUIRE: ARGV = token, ttl ms (0: none), waiter id, fair (1/0), blocking ms
# (-1: forever), deadline (0: first try), lease ms.
# {1, fence, deadline} when acquired; {0, wait ms, deadline} when not: wait 0
# means give up (the waiter was deregistered), else block that long and retry.
_ACQUIRE_LUA = _LUA_LOCK + """
local token, ttl, waiter, fair = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
local lease = tonumber(ARGV[7])
local now = now_ms()
local deadline = wait_deadline(now, tonumber(ARGV[5]), tonumber(ARGV[6]))
prune(now)
local head = redis.call('ZRANGE', KEYS[4], 0, 0)[1]
if not fair or not head or head == waiter then
  local taken
  if ttl == '0' then taken = redis.call('SET', KEYS[1], token, 'NX')
  else taken = redis.call('SET', KEYS[1], token, 'NX', 'PX', ttl) end
  if taken then
    redis.call('ZREM', KEYS[3], waiter)
    redis.call('ZREM', KEYS[4], waiter)
    -- the lock is held: every pending wake token is stale now
    redis.call('DEL', KEYS[5], box(waiter))
    head = redis.call('ZRANGE', KEYS[4], 0, 0)[1]
    if head then redis.call('DEL', box(head)) end
    return {1, redis.call('INCR', KEYS[2]), deadline}
  end
end
if deadline >= 0 and now >= deadline then
  leave(waiter, lease)
  return {0, 0, deadline}
end
redis.call('ZADD', KEYS[3], now + lease, waiter)
keep_alive(KEYS[3], lease)
if fair then
  if not redis.call('ZSCORE', KEYS[4], waiter) then
    local last = redis.call('ZRANGE', KEYS[4], -1, -1, 'WITHSCORES')[2]
    redis.call('ZADD', KEYS[4], last and last + 1 or 0, waiter)
    if not head then head = waiter end
  end
  keep_alive(KEYS[4], lease)
end
wake(lease)
local until_free
if not fair or head == waiter then
  local left = redis.call('PTTL', KEYS[1])
  if left >= 0 then until_free = left + 1 end
end
return {0, wait_ms(now, deadline, lease, until_free), deadline}
"""


def _acquire_native(context, keys, args):
    lock, fence, waiters, queue, signal = keys
    token, ttl, waiter, fair, blocking_ms, deadline, lease = args
    call = context.call
    ks = context.keyspace
    present = ks.contains
    now = context.now_ms
    deadline = _deadline(now, blocking_ms, deadline)
    _prune_lock(call, ks, keys, now)
    head = _queue_head(ks, queue)
    if not fair or head is None or head == waiter:
        if ttl:
            taken = call("SET", lock, token, "NX", "PX", ttl)
        else:
            taken = call("SET", lock, token, "NX")
        if taken is not None:
            registered = read_zset(ks, waiters)
            if registered is not None and waiter in registered.scores:
                call("ZREM", waiters, waiter)
            # the lock is held: every pending wake token is stale now
            stale = [box for box in (signal, _box(signal, waiter)) if present(box)]
            if head is not None:
                call("ZREM", queue, waiter)
                head = _queue_head(ks, queue)
                if head is not None and present(_box(signal, head)):
                    stale.append(_box(signal, head))
            if stale:
                call("DEL", *stale)
            return [1, call("INCR", fence), deadline]
    if deadline >= 0 and now >= deadline:
        _leave_lock(call, ks, keys, waiter, lease)
        return [0, 0, deadline]
    call("ZADD", waiters, now + lease, waiter)
    keep_alive(call, waiters, lease)
    if fair:
        if call("ZSCORE", queue, waiter) is None:
            last = call("ZRANGE", queue, -1, -1, "WITHSCORES")
            call("ZADD", queue, int(float(last[1])) + 1 if last else 0, waiter)
            if head is None:
                head = waiter
        keep_alive(call, queue, lease)
    _wake_lock(call, ks, keys, lease)
    until_free = None
    if not fair or head == waiter:
        left = call("PTTL", lock)
        if left >= 0:
            until_free = left + 1
    return [0, _wait_ms(now, deadline, lease, until_free), deadline]


# RELEASE: ARGV = token, lease ms. 1 if released, 0 if not the owner.
_RELEASE_LUA = _LUA_LOCK + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
prune(now_ms())
wake(tonumber(ARGV[2]))
return 1
"""


def _release_native(context, keys, args):
    token, lease = args
    call = context.call
    ks = context.keyspace
    if get_string(ks, keys[0]) != token:
        return 0
    call("DEL", keys[0])
    _prune_lock(call, ks, keys, context.now_ms)
    _wake_lock(call, ks, keys, lease)
    return 1


# WITHDRAW: ARGV = token, waiter id, lease ms, in step (1/0). An acquire that
# stops for good mid-wait (its asyncio task cancelled) leaves nothing behind:
# its registration, its wake token, and — "in step": the acquire step it
# was running when stopped may have taken the lock without its reply
# arriving — the lock, if it holds this call's token. Whoever waits next
# is woken. 1 if the lock was released, else 0.
_WITHDRAW_LUA = _LUA_LOCK + """
local lease = tonumber(ARGV[3])
local released = 0
if ARGV[4] == '1' and redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  released = 1
end
prune(now_ms())
leave(ARGV[2], lease)
return released
"""


def _withdraw_native(context, keys, args):
    token, waiter, lease, in_step = args
    call = context.call
    ks = context.keyspace
    released = 0
    if in_step and get_string(ks, keys[0]) == token:
        call("DEL", keys[0])
        released = 1
    _prune_lock(call, ks, keys, context.now_ms)
    _leave_lock(call, ks, keys, waiter, lease)
    return released


# EXTEND (redis-py's semantics): KEYS = lock; ARGV = token, ms, replace (1/0).
# 1 if the TTL was set to ms (replace) or to its remaining time + ms; 0 if
# not the owner or the lock has no TTL.
_EXTEND_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then return 0 end
local ttl = tonumber(ARGV[2])
if ARGV[3] == '0' then ttl = ttl + left end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""


def _extend_native(context, keys, args):
    token, ms, replace = args
    call = context.call
    if call("GET", keys[0]) != token:
        return 0
    left = call("PTTL", keys[0])
    if left < 0:
        return 0
    call("PEXPIRE", keys[0], ms if replace else ms + left)
    return 1


# REACQUIRE: KEYS = lock; ARGV = token, ms. TTL := ms if the owner (1), else 0.
_REACQUIRE_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


def _reacquire_native(context, keys, args):
    token, ms = args
    if context.call("GET", keys[0]) != token:
        return 0
    context.call("PEXPIRE", keys[0], ms)
    return 1


# RENEW (auto_renew): KEYS = lock; ARGV = token, ms. Like REACQUIRE, but it
# never shortens a TTL that ``extend`` made longer.
_RENEW_LUA = LUA_KEEP_ALIVE + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
keep_alive(KEYS[1], tonumber(ARGV[2]))
return 1
"""


def _renew_native(context, keys, args):
    token, ms = args
    call = context.call
    if call("GET", keys[0]) != token:
        return 0
    keep_alive(call, keys[0], ms)
    return 1


_ACQUIRE = AtomicStep(_ACQUIRE_LUA, _acquire_native)
_RELEASE = AtomicStep(_RELEASE_LUA, _release_native)
_WITHDRAW = AtomicStep(_WITHDRAW_LUA, _withdraw_native)
_EXTEND = AtomicStep(_EXTEND_LUA, _extend_native)
_REACQUIRE = AtomicStep(_REACQUIRE_LUA, _reacquire_native)
_RENEW = AtomicStep(_RENEW_LUA, _renew_native)


# ---------------------------------------------------------------------------
# Semaphore steps. KEYS: holders (ZSET token -> expiry ms), waiters, signal.
# A holder is live while its expiry >= now (a key's rule: expired once now is
# past it); expired holders are reclaimed by the next acquire or release.

# Tokens pending in the signal list never exceed min(free slots, waiters):
# what the acquire step trims to, so a waiter that fails after a wake-up
# found no slot left and no token left either.
_LUA_SEMAPHORE = _LUA_COMMON + """
local function reclaim(now)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. now)
end
local function free_slots(limit) return limit - redis.call('ZCARD', KEYS[1]) end
local function tokens_wanted(limit)
  local free, waiting = free_slots(limit), redis.call('ZCARD', KEYS[2])
  if waiting < free then return waiting end
  return free
end
-- no more pending tokens than wanted
local function trim_tokens(limit)
  local keep = tokens_wanted(limit)
  if keep > 0 then redis.call('LTRIM', KEYS[3], 0, keep - 1) else redis.call('DEL', KEYS[3]) end
end
-- no fewer pending tokens than wanted
local function top_up_tokens(limit, lease)
  local missing = tokens_wanted(limit) - redis.call('LLEN', KEYS[3])
  if missing > 0 then
    for _ = 1, missing do redis.call('RPUSH', KEYS[3], 1) end
    redis.call('PEXPIRE', KEYS[3], lease)
  end
end
"""


def _reclaim(call, present, keys, now):
    floor = b"(%d" % now
    call("ZREMRANGEBYSCORE", keys[0], "-inf", floor)
    if present(keys[1]):
        call("ZREMRANGEBYSCORE", keys[1], "-inf", floor)


def _tokens_wanted(call, present, keys, limit):
    if not present(keys[1]):
        return 0
    return min(limit - call("ZCARD", keys[0]), call("ZCARD", keys[1]))


def _trim_tokens(call, present, keys, limit):
    signal = keys[2]
    if not present(signal):
        return
    keep = _tokens_wanted(call, present, keys, limit)
    if keep > 0:
        call("LTRIM", signal, 0, keep - 1)
    else:
        call("DEL", signal)


def _top_up_tokens(call, present, keys, limit, lease):
    signal = keys[2]
    missing = _tokens_wanted(call, present, keys, limit) - call("LLEN", signal)
    if missing > 0:
        call("RPUSH", signal, *[1] * missing)
        call("PEXPIRE", signal, lease)


# SEM_ACQUIRE: ARGV = token, timeout ms, limit, waiter id, blocking ms,
# deadline, lease ms. Replies as ACQUIRE (slot 2 is 0 when acquired).
_SEM_ACQUIRE_LUA = _LUA_SEMAPHORE + """
local token, timeout, limit, waiter = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local lease = tonumber(ARGV[7])
local now = now_ms()
local deadline = wait_deadline(now, tonumber(ARGV[5]), tonumber(ARGV[6]))
reclaim(now)
if free_slots(limit) > 0 then
  redis.call('ZADD', KEYS[1], now + timeout, token)
  keep_alive(KEYS[1], timeout)
  redis.call('ZREM', KEYS[2], waiter)
  trim_tokens(limit)
  return {1, 0, deadline}
end
if deadline >= 0 and now >= deadline then
  redis.call('ZREM', KEYS[2], waiter)
  return {0, 0, deadline}
end
redis.call('ZADD', KEYS[2], now + lease, waiter)
keep_alive(KEYS[2], lease)
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
return {0, wait_ms(now, deadline, lease, tonumber(first) - now + 1), deadline}
"""


def _sem_acquire_native(context, keys, args):
    holders, waiters, _ = keys
    token, timeout, limit, waiter, blocking_ms, deadline, lease = args
    call = context.call
    present = context.keyspace.contains
    now = context.now_ms
    deadline = _deadline(now, blocking_ms, deadline)
    _reclaim(call, present, keys, now)
    if call("ZCARD", holders) < limit:
        call("ZADD", holders, now + timeout, token)
        keep_alive(call, holders, timeout)
        if present(waiters):
            call("ZREM", waiters, waiter)
        _trim_tokens(call, present, keys, limit)
        return [1, 0, deadline]
    if deadline >= 0 and now >= deadline:
        if present(waiters):
            call("ZREM", waiters, waiter)
        return [0, 0, deadline]
    call("ZADD", waiters, now + lease, waiter)
    keep_alive(call, waiters, lease)
    first = call("ZRANGE", holders, 0, 0, "WITHSCORES")
    return [0, _wait_ms(now, deadline, lease, int(float(first[1])) - now + 1), deadline]


# SEM_RELEASE: ARGV = token, limit, lease ms. 1 if released, 0 if the token
# holds no live slot. Tops the signal list up to the tokens wanted.
_SEM_RELEASE_LUA = _LUA_SEMAPHORE + """
local now = now_ms()
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) < now then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
reclaim(now)
top_up_tokens(tonumber(ARGV[2]), ARGV[3])
return 1
"""


def _sem_release_native(context, keys, args):
    holders = keys[0]
    token, limit, lease = args
    call = context.call
    now = context.now_ms
    expiry = call("ZSCORE", holders, token)
    if expiry is None or float(expiry) < now:
        return 0
    call("ZREM", holders, token)
    present = context.keyspace.contains
    _reclaim(call, present, keys, now)
    _top_up_tokens(call, present, keys, limit, lease)
    return 1


# SEM_WITHDRAW: ARGV = token, waiter id, limit, lease ms, in step (1/0): as
# the lock's WITHDRAW — the registration goes, and the slot too if the
# acquire step that was running took it; the pending tokens are then
# exactly the tokens wanted (a wake-up this waiter was handed passes on).
# 1 if a slot was given back, else 0.
_SEM_WITHDRAW_LUA = _LUA_SEMAPHORE + """
local limit = tonumber(ARGV[3])
local released = 0
if ARGV[5] == '1' then released = redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[2])
reclaim(now_ms())
trim_tokens(limit)
top_up_tokens(limit, ARGV[4])
return released
"""


def _sem_withdraw_native(context, keys, args):
    holders, waiters, _ = keys
    token, waiter, limit, lease, in_step = args
    call = context.call
    present = context.keyspace.contains
    released = call("ZREM", holders, token) if in_step else 0
    if present(waiters):
        call("ZREM", waiters, waiter)
    _reclaim(call, present, keys, context.now_ms)
    _trim_tokens(call, present, keys, limit)
    _top_up_tokens(call, present, keys, limit, lease)
    return released


# SEM_EXTEND: ARGV = token, ms, replace (1/0). The holder's expiry becomes
# now + ms (replace) or its expiry + ms; 1, or 0 if the token holds no live slot.
_SEM_EXTEND_LUA = _LUA_COMMON + """
local now = now_ms()
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry or tonumber(expiry) < now then return 0 end
local new = tonumber(expiry) + tonumber(ARGV[2])
if ARGV[3] == '1' then new = now + tonumber(ARGV[2]) end
redis.call('ZADD', KEYS[1], 'XX', new, ARGV[1])
if new > now then keep_alive(KEYS[1], new - now) end
return 1
"""


def _sem_extend_native(context, keys, args):
    token, ms, replace = args
    call = context.call
    now = context.now_ms
    expiry = call("ZSCORE", keys[0], token)
    if expiry is None or float(expiry) < now:
        return 0
    new = now + ms if replace else int(float(expiry)) + ms
    call("ZADD", keys[0], "XX", new, token)
    if new > now:
        keep_alive(call, keys[0], new - now)
    return 1


# SEM_STATE: ARGV = token ('' for none). {live holders, 1 if token is one}.
_SEM_STATE_LUA = _LUA_COMMON + """
local now = now_ms()
local live = redis.call('ZCOUNT', KEYS[1], now, '+inf')
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if expiry and tonumber(expiry) >= now then return {live, 1} end
return {live, 0}
"""


def _sem_state_native(context, keys, args):
    call = context.call
    now = context.now_ms
    live = call("ZCOUNT", keys[0], now, "+inf")
    expiry = call("ZSCORE", keys[0], args[0])
    return [live, 1 if expiry is not None and float(expiry) >= now else 0]


_SEM_ACQUIRE = AtomicStep(_SEM_ACQUIRE_LUA, _sem_acquire_native)
_SEM_RELEASE = AtomicStep(_SEM_RELEASE_LUA, _sem_release_native)
_SEM_WITHDRAW = AtomicStep(_SEM_WITHDRAW_LUA, _sem_withdraw_native)
_SEM_EXTEND = AtomicStep(_SEM_EXTEND_LUA, _sem_extend_native)
_SEM_STATE = AtomicStep(_SEM_STATE_LUA, _sem_state_native)


# ---------------------------------------------------------------------------
# Client side. Everything the sync classes and their asyncio twins share —
# settings, keys, the steps' arguments, the reading of the steps' replies,
# holds, renewal bookkeeping — is free of I/O and lives here or in the
# ``_LockBase``/``_SemaphoreBase`` classes; ``Lock``/``Semaphore`` and
# ``AsyncLock``/``AsyncSemaphore`` only run the steps and wait, with a call
# or with an await.

def _encode(client, value):
    """A key or token as bytes, encoded as the client would send it."""
    return client.get_encoder().encode(value)


def _milliseconds(seconds, what):
    ms = int(seconds * 1000)
    if ms < 1:
        raise ValueError(f"{what} must be at least 0.001 seconds, got {seconds!r}")
    return ms


def _blocking_ms(blocking, blocking_timeout):
    """How long an acquire may wait, in ms: 0 = one try, -1 = forever."""
    if not blocking:
        return 0
    if blocking_timeout is None:
        return -1
    return max(0, int(blocking_timeout * 1000))


class _UniqueIds:
    """Ids unique across processes without a system call each: a random
    per-process prefix (renewed in a forked child) and a counter. Tokens and
    waiter ids need uniqueness, not secrecy (redis-py's are uuid1)."""

    def __init__(self):
        self._renew()
        os.register_at_fork(after_in_child=self._renew)

    def _renew(self):
        self._prefix = secrets.token_hex(8).encode() + b"-"
        self._counter = itertools.count()

    def __call__(self):
        return self._prefix + b"%x" % next(self._counter)


_unique_id = _UniqueIds()


def _new_token(client, token):
    if token is None:
        return _unique_id()
    return _encode(client, token)


class _Attempt:
    """One ``acquire`` call across its tries: the acquire step's arguments
    (the deadline goes into them once the first try has fixed it), where
    the caller waits between tries, and the outcome.

    Both steps (ACQUIRE, SEM_ACQUIRE) reply ``{acquired, value, deadline}``
    and carry the deadline in ``args[5]``.
    """

    __slots__ = ("token", "waiter", "box", "args", "acquired", "fence", "wait_ms", "in_step")

    def __init__(self, token, waiter, box, args):
        self.token = token
        self.waiter = waiter
        self.box = box  # the signal list this waiter BLPOPs
        self.args = args
        self.acquired = False
        self.fence = None
        self.wait_ms = 0
        # A try's step was sent and its reply not read yet: if the caller is
        # stopped now, the step may have taken the lock for it.
        self.in_step = False

    def next_try(self):
        """The acquire step's arguments for the next try."""
        self.in_step = True
        return self.args

    def record(self, reply):
        """Read a try's reply; True if the caller must now wait up to
        ``wait_ms`` for a token in ``box``, then try again."""
        acquired, value, deadline = reply
        self.in_step = False
        if acquired:
            self.acquired = True
            self.fence = value
            return False
        if not value:
            return False  # out of time; the step has deregistered the waiter
        self.args[5] = deadline
        self.wait_ms = value
        return True


def _acquire(client, step, keys, attempt):
    """Run an acquire to its end on a sync client; True if acquired."""
    while attempt.record(step(client, keys, attempt.next_try())):
        # no polling: a release pushes a token; the wait is a fallback bound
        client.blpop([attempt.box], attempt.wait_ms / 1000)
    return attempt.acquired


async def _acquire_async(client, step, keys, attempt, withdraw, withdrawal_args):
    """``_acquire`` on an asyncio client. However the wait ends early — the
    task cancelled (``task.cancel()``, ``asyncio.timeout``), a broken
    connection — the ``withdraw`` step removes what the attempt left."""
    try:
        while attempt.record(await step.run_async(client, keys, attempt.next_try())):
            # an awaited BLPOP: the event loop runs on while this task waits
            await client.blpop([attempt.box], attempt.wait_ms / 1000)
    except GeneratorExit:  # the coroutine was closed: it may await nothing more
        raise
    except BaseException:
        await _run_to_the_end(withdraw, client, keys, withdrawal_args(attempt))
        raise
    return attempt.acquired


async def _run_to_the_end(step, client, keys, args):
    """Run ``step`` even if the task awaiting it is cancelled again (it is
    shielded). A failure — the server unreachable, most likely what stopped
    the acquire — is logged only: the waiter's lease bounds what it leaves."""
    async def run():
        try:
            await step.run_async(client, keys, args)
        except Exception:
            logger.warning("withdrawing a waiter of %r failed", keys[0], exc_info=True)

    await asyncio.shield(run())


# -- holds ------------------------------------------------------------------------

def _no_hold():
    return SimpleNamespace(token=None, fence=None, renewal=None)


class _ThreadHold(threading.local):
    """A thread's own hold: every thread starts with none (with a plain
    ``threading.local``, as redis-py uses, another thread's ``owned()``
    would raise AttributeError)."""

    token = None
    fence = None
    renewal = None


class _TaskHold:
    """An asyncio task's own hold: the twin of ``_ThreadHold`` — a task is
    to an event loop what a thread is to a process. So tasks sharing one
    ``AsyncLock`` or ``AsyncSemaphore`` each hold (and release) their own.
    Code running outside any task shares one hold.

    Holds are found by the running task, weakly: a finished task's hold goes
    with it. Reading creates nothing.
    """

    __slots__ = ("_holds", "_outside")
    _NONE = _no_hold()  # what a task that never held reads; never written to

    def __init__(self):
        object.__setattr__(self, "_holds", weakref.WeakKeyDictionary())
        object.__setattr__(self, "_outside", _no_hold())

    def _hold(self, create):
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no event loop running in this thread
            task = None
        if task is None:
            return self._outside
        hold = self._holds.get(task)
        if hold is None:
            if not create:
                return self._NONE
            hold = self._holds[task] = _no_hold()
        return hold

    def __getattr__(self, name):
        return getattr(self._hold(False), name)

    def __setattr__(self, name, value):
        setattr(self._hold(True), name, value)


def _hold_state(thread_local, local_hold):
    if thread_local:
        return local_hold()
    return _no_hold()


# -- auto_renew --------------------------------------------------------------------

# Renewals run every TTL / RENEWALS_PER_TTL; that many failing in a row (an
# unreachable server) span a whole TTL, after which the lock is gone anyway.
RENEWALS_PER_TTL = 3


class _RenewalCount:
    """How the renewals of one hold went; ``record`` says whether to go on."""

    __slots__ = ("renewals", "failures")

    def __init__(self):
        self.renewals = 0
        self.failures = 0

    def record(self, key, renewed, error):
        """Book one renewal: ``renewed`` is the RENEW step's reply, or
        ``error`` what it raised. False once renewing is pointless."""
        if error is not None:  # a broken connection: the lock may still be ours
            self.failures += 1
            logger.warning("renewing lock %r failed (%d in a row)", key, self.failures,
                           exc_info=error)
            return self.failures < RENEWALS_PER_TTL
        if not renewed:
            return False  # ownership lost (expired or taken over): nothing to keep
        self.failures = 0
        self.renewals += 1
        return True


class _ThreadRenewal(_RenewalCount):
    """The background renewal of one ``Lock`` hold: a daemon thread.

    The thread holds the ``Lock`` only weakly: a lock object nobody
    references any more can never be released, so its renewal stops and the
    lock runs out by its TTL. It is a daemon thread, so it never keeps the
    process alive.
    """

    __slots__ = ("stopped", "thread")

    def __init__(self, lock, token, ttl_ms, cap):
        super().__init__()
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=_renew_until_stopped,
            args=(weakref.ref(lock), lock.redis, [lock._key], token, ttl_ms, cap, self),
            name=f"minikv-lock-renew:{lock.name}", daemon=True)
        self.thread.start()

    @property
    def running(self):
        return self.thread.is_alive()

    def stop(self):
        self.stopped.set()
        if self.thread is not threading.current_thread():
            self.thread.join()


def _renew_until_stopped(lock_ref, client, keys, token, ttl_ms, cap, renewal):
    interval = ttl_ms / 1000 / RENEWALS_PER_TTL
    while renewal.renewals < cap:
        if renewal.stopped.wait(interval) or lock_ref() is None:
            return
        try:
            renewed, error = _RENEW(client, keys, [token, ttl_ms]), None
        except Exception as exc:
            renewed, error = 0, exc
        if not renewal.record(keys[0], renewed, error):
            return


class _TaskRenewal(_RenewalCount):
    """The background renewal of one ``AsyncLock`` hold: an asyncio task on
    the loop that acquired, holding the lock weakly as ``_ThreadRenewal``
    does. ``stop`` cancels it and waits for it to end."""

    __slots__ = ("task",)

    def __init__(self, lock, token, ttl_ms, cap):
        super().__init__()
        self.task = asyncio.get_running_loop().create_task(
            _renew_in_task(weakref.ref(lock), lock.redis, [lock._key], token, ttl_ms, cap, self),
            name=f"minikv-lock-renew:{lock.name}")

    @property
    def running(self):
        return not self.task.done()

    async def stop(self):
        task = self.task
        if task.done():
            return
        loop = task.get_loop()
        if loop is asyncio.get_running_loop():
            task.cancel()
            await asyncio.wait((task,))
        else:  # released from another loop (thread_local=False): cancel it on its own
            loop.call_soon_threadsafe(task.cancel)


async def _renew_in_task(lock_ref, client, keys, token, ttl_ms, cap, renewal):
    interval = ttl_ms / 1000 / RENEWALS_PER_TTL
    while renewal.renewals < cap:
        await asyncio.sleep(interval)
        if lock_ref() is None:
            return
        try:
            renewed, error = await _RENEW.run_async(client, keys, [token, ttl_ms]), None
        except Exception as exc:
            renewed, error = 0, exc
        if not renewal.record(keys[0], renewed, error):
            return


# -- Lock ---------------------------------------------------------------------------

class _LockBase:
    """What ``Lock`` and ``AsyncLock`` share: the constructor (see
    ``Lock``), the keys, this holder's state, the steps' arguments and the
    errors. No I/O here. A subclass says whether it is the asyncio kind
    (its default client), its local hold (per thread or per task) and its
    auto_renew runner."""

    _async_client = None
    _local_hold = None
    _renewal = None

    def __init__(self, redis, name, timeout=None, sleep=0.1, blocking=True,
                 blocking_timeout=None, thread_local=True, raise_on_release_error=True, *,
                 fair=False, auto_renew=False, max_renewals=100, wait_lease=5.0):
        self.redis = new_embedded_client(self._async_client) if redis is None else redis
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.thread_local = bool(thread_local)
        self.raise_on_release_error = raise_on_release_error
        self.fair = bool(fair)
        self.auto_renew = bool(auto_renew)
        self.max_renewals = max_renewals
        self.wait_lease = wait_lease
        # redis-py: a falsy timeout means no TTL
        self._ttl_ms = _milliseconds(timeout, "timeout") if timeout else 0
        if self.auto_renew:
            if not self._ttl_ms:
                raise ValueError("auto_renew needs a timeout: a lock without one never expires")
            if max_renewals.__class__ is not int or max_renewals < 1:
                raise ValueError(f"max_renewals must be a positive int, got {max_renewals!r}")
        self._lease_ms = _milliseconds(wait_lease, "wait_lease")
        key = self._key = _encode(self.redis, name)
        self._signal = key + b":signal"
        self._keys = [key, key + b":fence", key + b":waiters", key + b":queue", self._signal]
        self.local = _hold_state(self.thread_local, self._local_hold)

    def __repr__(self):
        return (f"<minikv.patterns.{type(self).__name__} {self.name!r} "
                f"timeout={self.timeout!r} fair={self.fair}>")

    # -- this holder's hold (thread- or task-local unless thread_local=False)
    @property
    def fencing_token(self):
        """The fence of this hold (an int, larger than any before it for
        this name), or None when not held here."""
        return self.local.fence

    @property
    def renewals(self):
        """How many times ``auto_renew`` renewed this hold so far."""
        renewal = self.local.renewal
        return 0 if renewal is None else renewal.renewals

    @property
    def renewing(self):
        """Whether ``auto_renew`` is running for this hold."""
        renewal = self.local.renewal
        return renewal is not None and renewal.running

    def _attempt(self, blocking, blocking_timeout, token):
        token = _new_token(self.redis, token)
        if blocking is None:
            blocking = self.blocking
        if blocking_timeout is None:
            blocking_timeout = self.blocking_timeout
        waiter = _unique_id()
        box = _box(self._signal, waiter) if self.fair else self._signal
        args = [token, self._ttl_ms, waiter, 1 if self.fair else 0,
                _blocking_ms(blocking, blocking_timeout), 0, self._lease_ms]
        return _Attempt(token, waiter, box, args)

    def _withdrawal_args(self, attempt):
        return [attempt.token, attempt.waiter, self._lease_ms, 1 if attempt.in_step else 0]

    def _hold(self, attempt):
        local = self.local
        local.token = attempt.token
        local.fence = attempt.fence
        local.renewal = None
        if self.auto_renew:
            local.renewal = self._renewal(self, attempt.token, self._ttl_ms, self.max_renewals)

    def _drop_hold(self):
        """This hold's token and renewal (forgotten here: ``release``)."""
        local = self.local
        token = local.token
        if token is None:
            raise LockError("Cannot release a lock that's not owned or is already unlocked.",
                            lock_name=self.name)
        renewal = local.renewal
        local.token = local.fence = local.renewal = None
        return token, renewal

    def _owns(self, stored):
        """Whether ``stored`` (the lock key's value) is this hold's token."""
        if stored is not None and not isinstance(stored, bytes):
            stored = _encode(self.redis, stored)
        token = self.local.token
        return token is not None and stored == token

    def _check_extensible(self, action):
        if self.local.token is None:
            raise LockError(f"Cannot {action} an unlocked lock", lock_name=self.name)
        if self.timeout is None:
            raise LockError(f"Cannot {action} a lock with no timeout", lock_name=self.name)

    def _extend_args(self, additional_time, replace_ttl):
        self._check_extensible("extend")
        return [self.local.token, int(additional_time * 1000), 1 if replace_ttl else 0]

    def _reacquire_args(self):
        self._check_extensible("reacquire")
        return [self.local.token, int(self.timeout * 1000)]

    def _not_owned(self, action):
        return LockNotOwnedError(f"Cannot {action} a lock that's no longer owned",
                                 lock_name=self.name)

    def _not_acquired(self):
        return LockError("Unable to acquire lock within the time specified", lock_name=self.name)


_NOT_OWNED_ON_EXIT = "Lock was unlocked or no longer owned when exiting context manager."


class Lock(_LockBase):
    """A distributed lock: redis-py's ``Lock`` API, fencing tokens, no polling.

    ``redis`` (the client, named as in redis-py) is a ``minikv.Redis`` or a
    ``redis.Redis`` (None: a new embedded store). The redis-py parameters
    mean what they mean there (``sleep`` is accepted and unused: waiters are
    woken, see the module docstring). Ours, keyword-only:

    - ``fair``: FIFO among fair waiters;
    - ``auto_renew`` (needs ``timeout``): renew the TTL every ``timeout / 3``
      seconds from a daemon thread while held, at most ``max_renewals``
      times per hold (and it gives up after 3 failures in a row: the server
      was unreachable for a whole TTL);
    - ``wait_lease``: seconds a waiter's registration lives without being
      renewed (a waiter renews it every ``wait_lease / 2``): how long a dead
      waiter can hold up a fair queue.

    >>> import minikv
    >>> r = minikv.Redis()
    >>> lock = Lock(r, "report", timeout=30)
    >>> with lock:
    ...     lock.owned(), lock.fencing_token
    (True, 1)
    >>> lock.locked(), lock.fencing_token
    (False, None)
    >>> other = Lock(r, "report", timeout=30, blocking=False)
    >>> lock.acquire(), other.acquire()
    (True, False)
    >>> with other:
    ...     pass
    Traceback (most recent call last):
    ...
    minikv.exceptions.LockError: Unable to acquire lock within the time specified
    >>> lock.release()
    >>> other.acquire(), other.fencing_token   # strictly increasing per name
    (True, 3)
    >>> lock.release()
    Traceback (most recent call last):
    ...
    minikv.exceptions.LockError: Cannot release a lock that's not owned or is already unlocked.
    >>> other.extend(10), other.reacquire()
    (True, True)
    >>> other.release()
    """

    _async_client = False
    _local_hold = _ThreadHold
    _renewal = _ThreadRenewal

    def __enter__(self):
        if self.acquire():
            return self
        raise self._not_acquired()

    def __exit__(self, exc_type, exc_value, traceback):
        try:
            self.release()
        except LockError:
            if self.raise_on_release_error:
                raise
            logger.warning(_NOT_OWNED_ON_EXIT)

    def acquire(self, sleep=None, blocking=None, blocking_timeout=None, token=None):
        """Take the lock; True once held, False if not within the time allowed.

        ``blocking`` and ``blocking_timeout`` default to the constructor's
        (``blocking_timeout`` is measured on the server's clock). ``token``
        is the value stored in the key (default: a unique id).
        ``sleep`` is ignored (no polling). One round trip per attempt, plus
        one BLPOP per wait.
        """
        attempt = self._attempt(blocking, blocking_timeout, token)
        if not _acquire(self.redis, _ACQUIRE, self._keys, attempt):
            return False
        self._hold(attempt)
        return True

    def locked(self):
        """Whether anyone holds the lock (one GET)."""
        return self.redis.get(self.name) is not None

    def owned(self):
        """Whether this thread's token is the one in the lock (one GET)."""
        return self._owns(self.redis.get(self.name))

    def release(self):
        """Release the lock and wake a waiter (one round trip)."""
        token, renewal = self._drop_hold()
        try:
            released = _RELEASE(self.redis, self._keys, [token, self._lease_ms])
        finally:
            if renewal is not None:
                renewal.stop()
        if not released:
            raise self._not_owned("release")

    def extend(self, additional_time, replace_ttl=False):
        """Add ``additional_time`` seconds to the TTL (or make it the TTL
        with ``replace_ttl``); True, or LockNotOwnedError."""
        if not _EXTEND(self.redis, [self._key], self._extend_args(additional_time, replace_ttl)):
            raise self._not_owned("extend")
        return True

    def reacquire(self):
        """Reset the TTL to ``timeout``; True, or LockNotOwnedError."""
        if not _REACQUIRE(self.redis, [self._key], self._reacquire_args()):
            raise self._not_owned("reacquire")
        return True


class AsyncLock(_LockBase):
    """``Lock`` for asyncio: same constructor, same methods (coroutines
    where they do I/O or wait: ``acquire``, ``locked``, ``owned``,
    ``release``, ``extend``, ``reacquire``), same errors, same keys — an
    ``AsyncLock`` and a ``Lock`` on one name exclude each other and wake
    each other's waiters.

    ``redis`` is a ``minikv.asyncio.Redis`` or a ``redis.asyncio.Redis``
    (None: a new embedded store). Waiting is an awaited BLPOP, which never
    blocks the event loop. ``auto_renew`` runs in an asyncio task, cancelled
    at ``release``; it ends by itself when ownership is lost or after
    ``max_renewals``. A hold belongs to the asyncio task that acquired it
    (the twin of thread-local; ``thread_local=False`` makes it the
    object's), so tasks may share one ``AsyncLock``. Mind that before
    Python 3.12 ``asyncio.wait_for(lock.acquire(), t)`` acquires in a task
    of its own: use ``blocking_timeout`` or ``asyncio.timeout`` instead.

    A task cancelled while waiting leaves nothing behind (see the module
    docstring): no registration, and the next waiter is woken.

    >>> import asyncio, minikv.asyncio
    >>> async def main():
    ...     r = minikv.asyncio.Redis()
    ...     lock = AsyncLock(r, "report", timeout=30)
    ...     async with lock:
    ...         print(await lock.owned(), lock.fencing_token)
    ...     other = AsyncLock(r, "report", timeout=30, blocking=False)
    ...     print(await lock.acquire(), await other.acquire(), await lock.locked())
    ...     waiter = asyncio.create_task(AsyncLock(r, "report").acquire())
    ...     await asyncio.sleep(0)          # it waits, woken by the release:
    ...     await lock.release()
    ...     print(await waiter, await other.acquire(blocking_timeout=0))
    >>> asyncio.run(main())
    True 1
    True False True
    True False
    """

    _async_client = True
    _local_hold = _TaskHold
    _renewal = _TaskRenewal

    async def __aenter__(self):
        if await self.acquire():
            return self
        raise self._not_acquired()

    async def __aexit__(self, exc_type, exc_value, traceback):
        try:
            await self.release()
        except LockError:
            if self.raise_on_release_error:
                raise
            logger.warning(_NOT_OWNED_ON_EXIT)

    async def acquire(self, sleep=None, blocking=None, blocking_timeout=None, token=None):
        """Take the lock; True once held, False if not within the time
        allowed (``Lock.acquire``). Cancelling the awaiting task withdraws
        the waiter (one more round trip)."""
        attempt = self._attempt(blocking, blocking_timeout, token)
        if not await _acquire_async(self.redis, _ACQUIRE, self._keys, attempt, _WITHDRAW,
                                    self._withdrawal_args):
            return False
        self._hold(attempt)
        return True

    async def locked(self):
        """Whether anyone holds the lock (one GET)."""
        return await self.redis.get(self.name) is not None

    async def owned(self):
        """Whether this task's token is the one in the lock (one GET)."""
        return self._owns(await self.redis.get(self.name))

    async def release(self):
        """Release the lock and wake a waiter (one round trip)."""
        token, renewal = self._drop_hold()
        try:
            released = await _RELEASE.run_async(self.redis, self._keys, [token, self._lease_ms])
        finally:
            if renewal is not None:
                await renewal.stop()
        if not released:
            raise self._not_owned("release")

    async def extend(self, additional_time, replace_ttl=False):
        """``Lock.extend``."""
        args = self._extend_args(additional_time, replace_ttl)
        if not await _EXTEND.run_async(self.redis, [self._key], args):
            raise self._not_owned("extend")
        return True

    async def reacquire(self):
        """``Lock.reacquire``."""
        if not await _REACQUIRE.run_async(self.redis, [self._key], self._reacquire_args()):
            raise self._not_owned("reacquire")
        return True


# -- Semaphore ----------------------------------------------------------------------

class _SemaphoreBase:
    """What ``Semaphore`` and ``AsyncSemaphore`` share (as ``_LockBase``)."""

    _async_client = None
    _local_hold = None

    def __init__(self, client, name, limit, timeout, *, blocking=True, blocking_timeout=None,
                 thread_local=True, wait_lease=5.0):
        if limit.__class__ is bool or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a positive int, got {limit!r}")
        self.client = new_embedded_client(self._async_client) if client is None else client
        self.name = name
        self.limit = limit
        self.timeout = timeout
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.wait_lease = wait_lease
        self._ttl_ms = _milliseconds(timeout, "timeout")
        self._lease_ms = _milliseconds(wait_lease, "wait_lease")
        key = _encode(self.client, name)
        self._keys = [key, key + b":waiters", key + b":signal"]
        self.local = _hold_state(thread_local, self._local_hold)

    def __repr__(self):
        return (f"<minikv.patterns.{type(self).__name__} {self.name!r} limit={self.limit} "
                f"timeout={self.timeout!r}>")

    def _attempt(self, blocking, blocking_timeout, token):
        token = _new_token(self.client, token)
        if blocking is None:
            blocking = self.blocking
        if blocking_timeout is None:
            blocking_timeout = self.blocking_timeout
        waiter = _unique_id()
        args = [token, self._ttl_ms, self.limit, waiter,
                _blocking_ms(blocking, blocking_timeout), 0, self._lease_ms]
        return _Attempt(token, waiter, self._keys[2], args)

    def _withdrawal_args(self, attempt):
        return [attempt.token, attempt.waiter, self.limit, self._lease_ms,
                1 if attempt.in_step else 0]

    def _token(self, action):
        """This holder's token, or LockError."""
        token = self.local.token
        if token is None:
            raise LockError(f"Cannot {action} a semaphore slot that's not owned",
                            lock_name=self.name)
        return token

    def _drop_token(self):
        token = self._token("release")
        self.local.token = None
        return token

    def _extend_args(self, additional_time, replace_ttl):
        return [self._token("extend"), int(additional_time * 1000), 1 if replace_ttl else 0]

    def _not_owned(self, action):
        return LockNotOwnedError(f"Cannot {action} a semaphore slot that's no longer owned",
                                 lock_name=self.name)

    def _not_acquired(self):
        return LockError("Unable to acquire a semaphore slot within the time specified",
                         lock_name=self.name)


class Semaphore(_SemaphoreBase):
    """At most ``limit`` holders at once, each with its own token and expiry.

    Holders live in the sorted set ``<name>`` (token -> expiry, ms, server
    time); a holder that outlives ``timeout`` seconds without ``extend``
    loses its slot, which the next acquire or release reclaims. Waiters are
    woken as the ``Lock``'s are (``<name>:waiters``, ``<name>:signal``; a
    release tops the signal list up to min(free slots, waiters) tokens, an
    acquire trims it to that). Every instance on one name must use the same
    ``limit``. Tokens are thread-local unless ``thread_local=False``.

    >>> import minikv
    >>> r = minikv.Redis()
    >>> pool = Semaphore(r, "db-connections", limit=2, timeout=60)
    >>> other = Semaphore(r, "db-connections", limit=2, timeout=60, blocking=False)
    >>> pool.acquire(), other.acquire(), pool.count()
    (True, True, 2)
    >>> Semaphore(r, "db-connections", 2, 60).acquire(blocking=False)
    False
    >>> other.release()
    >>> with other:
    ...     other.owned(), pool.count()
    (True, 2)
    >>> pool.release(), pool.count()
    (None, 0)
    """

    _async_client = False
    _local_hold = _ThreadHold

    def __enter__(self):
        if self.acquire():
            return self
        raise self._not_acquired()

    def __exit__(self, exc_type, exc_value, traceback):
        self.release()

    def acquire(self, blocking=None, blocking_timeout=None, token=None):
        """Take a slot; True once held, False if none freed up in time."""
        attempt = self._attempt(blocking, blocking_timeout, token)
        if not _acquire(self.client, _SEM_ACQUIRE, self._keys, attempt):
            return False
        self.local.token = attempt.token
        return True

    def release(self):
        """Give the slot back and wake a waiter."""
        token = self._drop_token()
        if not _SEM_RELEASE(self.client, self._keys, [token, self.limit, self._lease_ms]):
            raise self._not_owned("release")

    def extend(self, additional_time, replace_ttl=False):
        """Push this holder's expiry back by ``additional_time`` seconds (or
        set it that far from now with ``replace_ttl``); True."""
        if not _SEM_EXTEND(self.client, self._keys[:1],
                           self._extend_args(additional_time, replace_ttl)):
            raise self._not_owned("extend")
        return True

    def owned(self):
        """Whether this thread holds a live slot."""
        token = self.local.token
        if token is None:
            return False
        return _SEM_STATE(self.client, self._keys[:1], [token])[1] == 1

    def count(self):
        """How many live holders there are now."""
        return _SEM_STATE(self.client, self._keys[:1], [b""])[0]


class AsyncSemaphore(_SemaphoreBase):
    """``Semaphore`` for asyncio: same constructor, same methods as
    coroutines (``acquire``, ``release``, ``extend``, ``owned``,
    ``count``), ``async with``, same keys — it shares slots with
    ``Semaphore`` instances on the same name. ``client`` is a
    ``minikv.asyncio.Redis`` or a ``redis.asyncio.Redis`` (None: a new
    embedded store). Tokens are task-local unless ``thread_local=False``
    (see ``AsyncLock``), so tasks may share one instance. A task cancelled
    while waiting leaves no registration, and passes on a wake-up it got.

    >>> import asyncio, minikv.asyncio
    >>> async def main():
    ...     r = minikv.asyncio.Redis()
    ...     pool = AsyncSemaphore(r, "db-connections", limit=2, timeout=60)
    ...     inside, most = set(), 0
    ...     async def use(i):
    ...         nonlocal most
    ...         async with pool:
    ...             inside.add(i)
    ...             most = max(most, len(inside))
    ...             await asyncio.sleep(0)          # the others wait meanwhile
    ...             inside.remove(i)
    ...     await asyncio.gather(*[use(i) for i in range(5)])
    ...     print(most, await pool.count())
    >>> asyncio.run(main())
    2 0
    """

    _async_client = True
    _local_hold = _TaskHold

    async def __aenter__(self):
        if await self.acquire():
            return self
        raise self._not_acquired()

    async def __aexit__(self, exc_type, exc_value, traceback):
        await self.release()

    async def acquire(self, blocking=None, blocking_timeout=None, token=None):
        """Take a slot; True once held, False if none freed up in time.
        Cancelling the awaiting task withdraws the waiter."""
        attempt = self._attempt(blocking, blocking_timeout, token)
        if not await _acquire_async(self.client, _SEM_ACQUIRE, self._keys, attempt,
                                    _SEM_WITHDRAW, self._withdrawal_args):
            return False
        self.local.token = attempt.token
        return True

    async def release(self):
        """Give the slot back and wake a waiter."""
        token = self._drop_token()
        if not await _SEM_RELEASE.run_async(self.client, self._keys,
                                            [token, self.limit, self._lease_ms]):
            raise self._not_owned("release")

    async def extend(self, additional_time, replace_ttl=False):
        """``Semaphore.extend``."""
        if not await _SEM_EXTEND.run_async(self.client, self._keys[:1],
                                           self._extend_args(additional_time, replace_ttl)):
            raise self._not_owned("extend")
        return True

    async def owned(self):
        """Whether this task holds a live slot."""
        token = self.local.token
        if token is None:
            return False
        return (await _SEM_STATE.run_async(self.client, self._keys[:1], [token]))[1] == 1

    async def count(self):
        """How many live holders there are now."""
        return (await _SEM_STATE.run_async(self.client, self._keys[:1], [b""]))[0]
