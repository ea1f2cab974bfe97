"""RateLimiter and CompositeLimiter on both backends (tests/patterns/conftest.py).

On minikv the store runs on a manual clock that starts at 1_700_000_000 s, a
multiple of every period used here, so windows start "now" and every time
in a result is an exact literal. On the real Redis time passes between
calls: exact sequences use long periods (nothing moves in a few ms), the
times are checked against bounds, and the tests that need time to pass
sleep a fraction of a second.

Three implementations must agree: the Lua script, the native generic step
and the embedded fast path (compiled or pure). ``test_matches_model`` runs
random sequences through all of them on the manual clock — the script
through minikv's own EVAL — and checks each against a brute-force model.
"""
import doctest
import threading
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.exceptions import ResponseError, WatchError

import minikv
from minikv.patterns import RateLimiter, RateLimitResult
from minikv.patterns import ratelimit as ratelimit_module

from helpers import JOIN_SECONDS, raises

ALGORITHMS = ratelimit_module.ALGORITHMS
LONG = 1000  # seconds: nothing rolls over during a test on the real Redis


def make(backend, algorithm, limit=3, period=LONG, **options):
    return RateLimiter(backend.client, limit=limit, period=period, algorithm=algorithm,
                       **options)


def stored(client, limiter, key):
    """The raw state of ``key``: a string, or a sorted set's (member, score) pairs."""
    name = limiter.storage_key(key)
    if limiter.algorithm == "sliding_log":
        return client.zrange(name, 0, -1, withscores=True)
    return client.get(name)


# -- results on a long period: literal on minikv, bounded on Redis -------------
# (allowed, remaining, reset_after, retry_after) of 4 hits, limit 3, period 1000 s.
SEQUENCES = {
    "fixed_window": [(True, 2, 1000.0, 0.0), (True, 1, 1000.0, 0.0), (True, 0, 1000.0, 0.0),
                     (False, 0, 1000.0, 1000.0)],
    # Full again at the end of the next window; the 4th hit fits once a third
    # of the next window has passed (3 * 2/3 + 1 <= 3).
    "sliding_window": [(True, 2, 2000.0, 0.0), (True, 1, 2000.0, 0.0), (True, 0, 2000.0, 0.0),
                       (False, 0, 2000.0, 1333.334)],
    "sliding_log": [(True, 2, 1000.0, 0.0), (True, 1, 1000.0, 0.0), (True, 0, 1000.0, 0.0),
                    (False, 0, 1000.0, 1000.0)],
    # One token every 333.33 ms: times round up to the ms.
    "token_bucket": [(True, 2, 333.334, 0.0), (True, 1, 666.667, 0.0), (True, 0, 1000.0, 0.0),
                     (False, 0, 1000.0, 333.334)],
    "gcra": [(True, 2, 333.334, 0.0), (True, 1, 666.667, 0.0), (True, 0, 1000.0, 0.0),
             (False, 0, 1000.0, 333.334)],
}


def check_times(backend, result, expected):
    """Exact on minikv; on Redis within the little time the test has taken."""
    allowed, remaining, reset_after, retry_after = expected
    assert (result.allowed, result.limit, result.remaining) == (allowed, 3, remaining)
    if backend.embedded:
        assert (result.reset_after, result.retry_after) == (reset_after, retry_after)
    else:
        # Upper bounds: time has passed, and windows are aligned to the epoch.
        assert 0 < result.reset_after <= reset_after
        assert result.retry_after == 0.0 if allowed else 0 < result.retry_after <= retry_after


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_allow_then_deny(backend, algorithm):
    limiter = make(backend, algorithm)
    for expected in SEQUENCES[algorithm]:
        result = limiter.hit("alice")
        assert type(result) is RateLimitResult
        check_times(backend, result, expected)
    # Another key has its own budget.
    assert limiter.hit("bob")[:3] == (True, 3, 2)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_denied_hit_consumes_nothing(backend, algorithm):
    limiter = make(backend, algorithm)
    assert limiter.hit("k", 2).allowed
    before = stored(backend.client, limiter, "k")
    denied = limiter.hit("k", 2)
    assert (denied.allowed, denied.remaining) == (False, 1)
    assert stored(backend.client, limiter, "k") == before
    assert limiter.hit("k", 1)[:3] == (True, 3, 0)
    assert not limiter.hit("k").allowed


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_peek_consumes_nothing(backend, algorithm):
    limiter = make(backend, algorithm)
    assert limiter.peek("k") == RateLimitResult(True, 3, 3, 0.0, 0.0)
    assert backend.client.exists(limiter.storage_key("k")) == 0
    limiter.hit("k", 2)
    for _ in range(3):
        assert limiter.peek("k")[:3] == (True, 3, 1)
    peeked = limiter.peek("k", 2)
    assert peeked[:3] == (False, 3, 1) and peeked.retry_after > 0
    assert limiter.hit("k")[:3] == (True, 3, 0)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_reset(backend, algorithm):
    limiter = make(backend, algorithm)
    limiter.hit("k", 3)
    assert not limiter.hit("k").allowed
    limiter.reset("k")
    assert backend.client.exists(limiter.storage_key("k")) == 0
    assert limiter.peek("k") == RateLimitResult(True, 3, 3, 0.0, 0.0)
    assert limiter.hit("k")[:3] == (True, 3, 2)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_refund(backend, algorithm):
    limiter = make(backend, algorithm)
    limiter.hit("k", 3)
    refunded = limiter.refund("k", 2)
    assert refunded[:3] == (True, 3, 2) and refunded.retry_after == 0.0
    assert [limiter.hit("k").allowed for _ in range(3)] == [True, True, False]
    # Never above the limit: an empty budget is deleted, as if reset.
    assert limiter.refund("k", 10) == RateLimitResult(True, 3, 3, 0.0, 0.0)
    assert backend.client.exists(limiter.storage_key("k")) == 0
    assert limiter.refund("never-hit") == RateLimitResult(True, 3, 3, 0.0, 0.0)


def test_sliding_window_refunds_only_the_current_window(backend):
    limiter = make(backend, "sliding_window", limit=4, period=0.4)
    limiter.hit("k", 4)
    backend.advance(0.4)  # now in a later window: the 4 are the previous window's
    before = limiter.peek("k")
    after = limiter.refund("k", 4)
    assert after.remaining == limiter.peek("k").remaining
    assert after.remaining - before.remaining <= 1  # only the previous share's decay
    if backend.embedded:
        assert (before.remaining, after.remaining) == (0, 0)


# -- time passing ------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_waiting_retry_after_lets_the_hit_through(backend, algorithm):
    limiter = make(backend, algorithm, period=0.3)
    limiter.hit("k", 3)
    denied = limiter.hit("k", 2)
    assert not denied.allowed and 0 < denied.retry_after <= 0.6
    backend.advance(denied.retry_after)
    assert limiter.hit("k", 2).allowed


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_full_again_after_reset_after(backend, algorithm):
    limiter = make(backend, algorithm, period=0.2)
    result = limiter.hit("k", 2)
    backend.advance(result.reset_after)
    assert limiter.peek("k")[:3] == (True, 3, 3)


def test_fixed_window_rollover(backend):
    limiter = make(backend, "fixed_window", period=0.3)
    limiter.hit("k", 3)
    assert not limiter.hit("k").allowed
    backend.advance(0.3)  # the next window (or a later one) has begun
    assert limiter.hit("k")[:3] == (True, 3, 2)


def manual():
    """A client on a manual clock, for exact instants (the model test below
    checks the Lua script on such a clock too)."""
    clock = minikv.ManualClock(start=1_700_000_000)
    return minikv.Redis(clock=clock), clock


def test_sliding_window_weighs_the_previous_window():
    client, clock = manual()
    limiter = RateLimiter(client, limit=10, period=1, algorithm="sliding_window")
    assert limiter.hit("k", 10).allowed
    clock.advance(1.5)  # half way through the next window: 10 * 0.5 still count
    assert limiter.peek("k")[:3] == (True, 10, 5)
    assert [limiter.hit("k").allowed for _ in range(6)] == [True] * 5 + [False]
    assert limiter.peek("k").retry_after == 0.1  # the previous share loses 1 per 100 ms
    clock.advance(0.1)
    assert limiter.hit("k").allowed


def denied_then_allowed_after_retry(backend, limiter, retry_after):
    """A hit on "k" is denied with a retry_after within ``retry_after``
    (exactly that on the manual clock); once it has passed, a hit is allowed."""
    denied = limiter.hit("k")
    assert not denied.allowed and 0 < denied.retry_after <= retry_after
    if backend.embedded:
        assert denied.retry_after == retry_after
    backend.advance(denied.retry_after)
    assert limiter.hit("k").allowed


def test_token_bucket_refills(backend):
    limiter = make(backend, "token_bucket", limit=2, period=0.2)  # a token per 100 ms
    limiter.hit("k", 2)
    denied_then_allowed_after_retry(backend, limiter, 0.1)
    assert not limiter.hit("k").allowed


def test_gcra_spaces_hits_after_the_burst(backend):
    limiter = make(backend, "gcra", limit=5, period=0.5)  # one per 100 ms, burst 5
    assert all(limiter.hit("k").allowed for _ in range(5))
    for _ in range(2):
        denied_then_allowed_after_retry(backend, limiter, 0.1)


def test_sliding_log_is_exact():
    client, clock = manual()
    limiter = RateLimiter(client, limit=3, period=1, algorithm="sliding_log")
    for _ in range(3):
        assert limiter.hit("k").allowed
        clock.advance(0.4)
    # t = 1.2: the hit at 0 has left, those at 0.4 and 0.8 count.
    assert limiter.peek("k")[:3] == (True, 3, 1)
    assert limiter.hit("k").allowed
    denied = limiter.hit("k")
    assert (denied.allowed, denied.retry_after, denied.reset_after) == (False, 0.2, 1.0)
    clock.advance(0.199)
    assert not limiter.hit("k").allowed
    clock.advance(0.001)
    assert limiter.hit("k").allowed


def test_keys_expire_when_idle(backend):
    for algorithm in ALGORITHMS:
        limiter = make(backend, algorithm, period=0.2)
        limiter.hit("k")
        ttl = backend.client.pttl(limiter.storage_key("k"))
        assert 0 < ttl <= 400, algorithm
    backend.advance(0.41)
    assert backend.client.keys("ratelimit:*") == []


# -- several limits ----------------------------------------------------------
def test_all_of_is_all_or_nothing(backend):
    burst = make(backend, "sliding_log", limit=2)
    hourly = make(backend, "fixed_window", limit=3)
    both = RateLimiter.all_of(burst, hourly)
    assert [both.hit("k").allowed for _ in range(3)] == [True, True, False]
    assert hourly.peek("k").remaining == 1  # the denied hit took nothing from it
    hourly.reset("k")
    both.reset("k")
    assert backend.client.keys("ratelimit:*") == []
    hourly.hit("k", 3)
    denied = both.hit("k")
    assert (denied.allowed, denied.limit, denied.remaining) == (False, 3, 0)
    assert burst.peek("k").remaining == 2  # nor from this one


def test_all_of_reports_the_binding_limit(backend):
    small = make(backend, "fixed_window", limit=2)
    large = make(backend, "token_bucket", limit=10)
    both = RateLimiter.all_of(large, small)
    result = both.hit("k")
    assert result[:3] == (True, 2, 1)
    assert both.peek("k", 1)[:3] == (True, 2, 1)
    both.hit("k")
    denied = both.hit("k")
    assert denied[:3] == (False, 2, 0)
    if backend.embedded:
        assert denied.retry_after == small.peek("k").retry_after == 1000.0
    assert large.peek("k").remaining == 8
    refunded = both.refund("k", 1)
    assert refunded[:3] == (True, 2, 1)
    assert large.peek("k").remaining == 9


def test_all_of_validation(backend):
    a = make(backend, "gcra", limit=2)
    with pytest.raises(ValueError, match="share one client"):
        RateLimiter.all_of(a, RateLimiter(backend.new_client(), limit=2, period=1))
    with pytest.raises(ValueError, match="at least one"):
        RateLimiter.all_of()
    with pytest.raises(TypeError):
        RateLimiter.all_of(a, "not a limiter")
    with pytest.raises(ValueError, match="smallest limit"):
        RateLimiter.all_of(a, make(backend, "fixed_window", limit=5)).hit("k", 3)


# -- concurrency -------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_threads_allow_exactly_the_limit(backend, algorithm):
    # A period of 10**7 s: no refill and no rollover while the threads run.
    limiter = RateLimiter(backend.client, limit=1000, period=10 ** 7, algorithm=algorithm)
    allowed = [0] * 8
    start = threading.Barrier(8)

    def worker(index):
        start.wait()
        for _ in range(160):
            if limiter.hit("shared").allowed:
                allowed[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    assert sum(allowed) == 1000
    assert limiter.peek("shared")[:3] == (False, 1000, 0)


# -- errors, parity with the commands ----------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_key_of_another_type(backend, algorithm):
    limiter = make(backend, algorithm)
    backend.client.hset(limiter.storage_key("k"), "field", "value")
    with raises(ResponseError, "WRONGTYPE Operation against a key holding the wrong kind "
                               "of value"):
        limiter.hit("k")


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "sliding_log"])
@pytest.mark.parametrize("garbage", [b"", b"12", b"1 2 3 4", b"-1 2", b"1  2", b"x y z"])
def test_a_state_written_by_someone_else(backend, algorithm, garbage):
    limiter = make(backend, algorithm)
    backend.client.set(limiter.storage_key("k"), garbage)
    for call in (limiter.hit, limiter.peek, limiter.refund):
        with raises(ResponseError, "invalid rate limiter state"):
            call("k")
    assert backend.client.get(limiter.storage_key("k")) == garbage


def server_window(backend, period_ms):
    seconds, micros = backend.client.time()
    now = seconds * 1000 + micros // 1000
    return now - now % period_ms


def test_a_state_edited_in_place(backend):
    # SETRANGE leaves minikv holding a bytearray: still a string to GET.
    limiter = make(backend, "fixed_window", limit=5)
    limiter.hit("k")
    name = limiter.storage_key("k")
    state = backend.client.get(name)
    backend.client.setrange(name, len(state) - 1, b"3")
    assert limiter.hit("k")[:3] == (True, 5, 1)
    assert backend.client.get(name) == state[:-1] + b"4"


@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window"])
@pytest.mark.parametrize("count", [99, 10 ** 30])
def test_counts_above_the_limit(backend, algorithm, count):
    # Only another writer leaves such a state; it reads as "over the limit"
    # (the compiled path hands odd states to the pure functions).
    limiter = make(backend, algorithm)
    window = server_window(backend, LONG * 1000)
    fields = (window, count) if algorithm == "fixed_window" else (window, 0, count)
    backend.client.set(limiter.storage_key("k"), b" ".join(b"%d" % f for f in fields))
    for result in (limiter.hit("k"), limiter.peek("k")):
        assert result[:3] == (False, 3, 0) and result.retry_after > 0
    if count == 99:  # (Lua can't write a count beyond 2**53 back)
        assert limiter.refund("k", 98)[:3] == (True, 3, 2)


def test_arguments_are_checked(backend):
    for bad in ({"limit": 0, "period": 1}, {"limit": 1.5, "period": 1},
                {"limit": 1, "period": 0}, {"limit": 1, "period": 0.0004},
                {"limit": 1, "period": "1"}, {"limit": 1, "period": 1, "algorithm": "leaky"},
                {"limit": 2 ** 40, "period": 2 ** 20}):
        with pytest.raises(ValueError):
            RateLimiter(backend.client, **bad)
    limiter = make(backend, "fixed_window")
    for cost in (0, 4, -1, 1.0, True, "1"):
        with pytest.raises(ValueError):
            limiter.hit("k", cost)
        with pytest.raises(ValueError):
            limiter.peek("k", cost)
    for cost in (0, -1, 1.0):
        with pytest.raises(ValueError):
            limiter.refund("k", cost)
    with pytest.raises(TypeError):
        limiter.hit(42)
    assert backend.client.keys("*") == []


def test_keys_name_their_settings(backend):
    limiter = make(backend, "sliding_window", limit=7, period=1.5, prefix="api:")
    limiter.hit("alice")
    limiter.hit(b"\xffbinary")
    assert sorted(backend.client.keys("*")) == [b"api:alice:sliding_window:7:1500",
                                                b"api:\xffbinary:sliding_window:7:1500"]
    assert repr(limiter) == ("RateLimiter(limit=7, period=1.5, algorithm='sliding_window', "
                             "prefix='api:')")


NOTIFICATIONS = {
    "sliding_log": [b"zadd", b"expire"],
}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_keyspace_events_and_watch_match_the_commands(backend, algorithm):
    client = backend.client
    limiter = make(backend, algorithm, limit=1)
    client.config_set("notify-keyspace-events", "KEA")
    try:
        pubsub = client.pubsub()
        pubsub.psubscribe("__keyevent@0__:*")
        assert pubsub.get_message(timeout=1)["type"] == "psubscribe"
        limiter.hit("k")
        limiter.hit("k")  # denied: writes nothing, sends nothing
        limiter.peek("k")
        events = []
        while True:
            message = pubsub.get_message(timeout=0.2)
            if message is None:
                break
            events.append(message["channel"].split(b":")[-1])
        assert events == NOTIFICATIONS.get(algorithm, [b"set", b"expire"])
        pubsub.close()
    finally:
        client.config_set("notify-keyspace-events", "")
    limiter.reset("k")
    with client.pipeline() as pipe:
        pipe.watch(limiter.storage_key("k"))
        limiter.hit("k")
        pipe.multi()
        pipe.get("anything")
        with pytest.raises(WatchError):
            pipe.execute()


def test_maxmemory_takes_the_generic_step():
    client = minikv.Redis(clock=minikv.ManualClock(start=1_700_000_000), maxmemory=10 ** 7)
    limiter = RateLimiter(client, limit=2, period=1, algorithm="fixed_window")
    assert [limiter.hit("k")[:3] for _ in range(3)] == [(True, 2, 1), (True, 2, 0),
                                                       (False, 2, 0)]
    assert client.get(limiter.storage_key("k")) == b"1700000000000 2"


# -- one round trip each on a real Redis ---------------------------------------
def test_one_round_trip_per_call(redis_port, monkeypatch):
    import redis

    client = redis.Redis(port=redis_port)
    client.flushall()
    calls = []
    execute = client.execute_command
    monkeypatch.setattr(client, "execute_command",
                        lambda *args, **options: calls.append(args[0]) or execute(*args,
                                                                                  **options))
    limiters = [RateLimiter(client, limit=5, period=LONG, algorithm=a) for a in ALGORITHMS]
    both = RateLimiter.all_of(*limiters)
    both.hit("warm-up")  # loads the script (EVALSHA, NOSCRIPT, EVAL... once)
    stats = client.info("commandstats")
    evalsha_before = stats.get("cmdstat_evalsha", {}).get("calls", 0)
    calls.clear()
    for limiter in limiters:
        limiter.hit("k", 2)
        limiter.peek("k")
        limiter.refund("k", 1)
        limiter.reset("k")
    both.hit("k")
    both.peek("k")
    both.refund("k")
    both.reset("k")
    assert calls == ["EVALSHA", "EVALSHA", "EVALSHA", "DEL"] * len(ALGORITHMS) + [
        "EVALSHA", "EVALSHA", "EVALSHA", "DEL"]
    evalsha_after = client.info("commandstats")["cmdstat_evalsha"]["calls"]
    assert evalsha_after - evalsha_before == 3 * len(ALGORITHMS) + 3
    client.close()


def test_docstrings_run():
    assert doctest.testmod(ratelimit_module).failed == 0


# -- against a brute-force model ---------------------------------------------
class Model:
    """Each algorithm by definition, in exact fractions, on integer ms.

    ``fits(t, cost)`` is the admission rule; remaining, reset and retry are
    found by trying every cost and every later millisecond, not by formula.
    """

    def __init__(self, algorithm, limit, period):
        self.algorithm, self.limit, self.period = algorithm, limit, period
        self.windows = {}   # window start -> cost counted (fixed, sliding)
        self.log = []       # one time per unit (sliding log)
        self.level = Fraction(limit)  # tokens (token bucket) ...
        self.last = None    # ... as of this time
        self.tat = None     # theoretical arrival time (gcra)

    def _window(self, t):
        return t - t % self.period

    def _tokens(self, t):
        if self.last is None:
            return Fraction(self.limit)
        return min(Fraction(self.limit),
                   self.level + Fraction((t - self.last) * self.limit, self.period))

    def fits(self, t, cost):
        limit, period = self.limit, self.period
        if self.algorithm == "fixed_window":
            return self.windows.get(self._window(t), 0) + cost <= limit
        if self.algorithm == "sliding_window":
            w = self._window(t)
            estimate = (Fraction(self.windows.get(w - period, 0) * (period - (t - w)), period)
                        + self.windows.get(w, 0))
            return estimate + cost <= limit
        if self.algorithm == "sliding_log":
            return sum(1 for s in self.log if s > t - period) + cost <= limit
        if self.algorithm == "token_bucket":
            return self._tokens(t) >= cost
        tat = t if self.tat is None else max(self.tat, t)
        return tat + Fraction(cost * period, limit) - t <= period

    def remaining(self, t):
        return max(c for c in range(self.limit + 1) if c == 0 or self.fits(t, c))

    def _wait(self, t, condition):
        for d in range(3 * self.period + 2):
            if condition(t + d):
                return d / 1000
        raise AssertionError("never")

    def status(self, t, cost):
        fits = self.fits(t, cost)
        return RateLimitResult(
            fits, self.limit, self.remaining(t),
            self._wait(t, lambda u: self.remaining(u) == self.limit),
            0.0 if fits else self._wait(t, lambda u: self.fits(u, cost)))

    def take(self, t, cost):
        w = self._window(t)
        self.windows[w] = self.windows.get(w, 0) + cost
        self.log += [t] * cost
        self.level = self._tokens(t) - cost
        self.last = t
        self.tat = (t if self.tat is None else max(self.tat, t)) + Fraction(
            cost * self.period, self.limit)

    def give_back(self, t, cost):
        w = self._window(t)
        self.windows[w] = max(0, self.windows.get(w, 0) - cost)
        inside = [s for s in self.log if s > t - self.period]
        keep = len(inside) - min(cost, len(inside))
        self.log = sorted(inside)[:keep]
        self.level = min(Fraction(self.limit), self._tokens(t) + cost)
        self.last = t
        if self.tat is not None:
            self.tat = max(Fraction(t), self.tat - Fraction(cost * self.period, self.limit))

    def run(self, t, op, cost):
        if op == "refund":
            self.give_back(t, cost)
            return self.status(t, 1)._replace(allowed=True, retry_after=0.0)
        result = self.status(t, cost)
        if op == "hit" and result.allowed:
            self.take(t, cost)
            return self.status(t, cost)._replace(allowed=True, retry_after=0.0)
        return result


class LuaOnMinikv:
    """The script itself, run by minikv's EVAL (lupa) on a manual clock."""

    def __init__(self, limiter):
        self.limiter = limiter

    def run(self, key, op, cost):
        limiter = self.limiter
        reply = limiter.client.eval(ratelimit_module.LUA, 1, limiter.storage_key(key), op,
                                    cost, *limiter._args)
        allowed = reply[0] == 1 or op == "refund"
        return ratelimit_module._result(allowed, limiter.limit, reply[1], reply[2],
                                        0 if op == "refund" else reply[3])


def _call(limiter, op, key, cost):
    return getattr(limiter, op)(key, cost)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@given(limit=st.integers(1, 5), period=st.sampled_from([1, 2, 7, 10, 25, 60]),
       phase=st.integers(0, 59),
       steps=st.lists(st.tuples(st.integers(0, 70), st.sampled_from(["hit", "hit", "peek",
                                                                     "refund"]),
                                st.integers(1, 5)), max_size=25))
def test_matches_model(algorithm, limit, period, phase, steps):
    pytest.importorskip("lupa")
    clocks, runners = [], []
    for kind in ("fast path", "generic step", "lua"):
        clock = minikv.ManualClock(start=1_700_000_000)
        clock.advance(phase / 1000)  # whole ms: TIME and ms() then agree exactly
        client = minikv.Redis(clock=clock)
        limiter = RateLimiter(client, limit=limit, period=period / 1000, algorithm=algorithm)
        if kind == "fast path":
            runner = limiter
        elif kind == "generic step":
            runner = RateLimiter.all_of(limiter)
        else:
            runner = LuaOnMinikv(limiter)
        clocks.append(clock)
        runners.append((kind, runner, limiter))
    model = Model(algorithm, limit, period)
    now = 1_700_000_000_000 + phase
    for advance, op, cost in steps:
        cost = min(cost, limit) if op != "refund" else cost
        now += advance
        for clock in clocks:
            clock.advance(advance / 1000)
        expected = model.run(now, op, cost)
        states = set()
        for kind, runner, limiter in runners:
            if kind == "lua":
                result = runner.run("k", op, cost)
            else:
                result = _call(runner, op, "k", cost)
            assert result == expected, (kind, op, cost, now)
            states.add(repr((stored(limiter.client, limiter, "k"),
                             limiter.client.pttl(limiter.storage_key("k")))))
        assert len(states) == 1, states
