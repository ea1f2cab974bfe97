"""MULTI, EXEC, DISCARD, WATCH and UNWATCH (Redis 7.0's multi.c).

Queueing. MULTI gives the session a queue (``session.multi``); from then on
``commands.dispatch`` looks each command up, checks its arity and queues it
("QUEUED"), or answers the lookup error and marks the transaction failed
(``session.multi_failed``, Redis's CLIENT_DIRTY_EXEC). EXEC, DISCARD, MULTI
and WATCH are not queued: they run at once (a nested MULTI and a WATCH
inside MULTI are errors that do not fail the transaction).

Atomicity. EXEC runs the whole queue inside one command, so under the store
lock that the caller of ``dispatch`` holds: no other thread's command runs
between two queued commands. A queued command that fails at run time
(WRONGTYPE...) fails alone: its error takes its place in the reply array
(an ``ArrayWithErrors``) and the others still run. Blocking commands in the
queue answer as if they timed out at once (``session.deny_blocking``), and
clients blocked on keys the transaction filled are served once, after it
(``dispatch`` serves ready keys after EXEC as after any command). Like
Redis, EXEC freezes the expiry clock for its duration: a key alive when
EXEC starts stays alive until it ends (only the dbs holding TTLs at that
moment are frozen: the others never read the clock, except for a TTL set
inside the transaction, which then expires on real time).

WATCH. Each keyspace's ``watched`` dict maps a watched key to its
``KeyWatchers`` (the sessions' ``WatchedKey`` entries, in WATCH order); each
session's ``WatchState`` maps (db, key) to its entries and carries the
"dirty" flag (Redis's CLIENT_DIRTY_CAS). The keyspace core calls
``KeyWatchers.touched`` after every change of a watched key — writes,
deletes, TTL changes, lazy and active expiry — and command modules report
in-place changes with ``ks.signal_modified(key)``; with nothing watched
that is one truth test. Redis's rules, checked against a real 7.0:

- A key modified after WATCH — by anyone, this session included, or by its
  expiry — makes EXEC answer nil, so redis-py raises WatchError. A command
  that changes nothing (SET NX on an existing key, DEL of a missing key,
  PERSIST of a key without TTL) is not a modification.
- A key already expired (but not yet deleted) when WATCH ran is "watched as
  expired": its deletion is no change; being written again is one.
- At EXEC, a watched key that was alive at WATCH and has expired since
  fails the transaction even if nobody deleted it yet.
- FLUSHDB/FLUSHALL touch the watched keys that exist in the flushed db;
  SWAPDB those that exist in either db (``touch_all_watched_keys``).
- A session's first touched key makes it dirty and drops all its watches
  (nothing more can change the outcome); UNWATCH, DISCARD and EXEC clear
  the flag and the watches.

A session dropped while watching (a client or pipeline garbage-collected
without UNWATCH/EXEC/reset) releases its watches from a ``weakref.finalize``
callback; that may run while this thread or another holds the store lock,
so it only takes the lock if it is free, and otherwise leaves the
WatchState in ``store.orphaned_watches`` for the next WATCH or EXEC to
release (until then its entries only cost a dict lookup per write of those
keys).

Costs: WATCH O(keys), a touch O(watchers of the key), EXEC O(queued
commands + watched keys), FLUSHDB/SWAPDB O(watched keys of the db).
"""
import weakref

from minikv.engine.commands import command
from minikv.engine.errors import (
    DISCARD_WITHOUT_MULTI, EXEC_WITHOUT_MULTI, EXECABORT, MULTI_NESTED, WATCH_INSIDE_MULTI,
    ArrayWithErrors, CommandError,
)

__all__ = ["KeyWatchers", "WatchState", "WatchedKey", "discard_transaction",
           "frozen_expiry_clock", "touch_all_watched_keys", "unwatch_all"]

OK = b"OK"


def _is_expired(ks, key):
    """Redis's keyIsExpired: ``key`` has a TTL and it has passed (the key may
    still be in the dict: nobody has looked at it since)."""
    when = ks.expires.get(key)
    return when is not None and ks.clock_ms() > when


class WatchedKey:
    """One session's WATCH on one key of one db."""

    __slots__ = ("ks", "key", "state", "expired")

    def __init__(self, ks, key, state, expired):
        self.ks = ks
        self.key = key
        self.state = state
        # The key was already expired when watched: its deletion changes nothing.
        self.expired = expired


class KeyWatchers(dict):
    """The WATCHes on one key of one db: ``WatchedKey`` -> None, in WATCH order."""

    __slots__ = ()

    def touched(self, ks, key):
        """Redis's touchWatchedKey: called by the keyspace after ``key`` changed."""
        present = key in ks.data
        for entry in list(self):
            if entry.expired:
                if not present:
                    # The expired key was deleted: logically no change.
                    entry.expired = False
                    continue
                if _is_expired(ks, key):
                    # Still the same expired key. (Redis stops at the first
                    # such watcher; the later ones watched the same expired
                    # key, so passing over each is the same.)
                    continue
            state = entry.state
            state.dirty = True
            unwatch_all(state)


class WatchState:
    """A session's watched keys, (db, key) -> WatchedKey, and its dirty flag."""

    __slots__ = ("entries", "dirty")

    def __init__(self):
        self.entries = {}
        self.dirty = False


def unwatch_all(state):
    """Drop every WATCH of ``state`` (the dirty flag is the caller's business)."""
    for entry in state.entries.values():
        watched = entry.ks.watched
        watchers = watched[entry.key]
        del watchers[entry]
        if not watchers:
            del watched[entry.key]
    state.entries.clear()


def touch_all_watched_keys(emptied, replaced_with=None):
    """Redis's touchAllWatchedKeysInDb, before ``emptied`` is flushed (or,
    with ``replaced_with``, swapped with that db by SWAPDB).

    A watched key is touched if it exists in ``emptied`` or in
    ``replaced_with``; a key watched as expired that stays absent or expired
    is not a change, and an absent key replaced by an expired one becomes
    "watched as expired". O(watched keys of ``emptied``).
    """
    watched = emptied.watched
    if not watched:
        return
    for key, watchers in list(watched.items()):
        in_emptied = key in emptied.data
        in_replacement = replaced_with is not None and key in replaced_with.data
        if not (in_emptied or in_replacement):
            continue
        for entry in list(watchers):
            if entry.expired:
                if not in_replacement:
                    entry.expired = False  # the expired key is deleted: no change
                    continue
                if _is_expired(replaced_with, key):
                    continue  # expired before, expired after
            elif not in_emptied and _is_expired(replaced_with, key):
                entry.expired = True  # absent before, an expired key after
                continue
            state = entry.state
            state.dirty = True
            unwatch_all(state)


def _watch_key(session, state, key):
    ks = session.ks
    slot = (session.db, key)
    if slot in state.entries:
        return
    entry = WatchedKey(ks, key, state, _is_expired(ks, key))
    watchers = ks.watched.get(key)
    if watchers is None:
        watchers = ks.watched[key] = KeyWatchers()
    watchers[entry] = None
    state.entries[slot] = entry


def _release_orphaned(store):
    orphans = store.orphaned_watches
    while orphans:
        unwatch_all(orphans.pop())


def _forget_watches(store, state):
    """Finalizer of a session that had watches: release them (see module doc)."""
    if not state.entries:
        return
    lock = store.lock
    if lock.acquire(blocking=False):
        try:
            unwatch_all(state)
        finally:
            lock.release()
    else:
        store.orphaned_watches.append(state)


def discard_transaction(session):
    """Leave MULTI and drop the watches (DISCARD, and every EXEC)."""
    session.multi = None
    session.multi_failed = False
    state = session.watches
    if state is not None:
        state.dirty = False
        if state.entries:
            unwatch_all(state)


def _watched_key_expired(state):
    """Redis's isWatchedKeyExpired: a key alive at WATCH has expired since."""
    for entry in state.entries.values():
        if not entry.expired and _is_expired(entry.ks, entry.key):
            return True
    return False


class frozen_expiry_clock:
    """Context manager: the keyspaces read one fixed time for lazy expiry
    while it is active (EXEC; scripts may use it too). Store lock held."""

    __slots__ = ("store", "saved")

    def __init__(self, store):
        self.store = store
        self.saved = None

    def __enter__(self):
        store = self.store
        timed = [ks for ks in store.dbs if ks.expires]
        if timed:
            # int.__int__ bound to the value: a zero-argument C callable
            # returning it, as cheap to call as the clock it stands in for.
            fixed = store.clock.ms().__int__
            self.saved = [(ks, ks.clock_ms) for ks in timed]
            for ks in timed:
                ks.clock_ms = fixed
        return self

    def __exit__(self, *exc_info):
        if self.saved:
            for ks, clock_ms in self.saved:
                ks.clock_ms = clock_ms
            self.saved = None


# MULTI
@command("multi", 1, "noscript loading stale fast allow_busy")
def cmd_multi(session, args):
    if session.multi is not None:
        raise CommandError(MULTI_NESTED)
    session.multi = []
    return OK


# EXEC
@command("exec", 1, "noscript loading stale skip_slowlog")
def cmd_exec(session, args):
    queue = session.multi
    if queue is None:
        raise CommandError(EXEC_WITHOUT_MULTI)
    _release_orphaned(session.store)
    state = session.watches
    dirty = state is not None and (state.dirty or _watched_key_expired(state))
    failed = session.multi_failed
    # Like Redis, unwatch before running: the transaction's own writes must
    # not touch its watches.
    discard_transaction(session)
    if failed:
        raise CommandError(EXECABORT)
    if dirty:
        return None
    return _run_queue(session, queue)


def _run_queue(session, queue):
    replies = []
    has_errors = False
    denied = session.deny_blocking
    session.deny_blocking = True
    try:
        with frozen_expiry_clock(session.store):
            for cmd, args in queue:
                try:
                    reply = cmd.handler(session, args)
                except CommandError as exc:
                    reply = exc
                    has_errors = True
                else:
                    if reply.__class__ is ArrayWithErrors:
                        has_errors = True
                replies.append(reply)
    finally:
        session.deny_blocking = denied
    return ArrayWithErrors(replies) if has_errors else replies


# DISCARD
@command("discard", 1, "noscript loading stale fast allow_busy")
def cmd_discard(session, args):
    if session.multi is None:
        raise CommandError(DISCARD_WITHOUT_MULTI)
    discard_transaction(session)
    return OK


# WATCH key [key ...]
@command("watch", -2, "noscript loading stale fast allow_busy")
def cmd_watch(session, args):
    if session.multi is not None:
        raise CommandError(WATCH_INSIDE_MULTI)
    store = session.store
    _release_orphaned(store)
    state = session.watches
    if state is None:
        state = session.watches = WatchState()
        weakref.finalize(session, _forget_watches, store, state)
    if state.dirty:
        return OK  # already doomed: watching more changes nothing
    for key in args:
        _watch_key(session, state, key)
    return OK


# UNWATCH
@command("unwatch", 1, "noscript loading stale fast allow_busy")
def cmd_unwatch(session, args):
    state = session.watches
    if state is not None:
        state.dirty = False
        if state.entries:
            unwatch_all(state)
    return OK
