"""The store: databases, the lock that makes commands atomic, clock, config.

A ``Store`` is what several clients share (``minikv.Redis(store=r.store)``).
It owns 16 ``Keyspace`` objects (one per logical db), one lock (the
backend's ``StoreLock``: ``threading.Lock`` or the compiled core's
equivalent, which its fast paths take without a method call) held for the
whole of every command, the clock every expiry reads, the
server configuration CONFIG GET/SET see, and the active-expiry thread.

Blocked calls (BLPOP and friends) are registered in ``blocked``
(engine/blocking.py); a manual clock's moves end the waits it timed out.
WATCHes live in each keyspace's ``watched`` (engine/transactions.py);
``orphaned_watches`` holds those of sessions dropped while the lock was
busy, for the next WATCH or EXEC to release.
Pub/sub subscriptions live in ``pubsub`` (engine/pubsub.py):
``store.pubsub.publish(channel, message)`` -> receivers, with the lock held.
Lua scripts and their interpreter live in ``scripts`` (engine/scripting.py).
With maxmemory set, ``memory`` holds the accounting and eviction state
(engine/eviction.py).

Fork safety: before ``os.fork()`` every live store's lock is taken, and it is
released in both parent and child afterwards, so a child never inherits a
store frozen in the middle of another thread's command. The child also
forgets the blocked calls: their threads did not survive the fork, and a push
there must not hand elements to them.
"""
import os
import threading
import time
import weakref

from minikv.backend import Keyspace, StoreLock
from minikv.clock import SystemClock
from minikv.engine import expiry
from minikv.engine.blocking import BlockedClients
from minikv.engine.config import Config
from minikv.engine.pubsub import PubSubBus
from minikv.engine.scan import ScanCursors
from minikv.engine.transactions import touch_all_watched_keys

DATABASES = 16

_live_stores = weakref.WeakSet()


class Store:
    """Shared state behind one or more clients. Thread-safe via ``lock``."""

    def __init__(self, clock=None, databases=DATABASES):
        self.clock = SystemClock() if clock is None else clock
        self.lock = StoreLock()
        self.config = Config(databases=databases)
        # Live sessions (clients): INFO's connected_clients counts them.
        self.sessions = weakref.WeakSet()
        self.scans = ScanCursors()
        self.expirer = expiry.ActiveExpirer(self)
        self.stats = Stats(expired_keys=0, evicted_keys=0)
        # maxmemory's accounting and eviction state (engine/eviction.py):
        # None while maxmemory is 0, as each keyspace's ``memory`` is.
        self.memory = None
        self.blocked = BlockedClients(self.clock)
        self.orphaned_watches = []
        # Channel and pattern subscriptions (engine/pubsub.py); publishing
        # through it never blocks, so it is safe with the lock held.
        self.pubsub = PubSubBus()
        # Lua state and script cache (engine/scripting.py), made by the first
        # scripting command; it holds no reference back to the store.
        self.scripts = None
        # Keyspaces must not reference the store (no cycle: a dropped store
        # is freed at once, and its expiry thread ends).
        self.dbs = [Keyspace(self.clock.ms, self.expirer.ensure_running, self.stats.count_expired)
                    for _ in range(databases)]
        self.started = time.monotonic()
        self.run_id = os.urandom(20).hex()
        self._cycle_done = threading.Condition(threading.Lock())
        self.expire_cycles = 0
        self.clock.subscribe(self)
        _live_stores.add(self)

    # -- expiry --------------------------------------------------------
    def has_ttls(self):
        return any(ks.expires for ks in self.dbs)

    def disarm_if_idle(self):
        """With no TTL anywhere, disarm so the next TTL wakes the thread.

        Checked and disarmed under the lock: a TTL set afterwards finds the
        keyspace disarmed and sets the wake event, so no wake-up is lost.
        """
        with self.lock:
            if self.has_ttls():
                return False
            for ks in self.dbs:
                ks.ttl_armed = False
            return True

    def clock_moved(self):
        """A manual clock moved: let a running active cycle look at once,
        and time out the blocked calls whose deadline it passed."""
        self.expirer.wake()
        self.blocked.clock_moved(self)

    def active_expire_cycle(self, budget_seconds=0.025):
        """Run one adaptive expiry cycle now (the thread calls this too)."""
        expiry.run_cycle(self, budget_seconds)
        with self._cycle_done:
            self.expire_cycles += 1
            self._cycle_done.notify_all()

    def wait_for_expire_cycle(self, after, timeout=5.0):
        """Block until more than ``after`` cycles have run; for tests."""
        with self._cycle_done:
            return self._cycle_done.wait_for(lambda: self.expire_cycles > after, timeout)

    def close(self):
        """Stop the background thread; the next TTL set restarts it."""
        self.expirer.stop()
        with self.lock:
            for ks in self.dbs:
                ks.ttl_armed = False

    # -- keyspace-wide operations --------------------------------------
    def flushall(self):
        for ks in self.dbs:
            touch_all_watched_keys(ks)
            ks.clear()


class Stats(dict):
    """Server counters INFO reports; the keyspaces count expiries into it."""

    __slots__ = ()

    def count_expired(self, keyspace, key):
        self["expired_keys"] += 1


def _lock_all_stores():
    global _locked_at_fork
    _locked_at_fork = sorted(_live_stores, key=id)
    for store in _locked_at_fork:
        store.lock.acquire()


def _unlock_all_stores():
    global _locked_at_fork
    for store in _locked_at_fork:
        store.lock.release()
    _locked_at_fork = []


def _reset_stores_in_child():
    for store in _locked_at_fork:
        store.blocked.forget_all()
    _unlock_all_stores()


_locked_at_fork = []
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_lock_all_stores, after_in_parent=_unlock_all_stores,
                        after_in_child=_reset_stores_in_child)
