"""Rate limiting: five algorithms, one atomic step per call, on either client.

``RateLimiter(client, limit=L, period=P, algorithm=...)`` admits at most
``L`` units of cost per ``P`` seconds and key (a user, an IP address...).
Every call is one indivisible step: on a real Redis one EVALSHA of the Lua
script below (one round trip), on the embedded engine the same algorithm in
Python (or C) under the store lock. Both read the server's clock — ``redis.call('TIME')``
inside the script (Redis 7 replicates a script's effects, so TIME is
allowed before writes), ``context.now_ms`` natively, which is the store's
clock (a ``ManualClock`` in tests) — never the caller's.

>>> from minikv import ManualClock, Redis
>>> clock = ManualClock(start=1_700_000_000)
>>> limiter = RateLimiter(Redis(clock=clock), limit=2, period=1.0,
...                       algorithm="fixed_window")
>>> [limiter.hit("alice").allowed for _ in range(3)]
[True, True, False]
>>> limiter.hit("alice")
RateLimitResult(allowed=False, limit=2, remaining=0, reset_after=1.0, retry_after=1.0)
>>> clock.advance(1.0)
>>> limiter.hit("alice").remaining
1

Arithmetic and results
----------------------
Time is integer milliseconds throughout, ``period`` is rounded to a whole
number of them (``P`` below), and every quantity is an exact integer:
fractional rates are scaled by ``L`` or ``P`` instead of being rounded.
The Lua script and the Python functions are the same algorithm line for
line; the script returns integers only (Lua numbers are doubles, exact
below 2**53, which ``limit * period_ms <= 2**50`` keeps us under), so
nothing is lost to Lua's float-to-integer truncation of replies.

``hit(key, cost=1)`` returns ``RateLimitResult(allowed, limit, remaining,
reset_after, retry_after)``, the same for every algorithm:

- ``allowed``: the hit was accepted and its cost consumed. **A denied hit
  consumes nothing** (and writes nothing).
- ``remaining``: the largest cost a hit at this same instant would be
  allowed, after this hit (0 when nothing more fits).
- ``reset_after``: seconds until the key is back to full capacity
  (``remaining == limit``) if no further hit comes; 0.0 when it is full.
- ``retry_after``: 0.0 when allowed; else seconds until this same hit
  (same cost) would be allowed if no other hit comes. Always exact to the
  millisecond: the first instant at which the hit passes.

``peek(key, cost=1)`` returns what ``hit`` would, consuming nothing:
``remaining`` and ``reset_after`` describe the current state.
``refund(key, cost)`` gives back up to ``cost`` units consumed earlier
(never more than what is counted: a refund can't raise capacity above the
limit) and returns the state after it (``allowed`` True, ``retry_after``
0.0). Every algorithm supports it — none refuses — and each says below
what exactly it gives back.
``reset(key)`` forgets the key (one DEL). A hit or peek whose cost is not
an int in ``1..limit`` can never pass and raises ValueError.

The algorithms (``now`` in ms; windows are aligned to multiples of ``P``
since the Unix epoch, so every client agrees on them):

- ``fixed_window``: counts cost per window ``[w, w + P)``. A hit passes
  when ``count + cost <= L``. ``reset_after`` and a denial's
  ``retry_after`` are the time to the window's end. At most ``2 L`` can
  pass around a window boundary: the price of one counter. Refund lowers
  the current window's count. State: ``"w count"``, expiring at ``w + P``.
- ``sliding_window``: Cloudflare's weighted two-window counter. With
  ``prev`` and ``count`` the costs counted in the previous and current
  window and ``e = now - w``, the estimate of the last ``P`` ms is
  ``prev * (P - e) / P + count``; a hit passes when ``estimate + cost <=
  L`` (compared as ``prev * (P - e) + (count + cost) * P <= L * P``).
  ``remaining = L - count - ceil(prev * (P - e) / P)``. Full again at
  ``w + 2P`` if the current window counted anything, else at ``w + P``.
  Refund lowers the current window's count only (cost counted in the
  previous window can't be given back). State: ``"w prev count"``,
  expiring at ``w + 2P``.
- ``sliding_log``: exact. A hit passes when the costs accepted in the last
  ``P`` ms — the window ``(now - P, now]`` — plus ``cost`` are ``<= L``.
  The log is a sorted set with one member per unit of cost (score: its
  time in ms; member ``"<ms>:<index>"``, the index zero-padded to the
  width of ``L`` so that members sort in arrival order), so memory is
  O(L) per key and a hit O(cost log L). ``retry_after`` is when enough of
  the oldest units have left the window; ``reset_after`` when the newest
  one has. Refund removes the newest units. Expires when the newest unit
  leaves the window.
- ``token_bucket``: a bucket of ``L`` tokens refilled continuously at
  ``L`` per ``P`` ms; a hit takes ``cost`` tokens. Tokens are kept scaled
  by ``P`` (one token = ``P`` units, refill = ``L`` units per ms), so the
  refill is exact. ``remaining`` = whole tokens; ``reset_after`` = time to
  a full bucket; ``retry_after`` = time until ``cost`` tokens are there.
  Refund puts tokens back (up to full). State: ``"level last_ms"``,
  expiring when the bucket would be full.
- ``gcra``: the generic cell rate algorithm (virtual scheduling): one
  number, the theoretical arrival time TAT, emission interval ``T = P/L``
  and burst ``L``. A hit passes when ``TAT + cost*T - now <= P``, and moves
  TAT to ``max(TAT, now) + cost*T``. TAT is kept as ``"ms remainder"``
  (ms and a remainder in ``1/L`` ms), exactly. Its decisions and numbers
  are identical to ``token_bucket``'s — GCRA is that bucket stored as one
  time instead of a level and a time — and it spaces hits ``T`` apart once
  the burst is spent. Refund moves TAT back (never before now). Expires at
  TAT.

Keys: the state of ``limiter.hit(key)`` lives at ``prefix + key +
":<algorithm>:<limit>:<period_ms>"``, so limiters with different settings
never share state (they may share a prefix), and every key has a TTL: an
idle limiter cleans itself up.

Several limits at once: ``RateLimiter.all_of(a, b, ...)`` checks every
limiter and consumes from all of them or from none, in the same single
step (see ``CompositeLimiter``).

On the embedded engine ``refund``, ``all_of`` and the sliding log run
``_native_step``, the script's twin: each ``redis.call`` becomes a
``context.call`` through the command table (engine/atomic.py), so every
effect — WATCH, keyspace notifications, OOM refusals — is the command's.
A ``hit``/``peek`` of the four string-state algorithms takes a hot path
instead: under the store lock, the engine's typed string helpers — the
very functions GET and SET ... PXAT run, so WATCH, notifications (``set``
then ``expire``; ``keymiss``/``expired`` from the lookup) and hit/miss
counters are what the script's GET and SET cause on Redis. The store's
clock is read after the lookup: a key the lookup found alive is then read
at or after the instant its expiry was checked against, and every state
is written so that at and after its expiry it means "empty", so a clock
that ticks in between can't lose a live count. For fixed_window and
sliding_window the compiled core runs that path in C
(minikv/_ratelimit.pxi, ``_RateLimitWindow``; this module's functions are
its reference), about half a microsecond per hit. With maxmemory set the
hot path gives way to the generic step, which refuses writes over the
limit as a script's SET is refused.

asyncio: ``AsyncRateLimiter`` (and ``AsyncRateLimiter.all_of``, an
``AsyncCompositeLimiter``) takes the same arguments, keeps the same state
under the same keys and returns the same results, its methods being
coroutines; its client is a ``minikv.asyncio.Redis`` (the default) or a
``redis.asyncio.Redis``. It is a thin shell: ``_Limiter`` and
``_Composite`` below hold the settings, the keys, the step's arguments and
the decoding of its reply for the sync and the async classes alike, and
the async ones await the same step (``AtomicStep.run_async``). On
``minikv.asyncio`` no call ever waits, so ``hit``/``peek`` run the sync
limiter's embedded hot path inline, compiled window included.
"""
from typing import NamedTuple

from minikv import backend
from minikv.engine.errors import CommandError
from minikv.engine.strings import get_string, set_string_with_expiry
from minikv.exceptions import error_from_reply
from minikv.patterns._atomic import AtomicStep, is_embedded, is_embedded_async
from minikv.patterns._io import new_embedded_client

__all__ = ["RateLimiter", "RateLimitResult", "CompositeLimiter", "AsyncRateLimiter",
           "AsyncCompositeLimiter", "ALGORITHMS"]

ALGORITHMS = ("fixed_window", "sliding_window", "sliding_log", "token_bucket", "gcra")

# limit * period_ms bound: every intermediate stays below 2**53, where Lua's
# doubles are exact integers (the largest is about 3 * limit * period_ms).
MAX_LIMIT_PERIOD = 2 ** 50

INVALID_STATE = "ERR invalid rate limiter state"

# Sliding-log members added per ZADD: well under Lua's unpack() limit.
LOG_BATCH = 500


class RateLimitResult(NamedTuple):
    """One decision. Times in seconds (floats, millisecond precision)."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float


_make_result = RateLimitResult._make


def _result(allowed, limit, remaining, reset_ms, retry_ms):
    # A clock that ran backwards can make an estimate exceed the limit.
    return _make_result((allowed, limit, remaining if remaining > 0 else 0,
                         reset_ms / 1000, retry_ms / 1000))


# ---------------------------------------------------------------------------
# The Lua script: every algorithm, and the step that runs one or several
# limiters. KEYS: one per limiter. ARGV: op ("hit", "peek" or "refund"),
# cost, then per limiter its algorithm, limit and period in ms. Reply:
# {allowed (1 or 0), then per limiter: remaining, reset_ms, retry_ms}.
# The Python functions below mirror it function by function.
# ---------------------------------------------------------------------------
LUA = r"""
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function int(n) return string.format('%d', n) end
-- Exact for operands below 2^53: the quotient's rounding can't cross an integer.
local function floor_div(a, b) return math.floor(a / b) end
local function ceil_div(a, b) return math.ceil(a / b) end
local function fields2(v)
  local a, b = string.match(v, '^(%d+) (%d+)$')
  return tonumber(a), tonumber(b)
end
local function fields3(v)
  local a, b, c = string.match(v, '^(%d+) (%d+) (%d+)$')
  return tonumber(a), tonumber(b), tonumber(c)
end

-- The string-state algorithms: (value or false, limit, period, cost, take)
-- -> fits, remaining, reset_ms, retry_ms[, write, expire_at]. With take
-- and fits, write is the new value (false: delete the key). A negative
-- cost is a refund. The value's shape was checked when it was loaded.
local function fixed_window(v, L, P, c, take)
  local w = now - now % P
  local n = 0
  if v then
    local sw, sn = fields2(v)
    if sw == w then n = sn end
  end
  local ends = w + P - now
  if c > 0 and n + c > L then return false, L - n, ends, ends end
  if not take then
    if n == 0 then ends = 0 end
    return true, L - n, ends, 0
  end
  n = math.max(n + c, 0)
  if n == 0 then return true, L, 0, 0, false, 0 end
  return true, L - n, ends, 0, int(w) .. ' ' .. int(n), w + P
end

local function sliding_window(v, L, P, c, take)
  local w = now - now % P
  local p, n = 0, 0
  if v then
    local sw, sp, sn = fields3(v)
    if sw == w then p, n = sp, sn elseif sw == w - P then p = sn end
  end
  local decay = P - (now - w)
  local fits = c < 0 or p * decay + (n + c) * P <= L * P
  local write = nil
  if fits and take then
    n = math.max(n + c, 0)
    if n == 0 and p == 0 then
      write = false
    else
      write = int(w) .. ' ' .. int(p) .. ' ' .. int(n)
    end
  end
  local reset = 0
  if n > 0 then reset = w + 2 * P - now elseif p > 0 then reset = w + P - now end
  local retry = 0
  if not fits then
    local spare = L - n - c
    if spare >= 0 then
      retry = w + P - floor_div(spare * P, p) - now
    else
      retry = w + 2 * P - floor_div((L - c) * P, n) - now
    end
  end
  return fits, floor_div(L * P - p * decay - n * P, P), reset, retry, write, w + 2 * P
end

local function token_bucket(v, L, P, c, take)
  local full = L * P
  local s = full
  if v then
    local level, last = fields2(v)
    s = math.min(full, level + math.min(math.max(now - last, 0), P) * L)
  end
  local need = c * P
  local fits = s >= need
  local write = nil
  if fits and take then
    s = math.min(s - need, full)
    if s == full then write = false else write = int(s) .. ' ' .. int(now) end
  end
  local reset = ceil_div(full - s, L)
  local retry = 0
  if not fits then retry = ceil_div(need - s, L) end
  return fits, floor_div(s, P), reset, retry, write, now + reset
end

local function gcra(v, L, P, c, take)
  local full = L * P
  local d = 0  -- TAT - now, in units of 1/L ms, within [0, L * P]
  if v then
    local tat, part = fields2(v)
    d = math.min(math.max((tat - now) * L + part, 0), full)
  end
  local need = c * P
  local fits = d + need <= full
  local write = nil
  if fits and take then
    d = math.max(d + need, 0)
    if d == 0 then write = false else write = int(now + floor_div(d, L)) .. ' ' .. int(d % L) end
  end
  local reset = ceil_div(d, L)
  local retry = 0
  if not fits then retry = ceil_div(d + need - full, L) end
  return fits, floor_div(full - d, P), reset, retry, write, now + reset
end

local STRING_STATE = {fixed_window = fixed_window, sliding_window = sliding_window,
                      token_bucket = token_bucket, gcra = gcra}

-- The sliding log: (key, n = units in the window, limit, period, cost, take).
local function sliding_log(key, n, L, P, c, take)
  local fits = c < 0 or n + c <= L
  if fits and take then
    if c > 0 then
      redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - P))
      local first = redis.call('ZCOUNT', key, int(now), int(now))
      local member = '%d:%0' .. #int(L) .. 'd'
      local batch = {}
      for i = 0, c - 1 do
        batch[#batch + 1] = int(now)
        batch[#batch + 1] = string.format(member, now, first + i)
        if #batch == 2 * @LOG_BATCH@ or i == c - 1 then
          redis.call('ZADD', key, unpack(batch))
          batch = {}
        end
      end
      redis.call('PEXPIREAT', key, int(now + P))
      return true, L - n - c, P, 0
    end
    local k = math.min(-c, n)
    if k > 0 then redis.call('ZREMRANGEBYRANK', key, -k, -1) end
    n = n - k
  end
  local reset, retry = 0, 0
  if n > 0 then
    local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    reset = tonumber(newest[2]) + P - now
  end
  if not fits then
    local oldest = redis.call('ZRANGEBYSCORE', key, '(' .. int(now - P), '+inf',
                              'WITHSCORES', 'LIMIT', n + c - L - 1, 1)
    retry = tonumber(oldest[2]) + P - now
  end
  return fits, L - n, reset, retry
end

local STATE_SHAPE = {fixed_window = '^%d+ %d+$', sliding_window = '^%d+ %d+ %d+$',
                     token_bucket = '^%d+ %d+$', gcra = '^%d+ %d+$'}

local op, cost = ARGV[1], tonumber(ARGV[2])
local count = #KEYS
local algorithm, limit, period, state = {}, {}, {}, {}
-- Load (and check) every state before anything is written.
for i = 1, count do
  algorithm[i] = ARGV[3 * i]
  limit[i] = tonumber(ARGV[3 * i + 1])
  period[i] = tonumber(ARGV[3 * i + 2])
  local loaded
  if algorithm[i] == 'sliding_log' then
    loaded = redis.pcall('ZCOUNT', KEYS[i], '(' .. int(now - period[i]), '+inf')
  else
    loaded = redis.pcall('GET', KEYS[i])
    if loaded and type(loaded) ~= 'table'
        and not string.find(loaded, STATE_SHAPE[algorithm[i]]) then
      return redis.error_reply('@INVALID_STATE@')
    end
  end
  if type(loaded) == 'table' then return loaded end
  state[i] = loaded
end

-- Whether limiter i lets cost c through now (the log's count is loaded).
local function fits(i, c)
  if algorithm[i] == 'sliding_log' then return state[i] + c <= limit[i] end
  return (STRING_STATE[algorithm[i]](state[i], limit[i], period[i], c, false))
end

-- run(i, c, take) -> fits, remaining, reset, retry; writes when take and fits.
local function run(i, c, take)
  local L, P = limit[i], period[i]
  if algorithm[i] == 'sliding_log' then return sliding_log(KEYS[i], state[i], L, P, c, take) end
  local fits, remaining, reset, retry, write, expire_at =
    STRING_STATE[algorithm[i]](state[i], L, P, c, take)
  if write then
    redis.call('SET', KEYS[i], write, 'PXAT', int(expire_at))
  elseif write == false then
    redis.call('DEL', KEYS[i])
  end
  return fits, remaining, reset, retry
end

local reply = {1}
if op == 'refund' then
  for i = 1, count do
    local _, remaining, reset = run(i, -cost, true)
    reply[3 * i - 1], reply[3 * i], reply[3 * i + 1] = remaining, reset, 0
  end
  return reply
end
-- A hit or peek: whether the cost fits everywhere, then one pass that
-- consumes (a hit that fits everywhere) or describes the state as it is.
for i = 1, count do
  if not fits(i, cost) then reply[1] = 0 end
end
local take = op == 'hit' and reply[1] == 1
for i = 1, count do
  local _, remaining, reset, retry = run(i, cost, take)
  reply[3 * i - 1], reply[3 * i], reply[3 * i + 1] = remaining, reset, retry
end
return reply
""".replace("@LOG_BATCH@", str(LOG_BATCH)).replace("@INVALID_STATE@", INVALID_STATE)


# ---------------------------------------------------------------------------
# The same algorithms in Python, for the embedded engine. Each string-state
# function is (value or None, now, limit, period, cost, take) -> (fits,
# remaining, reset_ms, retry_ms, write, expire_at): ``write`` is None (no
# change), False (delete the key) or the new value, to be SET with PXAT
# ``expire_at``. A negative cost is a refund.
# ---------------------------------------------------------------------------
def _ceil_div(a, b):
    return -(-a // b)


def _two_fields(value):
    """``b"<digits> <digits>"`` as two ints (Lua's ``^(%d+) (%d+)$``)."""
    first, _, second = value.partition(b" ")
    if first.isdigit() and second.isdigit():
        return int(first), int(second)
    raise CommandError(INVALID_STATE)


def _three_fields(value):
    parts = value.split(b" ")
    if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[0]), int(parts[1]), int(parts[2])
    raise CommandError(INVALID_STATE)


def fixed_window(value, now, limit, period, cost, take):
    window = now - now % period
    count = 0
    if value is not None:
        start, stored = _two_fields(value)
        if start == window:
            count = stored
    ends = window + period - now
    if cost > 0 and count + cost > limit:
        return False, limit - count, ends, ends, None, 0
    if not take:
        return True, limit - count, ends if count else 0, 0, None, 0
    count += cost
    if count <= 0:
        return True, limit, 0, 0, False, 0
    return True, limit - count, ends, 0, b"%d %d" % (window, count), window + period


def sliding_window(value, now, limit, period, cost, take):
    window = now - now % period
    previous = count = 0
    if value is not None:
        start, stored_previous, stored_count = _three_fields(value)
        if start == window:
            previous, count = stored_previous, stored_count
        elif start == window - period:
            previous = stored_count
    decay = period - (now - window)
    fits = cost < 0 or previous * decay + (count + cost) * period <= limit * period
    write = None
    if fits and take:
        count = max(count + cost, 0)
        write = b"%d %d %d" % (window, previous, count) if count or previous else False
    if count:
        reset = window + 2 * period - now
    elif previous:
        reset = window + period - now
    else:
        reset = 0
    retry = 0
    if not fits:
        spare = limit - count - cost
        if spare >= 0:  # the previous window's share decays enough within this window
            retry = window + period - spare * period // previous - now
        else:  # this window's count must decay too, in the next one
            retry = window + 2 * period - (limit - cost) * period // count - now
    remaining = (limit * period - previous * decay - count * period) // period
    return fits, remaining, reset, retry, write, window + 2 * period


def token_bucket(value, now, limit, period, cost, take):
    full = limit * period
    level = full
    if value is not None:
        stored, last = _two_fields(value)
        level = min(full, stored + min(max(now - last, 0), period) * limit)
    need = cost * period
    fits = level >= need
    write = None
    if fits and take:
        level = min(level - need, full)
        write = False if level == full else b"%d %d" % (level, now)
    reset = _ceil_div(full - level, limit)
    retry = 0 if fits else _ceil_div(need - level, limit)
    return fits, level // period, reset, retry, write, now + reset


def gcra(value, now, limit, period, cost, take):
    full = limit * period
    ahead = 0  # TAT - now, in units of 1/limit ms, within [0, limit * period]
    if value is not None:
        tat, part = _two_fields(value)
        ahead = min(max((tat - now) * limit + part, 0), full)
    need = cost * period
    fits = ahead + need <= full
    write = None
    if fits and take:
        ahead = max(ahead + need, 0)
        write = b"%d %d" % (now + ahead // limit, ahead % limit) if ahead else False
    reset = _ceil_div(ahead, limit)
    retry = 0 if fits else _ceil_div(ahead + need - full, limit)
    return fits, (full - ahead) // period, reset, retry, write, now + reset


_STRING_STATE = {"fixed_window": fixed_window, "sliding_window": sliding_window,
                 "token_bucket": token_bucket, "gcra": gcra}
_STATE_SHAPE = {"fixed_window": _two_fields, "sliding_window": _three_fields,
                "token_bucket": _two_fields, "gcra": _two_fields}


def _score(raw):
    return int(float(raw))


def sliding_log(call, key, count, now, limit, period, cost, take):
    """``count``: units in the window ``(now - period, now]``."""
    fits = cost < 0 or count + cost <= limit
    if fits and take:
        if cost > 0:
            call("ZREMRANGEBYSCORE", key, b"-inf", now - period)
            first = call("ZCOUNT", key, now, now)
            width = len(str(limit))
            batch = []
            for i in range(cost):
                batch += (now, b"%d:%0*d" % (now, width, first + i))
                if len(batch) == 2 * LOG_BATCH or i == cost - 1:
                    call("ZADD", key, *batch)
                    batch = []
            call("PEXPIREAT", key, now + period)
            return True, limit - count - cost, period, 0
        given_back = min(-cost, count)
        if given_back > 0:
            call("ZREMRANGEBYRANK", key, -given_back, -1)
        count -= given_back
    reset = retry = 0
    if count > 0:
        newest = call("ZRANGE", key, -1, -1, b"WITHSCORES")
        reset = _score(newest[1]) + period - now
    if not fits:
        oldest = call("ZRANGEBYSCORE", key, b"(%d" % (now - period), b"+inf",
                      b"WITHSCORES", b"LIMIT", count + cost - limit - 1, 1)
        retry = _score(oldest[1]) + period - now
    return fits, limit - count, reset, retry


def _native_step(context, keys, args):
    """The Lua script's step, natively: same arguments, same reply."""
    call = context.call
    now = context.now_ms
    op, cost = args[0], args[1]
    limiters = []
    for i, key in enumerate(keys):
        algorithm, limit, period = args[2 + 3 * i:5 + 3 * i]
        if algorithm == "sliding_log":
            state = call("ZCOUNT", key, b"(%d" % (now - period), b"+inf")
        else:
            state = call("GET", key)
            if state is not None:
                _STATE_SHAPE[algorithm](state)
        limiters.append((key, algorithm, limit, period, state))

    def run(limiter, c, take):
        key, algorithm, limit, period, state = limiter
        if algorithm == "sliding_log":
            return sliding_log(call, key, state, now, limit, period, c, take)
        fits, remaining, reset, retry, write, expire_at = _STRING_STATE[algorithm](
            state, now, limit, period, c, take)
        if write:
            call("SET", key, write, "PXAT", expire_at)
        elif write is False:
            call("DEL", key)
        return fits, remaining, reset, retry

    def fits(limiter, c):
        _, algorithm, limit, period, state = limiter
        if algorithm == "sliding_log":
            return state + c <= limit
        return _STRING_STATE[algorithm](state, now, limit, period, c, False)[0]

    reply = [1]
    if op == "refund":
        for limiter in limiters:
            _, remaining, reset, _ = run(limiter, -cost, True)
            reply += (remaining, reset, 0)
        return reply
    if not all(fits(limiter, cost) for limiter in limiters):
        reply[0] = 0
    take = op == "hit" and reply[0] == 1
    for limiter in limiters:
        _, remaining, reset, retry = run(limiter, cost, take)
        reply += (remaining, reset, retry)
    return reply


_STEP = AtomicStep(LUA, _native_step)

# The compiled twin of the window hot path (minikv/_ratelimit.pxi), when the
# compiled core is the backend and was built with it.
if backend.BACKEND == "compiled":
    from minikv import _core
    _CompiledWindow = getattr(_core, "_RateLimitWindow", None)
else:
    _CompiledWindow = None


def _key_bytes(key):
    if key.__class__ is str:
        return key.encode()
    if isinstance(key, bytes):
        return key
    raise TypeError(f"a rate limit key is str or bytes, not {type(key).__name__}")


def _check_cost(cost, limit, which="the limit"):
    if cost.__class__ is not int or not 0 < cost <= limit:
        raise ValueError(f"cost must be an int from 1 to {which} ({limit}), not {cost!r}")


def _check_refund(cost):
    if cost.__class__ is not int or cost < 1:
        raise ValueError(f"a refund is a positive int, not {cost!r}")


# ---------------------------------------------------------------------------
# The limiters. ``_Limiter`` and ``_Composite`` hold all that the sync and
# the async classes share — settings and their checks, storage keys, the
# step's arguments, the decoding of its reply — so that ``RateLimiter`` /
# ``CompositeLimiter`` and ``AsyncRateLimiter`` / ``AsyncCompositeLimiter``
# only differ in how they run a step: called, or awaited.
# ---------------------------------------------------------------------------
class _Limiter:
    """Settings, keys and step arguments of one limiter (see RateLimiter).
    A limiter made without a client gets a new embedded one (after the
    settings are checked), of the kind a subclass's ``_async_client`` says."""

    _async_client = False

    def __init__(self, client, limit, period, algorithm, prefix):
        if limit.__class__ is not int or limit < 1:
            raise ValueError(f"limit must be a positive int, not {limit!r}")
        if isinstance(period, bool) or not isinstance(period, (int, float)) or not period > 0:
            raise ValueError(f"period must be a positive number of seconds, not {period!r}")
        period_ms = round(period * 1000)
        if period_ms < 1:
            raise ValueError(f"period must be at least 0.001 seconds, not {period!r}")
        if limit * period_ms > MAX_LIMIT_PERIOD:
            raise ValueError("limit * period (in ms) must not exceed 2**50")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, "
                             f"not {algorithm!r}")
        self.client = new_embedded_client(self._async_client) if client is None else client
        self.limit = limit
        self.period = period_ms / 1000
        self.algorithm = algorithm
        self.prefix = prefix
        self._prefix = _key_bytes(prefix)
        self._suffix = f":{algorithm}:{limit}:{period_ms}".encode()
        self._period_ms = period_ms
        self._args = (algorithm, limit, period_ms)

    def __repr__(self):
        return (f"{type(self).__name__}(limit={self.limit}, period={self.period}, "
                f"algorithm={self.algorithm!r}, prefix={self.prefix!r})")

    def storage_key(self, key):
        """Where the state of ``key`` lives (bytes)."""
        return self._prefix + _key_bytes(key) + self._suffix

    def _request(self, key, op, cost):
        """The step's (keys, args) for ``op`` ("hit", "peek" or "refund")."""
        if op == "refund":
            _check_refund(cost)
        else:
            _check_cost(cost, self.limit)
        return (self.storage_key(key),), (op, cost) + self._args

    def _decode(self, reply):
        """The step's reply as a result (a refund's says allowed, retry 0)."""
        return _result(reply[0] == 1, self.limit, reply[1], reply[2], reply[3])


class _Composite:
    """The limiters of an ``all_of`` and their step (see CompositeLimiter)."""

    _member = _Limiter  # the limiter class a subclass combines

    def __init__(self, limiters):
        if not limiters:
            raise ValueError("all_of needs at least one limiter")
        for limiter in limiters:
            if not isinstance(limiter, self._member):
                raise TypeError(f"all_of combines {self._member.__name__}s, "
                                f"not {type(limiter).__name__}")
        client = limiters[0].client
        if any(limiter.client is not client for limiter in limiters):
            raise ValueError("the limiters of all_of must share one client")
        self.limiters = tuple(limiters)
        self.client = client
        self.limit = min(limiter.limit for limiter in limiters)
        self._args = sum((limiter._args for limiter in limiters), ())

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(repr, self.limiters))})"

    def _storage_keys(self, key):
        return [limiter.storage_key(key) for limiter in self.limiters]

    def _request(self, key, op, cost):
        if op == "refund":
            _check_refund(cost)
        else:
            _check_cost(cost, self.limit, "the smallest limit")
        return self._storage_keys(key), (op, cost) + self._args

    def _decode(self, reply):
        triples = [reply[i:i + 3] for i in range(1, len(reply), 3)]
        binding = min(range(len(triples)), key=lambda i: (triples[i][0], -triples[i][1]))
        remaining, reset, _ = triples[binding]
        retry = max(triple[2] for triple in triples)
        return _result(reply[0] == 1, self.limiters[binding].limit, remaining, reset, retry)


class RateLimiter(_Limiter):
    """At most ``limit`` units of cost per ``period`` seconds, per key.

    ``algorithm`` is one of ``ALGORITHMS`` (semantics in the module
    docstring); ``period`` is rounded to whole milliseconds, and ``limit *
    period`` in ms must not exceed 2**50 (Lua's exact-integer range, with
    room for the arithmetic). ``client`` is a ``minikv.Redis`` or a
    ``redis.Redis``; by default a new embedded ``minikv.Redis()``.

    >>> from minikv import ManualClock, Redis
    >>> clock = ManualClock(start=1_700_000_000)
    >>> limiter = RateLimiter(Redis(clock=clock), limit=3, period=1.0, algorithm="gcra")
    >>> [limiter.hit("bob").allowed for _ in range(4)]
    [True, True, True, False]
    >>> limiter.peek("bob")
    RateLimitResult(allowed=False, limit=3, remaining=0, reset_after=1.0, retry_after=0.334)
    >>> clock.advance(0.334)
    >>> limiter.hit("bob")
    RateLimitResult(allowed=True, limit=3, remaining=0, reset_after=1.0, retry_after=0.0)
    >>> limiter.refund("bob", 2).remaining
    2
    >>> limiter.reset("bob")
    >>> limiter.peek("bob").remaining
    3
    """

    def __init__(self, client=None, *, limit, period, algorithm="sliding_window",
                 prefix="ratelimit:"):
        super().__init__(client, limit, period, algorithm, prefix)
        self._evaluate = _STRING_STATE.get(algorithm)
        # The embedded hot path (module docstring): string-state algorithms
        # on a minikv client; fixed and sliding windows compiled when they can be.
        self._embedded = (self.client if self._evaluate is not None and is_embedded(self.client)
                          else None)
        self._compiled = None
        if (_CompiledWindow is not None and self._embedded is not None
                and algorithm in ("fixed_window", "sliding_window")):
            self._compiled = _CompiledWindow(self.client, RateLimitResult, self._prefix,
                                             self._suffix, limit, self._period_ms,
                                             algorithm == "sliding_window")

    @staticmethod
    def all_of(*limiters):
        """One limiter made of several: see ``CompositeLimiter``."""
        return CompositeLimiter(limiters)

    def hit(self, key, cost=1):
        """Consume ``cost`` for ``key`` if it fits; a ``RateLimitResult``."""
        compiled = self._compiled
        if compiled is not None:
            result = compiled.hit(key, cost)
            if result is not None:
                return result
        return self._decide(key, cost, True)

    def peek(self, key, cost=1):
        """What ``hit(key, cost)`` would answer now, consuming nothing."""
        compiled = self._compiled
        if compiled is not None:
            result = compiled.peek(key, cost)
            if result is not None:
                return result
        return self._decide(key, cost, False)

    def refund(self, key, cost=1):
        """Give back up to ``cost`` units; the state after (see the module
        docstring for what each algorithm gives back)."""
        return self._decode(_STEP(self.client, *self._request(key, "refund", cost)))

    def reset(self, key):
        """Forget ``key``: full capacity again."""
        self.client.delete(self.storage_key(key))

    def _decide(self, key, cost, take):
        storage_key = self._prefix + (key.encode() if key.__class__ is str
                                      else _key_bytes(key)) + self._suffix
        limit = self.limit
        _check_cost(cost, limit)
        client = self._embedded
        if client is not None:
            store = client.store
            if store.memory is None:
                with store.lock:
                    ks = client._session.ks
                    try:
                        value = get_string(ks, storage_key)
                        # The clock is read after the lookup: a key it found
                        # alive is read at a time at or after its expiry
                        # check, where an expired state reads as empty.
                        fits, remaining, reset, retry, write, expire_at = self._evaluate(
                            value, ks.clock_ms(), limit, self._period_ms, cost, take)
                    except CommandError as exc:
                        raise error_from_reply(exc.text) from None
                    if write:
                        set_string_with_expiry(ks, storage_key, write, expire_at)
                return _result(fits, limit, remaining, reset, retry)
        return self._decode(_STEP(self.client, (storage_key,),
                                  ("hit" if take else "peek", cost) + self._args))


class CompositeLimiter(_Composite):
    """Several limits on one key, checked and consumed all-or-nothing.

    ``hit(key, cost)`` passes only when every limiter would pass it, and
    then consumes from all of them; otherwise nothing is consumed anywhere.
    All in one atomic step — one round trip on a real Redis — which is why
    the limiters must share one client object (one Redis, one embedded
    store). The result describes the binding limit, the one with the least
    ``remaining`` (then the longest ``reset_after``); ``retry_after`` is
    the longest of the limiters' waits, the first instant every one of them
    lets the hit through. ``limit`` is that limiter's; a cost above the
    smallest limit can never pass and raises ValueError.

    >>> from minikv import ManualClock, Redis
    >>> client = Redis(clock=ManualClock(start=1_700_000_000))
    >>> burst = RateLimiter(client, limit=2, period=1, algorithm="sliding_log")
    >>> hourly = RateLimiter(client, limit=3, period=3600, algorithm="fixed_window")
    >>> both = RateLimiter.all_of(burst, hourly)
    >>> [both.hit("carol").allowed for _ in range(3)]
    [True, True, False]
    >>> hourly.peek("carol").remaining
    1
    """

    _member = RateLimiter

    def hit(self, key, cost=1):
        return self._run(key, "hit", cost)

    def peek(self, key, cost=1):
        return self._run(key, "peek", cost)

    def refund(self, key, cost=1):
        """Give back up to ``cost`` units to every limiter."""
        return self._run(key, "refund", cost)

    def reset(self, key):
        self.client.delete(*self._storage_keys(key))

    def _run(self, key, op, cost):
        return self._decode(_STEP(self.client, *self._request(key, op, cost)))


# ---------------------------------------------------------------------------
# asyncio
# ---------------------------------------------------------------------------
class AsyncRateLimiter(_Limiter):
    """``RateLimiter`` for asyncio: the same settings, keys, algorithms and
    ``RateLimitResult``s, with ``hit``, ``peek``, ``refund`` and ``reset``
    as coroutines. ``client`` is a ``minikv.asyncio.Redis`` or a
    ``redis.asyncio.Redis``; by default a new ``minikv.asyncio.Redis()``.
    State is shared with ``RateLimiter``s of the same settings on the same
    store or server.

    On a ``redis.asyncio.Redis`` a call awaits the script: one EVALSHA, one
    round trip. On a ``minikv.asyncio.Redis`` nothing ever waits: ``hit``
    and ``peek`` run ``RateLimiter``'s embedded hot path (the compiled
    window included) inline, on the sync client the async one runs its
    commands on, and the other calls run the native step inline too.

    >>> import asyncio
    >>> from minikv import ManualClock
    >>> from minikv.asyncio import Redis
    >>> clock = ManualClock(start=1_700_000_000)
    >>> limiter = AsyncRateLimiter(Redis(clock=clock), limit=2, period=1.0,
    ...                            algorithm="token_bucket")
    >>> async def three_hits():
    ...     return [(await limiter.hit("dan")).allowed for _ in range(3)]
    >>> asyncio.run(three_hits())
    [True, True, False]
    >>> clock.advance(0.5)
    >>> asyncio.run(limiter.hit("dan"))
    RateLimitResult(allowed=True, limit=2, remaining=0, reset_after=1.0, retry_after=0.0)
    """

    _async_client = True

    def __init__(self, client=None, *, limit, period, algorithm="sliding_window",
                 prefix="ratelimit:"):
        super().__init__(client, limit, period, algorithm, prefix)
        # ``_client``: the minikv.asyncio client's own sync client (same
        # store, same selected db), whose calls never wait for these steps.
        self._inline = (RateLimiter(self.client._client, limit=limit, period=period,
                                    algorithm=algorithm, prefix=prefix)
                        if is_embedded_async(self.client) else None)

    @staticmethod
    def all_of(*limiters):
        """One limiter made of several: see ``AsyncCompositeLimiter``."""
        return AsyncCompositeLimiter(limiters)

    async def hit(self, key, cost=1):
        """Consume ``cost`` for ``key`` if it fits; a ``RateLimitResult``."""
        inline = self._inline
        if inline is not None:
            return inline.hit(key, cost)
        return await self._run(key, "hit", cost)

    async def peek(self, key, cost=1):
        """What ``hit(key, cost)`` would answer now, consuming nothing."""
        inline = self._inline
        if inline is not None:
            return inline.peek(key, cost)
        return await self._run(key, "peek", cost)

    async def refund(self, key, cost=1):
        """Give back up to ``cost`` units; the state after."""
        return await self._run(key, "refund", cost)

    async def reset(self, key):
        """Forget ``key``: full capacity again."""
        await self.client.delete(self.storage_key(key))

    async def _run(self, key, op, cost):
        return self._decode(await _STEP.run_async(self.client, *self._request(key, op, cost)))


class AsyncCompositeLimiter(_Composite):
    """``CompositeLimiter`` for asyncio: ``AsyncRateLimiter.all_of(a, b, ...)``
    over ``AsyncRateLimiter``s that share one client; all-or-nothing in one
    step (one round trip on a real Redis), coroutine methods.

    >>> import asyncio
    >>> from minikv import ManualClock
    >>> from minikv.asyncio import Redis
    >>> client = Redis(clock=ManualClock(start=1_700_000_000))
    >>> burst = AsyncRateLimiter(client, limit=2, period=1, algorithm="sliding_log")
    >>> hourly = AsyncRateLimiter(client, limit=3, period=3600, algorithm="fixed_window")
    >>> both = AsyncRateLimiter.all_of(burst, hourly)
    >>> async def hits():
    ...     return [(await both.hit("erin")).allowed for _ in range(3)]
    >>> asyncio.run(hits())
    [True, True, False]
    >>> asyncio.run(hourly.peek("erin")).remaining
    1
    """

    _member = AsyncRateLimiter

    async def hit(self, key, cost=1):
        return await self._run(key, "hit", cost)

    async def peek(self, key, cost=1):
        return await self._run(key, "peek", cost)

    async def refund(self, key, cost=1):
        """Give back up to ``cost`` units to every limiter."""
        return await self._run(key, "refund", cost)

    async def reset(self, key):
        await self.client.delete(*self._storage_keys(key))

    async def _run(self, key, op, cost):
        return self._decode(await _STEP.run_async(self.client, *self._request(key, op, cost)))
