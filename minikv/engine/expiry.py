"""Active expiry: Redis's adaptive cycle, on a background thread.

Lazy expiry alone never frees a key nobody reads again, so, like Redis's
``activeExpireCycle`` (expire.c), a background thread runs ``hz`` (CONFIG)
times a second:
for each database it checks ``KEYS_PER_LOOP`` keys with a TTL and deletes the
expired ones, and repeats while more than ``ACCEPTABLE_STALE_PERCENT`` of the
checked keys were expired, until the cycle's time budget (``CYCLE_BUDGET_PERCENT``
of the period) is spent, looking at the clock every ``LOOPS_PER_TIME_CHECK``
loops as Redis does. The store lock is taken for those few loops, never for
a whole cycle, so commands interleave with a long cleanup. After a db's loops the
cycle lets it shrink tables that expiries left mostly empty
(``Keyspace.compact``, Redis's tryResizeHashTables), so that memory goes
back once the keys are gone.

Cost (benchmarks/active_expiry.py measures it): each loop is one
``expire_step`` under the lock, which walks the expiry table in place; a
reclaimed key costs ~0.3 µs on the compiled backend and ~0.55 µs on the
pure one, the loop's overhead included. A cycle works for at most its
budget (25 ms at the default hz 10), then the thread waits a full period:
a backlog gets at most 20% of one core (Redis gives its slow cycle 25% of
each tick; the margin covers what a cycle does past its budget, such as
rebuilding a table), and is reclaimed at ~650,000 keys a second compiled,
~400,000 pure.

The thread starts lazily when a keyspace receives its first TTL, parks
without a timeout when no keyspace has one, wakes at once when a manual clock
moves, holds the store only through a weak reference (a collected store ends
it), stops on ``stop()`` and at interpreter exit, and is restarted in a child
process after ``os.fork()`` (threads do not survive fork).
"""
import atexit
import os
import threading
import time
import weakref

KEYS_PER_LOOP = 20
LOOPS_PER_TIME_CHECK = 16
ACCEPTABLE_STALE_PERCENT = 10
CYCLE_BUDGET_PERCENT = 25

_live_expirers = weakref.WeakSet()


class ActiveExpirer:
    __slots__ = ("_store_ref", "_wake", "_thread", "_stopping", "_pid", "__weakref__")

    def __init__(self, store):
        self._store_ref = weakref.ref(store)
        self._wake = threading.Event()
        self._thread = None
        self._stopping = False
        self._pid = os.getpid()
        _live_expirers.add(self)

    @property
    def running(self):
        thread = self._thread
        return thread is not None and thread.is_alive()

    def ensure_running(self):
        """Start the thread if needed and wake it. Cheap when it runs."""
        if self._thread is None or self._pid != os.getpid():
            self._start()
        self._wake.set()

    def wake(self):
        if self._thread is not None:
            self._wake.set()

    def _start(self):
        self._pid = os.getpid()
        self._stopping = False
        self._wake = threading.Event()
        thread = threading.Thread(target=_run, args=(self._store_ref, self._wake, self),
                                  name="minikv-active-expire", daemon=True)
        self._thread = thread
        thread.start()

    def stop(self, timeout=5.0):
        """Stop the thread and wait for it; it restarts on the next TTL."""
        thread = self._thread
        if thread is None:
            return
        self._stopping = True
        self._wake.set()
        if thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def _after_fork_in_child(self):
        # The parent's thread does not exist here; start afresh if needed.
        self._thread = None
        store = self._store_ref()
        if store is not None:
            for ks in store.dbs:
                ks.ttl_armed = False
            if store.has_ttls():
                self._start()


def _run(store_ref, wake, expirer):
    while not expirer._stopping:
        store = store_ref()
        if store is None:
            return
        period = 1.0 / store.config["hz"]
        store.active_expire_cycle(period * CYCLE_BUDGET_PERCENT / 100)
        idle = store.disarm_if_idle()
        del store
        # Park without a timeout while there is nothing to expire: the next
        # TTL finds its keyspace disarmed and sets the event. The timed wait
        # is Redis's cron tick, which also caps each cycle at its share.
        wake.wait(None if idle else period)
        wake.clear()


def run_cycle(store, budget_seconds):
    """One adaptive cycle over all databases; True if it ran out of budget.

    Called with the store lock *not* held: it takes it per loop.
    """
    deadline = time.perf_counter() + budget_seconds
    lock = store.lock
    ms = store.clock.ms
    for ks in store.dbs:
        done = out_of_budget = False
        while not done:
            # Redis looks at the clock every LOOPS_PER_TIME_CHECK loops; the
            # lock is held for as many (a fraction of a millisecond), so
            # commands still interleave with a long cleanup.
            with lock:
                for _ in range(LOOPS_PER_TIME_CHECK):
                    checked, expired = ks.expire_step(ms(), KEYS_PER_LOOP)
                    if checked == 0 or expired * 100 <= checked * ACCEPTABLE_STALE_PERCENT:
                        done = True
                        break
            if not done and time.perf_counter() > deadline:
                out_of_budget = True
                break
        # Also when the budget ran out: if that loop took the db's last TTL,
        # the thread may park next and no later cycle would come here.
        with lock:
            ks.compact()
        if out_of_budget:
            return True
    return False


@atexit.register
def _stop_all():
    for expirer in list(_live_expirers):
        expirer.stop(timeout=1.0)


def _reinit_after_fork():
    for expirer in list(_live_expirers):
        expirer._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_after_fork)
