"""Blocking commands: clients that wait for a key to get data (Redis's blocked.c).

BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (engine/lists.py) and BZPOPMIN,
BZPOPMAX, BZMPOP (engine/zsets.py) first try to answer at once; when every
key they name is empty they block here until another client makes one of
those keys ready, or until their timeout. The model is Redis's, with the one
store lock in place of Redis's single thread:

- A blocked call is a ``Waiter`` registered, in FIFO order, on every
  (db index, key) it waits for. Its thread then waits on a
  ``threading.Condition`` built on the store lock, so waiting releases the
  lock and other commands run.
- A command that adds a key to the keyspace calls ``signal_key_ready``
  (Redis signals in dbAdd: a push that creates a list, ZADD creating a
  sorted set, the destination of RENAME/COPY/MOVE, SORT ... STORE to a new
  key). Growing an existing value does not signal, exactly as in Redis 7.0.
  Signalling costs a dict test when nobody waits on anything, and queues
  the key (once) when somebody waits on it.
- Right after that command, still under the lock and before any other
  command runs, ``serve_ready_keys`` (called by ``commands.dispatch`` and by
  client fast paths that push) serves each ready key in the order it became
  ready: its waiters in the order they blocked, as long as the key exists.
  Each waiter's own ``serve(ks, key)`` computes its reply from that key, so
  the pop happens atomically with the push that enabled it; a served waiter
  is removed from all its keys and its thread alone is notified. A serve
  that pushes elsewhere (BLMOVE) signals its destination, which is served in
  turn within the same round.
- So a push of one element wakes exactly one waiter; the others keep
  waiting and are not even woken. A waiter wakes only when served, when it
  times out, or on an error reply meant for it: nothing here polls or sleeps.

What Redis 7.0 does when a waited key changes, and what happens here:

- key deleted or expired: nothing; the clients keep waiting;
- key overwritten with another type (SET, ZADD, ...): the clients keep
  waiting (``serve`` returns None for a type it cannot pop from; a later
  DEL + LPUSH serves them);
- a list renamed, copied or moved onto a waited key, or SWAPDB bringing one
  in: the waiters are served (RENAME/COPY/MOVE signal the destination,
  SWAPDB signals every waited key of both databases via ``signal_database``);
- BLMOVE served while its destination holds another type: that client gets
  the WRONGTYPE error, nothing is popped, and the next waiter is served —
  ``serve`` raises ``CommandError`` for that.

Timeouts. ``parse_timeout`` reads the argument as Redis 7.0 does (a long
double of seconds, rounded *up* to whole milliseconds; 0 blocks forever;
Redis's two errors; a value whose millisecond count overflows a C long long
is "negative" as in Redis, and a deadline beyond int64 blocks forever). A
waiter times out once the store clock is past its deadline (Redis's
``timeout < now``). On the ``SystemClock`` that is a real timed wait. On any
other clock (``ManualClock``) time moves only when told to, so a waiter waits
without a timeout and ``Store.clock_moved`` -> ``BlockedClients.clock_moved``
ends the waits whose deadline the clock has passed — never wall time.

API for command modules (call with the store lock held):

- ``parse_timeout(data)`` -> seconds (float, 0.0 = forever), or raises.
- ``block_on_keys(session, keys, serve, timeout)`` -> the reply ``serve``
  produced, or None on timeout; re-raises a ``CommandError`` that ``serve``
  raised. ``serve(ks, key)`` gets the waiter's database and the ready key and
  returns the reply, or None when it cannot serve from that key now.
- ``signal_key_ready(store, db_index, key)``: after adding ``key`` to the
  keyspace. ``signal_database(store, db_index)``: after replacing a whole db.
- ``serve_ready_keys(store)``: after a command, if ``store.blocked.ready``.

Waiting elsewhere than in the calling thread (minikv.asyncio). A session
whose ``defer_blocking`` is set does not wait in ``block_on_keys``: that
hook is called with the new ``Waiter`` (store lock held) and must set the
waiter's ``condition`` to its own notifier — any object whose ``notify()``
does not block, as it is called with the store lock held by whichever
thread serves the waiter or times it out. The registered waiter is then
returned as the command's reply, and the caller waits for it to be
``done`` (served, errored, or timed out by ``clock_moved``) without the
lock; it must unregister it with ``BlockedClients.remove`` if it stops
waiting first (its own timeout on the wall clock, or a cancellation).
Serving is unchanged: the reply is computed under the lock by the writer,
exactly as for a thread, so a coroutine is served in the same FIFO order.
"""
import math
import threading
from collections import deque

from minikv.clock import SystemClock
from minikv.engine.errors import TIMEOUT_NEGATIVE, TIMEOUT_NOT_FLOAT, CommandError
from minikv.engine.numbers import INT64_MAX, parse_int, parse_long_double
# The exact x87 rounding INCRBYFLOAT uses: Redis multiplies the timeout by
# 1000 in long double before rounding up, and that product is rounded.
from minikv.engine.numbers import _round_long_double

__all__ = ["BlockedClients", "Waiter", "block_on_keys", "parse_timeout", "serve_ready_keys",
           "signal_database", "signal_key_ready"]


def parse_timeout(data):
    """A blocking command's timeout argument, in seconds (0.0: forever).

    Whole milliseconds, rounded up as Redis 7.0 does (``ceill(secs * 1000)``):
    0.0001 waits 1 ms, it does not block forever.
    """
    seconds = parse_int(data)
    if seconds is not None:
        milliseconds = seconds * 1000
    else:
        value = parse_long_double(data)
        if value is None:
            raise CommandError(TIMEOUT_NOT_FLOAT)
        if isinstance(value, float):
            # An infinity: C's (long long) conversion makes it LLONG_MIN.
            raise CommandError(TIMEOUT_NEGATIVE)
        product = _round_long_double(value * 1000)
        if isinstance(product, float):
            raise CommandError(TIMEOUT_NEGATIVE)
        milliseconds = math.ceil(product)
    if not 0 <= milliseconds <= INT64_MAX:
        # Beyond long long range C's conversion gives LLONG_MIN: "negative" too.
        raise CommandError(TIMEOUT_NEGATIVE)
    return milliseconds / 1000


class Waiter:
    """One blocked call: where it waits, how to serve it, how it ended.

    ``condition`` wakes the caller when the wait ends: a
    ``threading.Condition`` on the store lock for a waiting thread, or the
    notifier a ``defer_blocking`` hook set (see the module docstring).
    """

    __slots__ = ("db", "keys", "serve", "deadline", "condition", "done", "reply", "error")

    def __init__(self, db, keys, serve, deadline, condition):
        self.db = db
        self.keys = keys
        self.serve = serve
        self.deadline = deadline  # absolute clock ms, or None: forever
        self.condition = condition
        self.done = False  # served, errored or timed out: stop waiting
        self.reply = None
        self.error = None


class BlockedClients:
    """A store's registry of blocked calls and of keys ready to serve them.

    ``by_key`` maps (db index, key) to the waiters on it, as an insertion-
    ordered dict (FIFO, O(1) removal). ``ready`` holds the keys signalled
    since the last serve, in signal order, each at most once. ``wakeups``
    counts every time a blocked thread resumed from its wait: the tests use
    it to show that waits end only when they should.
    """

    __slots__ = ("by_key", "ready", "_queued", "waiters", "wall_clock", "wakeups")

    def __init__(self, clock):
        self.by_key = {}
        self.ready = deque()
        self._queued = set()
        self.waiters = {}  # every waiter, insertion-ordered
        # Wall time passes by itself; any other clock tells us when it moves.
        self.wall_clock = isinstance(clock, SystemClock)
        self.wakeups = 0

    def __len__(self):
        """How many calls are blocked (Redis's blocked_clients)."""
        return len(self.waiters)

    def add(self, waiter):
        self.waiters[waiter] = None
        by_key = self.by_key
        for key in waiter.keys:
            entry = (waiter.db, key)
            queue = by_key.get(entry)
            if queue is None:
                queue = by_key[entry] = {}
            queue[waiter] = None

    def remove(self, waiter):
        """Unregister ``waiter`` from every key it waits on. O(its keys)."""
        if waiter not in self.waiters:
            return
        del self.waiters[waiter]
        by_key = self.by_key
        for key in waiter.keys:
            entry = (waiter.db, key)
            queue = by_key[entry]
            del queue[waiter]
            if not queue:
                del by_key[entry]

    def finish(self, waiter):
        """End ``waiter``'s wait (its outcome is set) and wake its thread only."""
        self.remove(waiter)
        waiter.done = True
        waiter.condition.notify()

    def signal(self, entry):
        if entry in self.by_key and entry not in self._queued:
            self._queued.add(entry)
            self.ready.append(entry)

    def clock_moved(self, store):
        """A non-wall clock moved: end the waits whose deadline it passed."""
        if not self.waiters:
            return
        with store.lock:
            now = store.clock.ms()
            expired = [waiter for waiter in self.waiters
                       if waiter.deadline is not None and now > waiter.deadline]
            for waiter in expired:
                self.finish(waiter)

    def forget_all(self):
        """Drop every waiter: in a forked child their threads do not exist."""
        self.by_key.clear()
        self.ready.clear()
        self._queued.clear()
        self.waiters.clear()


def signal_key_ready(store, db_index, key):
    """``key`` of db ``db_index`` may now hold data someone is waiting for.

    Call it after every write that adds ``key`` to the keyspace (Redis's
    dbAdd: a push or ZADD creating the value, RENAME/COPY/MOVE destinations,
    STORE forms writing a new key) — not when an existing value grows or is
    overwritten, which Redis 7.0 does not signal either. O(1); a dict test
    when nobody blocks on anything.
    """
    blocked = store.blocked
    if blocked.by_key:
        blocked.signal((db_index, key))


def signal_database(store, db_index):
    """Every waited key of db ``db_index`` that exists is ready (SWAPDB).

    Redis's scanDatabaseForReadyKeys. O(keys waited on in that db).
    """
    blocked = store.blocked
    if not blocked.by_key:
        return
    ks = store.dbs[db_index]
    for entry in list(blocked.by_key):
        if entry[0] == db_index and ks.lookup(entry[1]) is not None:
            blocked.signal(entry)


def serve_ready_keys(store):
    """Serve the waiters of every ready key, FIFO per key (store lock held).

    For each key in the order it became ready, and while it exists, each of
    its waiters in turn gets ``serve(ks, key)``: a reply ends its wait, None
    passes it over (it waits for another type), a ``CommandError`` ends its
    wait with that error. Keys a serve makes ready are served in the same
    round, as in Redis's handleClientsBlockedOnKeys.
    """
    blocked = store.blocked
    ready = blocked.ready
    queued = blocked._queued
    dbs = store.dbs
    while ready:
        entry = ready.popleft()
        queued.discard(entry)
        waiters = blocked.by_key.get(entry)
        if not waiters:
            continue
        db_index, key = entry
        ks = dbs[db_index]
        for waiter in list(waiters):
            if ks.lookup(key) is None:
                break  # emptied (or never there): the rest keep waiting
            try:
                reply = waiter.serve(ks, key)
            except CommandError as exc:
                waiter.error = exc
                blocked.finish(waiter)
                continue
            if reply is not None:
                waiter.reply = reply
                blocked.finish(waiter)


def block_on_keys(session, keys, serve, timeout):
    """Block the calling thread until ``serve`` answers for one of ``keys``.

    Called by a blocking command's handler, store lock held, after its
    immediate attempt found every key empty. ``timeout`` is in seconds as
    ``parse_timeout`` returns it (0 = forever). Returns the reply, or None
    on timeout; raises the ``CommandError`` a serve raised for this client.
    Repeated keys are waited on once, as in Redis.

    Inside EXEC (or a script) ``session.deny_blocking`` is set: the call
    times out at once, as Redis's CLIENT_DENY_BLOCKING makes it. A session
    with ``defer_blocking`` gets the registered ``Waiter`` back instead of
    waiting (see the module docstring).
    """
    if session.deny_blocking:
        return None
    store = session.store
    blocked = store.blocked
    deadline = None
    if timeout:
        deadline = store.clock.ms() + round(timeout * 1000)
        if deadline > INT64_MAX:
            deadline = None  # Redis's int64 deadline wraps: it never fires
    defer = session.defer_blocking
    if defer is not None:
        waiter = Waiter(session.db, tuple(dict.fromkeys(keys)), serve, deadline, None)
        defer(waiter)
        blocked.add(waiter)
        return waiter
    waiter = Waiter(session.db, tuple(dict.fromkeys(keys)), serve, deadline,
                    threading.Condition(store.lock))
    blocked.add(waiter)
    try:
        _wait(store, blocked, waiter)
    finally:
        if not waiter.done:  # timed out on the wall clock, or interrupted
            blocked.remove(waiter)
    if waiter.error is not None:
        raise waiter.error
    return waiter.reply


def _wait(store, blocked, waiter):
    condition = waiter.condition
    deadline = waiter.deadline
    if deadline is None or not blocked.wall_clock:
        while not waiter.done:
            condition.wait()
            blocked.wakeups += 1
        return
    clock = store.clock
    while not waiter.done:
        remaining = deadline - clock.ms()
        if remaining < 0:
            return  # the clock is past the deadline: timed out
        # One ms beyond the deadline, so that waking up finds it passed.
        condition.wait((remaining + 1) / 1000)
        blocked.wakeups += 1
