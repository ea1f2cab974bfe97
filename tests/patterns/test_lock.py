"""Lock and Semaphore (minikv/patterns/lock.py) on both backends.

Every body runs on an embedded minikv on a manual clock and on the private
redis-server (``backend`` fixture). On the manual clock a BLPOP's timeout
passes only when the test advances the clock, so there a waiter that is
not woken by a release waits forever: the concurrency tests use that to
make a lost wake-up a failure (a thread still alive at the join), not a
slowdown. On the real server the fallback timeouts are set far beyond the
join timeout for the same reason. Tests that advance time while a thread
waits first wait until it is blocked in its BLPOP.
"""
import doctest
import gc
import logging
import threading
import time

import pytest
import redis.lock
from redis.exceptions import LockError, LockNotOwnedError

from minikv.patterns import Lock, Semaphore
from minikv.patterns import lock as lock_module
from tests.helpers import JOIN_SECONDS, Call, blocked_clients, raises, run_threads, wait_blocked
from tests.patterns.round_trips import RoundTrips

# The concurrency tests join with this: far below any fallback timeout they
# configure, so a waiter that was never woken fails the test.
STRESS_JOIN_SECONDS = 60


def key_names(client):
    return sorted(key.decode() for key in client.keys("*"))


def wait_until(predicate, what):
    deadline = time.monotonic() + JOIN_SECONDS
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def blpops(trips):
    return sum(1 for call in trips.calls if call == "BLPOP")


def run_stress(count, target):
    """``target(i)`` in ``count`` threads released together; none may raise,
    and each must end within STRESS_JOIN_SECONDS (a waiter never woken
    would not)."""
    _, errors = run_threads(count, target, STRESS_JOIN_SECONDS)
    assert errors == [None] * count


def test_class_docstrings_run():
    result = doctest.testmod(lock_module)
    assert result.attempted >= 20
    assert result.failed == 0


# -- the redis-py API ---------------------------------------------------------------------

def test_acquire_release_locked_owned(backend):
    lock = Lock(backend.client, "res", timeout=10)
    assert lock.locked() is False
    assert lock.owned() is False
    assert lock.fencing_token is None
    assert lock.acquire() is True
    assert lock.locked() is True
    assert lock.owned() is True
    assert lock.fencing_token == 1
    assert 9000 < backend.client.pttl("res") <= 10000
    token = backend.client.get("res")
    assert len(token) > 8
    assert lock.release() is None
    assert lock.locked() is False
    assert lock.owned() is False
    assert lock.fencing_token is None
    assert key_names(backend.client) == ["res:fence"]


def test_custom_token_and_no_timeout(backend):
    lock = Lock(backend.client, "res")
    assert lock.acquire(token="my-token") is True
    assert backend.client.get("res") == b"my-token"
    assert backend.client.pttl("res") == -1
    lock.release()


def test_decode_responses_client(backend):
    client = backend.new_client(decode_responses=True)
    lock = Lock(client, "res", timeout=10)
    assert lock.acquire(token="tok") is True
    assert lock.owned() is True
    assert client.get("res") == "tok"
    lock.release()
    assert lock.owned() is False


def test_context_manager(backend):
    lock = Lock(backend.client, "res", timeout=10)
    with lock as held:
        assert held is lock
        assert lock.owned()
        assert lock.fencing_token == 1
    assert not lock.locked()
    with lock:
        assert lock.fencing_token == 2


def test_non_blocking_context_manager_raises_on_contention(backend):
    holder = Lock(backend.client, "res", timeout=10)
    holder.acquire()
    ran = []
    with raises(LockError, "Unable to acquire lock within the time specified") as info:
        with Lock(backend.client, "res", timeout=10, blocking=False):
            ran.append(True)
    assert ran == []
    assert info.value.lock_name == "res"
    assert holder.owned()


def test_release_errors(backend):
    lock = Lock(backend.client, "res", timeout=10)
    not_owned = "Cannot release a lock that's not owned or is already unlocked."
    with raises(LockError, not_owned) as info:
        lock.release()
    assert info.value.lock_name == "res"
    lock.acquire()
    backend.client.set("res", "someone else")
    with raises(LockNotOwnedError, "Cannot release a lock that's no longer owned"):
        lock.release()
    # the token is forgotten: a second release is the "not owned" error
    with raises(LockError, not_owned):
        lock.release()
    assert backend.client.get("res") == b"someone else"


def test_extend_and_reacquire(backend):
    lock = Lock(backend.client, "res", timeout=10)
    with raises(LockError, "Cannot extend an unlocked lock"):
        lock.extend(5)
    with raises(LockError, "Cannot reacquire an unlocked lock"):
        lock.reacquire()
    lock.acquire()
    assert lock.extend(5) is True
    assert 14000 < backend.client.pttl("res") <= 15000
    assert lock.extend(3, replace_ttl=True) is True
    assert 2000 < backend.client.pttl("res") <= 3000
    assert lock.reacquire() is True
    assert 9000 < backend.client.pttl("res") <= 10000
    backend.client.set("res", "other", px=10000)
    with raises(LockNotOwnedError, "Cannot extend a lock that's no longer owned"):
        lock.extend(5)
    with raises(LockNotOwnedError, "Cannot reacquire a lock that's no longer owned"):
        lock.reacquire()


def test_extend_and_reacquire_need_a_timeout(backend):
    lock = Lock(backend.client, "res")
    lock.acquire()
    with raises(LockError, "Cannot extend a lock with no timeout"):
        lock.extend(5)
    with raises(LockError, "Cannot reacquire a lock with no timeout"):
        lock.reacquire()


def test_raise_on_release_error_false_logs(backend, caplog):
    lock = Lock(backend.client, "res", timeout=10, raise_on_release_error=False)
    with caplog.at_level(logging.WARNING, logger="minikv.patterns.lock"):
        with lock:
            backend.client.delete("res")
    assert "no longer owned" in caplog.text


def test_thread_local_tokens(backend):
    lock = Lock(backend.client, "res", timeout=10)
    lock.acquire()
    seen = Call(lambda: (lock.owned(), lock.fencing_token))
    seen.start()
    assert seen.outcome() == (False, None)
    shared = Lock(backend.client, "shared", timeout=10, thread_local=False)
    shared.acquire()
    released = Call(shared.release)  # another thread may release it
    released.start()
    released.outcome()
    assert not shared.locked()


def test_one_round_trip_per_operation(backend, monkeypatch):
    lock = Lock(backend.client, "res", timeout=10)
    operations = (lock.acquire, lock.locked, lock.owned, lambda: lock.extend(1),
                  lock.reacquire, lock.release)
    for operation in operations:  # the scripts get loaded (NOSCRIPT, SCRIPT LOAD) once
        operation()
    trips = RoundTrips(backend.client, monkeypatch)
    for operation in operations:
        operation()
        assert len(trips.take()) == 1


def check_bad_arguments(lock_class, semaphore_class):
    """The argument checks of Lock and Semaphore (and of their async twins)."""
    with pytest.raises(ValueError, match="auto_renew needs a timeout"):
        lock_class(None, "res", auto_renew=True)
    with pytest.raises(ValueError, match="timeout must be at least 0.001 seconds"):
        lock_class(None, "res", timeout=0.0001)
    with pytest.raises(ValueError, match="max_renewals must be a positive int"):
        lock_class(None, "res", timeout=1, auto_renew=True, max_renewals=0)
    with pytest.raises(ValueError, match="limit must be a positive int"):
        semaphore_class(None, "sem", 0, 10)


def test_bad_arguments():
    check_bad_arguments(Lock, Semaphore)


# -- the same scenario with redis-py's own Lock class ----------------------------------------

def lock_scenario(backend, lock_class):
    """Return values and errors of a sequence of Lock calls, as comparable data."""
    outcomes = []

    def record(call):
        try:
            outcomes.append(call())
        except LockError as exc:
            outcomes.append((type(exc).__name__, str(exc), exc.lock_name))

    client = backend.client
    a = lock_class(client, "res", timeout=0.2)
    b = lock_class(client, "res", timeout=0.2)
    record(lambda: a.acquire(blocking=False))
    record(lambda: b.acquire(blocking=False))
    record(lambda: (a.locked(), a.owned(), b.owned()))
    record(lambda: a.extend(0.1))
    record(a.reacquire)
    record(b.release)
    record(lambda: b.extend(1))
    record(b.reacquire)
    backend.advance(0.3)  # a's TTL runs out
    record(lambda: (a.locked(), a.owned()))
    record(lambda: a.extend(1))
    record(a.reacquire)
    record(a.release)
    record(a.release)
    record(lambda: b.acquire(blocking=False, token="b-token"))
    record(lambda: client.get("res"))
    record(lambda: a.acquire(blocking=False))

    def enter_contended():
        with lock_class(client, "res", blocking=False):
            return "ran"
    record(enter_contended)
    record(b.release)
    c = lock_class(client, "forever")
    record(c.acquire)
    record(lambda: c.extend(1))
    record(c.reacquire)
    record(lambda: client.pttl("forever"))
    record(c.release)
    return outcomes


def test_same_results_and_errors_as_redis_py_lock(backend):
    ours = lock_scenario(backend, Lock)
    backend.client.flushall()
    theirs = lock_scenario(backend, redis.lock.Lock)
    assert ours == theirs
    assert ours[0:3] == [True, False, (True, True, False)]
    assert ours[11] == ("LockNotOwnedError", "Cannot release a lock that's no longer owned", "res")


def test_excludes_redis_py_lock_on_the_same_name(backend):
    theirs = redis.lock.Lock(backend.client, "res", timeout=10)
    ours = Lock(backend.client, "res", timeout=10)
    assert theirs.acquire(blocking=False)
    assert not ours.acquire(blocking=False)
    theirs.release()
    assert ours.acquire(blocking=False)
    assert not theirs.acquire(blocking=False)
    ours.release()


# -- fencing, expiry, waiting --------------------------------------------------------------

def test_fencing_tokens_increase_across_holders_and_instances(backend):
    fences = []
    for i in range(5):
        lock = Lock(backend.client, "res", timeout=10)
        with lock:
            fences.append(lock.fencing_token)
    assert fences == [1, 2, 3, 4, 5]
    other = Lock(backend.client, "other", timeout=10)
    with other:
        assert other.fencing_token == 1  # per lock name


def test_expired_holder_loses_and_successor_fence_is_larger(backend):
    ttl = 0.3
    first = Lock(backend.client, "res", timeout=ttl)
    assert first.acquire()
    first_fence = first.fencing_token
    second = Lock(backend.new_client(), "res", timeout=10, thread_local=False)
    waiter = Call(second.acquire)
    waiter.start()
    wait_blocked(backend.client, 1)
    # no release: the waiter wakes when the TTL runs out (its BLPOP timeout)
    backend.advance(ttl + 0.05)
    assert waiter.outcome() is True
    assert second.fencing_token > first_fence
    assert first.owned() is False
    with raises(LockNotOwnedError, "Cannot release a lock that's no longer owned"):
        first.release()
    assert second.owned() is True
    second.release()


def test_release_wakes_the_waiter_once(backend, monkeypatch):
    """The only way out of the wait here is the wake token: on the manual
    clock timeouts never pass, and on the server they are minutes away."""
    holder = Lock(backend.client, "res")
    holder.acquire()
    waiter_client = backend.new_client()
    trips = RoundTrips(waiter_client, monkeypatch)
    lock = Lock(waiter_client, "res", wait_lease=600, thread_local=False)
    waiter = Call(lock.acquire)
    waiter.start()
    wait_blocked(backend.client, 1)
    assert key_names(backend.client) == ["res", "res:fence", "res:waiters"]
    holder.release()
    assert waiter.outcome() is True
    # one failed attempt, one BLPOP woken by the release, one attempt that wins
    assert len(trips.calls) == 3
    assert blpops(trips) == 1
    lock.release()
    assert key_names(backend.client) == ["res:fence"]


def test_blocking_timeout_gives_up_and_deregisters(backend):
    holder = Lock(backend.client, "res", timeout=10)
    holder.acquire()
    lock = Lock(backend.new_client(), "res", timeout=10, blocking_timeout=0.2)
    waiter = Call(lock.acquire)
    waiter.start()
    wait_blocked(backend.client, 1)
    backend.advance(0.25)
    assert waiter.outcome() is False
    assert key_names(backend.client) == ["res", "res:fence"]  # no registration left
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(blocking_timeout=0) is False
    holder.release()


def test_blocking_false_overrides(backend):
    holder = Lock(backend.client, "res", timeout=10)
    holder.acquire()
    lock = Lock(backend.client, "res", timeout=10, blocking=False)
    assert lock.acquire() is False
    assert lock.acquire(blocking=True, blocking_timeout=0) is False
    holder.release()
    assert lock.acquire() is True


def test_at_most_one_token_and_tokens_only_while_free(backend):
    """A registered waiter that never comes (a crashed process, simulated by
    one failed attempt and no BLPOP) makes releases push a token: never more
    than one, deleted by every acquire, and gone once its lease runs out."""
    client = backend.client
    lock = Lock(client, "res", timeout=10, wait_lease=0.4)
    lock.acquire()
    step = lock_module._ACQUIRE
    acquired, wait, _ = step(client, lock._keys, [b"ghost", 10000, b"ghost-id", 0, -1, 0, 400])
    assert acquired == 0 and wait > 0
    assert client.zrange("res:waiters", 0, -1) == [b"ghost-id"]
    for _ in range(3):
        lock.release()
        assert client.llen("res:signal") == 1
        assert 0 < client.pttl("res:signal") <= 400
        lock.acquire()
        assert client.exists("res:signal") == 0  # held: no stale token left
    backend.advance(0.45)  # the ghost's lease runs out
    lock.release()
    assert key_names(client) == ["res:fence"]


def test_a_stale_token_costs_one_retry_not_a_spin(backend, monkeypatch):
    """A token can be left while the lock is held only by a client that does
    not clear it (redis-py's Lock here): a waiter pops it, fails once, and
    blocks until the lock is free — no spinning."""
    client = backend.client
    ours = Lock(client, "res", timeout=10, wait_lease=600)
    ours.acquire()
    lock_module._ACQUIRE(client, ours._keys, [b"ghost", 10000, b"ghost-id", 0, -1, 0, 600_000])
    ours.release()  # pushes a token for the ghost
    theirs = redis.lock.Lock(client, "res", timeout=0.3)
    assert theirs.acquire(blocking=False)  # held, with a token pending
    assert client.llen("res:signal") == 1
    waiter_client = backend.new_client()
    trips = RoundTrips(waiter_client, monkeypatch)
    lock = Lock(waiter_client, "res", timeout=10, wait_lease=600, thread_local=False)
    waiter = Call(lock.acquire)
    waiter.start()
    wait_blocked(client, 1)
    assert client.exists("res:signal") == 0
    assert blpops(trips) == 2  # the stale token, then a real wait
    # redis-py's lock pushes nothing when it expires: the TTL fallback wakes us
    backend.advance(0.35)
    assert waiter.outcome() is True
    assert blpops(trips) == 2
    assert len(trips.calls) == 5  # 3 attempts, 2 waits
    lock.release()


def test_many_threads_never_two_holders_and_no_lost_wakeups(backend):
    threads, sections = (8, 1000) if backend.embedded else (8, 100)
    counter = [0]
    fences = []
    # No TTL and a long lease: only a release can end a wait in time.
    lock = Lock(backend.client, "res", wait_lease=600)

    def work(_):
        for _ in range(sections):
            with lock:
                value = counter[0]
                fences.append(lock.fencing_token)
                time.sleep(0)  # invite another thread in, if it could enter
                counter[0] = value + 1

    run_stress(threads, work)
    assert counter[0] == threads * sections
    assert len(fences) == threads * sections
    assert all(a < b for a, b in zip(fences, fences[1:]))
    assert key_names(backend.client) == ["res:fence"]


def test_many_threads_fair_lock(backend):
    threads, sections = (8, 200) if backend.embedded else (4, 50)
    counter = [0]
    fences = []
    lock = Lock(backend.client, "res", fair=True, wait_lease=600)

    def work(_):
        for _ in range(sections):
            with lock:
                value = counter[0]
                fences.append(lock.fencing_token)
                time.sleep(0)
                counter[0] = value + 1

    run_stress(threads, work)
    assert counter[0] == threads * sections
    assert all(a < b for a, b in zip(fences, fences[1:]))
    assert key_names(backend.client) == ["res:fence"]


# -- fairness ------------------------------------------------------------------------------

def test_fair_lock_serves_waiters_in_arrival_order(backend):
    holder = Lock(backend.client, "res", fair=True, wait_lease=600)
    holder.acquire()
    order = []

    def wait_then_record(i):
        lock = Lock(backend.new_client(), "res", fair=True, wait_lease=600)
        with lock:
            order.append(i)

    waiters = []
    for i in range(4):
        waiter = Call(wait_then_record, i)
        waiter.start()
        wait_blocked(backend.client, i + 1)  # arrival order is start order
        waiters.append(waiter)
    assert backend.client.zrange("res:queue", 0, -1, withscores=True)[0][1] == 0.0
    holder.release()
    for waiter in waiters:
        waiter.outcome()
    assert order == [0, 1, 2, 3]
    assert key_names(backend.client) == ["res:fence"]


def test_fair_newcomer_waits_behind_the_queue(backend):
    holder = Lock(backend.client, "res", fair=True)
    holder.acquire()
    lock_module._ACQUIRE(backend.client, holder._keys, [b"t", 0, b"queued", 1, -1, 0, 5000])
    holder.release()  # free, but "queued" is the head: a newcomer may not barge
    assert Lock(backend.client, "res", fair=True).acquire(blocking=False) is False
    # an unfair lock on the same name may
    assert Lock(backend.client, "res").acquire(blocking=False) is True


def test_dead_fair_waiter_does_not_block_the_queue(backend):
    """A head that never comes back (one attempt, then silence) is dropped
    when its lease runs out, and the next waiter gets the lock."""
    lease = 0.4
    holder = Lock(backend.client, "res", fair=True, wait_lease=lease)
    holder.acquire()
    lock_module._ACQUIRE(backend.client, holder._keys,
                         [b"t", 0, b"dead", 1, -1, 0, int(lease * 1000)])
    lock = Lock(backend.new_client(), "res", fair=True, wait_lease=lease, thread_local=False)
    waiter = Call(lock.acquire)
    waiter.start()
    wait_blocked(backend.client, 1)
    holder.release()  # wakes the dead head only
    assert backend.client.llen(b"res:signal:dead") == 1
    # time passes; the live waiter renews its lease every lease / 2
    deadline = time.monotonic() + JOIN_SECONDS
    while waiter.is_alive():
        assert time.monotonic() < deadline
        if backend.embedded and blocked_clients(backend.client) == 1:
            backend.advance(lease / 2)
        waiter.join(0.01)
    assert waiter.outcome() is True
    assert backend.client.exists(b"res:signal:dead") == 0
    assert backend.client.zrange("res:queue", 0, -1) == []
    lock.release()


# -- auto_renew ----------------------------------------------------------------------------

def renewer_threads(name):
    return [thread for thread in threading.enumerate()
            if thread.name == f"minikv-lock-renew:{name}"]


def test_auto_renew_keeps_the_lock_past_its_ttl_and_stops_at_release(backend):
    ttl = 0.6  # renewed every 0.2 s of real time
    lock = Lock(backend.client, "res", timeout=ttl, auto_renew=True)
    lock.acquire()
    assert lock.renewing
    for _ in range(3):
        seen = lock.renewals
        wait_until(lambda: lock.renewals > seen, "a renewal")
        backend.advance(ttl / 2)
    # 3 * ttl / 2 > ttl has passed on the lock's clock: still held
    assert lock.owned()
    [thread] = renewer_threads("res")
    assert thread.daemon
    lock.release()
    assert not thread.is_alive()
    assert not lock.renewing
    assert renewer_threads("res") == []


def test_auto_renew_stops_when_ownership_is_lost(backend):
    lock = Lock(backend.client, "res", timeout=0.3, auto_renew=True)
    lock.acquire()
    backend.client.set("res", "taken over")
    wait_until(lambda: not lock.renewing, "the renewal thread to stop")
    with raises(LockNotOwnedError, "Cannot release a lock that's no longer owned"):
        lock.release()


def test_auto_renew_cap(backend):
    lock = Lock(backend.client, "res", timeout=0.3, auto_renew=True, max_renewals=2)
    lock.acquire()
    wait_until(lambda: not lock.renewing, "the renewal thread to stop")
    assert lock.renewals == 2
    backend.advance(0.35)  # no renewal any more: the TTL runs out
    assert not lock.owned()


def test_auto_renew_stops_when_the_lock_object_is_dropped(backend):
    lock = Lock(backend.client, "dropped", timeout=0.3, auto_renew=True)
    lock.acquire()
    [thread] = renewer_threads("dropped")
    del lock
    gc.collect()
    thread.join(JOIN_SECONDS)
    assert not thread.is_alive()


# -- Semaphore -----------------------------------------------------------------------------

def test_semaphore_basics_and_errors(backend):
    sem = Semaphore(backend.client, "sem", 2, 10)
    assert sem.owned() is False
    with raises(LockError, "Cannot release a semaphore slot that's not owned"):
        sem.release()
    with raises(LockError, "Cannot extend a semaphore slot that's not owned"):
        sem.extend(1)
    assert sem.acquire() is True
    assert sem.owned() is True
    other = Semaphore(backend.client, "sem", 2, 10)
    assert other.acquire(token="b") is True
    assert sem.count() == 2
    assert Semaphore(backend.client, "sem", 2, 10).acquire(blocking=False) is False
    with raises(LockError, "Unable to acquire a semaphore slot within the time specified"):
        with Semaphore(backend.client, "sem", 2, 10, blocking=False):
            pass
    assert sem.extend(5) is True
    assert other.extend(1, replace_ttl=True) is True
    scores = dict(backend.client.zrange("sem", 0, -1, withscores=True))
    assert scores[b"b"] + 9000 < max(scores.values()) <= scores[b"b"] + 14000
    other.release()
    with raises(LockError, "Cannot release a semaphore slot that's not owned"):
        other.release()
    sem.release()
    assert sem.count() == 0
    assert key_names(backend.client) == []


def test_semaphore_reclaims_expired_holders(backend):
    sem = Semaphore(backend.client, "sem", 2, 0.3, blocking=False)
    first = Semaphore(backend.client, "sem", 2, 0.3)
    assert first.acquire() and sem.acquire()
    assert Semaphore(backend.client, "sem", 2, 0.3).acquire(blocking=False) is False
    backend.advance(0.35)
    assert sem.count() == 0
    assert first.owned() is False
    late = Semaphore(backend.client, "sem", 2, 10)
    assert late.acquire(blocking=False) is True
    assert backend.client.zcard("sem") == 1  # the expired ones were reclaimed
    with raises(LockNotOwnedError, "Cannot release a semaphore slot that's no longer owned"):
        first.release()
    with raises(LockNotOwnedError, "Cannot extend a semaphore slot that's no longer owned"):
        sem.extend(1)
    late.release()


def test_semaphore_release_wakes_a_waiter(backend, monkeypatch):
    holder = Semaphore(backend.client, "sem", 1, 600)
    holder.acquire()
    waiter_client = backend.new_client()
    trips = RoundTrips(waiter_client, monkeypatch)
    sem = Semaphore(waiter_client, "sem", 1, 600, wait_lease=600, thread_local=False)
    waiter = Call(sem.acquire)
    waiter.start()
    wait_blocked(backend.client, 1)
    holder.release()
    assert waiter.outcome() is True
    assert blpops(trips) == 1
    sem.release()


def test_semaphore_waiter_wakes_when_a_holder_expires(backend):
    holder = Semaphore(backend.client, "sem", 1, 0.3)
    holder.acquire()
    sem = Semaphore(backend.new_client(), "sem", 1, 10, thread_local=False)
    waiter = Call(sem.acquire)
    waiter.start()
    wait_blocked(backend.client, 1)
    backend.advance(0.35)
    assert waiter.outcome() is True
    sem.release()


def test_semaphore_blocking_timeout(backend):
    holder = Semaphore(backend.client, "sem", 1, 10)
    holder.acquire()
    sem = Semaphore(backend.new_client(), "sem", 1, 10, blocking_timeout=0.2)
    waiter = Call(sem.acquire)
    waiter.start()
    wait_blocked(backend.client, 1)
    backend.advance(0.25)
    assert waiter.outcome() is False
    assert key_names(backend.client) == ["sem"]


def test_semaphore_limit_under_threads(backend):
    limit = 3
    threads, rounds = (8, 200) if backend.embedded else (8, 30)
    sem = Semaphore(backend.client, "sem", limit, 600, wait_lease=600)
    inside = [0]
    most = [0]
    guard = threading.Lock()

    def work(_):
        for _ in range(rounds):
            with sem:
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0)
                with guard:
                    inside[0] -= 1

    run_stress(threads, work)
    assert 1 <= most[0] <= limit
    assert inside[0] == 0
    assert key_names(backend.client) == []


def test_semaphore_one_round_trip_per_operation(backend, monkeypatch):
    sem = Semaphore(backend.client, "sem", 2, 10)
    operations = (sem.acquire, sem.owned, sem.count, lambda: sem.extend(1), sem.release)
    for operation in operations:  # the scripts get loaded once
        operation()
    trips = RoundTrips(backend.client, monkeypatch)
    for operation in operations:
        operation()
        assert len(trips.take()) == 1
