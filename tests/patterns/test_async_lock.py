"""AsyncLock and AsyncSemaphore (minikv/patterns/lock.py) on both async clients.

Every ``async_backend`` body runs on a ``minikv.asyncio.Redis`` on a manual
clock and on a ``redis.asyncio.Redis`` on the private redis-server. As in
test_lock.py, a waiter on the manual clock is never released by a timeout
the test did not advance to, and on the server the fallback timeouts are
set far beyond the test's bound: a lost wake-up fails the test (the bound
of ``bounded``, or ``asyncio.wait_for`` on the waiters) instead of slowing
it down. A test that needs a waiter to be waiting first awaits INFO's
blocked_clients (``started``).

Beyond the sync suite: holds are per task; tasks in two event loops in two
threads exclude each other; a ``Lock`` and an ``AsyncLock`` exclude (and
wake) each other; cancelling a waiting task leaves nothing behind, even
when the task had just been handed the wake-up; the renewal is a task.
"""
import asyncio
import gc
import logging
import threading

import pytest
from asyncio_support import (LoopThread, blocked_count, bounded, class_doctests, settle, sync_twin,
                             wait_blocked, wait_until)
from redis.exceptions import LockError, LockNotOwnedError
from test_lock import check_bad_arguments

import minikv
import minikv.asyncio
from minikv.patterns import AsyncLock, AsyncSemaphore, Lock, Semaphore
from minikv.patterns import lock as lock_module
from tests.helpers import Call, raises
from tests.patterns.round_trips import RoundTrips

pytest_plugins = ["async_support"]  # the async_backend fixture

WAIT = 10
# The concurrency tests' bound: far below any fallback timeout they configure.
STRESS_SECONDS = 90
LONG_LEASE = 600  # seconds: no fallback wake-up within any test


async def key_names(client):
    return sorted(key.decode() for key in await client.keys("*"))


async def started(coroutine, observer):
    """``coroutine`` as a task, once it is blocked (one more blocked client)."""
    already = await blocked_count(observer)
    task = asyncio.create_task(coroutine)
    await wait_blocked(observer, already + 1)
    return task


def count_trips(backend, client, monkeypatch):
    """Round trips of ``client``, BLPOPs included (minikv.asyncio's blpop
    does not pass through the ``execute_command`` that RoundTrips wraps)."""
    trips = RoundTrips(client, monkeypatch)
    if backend.embedded:
        blpop = client.blpop

        def counted(*args, **kwargs):
            trips.calls.append("BLPOP")
            return blpop(*args, **kwargs)
        monkeypatch.setattr(client, "blpop", counted)
    return trips


def blpops(trips):
    return sum(1 for call in trips.calls if call == "BLPOP")


def test_async_docstrings_run():
    failed, attempted = class_doctests(lock_module, AsyncLock, AsyncSemaphore)
    assert attempted >= 6
    assert failed == 0


# -- the API -----------------------------------------------------------------------------

@bounded()
async def test_acquire_release_locked_owned(async_backend):
    client = async_backend.client
    lock = AsyncLock(client, "res", timeout=10)
    assert await lock.locked() is False
    assert await lock.owned() is False
    assert lock.fencing_token is None
    assert await lock.acquire() is True
    assert await lock.locked() is True
    assert await lock.owned() is True
    assert lock.fencing_token == 1
    assert 9000 < await client.pttl("res") <= 10000
    assert len(await client.get("res")) > 8
    assert await lock.release() is None
    assert await lock.locked() is False
    assert await lock.owned() is False
    assert lock.fencing_token is None
    assert await key_names(client) == ["res:fence"]


@bounded()
async def test_custom_token_no_timeout_and_decoded_client(async_backend):
    lock = AsyncLock(async_backend.client, "res")
    assert await lock.acquire(token="my-token") is True
    assert await async_backend.client.get("res") == b"my-token"
    assert await async_backend.client.pttl("res") == -1
    await lock.release()
    decoded = async_backend.new_client(decode_responses=True)
    lock = AsyncLock(decoded, "res", timeout=10)
    assert await lock.acquire(token="tok") is True
    assert await lock.owned() is True
    assert await decoded.get("res") == "tok"
    await lock.release()
    assert await lock.owned() is False


@bounded()
async def test_async_context_manager(async_backend):
    lock = AsyncLock(async_backend.client, "res", timeout=10)
    async with lock as held:
        assert held is lock
        assert await lock.owned()
        assert lock.fencing_token == 1
    assert not await lock.locked()
    async with lock:
        assert lock.fencing_token == 2
    ran = []
    async with lock:
        with raises(LockError, "Unable to acquire lock within the time specified") as info:
            async with AsyncLock(async_backend.client, "res", blocking=False):
                ran.append(True)
        assert info.value.lock_name == "res"
        assert await lock.owned()
    assert ran == []


@bounded()
async def test_release_errors(async_backend):
    client = async_backend.client
    lock = AsyncLock(client, "res", timeout=10)
    not_owned = "Cannot release a lock that's not owned or is already unlocked."
    with raises(LockError, not_owned) as info:
        await lock.release()
    assert info.value.lock_name == "res"
    await lock.acquire()
    await client.set("res", "someone else")
    with raises(LockNotOwnedError, "Cannot release a lock that's no longer owned"):
        await lock.release()
    with raises(LockError, not_owned):  # the token is forgotten
        await lock.release()
    assert await client.get("res") == b"someone else"


@bounded()
async def test_extend_and_reacquire(async_backend):
    client = async_backend.client
    lock = AsyncLock(client, "res", timeout=10)
    with raises(LockError, "Cannot extend an unlocked lock"):
        await lock.extend(5)
    with raises(LockError, "Cannot reacquire an unlocked lock"):
        await lock.reacquire()
    await lock.acquire()
    assert await lock.extend(5) is True
    assert 14000 < await client.pttl("res") <= 15000
    assert await lock.extend(3, replace_ttl=True) is True
    assert 2000 < await client.pttl("res") <= 3000
    assert await lock.reacquire() is True
    assert 9000 < await client.pttl("res") <= 10000
    await client.set("res", "other", px=10000)
    with raises(LockNotOwnedError, "Cannot extend a lock that's no longer owned"):
        await lock.extend(5)
    with raises(LockNotOwnedError, "Cannot reacquire a lock that's no longer owned"):
        await lock.reacquire()
    forever = AsyncLock(client, "forever")
    await forever.acquire()
    with raises(LockError, "Cannot extend a lock with no timeout"):
        await forever.extend(5)
    with raises(LockError, "Cannot reacquire a lock with no timeout"):
        await forever.reacquire()


@bounded()
async def test_raise_on_release_error_false_logs(async_backend, caplog):
    lock = AsyncLock(async_backend.client, "res", timeout=10, raise_on_release_error=False)
    with caplog.at_level(logging.WARNING, logger="minikv.patterns.lock"):
        async with lock:
            await async_backend.client.delete("res")
    assert "no longer owned" in caplog.text


@bounded()
async def test_holds_are_per_task(async_backend):
    lock = AsyncLock(async_backend.client, "res", timeout=10)
    await lock.acquire()

    async def look():
        return await lock.owned(), lock.fencing_token, lock.renewing

    assert await asyncio.create_task(look()) == (False, None, False)
    with raises(LockError, "Cannot release a lock that's not owned or is already unlocked."):
        await asyncio.create_task(lock.release())
    assert await look() == (True, 1, False)
    await lock.release()
    shared = AsyncLock(async_backend.client, "shared", timeout=10, thread_local=False)
    await asyncio.create_task(shared.acquire())
    assert shared.fencing_token == 1
    await shared.release()  # another task may release it
    assert not await shared.locked()


@bounded()
async def test_one_round_trip_per_operation(async_backend, monkeypatch):
    lock = AsyncLock(async_backend.client, "res", timeout=10)
    sem = AsyncSemaphore(async_backend.client, "sem", 2, 10)
    operations = (lock.acquire, lock.locked, lock.owned, lambda: lock.extend(1),
                  lock.reacquire, lock.release,
                  sem.acquire, sem.owned, sem.count, lambda: sem.extend(1), sem.release)
    for operation in operations:  # the scripts get loaded (NOSCRIPT, SCRIPT LOAD) once
        await operation()
    trips = RoundTrips(async_backend.client, monkeypatch)
    for operation in operations:
        await operation()
        assert len(trips.take()) == 1


def test_constructor_checks_and_default_client():
    check_bad_arguments(AsyncLock, AsyncSemaphore)
    lock = AsyncLock(None, "res", fair=True)
    assert type(lock.redis) is minikv.asyncio.Redis
    assert repr(lock) == "<minikv.patterns.AsyncLock 'res' timeout=None fair=True>"
    assert type(AsyncSemaphore(None, "sem", 1, 10).client) is minikv.asyncio.Redis

    async def use_default():
        async with lock:
            return lock.fencing_token
    assert asyncio.run(use_default()) == 1


# -- with the sync classes -------------------------------------------------------------------

@bounded()
async def test_async_and_sync_locks_exclude_and_wake_each_other(async_backend):
    client = async_backend.client
    sync_client = sync_twin(client)
    try:
        # held by the object: acquired in one task, released in another
        ours = AsyncLock(client, "res", wait_lease=LONG_LEASE, thread_local=False)
        theirs = Lock(sync_client, "res", wait_lease=LONG_LEASE, thread_local=False)
        assert theirs.acquire(blocking=False)
        assert await ours.acquire(blocking=False) is False
        waiter = await started(ours.acquire(), client)
        await asyncio.to_thread(theirs.release)  # a release from a thread wakes the task
        assert await asyncio.wait_for(waiter, WAIT) is True
        assert ours.fencing_token == 2
        assert theirs.acquire(blocking=False) is False
        thread_waiter = Call(theirs.acquire)
        thread_waiter.start()
        await wait_blocked(client, 1)
        await ours.release()  # the task's release wakes the thread
        assert await asyncio.to_thread(thread_waiter.outcome) is True
        assert theirs.fencing_token == 3
        theirs.release()
        sem = AsyncSemaphore(client, "sem", 1, 10)
        assert Semaphore(sync_client, "sem", 1, 10).acquire() is True
        assert await sem.acquire(blocking=False) is False
        assert await sem.count() == 1
    finally:
        sync_client.close()


# -- fencing, expiry, waking -----------------------------------------------------------------

@bounded()
async def test_expired_holder_loses_and_successor_fence_is_larger(async_backend):
    ttl = 0.3
    first = AsyncLock(async_backend.client, "res", timeout=ttl)
    assert await first.acquire()
    second = AsyncLock(async_backend.new_client(), "res", timeout=10, thread_local=False)
    waiter = await started(second.acquire(), async_backend.client)
    # no release: the waiter's wait ends when the TTL runs out
    await async_backend.advance(ttl + 0.05)
    assert await asyncio.wait_for(waiter, WAIT) is True
    assert second.fencing_token == 2
    assert await second.owned() is True
    assert await first.owned() is False
    with raises(LockNotOwnedError, "Cannot release a lock that's no longer owned"):
        await first.release()
    assert await first.acquire(blocking=False) is False


@bounded()
async def test_release_wakes_the_waiter_once(async_backend, monkeypatch):
    holder = AsyncLock(async_backend.client, "res")
    await holder.acquire()
    waiter_client = async_backend.new_client()
    trips = count_trips(async_backend, waiter_client, monkeypatch)
    lock = AsyncLock(waiter_client, "res", wait_lease=LONG_LEASE, thread_local=False)
    waiter = await started(lock.acquire(), async_backend.client)
    assert await key_names(async_backend.client) == ["res", "res:fence", "res:waiters"]
    await holder.release()
    assert await asyncio.wait_for(waiter, WAIT) is True
    # one failed attempt, one BLPOP woken by the release, one attempt that wins
    assert len(trips.calls) == 3
    assert blpops(trips) == 1
    await lock.release()
    assert await key_names(async_backend.client) == ["res:fence"]


@bounded()
async def test_blocking_timeout_gives_up_and_deregisters(async_backend):
    holder = AsyncLock(async_backend.client, "res", timeout=10)
    await holder.acquire()
    lock = AsyncLock(async_backend.new_client(), "res", timeout=10, blocking_timeout=0.2)
    waiter = await started(lock.acquire(), async_backend.client)
    await async_backend.advance(0.25)
    assert await asyncio.wait_for(waiter, WAIT) is False
    assert await key_names(async_backend.client) == ["res", "res:fence"]
    assert await lock.acquire(blocking=False) is False
    assert await lock.acquire(blocking_timeout=0) is False
    await holder.release()
    assert await lock.acquire(blocking=False) is True


async def critical_sections(lock, sections, record):
    """``sections`` times: take ``lock``, let other tasks run, give it back;
    ``record(lock)`` inside says who is in."""
    for _ in range(sections):
        async with lock:
            record.enter(lock.fencing_token)
            await asyncio.sleep(0)  # any task that could enter now, would
            record.leave()


class Sections:
    """Who is inside a critical section, from any thread."""

    def __init__(self):
        self.guard = threading.Lock()
        self.inside = 0
        self.overlaps = 0
        self.fences = []

    def enter(self, fence):
        with self.guard:
            self.inside += 1
            if self.inside > 1:
                self.overlaps += 1
            self.fences.append(fence)

    def leave(self):
        with self.guard:
            self.inside -= 1

    def check(self, total):
        assert self.overlaps == 0
        assert len(self.fences) == total
        assert all(a < b for a, b in zip(self.fences, self.fences[1:]))


@pytest.mark.parametrize("fair", [False, True], ids=["unfair", "fair"])
@bounded(STRESS_SECONDS + WAIT)
async def test_many_tasks_never_two_holders_and_no_lost_wakeups(async_backend, fair):
    tasks, sections = (8, 200) if async_backend.embedded else (6, 40)
    record = Sections()
    # One lock object for all the tasks (holds are per task). No TTL and a
    # long lease: only a release can end a wait in time.
    lock = AsyncLock(async_backend.client, "res", fair=fair, wait_lease=LONG_LEASE)
    await asyncio.wait_for(
        asyncio.gather(*[critical_sections(lock, sections, record) for _ in range(tasks)]),
        STRESS_SECONDS)
    record.check(tasks * sections)
    assert record.fences[-1] == tasks * sections
    assert await key_names(async_backend.client) == ["res:fence"]


@bounded(STRESS_SECONDS + WAIT)
async def test_tasks_in_two_event_loops_in_two_threads():
    clock = minikv.ManualClock(start=1_700_000_000)  # no timeout ever fires
    store = minikv.asyncio.Redis(clock=clock).store
    tasks, sections = 4, 150
    record = Sections()

    async def crowd():
        client = minikv.asyncio.Redis(store=store)
        lock = AsyncLock(client, "res", wait_lease=LONG_LEASE)
        await asyncio.gather(*[critical_sections(lock, sections, record) for _ in range(tasks)])

    other_loop = LoopThread()
    try:
        there = asyncio.wrap_future(other_loop.run_coroutine(crowd()))
        await asyncio.wait_for(asyncio.gather(crowd(), there), STRESS_SECONDS)
    finally:
        other_loop.stop()
    record.check(2 * tasks * sections)
    assert await key_names(minikv.asyncio.Redis(store=store)) == ["res:fence"]


# -- fairness ------------------------------------------------------------------------------

@bounded()
async def test_fair_lock_serves_tasks_in_arrival_order(async_backend):
    holder = AsyncLock(async_backend.client, "res", fair=True, wait_lease=LONG_LEASE)
    await holder.acquire()
    order = []

    async def wait_then_record(i):
        async with AsyncLock(async_backend.new_client(), "res", fair=True,
                             wait_lease=LONG_LEASE):
            order.append(i)
            await asyncio.sleep(0)

    waiters = [await started(wait_then_record(i), async_backend.client) for i in range(4)]
    await holder.release()
    await asyncio.wait_for(asyncio.gather(*waiters), WAIT)
    assert order == [0, 1, 2, 3]
    assert await key_names(async_backend.client) == ["res:fence"]


# -- cancellation ---------------------------------------------------------------------------

@pytest.mark.parametrize("fair", [False, True], ids=["unfair", "fair"])
@bounded()
async def test_cancelled_waiter_leaves_nothing_behind(async_backend, fair):
    client = async_backend.client
    holder = AsyncLock(client, "res", fair=fair, wait_lease=LONG_LEASE)
    await holder.acquire()
    lock = AsyncLock(async_backend.new_client(), "res", fair=fair, wait_lease=LONG_LEASE)
    waiter = await started(lock.acquire(), client)
    assert await client.zcard("res:waiters") == 1
    waiter.cancel()
    assert await settle(waiter)
    await wait_blocked(client, 0)
    assert await key_names(client) == ["res", "res:fence"]  # no registration, no token
    await holder.release()
    assert await key_names(client) == ["res:fence"]
    assert await lock.acquire(blocking=False) is True
    assert lock.fencing_token == 2
    await lock.release()
    # the same through asyncio.timeout, with another waiter behind: it is woken
    await holder.acquire()
    timeouts = []

    async def give_up_when_told():
        async with asyncio.timeout(None) as timeout:
            timeouts.append(timeout)
            await lock.acquire()

    quitter = await started(give_up_when_told(), client)
    behind = await started(AsyncLock(async_backend.new_client(), "res", fair=fair,
                                     wait_lease=LONG_LEASE).acquire(), client)
    timeouts[0].reschedule(asyncio.get_running_loop().time())  # time is up, now
    with pytest.raises(TimeoutError):
        await quitter
    await wait_blocked(client, 1)
    assert await client.zcard("res:waiters") == 1
    await holder.release()
    assert await asyncio.wait_for(behind, WAIT) is True


@pytest.mark.parametrize("fair", [False, True], ids=["unfair", "fair"])
@bounded()
async def test_waiter_cancelled_after_it_was_handed_the_wakeup(fair):
    """minikv: the release serves the first waiter's BLPOP and the task is
    cancelled in the same loop step, before the wake-up reaches it. The
    wake-up passes on to the next waiter — none is lost — and nothing stays."""
    client = minikv.asyncio.Redis(clock=minikv.ManualClock(start=1_700_000_000))
    holder = AsyncLock(client, "res", fair=fair, wait_lease=LONG_LEASE)
    await holder.acquire()
    first = await started(AsyncLock(client, "res", fair=fair, wait_lease=LONG_LEASE).acquire(),
                          client)
    second_lock = AsyncLock(client, "res", fair=fair, wait_lease=LONG_LEASE, thread_local=False)
    second = await started(second_lock.acquire(), client)
    await holder.release()  # runs inline on minikv: the first waiter is served now
    assert await blocked_count(client) == 1
    first.cancel()
    assert await settle(first)
    assert await asyncio.wait_for(second, WAIT) is True
    assert second_lock.fencing_token == 2
    assert await key_names(client) == ["res", "res:fence"]
    assert await blocked_count(client) == 0


@bounded()
async def test_withdraw_steps_release_only_what_a_stopped_step_took(async_backend):
    """A cancellation can reach a task while its acquire step is in flight
    (on a real Redis): the withdrawal then releases the lock (or slot) if
    that step took it, and only then."""
    client = async_backend.client
    keys = AsyncLock(client, "res")._keys
    step, withdraw = lock_module._ACQUIRE, lock_module._WITHDRAW
    assert (await step.run_async(client, keys, [b"tok", 0, b"w1", 0, -1, 0, 600_000]))[0] == 1
    acquired, wait, _ = await step.run_async(client, keys, [b"tok2", 0, b"w2", 0, -1, 0, 600_000])
    assert (acquired, wait > 0) == (0, True)
    assert await withdraw.run_async(client, keys, [b"tok", b"w1", 600_000, 0]) == 0
    assert await client.get("res") == b"tok"
    assert await withdraw.run_async(client, keys, [b"tok2", b"w2", 600_000, 1]) == 0
    assert await key_names(client) == ["res", "res:fence"]  # w2 withdrawn; the lock is tok's
    await step.run_async(client, keys, [b"tok2", 0, b"w2", 0, -1, 0, 600_000])
    assert await withdraw.run_async(client, keys, [b"tok", b"w1", 600_000, 1]) == 1
    assert await client.lrange("res:signal", 0, -1) == [b"1"]  # w2 is woken
    assert await key_names(client) == ["res:fence", "res:signal", "res:waiters"]

    sem_keys = AsyncSemaphore(client, "sem", 1, 10)._keys
    sem_step, sem_withdraw = lock_module._SEM_ACQUIRE, lock_module._SEM_WITHDRAW
    assert (await sem_step.run_async(client, sem_keys,
                                     [b"s1", 10_000, 1, b"w1", -1, 0, 600_000]))[0] == 1
    assert (await sem_step.run_async(client, sem_keys,
                                     [b"s2", 10_000, 1, b"w2", -1, 0, 600_000]))[0] == 0
    assert await sem_withdraw.run_async(client, sem_keys,
                                        [b"s1", b"w1", 1, 600_000, 0]) == 0
    assert await client.zrange("sem", 0, -1) == [b"s1"]
    assert await sem_withdraw.run_async(client, sem_keys,
                                        [b"s1", b"w1", 1, 600_000, 1]) == 1
    assert await client.lrange("sem:signal", 0, -1) == [b"1"]  # w2 is woken
    assert await sem_withdraw.run_async(client, sem_keys,
                                        [b"s2", b"w2", 1, 600_000, 0]) == 0
    assert await key_names(client) == ["res:fence", "res:signal", "res:waiters"]


# -- auto_renew ----------------------------------------------------------------------------

def renewer_tasks(name):
    return [task for task in asyncio.all_tasks()
            if task.get_name() == f"minikv-lock-renew:{name}"]


@bounded()
async def test_auto_renew_keeps_the_lock_past_its_ttl_and_stops_at_release(async_backend):
    ttl = 0.6  # renewed every 0.2 s of real time
    lock = AsyncLock(async_backend.client, "res", timeout=ttl, auto_renew=True)
    await lock.acquire()
    assert lock.renewing
    [task] = renewer_tasks("res")
    for _ in range(3):
        seen = lock.renewals
        await wait_until(lambda: lock.renewals > seen, "a renewal")
        await async_backend.advance(ttl / 2)
    # 3 * ttl / 2 > ttl has passed on the lock's clock: still held
    assert await lock.owned()
    await lock.release()
    assert task.cancelled()
    assert not lock.renewing
    assert renewer_tasks("res") == []


@bounded()
async def test_auto_renew_stops_when_ownership_is_lost(async_backend):
    lock = AsyncLock(async_backend.client, "res", timeout=0.3, auto_renew=True)
    await lock.acquire()
    [task] = renewer_tasks("res")
    await async_backend.client.set("res", "taken over")
    await wait_until(lambda: not lock.renewing, "the renewal task to stop")
    assert task.done() and not task.cancelled()
    with raises(LockNotOwnedError, "Cannot release a lock that's no longer owned"):
        await lock.release()


@bounded()
async def test_auto_renew_cap(async_backend):
    lock = AsyncLock(async_backend.client, "res", timeout=0.3, auto_renew=True, max_renewals=2)
    await lock.acquire()
    await wait_until(lambda: not lock.renewing, "the renewal task to stop")
    assert lock.renewals == 2
    await async_backend.advance(0.35)  # no renewal any more: the TTL runs out
    assert not await lock.owned()


@bounded()
async def test_auto_renew_stops_when_the_lock_object_is_dropped(async_backend):
    lock = AsyncLock(async_backend.client, "dropped", timeout=0.3, auto_renew=True)
    await lock.acquire()
    [task] = renewer_tasks("dropped")
    del lock
    gc.collect()
    await asyncio.wait_for(task, WAIT)


# -- AsyncSemaphore ---------------------------------------------------------------------

@bounded()
async def test_semaphore_basics_and_errors(async_backend):
    client = async_backend.client
    sem = AsyncSemaphore(client, "sem", 2, 10)
    assert await sem.owned() is False
    with raises(LockError, "Cannot release a semaphore slot that's not owned"):
        await sem.release()
    with raises(LockError, "Cannot extend a semaphore slot that's not owned"):
        await sem.extend(1)
    assert await sem.acquire() is True
    assert await sem.owned() is True
    other = AsyncSemaphore(client, "sem", 2, 10)
    assert await asyncio.create_task(other.acquire(token="b")) is True  # its own task
    assert await sem.count() == 2
    assert await AsyncSemaphore(client, "sem", 2, 10).acquire(blocking=False) is False
    with raises(LockError, "Unable to acquire a semaphore slot within the time specified"):
        async with AsyncSemaphore(client, "sem", 2, 10, blocking=False):
            pass
    assert await sem.extend(5) is True
    scores = dict(await client.zrange("sem", 0, -1, withscores=True))
    assert scores[b"b"] + 4000 < max(scores.values()) <= scores[b"b"] + 5000
    await sem.release()
    with raises(LockError, "Cannot release a semaphore slot that's not owned"):
        await sem.release()
    assert await sem.count() == 1
    assert repr(sem) == "<minikv.patterns.AsyncSemaphore 'sem' limit=2 timeout=10>"


@bounded()
async def test_semaphore_reclaims_expired_holders(async_backend):
    client = async_backend.client
    first = AsyncSemaphore(client, "sem", 2, 0.3, thread_local=False)
    second = AsyncSemaphore(client, "sem", 2, 0.3, thread_local=False)
    assert await first.acquire() and await second.acquire()
    assert await AsyncSemaphore(client, "sem", 2, 0.3).acquire(blocking=False) is False
    await async_backend.advance(0.35)
    assert await first.count() == 0
    assert await first.owned() is False
    late = AsyncSemaphore(client, "sem", 2, 10)
    assert await late.acquire(blocking=False) is True
    assert await client.zcard("sem") == 1  # the expired ones were reclaimed
    with raises(LockNotOwnedError, "Cannot release a semaphore slot that's no longer owned"):
        await first.release()
    with raises(LockNotOwnedError, "Cannot extend a semaphore slot that's no longer owned"):
        await second.extend(1)
    await late.release()


@bounded()
async def test_semaphore_wakes_a_waiter_on_release_and_on_expiry(async_backend, monkeypatch):
    client = async_backend.client
    holder = AsyncSemaphore(client, "sem", 1, 0.3, thread_local=False)
    await holder.acquire()
    waiter_client = async_backend.new_client()
    trips = count_trips(async_backend, waiter_client, monkeypatch)
    sem = AsyncSemaphore(waiter_client, "sem", 1, 600, wait_lease=LONG_LEASE, thread_local=False)
    waiter = await started(sem.acquire(), client)
    await async_backend.advance(0.35)  # the holder expires: its expiry ends the wait
    assert await asyncio.wait_for(waiter, WAIT) is True
    waiter = await started(AsyncSemaphore(client, "sem", 1, 600, wait_lease=LONG_LEASE)
                           .acquire(), client)
    trips.take()
    await sem.release()
    assert await asyncio.wait_for(waiter, WAIT) is True
    assert blpops(trips) == 0 and len(trips.calls) == 1  # the release only


@bounded()
async def test_semaphore_blocking_timeout(async_backend):
    holder = AsyncSemaphore(async_backend.client, "sem", 1, 10)
    await holder.acquire()
    sem = AsyncSemaphore(async_backend.new_client(), "sem", 1, 10, blocking_timeout=0.2)
    waiter = await started(sem.acquire(), async_backend.client)
    await async_backend.advance(0.25)
    assert await asyncio.wait_for(waiter, WAIT) is False
    assert await key_names(async_backend.client) == ["sem"]


@bounded(STRESS_SECONDS + WAIT)
async def test_semaphore_limit_under_tasks(async_backend):
    limit = 3
    tasks, rounds = (8, 150) if async_backend.embedded else (8, 25)
    sem = AsyncSemaphore(async_backend.client, "sem", limit, 600, wait_lease=LONG_LEASE)
    inside = set()
    most = [0]

    async def work(i):
        for _ in range(rounds):
            async with sem:
                inside.add(i)
                most[0] = max(most[0], len(inside))
                await asyncio.sleep(0)
                inside.remove(i)

    await asyncio.wait_for(asyncio.gather(*[work(i) for i in range(tasks)]), STRESS_SECONDS)
    assert most[0] == limit
    assert await key_names(async_backend.client) == []


@bounded()
async def test_semaphore_cancelled_waiter_leaves_nothing_behind(async_backend):
    client = async_backend.client
    holder = AsyncSemaphore(client, "sem", 1, 600)
    await holder.acquire()
    sem = AsyncSemaphore(async_backend.new_client(), "sem", 1, 600, wait_lease=LONG_LEASE)
    waiter = await started(sem.acquire(), client)
    behind = await started(AsyncSemaphore(async_backend.new_client(), "sem", 1, 600,
                                          wait_lease=LONG_LEASE, thread_local=False).acquire(),
                           client)
    assert await client.zcard("sem:waiters") == 2
    waiter.cancel()
    assert await settle(waiter)
    await wait_blocked(client, 1)
    assert await client.zcard("sem:waiters") == 1
    assert await key_names(client) == ["sem", "sem:waiters"]
    await holder.release()
    assert await asyncio.wait_for(behind, WAIT) is True
    assert await key_names(client) == ["sem"]
    assert await sem.acquire(blocking=False) is False  # the one slot is taken
    assert await client.exists("sem:waiters") == 0


@bounded()
async def test_semaphore_waiter_cancelled_after_it_was_handed_the_wakeup():
    client = minikv.asyncio.Redis(clock=minikv.ManualClock(start=1_700_000_000))
    holder = AsyncSemaphore(client, "sem", 1, 600)
    await holder.acquire()
    first = await started(AsyncSemaphore(client, "sem", 1, 600, wait_lease=LONG_LEASE)
                          .acquire(), client)
    second_sem = AsyncSemaphore(client, "sem", 1, 600, wait_lease=LONG_LEASE,
                                thread_local=False)
    second = await started(second_sem.acquire(), client)
    await holder.release()  # inline on minikv: the first waiter is served now
    first.cancel()
    assert await settle(first)
    assert await asyncio.wait_for(second, WAIT) is True
    assert await second_sem.owned()
    assert await key_names(client) == ["sem"]
    assert await blocked_count(client) == 0
