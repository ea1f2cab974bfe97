"""Leaderboards on an embedded minikv or a real Redis: ``Leaderboard``.

Ranking modes (a read-time choice: one board can be read in all three):

- ``standard`` (1, 2, 3, 4): every member has its own rank; equal scores
  are ordered by arrival — whoever reached the score first ranks higher;
- ``competition`` (1, 2, 2, 4): 1 + the number of members with a strictly
  better score;
- ``dense`` (1, 2, 2, 3): 1 + the number of distinct strictly better scores.

``reverse=True`` (the default) ranks high scores first, ``reverse=False``
low scores first (golf, lap times). The direction is part of the board's
data (it decides the arrival tags below): a write through a ``Leaderboard``
of the other direction is refused with ValueError.

Keys (a board owns every key starting with ``<name>:``)::

    <name>:rank     ZSET  tag + member -> score: the board in standard order
    <name>:members  HASH  member -> tag (its arrival tag, 16 digits)
    <name>:scores   ZSET  "%.17g" of each score held by some member -> score
    <name>:meta     HASH  seq (the arrival counter), order ("desc"/"asc"),
                          deadline (ms, set by ``expire_at``)
    <name>:data:<member>  HASH  the member's attached data (``member_data``)

The tie encoding. A sorted set orders equal scores by member bytes, so the
rank set's elements are the member's *arrival tag* followed by the member:
16 decimal digits, fixed width, so byte order is numeric order. The tag
comes from ``seq``, a counter incremented (HINCRBY) each time a member's
score changes: ``seq`` itself for ``reverse=False`` (ZRANK order: earlier
arrival, smaller tag, first) and ``2**53 - seq`` for ``reverse=True``
(ZREVRANK order: larger tag first). So ZRANK/ZREVRANK *is* the standard
rank, and ZRANGE/ZREVRANGE lists the board in standard order, in O(log n)
— with the score stored unchanged as the zset score: no composite double.

Exact range: every finite double is a valid score and is stored exactly
(so any two different scores rank apart, whatever their size); an ``int``
score is accepted when a double holds it exactly (all ``|n| <= 2**53``, and
larger ones with enough trailing zero bits) and refused with ValueError
otherwise, as are NaN and infinities. Arrivals are exact up to ``2**53 - 1``
score changes per board (the counter must stay an exact Lua number); a
write past that is refused with ValueError, never misranked. ``incr`` adds
as doubles, as ZINCRBY does (integer totals exact while ``|total| <=
2**53``); a total that overflows to infinity is refused. -0.0 is stored as
0.0 (the two are one score).

A member's arrival changes only when its score changes: ``add`` of the
score it already has keeps its place among equals; ``incr`` by 0 too.

Dense ranks need the number of distinct better scores: ``<name>:scores``
holds one element per distinct score (its ``%.17g`` text, the same on Lua
and in Python), added when a member takes the score and removed when the
last member leaves it (ZCOUNT of that score on the rank set is 0) — in the
same atomic step as the change, so no reference counts are needed.

Every write is one atomic step (``AtomicStep``: one EVALSHA on a real
Redis, a native function under the store lock on minikv) and every read is
one round trip: ``top`` and ``page`` in standard mode are a single
ZREVRANGE (ZRANGE) — on minikv the client's compiled fast path — and the
other reads are steps whose natives read the engine's structures directly
(the members hash, the sorted sets' member dicts and score indexes) instead
of going through the command table. Natives return scores as floats where
the scripts must send text (a Lua number reply is truncated to an integer);
the decoding here reads both with ``float``. Building the ``Entry`` objects
is most of a short range read's cost in Python, so each ``Leaderboard``
object memoizes a bounded number of them (``_entries``).

Costs (n members): ``add``/``incr``/``set_if_better``/``remove``, ``rank``,
``score``, ``percentile``: O(log n); ``top(k)``, ``page``, ``around``:
O(log n + k); ``entries(m)``: O(m log n); ``expire_at``: O(n) (it reaches
every member's data hash); ``merge_into``: O(N log N) over all entries.

Seasonal boards: ``expire_at(when)`` gives every key of the board the same
deadline and records it in ``meta``; later writes give the keys they create
(a data hash, a set emptied and refilled) that deadline too, so the whole
board ends at once.

asyncio: ``AsyncLeaderboard`` (client: a ``minikv.asyncio.Redis``, the
default, or a ``redis.asyncio.Redis``) has every method of ``Leaderboard``
as a coroutine, ``member_data``'s included, with the same data layout and
the same ``Entry`` results. Both are thin shells over ``_Board`` and
``_MemberDataBase``, which hold the checks, each step's arguments and the
decoding of its reply: the sync class calls the steps (and client
methods), the async one awaits them (``AtomicStep.run_async``).
"""
import math
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

from minikv.engine.errors import CommandError
from minikv.engine.hashes import read_hash, set_field
from minikv.engine.zsets import add_member, read_zset, remove_members
from minikv.exceptions import ResponseError
from minikv.patterns._atomic import AtomicStep, is_embedded, is_embedded_async
from minikv.patterns._io import new_embedded_client

try:
    from redis.exceptions import ResponseError as _RedisResponseError
except ImportError:  # minikv's class is the only one then
    _RedisResponseError = ResponseError

__all__ = ["Entry", "Leaderboard", "MemberData", "AsyncLeaderboard", "AsyncMemberData",
           "RANKINGS"]

RANKINGS = ("standard", "dense", "competition")
AGGREGATES = ("sum", "min", "max")

# Tags are < 2**53: the arrival counter stays an exact Lua number.
ARRIVALS = 2 ** 53
_TAG_WIDTH = 16  # digits of 2**53
# How many entries a Leaderboard object keeps for reuse (``_entries``).
ENTRY_MEMO = 2048
_INF = math.inf
_new_tuple = tuple.__new__
_strip_tag = itemgetter(slice(_TAG_WIDTH, None))


class Entry(NamedTuple):
    """One member of a board: its score and its rank in the board's mode."""
    member: str
    score: float
    rank: int


_rank_of = itemgetter(2)  # Entry.rank, at C speed
# How a range's pairs are laid out: as the score index hands them out, or
# as ZRANGE WITHSCORES replies.
_SCORE_ELEMENT = "score, element"
_ELEMENT_SCORE = "element, score"


# -- argument checks ------------------------------------------------------------
def _member_bytes(member):
    if member.__class__ is not str:
        raise TypeError(f"leaderboard members are str, not {type(member).__name__}")
    return member.encode()


def _score(value, what="score"):
    """A score or delta as the float stored: finite, exact."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a {what} is a finite number, not {value!r}")
        return float(value) + 0.0  # -0.0 -> 0.0
    if isinstance(value, int) and value.__class__ is not bool:
        try:
            exact = float(value)
        except OverflowError:
            exact = _INF
        if not math.isfinite(exact) or int(exact) != value:
            raise ValueError(f"a {what} must be exact as a double; {value!r} is not")
        return exact + 0.0
    raise TypeError(f"a {what} is an int or a float, not {type(value).__name__}")


def _count(value, what, minimum):
    if value.__class__ is not int or value < minimum:
        raise ValueError(f"{what} is an int >= {minimum}, not {value!r}")
    return value


def _text(raw):
    return raw.decode() if raw.__class__ is bytes else raw


def _score_text(score):
    """The canonical text of a score: Lua's string.format('%.17g')."""
    return b"%.17g" % score


# -- Lua: shared helpers ---------------------------------------------------------
# KEYS[1..4] = rank, members, scores, meta; ARGV[1] = "desc" or "asc".
_LUA_READ = """
local RANK, MEMBERS, SCORES, META = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local DESC = ARGV[1] == 'desc'
local function score_text(score) return string.format('%.17g', score) end
-- the member's arrival tag and score (a number); false if absent
local function current(member)
  local tag = redis.call('HGET', MEMBERS, member)
  if not tag then return false, nil end
  return tag, tonumber(redis.call('ZSCORE', RANK, tag .. member))
end
-- how many elements of a zset have a strictly better score
local function better_count(key, score)
  if DESC then return redis.call('ZCOUNT', key, '(' .. score_text(score), '+inf') end
  return redis.call('ZCOUNT', key, '-inf', '(' .. score_text(score))
end
-- 0-based position of an element in standard order
local function position(element)
  if DESC then return redis.call('ZREVRANK', RANK, element) end
  return redis.call('ZRANK', RANK, element)
end
"""

_LUA_WRITE = _LUA_READ + """
local ARRIVALS = 9007199254740992
-- before a step that places up to count members: the board's direction
-- is ours (claimed if new) and count more arrivals fit; its deadline
local function claim(count)
  local meta = redis.call('HMGET', META, 'order', 'seq', 'deadline')
  if meta[1] ~= ARGV[1] then
    if meta[1] then error({err = 'LEADERBOARD order ' .. meta[1]}) end
    redis.call('HSET', META, 'order', ARGV[1])
  end
  if (tonumber(meta[2]) or 0) + count >= ARRIVALS then
    error({err = 'LEADERBOARD arrivals'})
  end
  return meta[3]
end
local function unlink(member, tag, score)
  redis.call('ZREM', RANK, tag .. member)
  if redis.call('ZCOUNT', RANK, score, score) == 0 then
    redis.call('ZREM', SCORES, score_text(score))
  end
end
-- give the member a new score and a new arrival
local function place(member, tag, old, score)
  local seq = redis.call('HINCRBY', META, 'seq', 1)
  if tag then unlink(member, tag, old) end
  if DESC then seq = ARRIVALS - seq end
  tag = string.format('%016d', seq)
  redis.call('ZADD', RANK, score, tag .. member)
  redis.call('HSET', MEMBERS, member, tag)
  redis.call('ZADD', SCORES, score, score_text(score))
end
local function keep_deadline(deadline)
  if deadline then
    for _, key in ipairs({RANK, MEMBERS, SCORES, META}) do
      redis.call('PEXPIREAT', key, deadline)
    end
  end
end
local function check_finite(score)
  if score == math.huge or score == -math.huge then error({err = 'LEADERBOARD overflow'}) end
end
"""


# -- native twins of the Lua helpers -----------------------------------------------
# They read and change the engine's structures with the typed helpers the
# commands themselves use (a ``context.call`` costs a trip through the
# command table and argument parsing: ~1-3 µs). Writes that go through
# ``context.call`` are the ones where the command table's rules matter: the
# first denyoom write of a step (HSET of the direction, HINCRBY of the
# arrival counter) is refused while the store is over maxmemory, as in a
# script.
def _desc(args):
    return args[0] == b"desc"


def _current(ks, keys, member):
    tags = read_hash(ks, keys[1])
    tag = None if tags is None else tags.get(member)
    if tag is None:
        return None, None
    return tag, read_zset(ks, keys[0]).scores[tag + member]


def _equal_count(zset, score):
    """How many elements of ``zset`` (None: empty) have exactly ``score``."""
    if zset is None:
        return 0
    first, end = zset.index.score_span(score, False, score, False)
    return end - first


def _claim(context, keys, args, count):
    meta = read_hash(context.keyspace, keys[3])
    get = {}.get if meta is None else meta.get
    order = get(b"order")
    if order != args[0]:
        if order is not None:
            raise CommandError("LEADERBOARD order " + order.decode())
        context.call("HSET", keys[3], "order", args[0])
    if int(get(b"seq", 0)) + count >= ARRIVALS:
        raise CommandError("LEADERBOARD arrivals")
    return get(b"deadline")


def _unlink(ks, keys, member, tag, score):
    remove_members(ks, keys[0], [tag + member])
    if not _equal_count(read_zset(ks, keys[0]), score):
        remove_members(ks, keys[2], [_score_text(score)])


def _place(context, keys, desc, member, tag, old, score):
    seq = context.call("HINCRBY", keys[3], "seq", 1)
    session = context.session
    ks = session.ks
    if tag is not None:
        _unlink(ks, keys, member, tag, old)
    tag = b"%016d" % (ARRIVALS - seq if desc else seq)
    add_member(session, keys[0], tag + member, score)
    set_field(ks, session.store.config, keys[1], member, tag)
    add_member(session, keys[2], _score_text(score), score)


def _keep_deadline(context, keys, deadline):
    if deadline is not None:
        for key in keys[:4]:
            context.call("PEXPIREAT", key, deadline)


def _check_finite(score):
    if score == _INF or score == -_INF:
        raise CommandError("LEADERBOARD overflow")


# -- writes ---------------------------------------------------------------------
# ADD: ARGV = order, then member, score pairs. How many members were new.
_ADD_LUA = _LUA_WRITE + """
local deadline = claim((#ARGV - 1) / 2)
local added = 0
for i = 2, #ARGV, 2 do
  local member, score = ARGV[i], tonumber(ARGV[i + 1])
  local tag, old = current(member)
  if old ~= score then
    place(member, tag, old, score)
    if not tag then added = added + 1 end
  end
end
keep_deadline(deadline)
return added
"""


def _add_native(context, keys, args):
    ks = context.keyspace
    desc = _desc(args)
    deadline = _claim(context, keys, args, (len(args) - 1) // 2)
    added = 0
    for i in range(1, len(args), 2):
        member, score = args[i], args[i + 1]
        tag, old = _current(ks, keys, member)
        if old != score:
            _place(context, keys, desc, member, tag, old, score)
            added += tag is None
    _keep_deadline(context, keys, deadline)
    return added


# INCR: ARGV = order, member, delta. The new score's text.
_INCR_LUA = _LUA_WRITE + """
local deadline = claim(1)
local member, delta = ARGV[2], tonumber(ARGV[3])
local tag, old = current(member)
local score = delta
if tag then score = old + delta end
check_finite(score)
if score ~= old then
  place(member, tag, old, score)
  keep_deadline(deadline)
end
return score_text(score)
"""


def _incr_native(context, keys, args):
    deadline = _claim(context, keys, args, 1)
    member, delta = args[1], args[2]
    tag, old = _current(context.keyspace, keys, member)
    score = delta if tag is None else old + delta
    _check_finite(score)
    if score != old:
        _place(context, keys, _desc(args), member, tag, old, score)
        _keep_deadline(context, keys, deadline)
    return score


# SET_IF_BETTER: ARGV = order, member, score. 1 if it was set, else 0.
_SET_IF_BETTER_LUA = _LUA_WRITE + """
local deadline = claim(1)
local member, score = ARGV[2], tonumber(ARGV[3])
local tag, old = current(member)
if tag and not (DESC and score > old or not DESC and score < old) then return 0 end
place(member, tag, old, score)
keep_deadline(deadline)
return 1
"""


def _set_if_better_native(context, keys, args):
    deadline = _claim(context, keys, args, 1)
    member, score = args[1], args[2]
    tag, old = _current(context.keyspace, keys, member)
    desc = _desc(args)
    if tag is not None and not (score > old if desc else score < old):
        return 0
    _place(context, keys, desc, member, tag, old, score)
    _keep_deadline(context, keys, deadline)
    return 1


# REMOVE: KEYS[5] = the member's data hash; ARGV = order, member. 1 if it was there.
_REMOVE_LUA = _LUA_WRITE + """
local member = ARGV[2]
local tag, old = current(member)
if not tag then return 0 end
unlink(member, tag, old)
redis.call('HDEL', MEMBERS, member)
redis.call('DEL', KEYS[5])
return 1
"""


def _remove_native(context, keys, args):
    ks = context.keyspace
    member = args[1]
    tag, old = _current(ks, keys, member)
    if tag is None:
        return 0
    _unlink(ks, keys, member, tag, old)
    context.call("HDEL", keys[1], member)
    context.call("DEL", keys[4])
    return 1


# MERGE: KEYS[5..] = the sources' rank sets; ARGV = order, aggregate, each
# source's order. Members are taken source by source, each in its board
# order; a member's total folds the aggregate over its dest score (if any)
# then its source scores in that order. Members whose total differs from
# their dest score arrive anew, in first-seen order. The dest's size.
_MERGE_LUA = _LUA_WRITE + """
local aggregate = ARGV[2]
local seen, tags, olds, totals = {}, {}, {}, {}
for i = 5, #KEYS do
  local command = ARGV[i - 2] == 'desc' and 'ZREVRANGE' or 'ZRANGE'
  local items = redis.call(command, KEYS[i], 0, -1, 'WITHSCORES')
  for j = 1, #items, 2 do
    local member, score = string.sub(items[j], 17), tonumber(items[j + 1])
    local total = totals[member]
    if total == nil then
      seen[#seen + 1] = member
      tags[member], olds[member] = current(member)
      total = olds[member]
    end
    if total == nil then total = score
    elseif aggregate == 'sum' then total = total + score
    elseif aggregate == 'max' then total = math.max(total, score)
    else total = math.min(total, score) end
    totals[member] = total
  end
end
for _, member in ipairs(seen) do check_finite(totals[member]) end
local deadline = claim(#seen)
for _, member in ipairs(seen) do
  local total = totals[member]
  if total ~= olds[member] then place(member, tags[member], olds[member], total) end
end
keep_deadline(deadline)
return redis.call('ZCARD', RANK)
"""

_AGGREGATE = {b"sum": float.__add__, b"max": max, b"min": min}


def _merge_native(context, keys, args):
    ks = context.keyspace
    combine = _AGGREGATE[args[1]]
    seen = {}  # member -> [tag, old, total], in first-seen order
    for key, order in zip(keys[4:], args[2:]):
        source = read_zset(ks, key)
        if source is None:
            continue
        size = len(source)
        for score, element in source.index.by_rank(0, size, order == b"desc"):
            member = element[_TAG_WIDTH:]
            state = seen.get(member)
            if state is None:
                tag, old = _current(ks, keys, member)
                state = seen[member] = [tag, old, old]
            state[2] = score if state[2] is None else combine(state[2], score)
    for _, _, total in seen.values():
        _check_finite(total)
    deadline = _claim(context, keys, args, len(seen))
    desc = _desc(args)
    for member, (tag, old, total) in seen.items():
        if total != old:
            _place(context, keys, desc, member, tag, old, total)
    _keep_deadline(context, keys, deadline)
    rank_set = read_zset(ks, keys[0])
    return 0 if rank_set is None else len(rank_set)


# EXPIRE_AT: ARGV = order, deadline (ms), data key prefix. Returns 1.
_EXPIRE_AT_LUA = _LUA_READ + """
redis.call('HSET', META, 'deadline', ARGV[2])
for _, member in ipairs(redis.call('HKEYS', MEMBERS)) do
  redis.call('PEXPIREAT', ARGV[3] .. member, ARGV[2])
end
for _, key in ipairs({RANK, MEMBERS, SCORES, META}) do redis.call('PEXPIREAT', key, ARGV[2]) end
return 1
"""


def _expire_at_native(context, keys, args):
    call = context.call
    deadline, prefix = args[1], args[2]
    call("HSET", keys[3], "deadline", deadline)
    for member in call("HKEYS", keys[1]):
        call("PEXPIREAT", prefix + member, deadline)
    for key in keys[:4]:
        call("PEXPIREAT", key, deadline)
    return 1


# DATA_SET: KEYS[5] = the data hash; ARGV = order, member, field/value
# pairs. 1, or 0 (nothing written) if the member is not on the board.
_DATA_SET_LUA = _LUA_READ + """
if redis.call('HEXISTS', MEMBERS, ARGV[2]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1]) end
local deadline = redis.call('HGET', META, 'deadline')
if deadline then redis.call('PEXPIREAT', KEYS[5], deadline) end
return 1
"""


def _data_set_native(context, keys, args):
    call = context.call
    if not call("HEXISTS", keys[1], args[1]):
        return 0
    if len(args) > 2:
        call("HSET", keys[4], *args[2:])
    deadline = call("HGET", keys[3], "deadline")
    if deadline is not None:
        call("PEXPIREAT", keys[4], deadline)
    return 1


# DATA_GET_MANY: KEYS = data hashes. Each one's HGETALL.
_DATA_GET_MANY_LUA = """
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out
"""


def _data_get_many_native(context, keys, args):
    call = context.call
    return [call("HGETALL", key) for key in keys]


# -- reads ------------------------------------------------------------------------
# On minikv the natives read the engine's structures directly: the members
# hash (a dict), the sorted sets' member dicts and score indexes.
def _native_better_count(zset, score, desc):
    """How many elements of ``zset`` (None: empty) score strictly better."""
    if zset is None:
        return 0
    if desc:
        first, end = zset.index.score_span(score, True, _INF, False)
        return end - first
    return zset.index.score_span(-_INF, False, score, True)[1]


def _native_rank(ks, keys, mode, desc, rank_set, element, score):
    """The 1-based rank of a present element in ``mode``."""
    if mode == b"standard":
        position = rank_set.index.rank(score, element)
        return len(rank_set.scores) - position if desc else position + 1
    if mode == b"dense":
        return _native_better_count(read_zset(ks, keys[2]), score, desc) + 1
    return _native_better_count(rank_set, score, desc) + 1


# LOOKUP: ARGV = order, mode ("standard", "dense", "competition" or "score"
# for none), members. Per member: score text and rank, or false, false.
_LOOKUP_LUA = _LUA_READ + """
local mode = ARGV[2]
local out = {}
for i = 3, #ARGV do
  local member = ARGV[i]
  local tag, score = current(member)
  if tag then
    out[#out + 1] = score_text(score)
    if mode == 'standard' then out[#out + 1] = position(tag .. member) + 1
    elseif mode == 'score' then out[#out + 1] = false
    else out[#out + 1] = better_count(mode == 'dense' and SCORES or RANK, score) + 1 end
  else
    out[#out + 1] = false
    out[#out + 1] = false
  end
end
return out
"""


def _lookup_native(context, keys, args):
    ks = context.keyspace
    desc = _desc(args)
    mode = args[1]
    tags = read_hash(ks, keys[1])
    rank_set = read_zset(ks, keys[0])
    out = []
    for member in args[2:]:
        tag = None if tags is None else tags.get(member)
        if tag is None:
            out += (None, None)
            continue
        element = tag + member
        score = rank_set.scores[element]
        out.append(score)
        out.append(None if mode == b"score" else
                   _native_rank(ks, keys, mode, desc, rank_set, element, score))
    return out


# RANGE: ARGV = order, mode, start, count [, center member]. With a center
# member (``around``) start is n and the window is shifted to fit the board.
# {start, rank of the first entry, score text, element, ...}, or {}. The
# native returns [start, first rank, pairs] instead, ``pairs`` being the
# (score, element) list the score index hands out: the one reply whose
# shape differs between the twins, because the top-10 read's budget is a few
# µs and re-flattening the pairs would take a sizeable part of it.
_RANGE_LUA = _LUA_READ + """
local mode = ARGV[2]
local start, count = tonumber(ARGV[3]), tonumber(ARGV[4])
if ARGV[5] then
  local tag = redis.call('HGET', MEMBERS, ARGV[5])
  if not tag then return {} end
  local size = redis.call('ZCARD', RANK)
  start = math.max(0, math.min(position(tag .. ARGV[5]) - start, size - count))
end
local command = DESC and 'ZREVRANGE' or 'ZRANGE'
local items = redis.call(command, RANK, start, start + count - 1, 'WITHSCORES')
if #items == 0 then return {} end
local first = start + 1
if mode ~= 'standard' then
  first = better_count(mode == 'dense' and SCORES or RANK, tonumber(items[2])) + 1
end
local out = {start, first}
for i = 1, #items, 2 do
  out[i + 2] = items[i + 1]
  out[i + 3] = items[i]
end
return out
"""


def _range_native(context, keys, args):
    ks = context.keyspace
    rank_set = read_zset(ks, keys[0])
    if rank_set is None:
        return []
    desc = args[0] == b"desc"
    start, count = args[2], args[3]
    size = len(rank_set.scores)
    if len(args) > 4:  # around a member
        member = args[4]
        tag = read_hash(ks, keys[1]).get(member)
        if tag is None:
            return []
        element = tag + member
        position = rank_set.index.rank(rank_set.scores[element], element)
        if desc:
            position = size - 1 - position
        # the window around the position, shifted to fit the board
        start = position - start
        if start > size - count:
            start = size - count
        if start < 0:
            start = 0
    stop = start + count
    if stop > size:
        stop = size
    if start >= stop:
        return []
    if desc:
        pairs = rank_set.index.by_rank(size - stop, size - start, True)
    else:
        pairs = rank_set.index.by_rank(start, stop)
    mode = args[1]
    if mode == b"standard":
        first = start + 1
    else:
        counted = read_zset(ks, keys[2]) if mode == b"dense" else rank_set
        first = _native_better_count(counted, pairs[0][0], desc) + 1
    return [start, first, pairs]


# PERCENTILE: ARGV = order, member. {members scoring strictly worse, board
# size}, or false if the member is absent.
_PERCENTILE_LUA = _LUA_READ + """
local tag, score = current(ARGV[2])
if not tag then return false end
local worse
if DESC then worse = redis.call('ZCOUNT', RANK, '-inf', '(' .. score_text(score))
else worse = redis.call('ZCOUNT', RANK, '(' .. score_text(score), '+inf') end
return {worse, redis.call('ZCARD', RANK)}
"""


def _percentile_native(context, keys, args):
    ks = context.keyspace
    tags = read_hash(ks, keys[1])
    tag = None if tags is None else tags.get(args[1])
    if tag is None:
        return None
    rank_set = read_zset(ks, keys[0])
    score = rank_set.scores[tag + args[1]]
    # strictly worse in this board's direction = strictly better in the other
    return [_native_better_count(rank_set, score, not _desc(args)), len(rank_set.scores)]


_ADD = AtomicStep(_ADD_LUA, _add_native)
_INCR = AtomicStep(_INCR_LUA, _incr_native)
_SET_IF_BETTER = AtomicStep(_SET_IF_BETTER_LUA, _set_if_better_native)
_REMOVE = AtomicStep(_REMOVE_LUA, _remove_native)
_MERGE = AtomicStep(_MERGE_LUA, _merge_native)
_EXPIRE_AT = AtomicStep(_EXPIRE_AT_LUA, _expire_at_native)
_DATA_SET = AtomicStep(_DATA_SET_LUA, _data_set_native)
_DATA_GET_MANY = AtomicStep(_DATA_GET_MANY_LUA, _data_get_many_native)
_LOOKUP = AtomicStep(_LOOKUP_LUA, _lookup_native)
_RANGE = AtomicStep(_RANGE_LUA, _range_native)
_PERCENTILE = AtomicStep(_PERCENTILE_LUA, _percentile_native)


def _raise_refusal(board, exc):
    """Raise the ValueError for a write a step refused (``LEADERBOARD
    <why>``) in place of the error reply ``exc``; return for any other
    error reply (the caller re-raises it)."""
    words = str(exc).split()
    if len(words) < 2 or words[0] != "LEADERBOARD":
        return
    if words[1] == "order":
        stored = "high" if words[2] == "desc" else "low"
        raise ValueError(f"board {board.name!r} ranks {stored} scores first; this "
                         f"{type(board).__name__} has reverse={board.reverse}") from None
    if words[1] == "arrivals":
        raise ValueError(f"board {board.name!r} has used all {ARRIVALS - 1} arrivals "
                         "its tie order can represent") from None
    raise ValueError("the score would overflow a double") from None


def _when_ms(when):
    if isinstance(when, datetime):
        return int(when.timestamp() * 1000)
    if when.__class__ is bool or not isinstance(when, (int, float)):
        raise TypeError(f"when is a datetime or Unix seconds, not {type(when).__name__}")
    return int(when * 1000)


def _value_arg(value):
    cls = value.__class__
    if cls is str or cls is bytes:
        return value
    if cls is int or cls is float:
        return repr(value)
    raise TypeError(f"member data values are str, bytes, int or float, not {cls.__name__}")


def _decode_flat(flat):
    """A HGETALL reply (a dict from redis-py, a flat list from a script)
    as {str: str}."""
    if isinstance(flat, dict):
        return {_text(field): _text(value) for field, value in flat.items()}
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _decode_score(reply):
    """A LOOKUP reply for one member in "score" mode: its score or None."""
    return None if reply[0] is None else float(reply[0])


def _decode_entries(names, reply):
    """A LOOKUP reply for ``names`` as their Entries (None if absent)."""
    return [None if reply[i] is None else _new_tuple(Entry, (member, float(reply[i]),
                                                             reply[i + 1]))
            for member, i in zip(names, range(0, len(reply), 2))]


def _decode_percentile(reply):
    """A PERCENTILE reply as ``Leaderboard.percentile`` defines it."""
    if reply is None:
        return None
    worse, size = reply
    if size == 1:
        return 100.0
    return 100.0 * worse / (size - 1)


# -- the boards ---------------------------------------------------------------------
# ``_Board`` and ``_MemberDataBase`` hold everything the sync and the async
# classes share — argument checks, keys, each step's arguments and the
# decoding of its reply, the range reads' ranks and Entry memo — so that
# ``Leaderboard``/``MemberData`` and ``AsyncLeaderboard``/``AsyncMemberData``
# only differ in how they reach the store: calls, or awaits.
class _MemberDataBase:
    """Keys and step arguments of a board's member data (see MemberData)."""

    __slots__ = ("board",)

    def __init__(self, board):
        self.board = board

    def _key(self, member):
        return self.board._data_prefix + _member_bytes(member)

    def _set_request(self, member, mapping):
        """DATA_SET's keys and args."""
        member_bytes = _member_bytes(member)
        pairs = []
        for field, value in mapping.items():
            if field.__class__ is not str:
                raise TypeError(f"member data fields are str, not {type(field).__name__}")
            pairs += (field, _value_arg(value))
        board = self.board
        return ([*board._keys, board._data_prefix + member_bytes],
                [board._order, member_bytes, *pairs])


class MemberData(_MemberDataBase):
    """The hash attached to each member of a board: ``board.member_data``.

    Fields and values are text (ints and floats are stored as their text,
    values come back as ``str``). Only members on the board have data; it
    is deleted with the member and ends with the board (``expire_at``).
    """

    __slots__ = ()

    def set(self, member, mapping):
        """Set these fields of the member's data (others untouched); False,
        and nothing written, if the member is not on the board."""
        return _DATA_SET(self.board.client, *self._set_request(member, mapping)) == 1

    def get(self, member):
        """The member's data as a dict ({} if none)."""
        return _decode_flat(self.board.client.hgetall(self._key(member)))

    def get_many(self, members):
        """``get`` for each of ``members``, in one round trip."""
        keys = [self._key(member) for member in members]
        if not keys:
            return []
        return list(map(_decode_flat, _DATA_GET_MANY(self.board.client, keys, ())))

    def delete(self, member, *fields):
        """Delete these fields (all of the member's data if none are
        named); how many fields were deleted, or 1/0 for all."""
        key = self._key(member)
        if fields:
            return self.board.client.hdel(key, *fields)
        return self.board.client.delete(key)


class AsyncMemberData(_MemberDataBase):
    """``MemberData`` for an ``AsyncLeaderboard``: the same methods, as
    coroutines."""

    __slots__ = ()

    async def set(self, member, mapping):
        """See ``MemberData.set``."""
        keys, args = self._set_request(member, mapping)
        return await _DATA_SET.run_async(self.board.client, keys, args) == 1

    async def get(self, member):
        """See ``MemberData.get``."""
        return _decode_flat(await self.board.client.hgetall(self._key(member)))

    async def get_many(self, members):
        """See ``MemberData.get_many``."""
        keys = [self._key(member) for member in members]
        if not keys:
            return []
        return list(map(_decode_flat, await _DATA_GET_MANY.run_async(self.board.client,
                                                                     keys, ())))

    async def delete(self, member, *fields):
        """See ``MemberData.delete``."""
        key = self._key(member)
        if fields:
            return await self.board.client.hdel(key, *fields)
        return await self.board.client.delete(key)


class _Board:
    """A board's settings, keys, step arguments and reply decoding (see
    Leaderboard); a subclass sets ``member_data`` and ``_embedded`` (whether
    steps reply in the natives' shapes) and does the I/O."""

    def __init__(self, client, name, reverse, ranking):
        if name.__class__ is not str:
            raise TypeError(f"a board's name is a str, not {type(name).__name__}")
        if ranking not in RANKINGS:
            raise ValueError(f"ranking is one of {', '.join(RANKINGS)}; not {ranking!r}")
        self.client = client
        self.name = name
        self.reverse = bool(reverse)
        self.ranking = ranking
        prefix = name.encode()
        self._keys = [prefix + b":rank", prefix + b":members", prefix + b":scores",
                      prefix + b":meta"]
        self._read_keys = self._keys[:3]
        self._data_prefix = prefix + b":data:"
        self._order = b"desc" if self.reverse else b"asc"
        self._mode = ranking.encode()
        self._head = [self._order, self._mode]
        # Range reads without a center are then one ZRANGE/ZREVRANGE (a
        # compiled fast path on minikv): in standard order a position is the rank.
        self._by_position = ranking == "standard"
        self._memo = {}  # element -> Entry: see _entries

    def __repr__(self):
        return (f"{type(self).__name__}({self.name!r}, reverse={self.reverse!r}, "
                f"ranking={self.ranking!r})")

    # -- writes' arguments ----------------------------------------------------------
    def _scored(self, member, value, what="score"):
        """ADD/INCR/SET_IF_BETTER's args for one member."""
        return [self._order, _member_bytes(member), _score(value, what)]

    def _add_many_args(self, mapping):
        """ADD's args for every member of ``mapping``; just the order if none."""
        args = [self._order]
        for member, score in mapping.items():
            args += (_member_bytes(member), _score(score))
        return args

    def _remove_request(self, member):
        member_bytes = _member_bytes(member)
        return [*self._keys, self._data_prefix + member_bytes], [self._order, member_bytes]

    def _expire_args(self, when):
        return [self._order, _when_ms(when), self._data_prefix]

    def _merge_request(self, dest, others, aggregate):
        """MERGE's keys and args (see Leaderboard.merge_into)."""
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate is one of {', '.join(AGGREGATES)}; not {aggregate!r}")
        dest = self._board(dest)
        sources = [self, *(self._board(other) for other in others)]
        return ([*dest._keys, *(board._keys[0] for board in sources)],
                [dest._order, aggregate.encode(), *(board._order for board in sources)])

    def _board(self, board):
        """A board object, sync or async (only its keys and order are used),
        or a name: that board in this one's direction."""
        if isinstance(board, _Board):
            return board
        return _Board(self.client, board, self.reverse, "standard")

    # -- reads' arguments and decoding ----------------------------------------------------
    def _score_args(self, member):
        return [self._order, b"score", _member_bytes(member)]

    def _rank_args(self, member):
        return [*self._head, _member_bytes(member)]

    def _entries_args(self, names):
        return [*self._head, *(_member_bytes(member) for member in names)]

    def _percentile_args(self, member):
        return [self._order, _member_bytes(member)]

    @staticmethod
    def _page_window(number, size):
        """``page``'s (start, count)."""
        _count(number, "number", 1)
        _count(size, "size", 1)
        return (number - 1) * size, size

    def _positioned(self, pairs, start):
        """The Entries of a ZRANGE/ZREVRANGE WITHSCORES reply from ``start``."""
        if not pairs:
            return []
        return self._entries(pairs, _ELEMENT_SCORE, list(range(start + 1, start + 1 + len(pairs))))

    def _range_args(self, start, count, center):
        args = [*self._head, start, count]
        if center is not None:
            args.append(center)
        return args

    def _ranged(self, reply):
        """The Entries of a RANGE reply (in the native's shape if embedded)."""
        if not reply:
            return []
        if self._embedded:
            pairs = reply[2]
        else:
            pairs = list(zip(map(float, reply[2::2]), reply[3::2]))
        start, first = reply[0], reply[1]
        mode = self.ranking
        if mode == "standard":
            ranks = list(range(first, first + len(pairs)))
        else:
            ranks = []
            rank, previous = first, pairs[0][0]
            for position, (score, _) in enumerate(pairs, start + 1):
                if score != previous:
                    rank = position if mode == "competition" else rank + 1
                    previous = score
                ranks.append(rank)
        return self._entries(pairs, _SCORE_ELEMENT, ranks)

    def _entries(self, pairs, layout, ranks):
        """The Entry of each (score, element) or (element, score) pair (as
        ``layout`` says) of the rank set, at these ranks.

        An element (tag + member) names its member, so a pair and a rank
        determine an Entry. Entries are memoized per pair, up to ENTRY_MEMO
        of them (then the memo starts afresh), and a memoized one is reused
        when its rank is the one read now. Building them (slicing off the
        tag, decoding, making the tuples) is most of a top-10 read's cost,
        and the entries near the top are read over and over.
        """
        memo = self._memo
        entries = list(map(memo.get, pairs))
        if None not in entries and list(map(_rank_of, entries)) == ranks:
            return entries
        if layout is _SCORE_ELEMENT:
            scores, elements = zip(*pairs)
        else:
            elements, scores = zip(*pairs)
        members = map(_strip_tag, elements)
        if elements[0].__class__ is bytes:
            members = map(bytes.decode, members)
        entries = list(map(_new_tuple, repeat(Entry), zip(members, scores, ranks)))
        if len(memo) > ENTRY_MEMO:
            memo.clear()
        memo.update(zip(pairs, entries))
        return entries


class Leaderboard(_Board):
    """A ranked board of members and scores, ties broken by arrival.

    ``client`` is a ``minikv.Redis`` or a ``redis.Redis`` (default: a new
    embedded ``minikv.Redis()``); ``name`` prefixes every key of the board.
    ``reverse=True`` ranks high scores first; ``ranking`` is ``"standard"``
    (1, 2, 3, 4), ``"competition"`` (1, 2, 2, 4) or ``"dense"`` (1, 2, 2, 3)
    — how this object reports ranks; the data is the same for all three.
    Members are ``str``; scores are finite ints or floats (see the module
    docstring for the exact range). Every method is one atomic step, one
    round trip on a real Redis.

    >>> board = Leaderboard(name="arcade")
    >>> for member, points in [("ada", 300), ("bob", 250), ("cy", 300), ("dee", 90)]:
    ...     _ = board.add(member, points)
    >>> board.top(3)  # doctest: +NORMALIZE_WHITESPACE
    [Entry(member='ada', score=300.0, rank=1), Entry(member='cy', score=300.0, rank=2),
     Entry(member='bob', score=250.0, rank=3)]
    >>> board.rank("cy")            # cy reached 300 after ada
    2
    >>> Leaderboard(board.client, "arcade", ranking="competition").rank("bob")
    3
    >>> Leaderboard(board.client, "arcade", ranking="dense").rank("bob")
    2
    >>> board.incr("dee", 200)      # dee reaches 290
    290.0
    >>> [entry.member for entry in board.around("bob", 1)]
    ['cy', 'dee', 'bob']
    >>> board.set_if_better("bob", 100), board.score("bob")
    (False, 250.0)
    >>> board.member_data.set("ada", {"country": "UK"})
    True
    >>> board.member_data.get("ada")
    {'country': 'UK'}
    >>> board.remove("ada"), board.member_data.get("ada"), board.count()
    (True, {}, 3)
    >>> board.percentile("dee")     # beats 1 of the 2 others: bob
    50.0
    """

    def __init__(self, client=None, name="leaderboard", *, reverse=True, ranking="standard"):
        if client is None:
            client = new_embedded_client(False)
        super().__init__(client, name, reverse, ranking)
        self.member_data = MemberData(self)
        self._embedded = is_embedded(client)

    def _write(self, step, keys, args):
        try:
            return step(self.client, keys, args)
        except (ResponseError, _RedisResponseError) as exc:
            _raise_refusal(self, exc)
            raise

    # -- writes -----------------------------------------------------------------
    def add(self, member, score):
        """Set the member's score; True if it is new to the board. Setting
        the score it already has changes nothing (it keeps its arrival)."""
        return self._write(_ADD, self._keys, self._scored(member, score)) == 1

    def add_many(self, mapping):
        """``add`` for each member -> score of ``mapping``, in its order,
        as one step; how many members were new."""
        args = self._add_many_args(mapping)
        return self._write(_ADD, self._keys, args) if len(args) > 1 else 0

    def incr(self, member, delta=1):
        """Add ``delta`` to the member's score (a new member starts from 0);
        the new score."""
        return float(self._write(_INCR, self._keys, self._scored(member, delta, "delta")))

    def set_if_better(self, member, score):
        """Set the score if the member is new or it beats its current one
        (higher with ``reverse=True``, lower otherwise); True if set."""
        return self._write(_SET_IF_BETTER, self._keys, self._scored(member, score)) == 1

    def remove(self, member):
        """Take the member (and its data) off the board; True if it was on."""
        return _REMOVE(self.client, *self._remove_request(member)) == 1

    def expire_at(self, when):
        """End the whole board (every key, member data included) at
        ``when``: a ``datetime`` (a naive one is local time, as in
        redis-py's ``expireat``) or Unix seconds. O(members)."""
        _EXPIRE_AT(self.client, self._keys, self._expire_args(when))

    def merge_into(self, dest, *others, aggregate="sum"):
        """Merge this board and ``others`` into ``dest`` (boards or names of
        boards in the same database; names take this board's direction).

        ``dest``'s own entries take part: each member's new score is the
        ``aggregate`` ("sum", "min" or "max") of its dest score, if any,
        then its scores here and in ``others``, in that order. Members whose
        score changes arrive anew (their tie order), in order of first
        appearance: this board's members in rank order, then each of
        ``others`` likewise. Member data is not copied. Returns the size of
        ``dest`` afterwards. One step, O(N log N) for N entries in all.
        """
        return self._write(_MERGE, *self._merge_request(dest, others, aggregate))

    # -- reads ------------------------------------------------------------------
    def count(self):
        """How many members the board has."""
        return self.client.zcard(self._keys[0])

    def score(self, member):
        """The member's score (a float), or None if it is not on the board."""
        return _decode_score(_LOOKUP(self.client, self._read_keys, self._score_args(member)))

    def rank(self, member):
        """The member's 1-based rank in this board's mode, or None."""
        return _LOOKUP(self.client, self._read_keys, self._rank_args(member))[1]

    def entries(self, members):
        """An ``Entry`` (or None if absent) for each of ``members``, in order."""
        names = list(members)
        if not names:
            return []
        return _decode_entries(names, _LOOKUP(self.client, self._read_keys,
                                                   self._entries_args(names)))

    def percentile(self, member):
        """The percentage of the *other* members whose score is strictly
        worse than the member's: ``100 * worse / (count - 1)``, from 0.0
        (nobody scores worse) to 100.0 (everyone else does); 100.0 for the
        only member; None if absent. Tied members share it; arrival and the
        ranking mode play no part."""
        return _decode_percentile(_PERCENTILE(self.client, self._read_keys,
                                              self._percentile_args(member)))

    def top(self, n=10):
        """The first ``n`` entries, best first."""
        return self._range(0, _count(n, "n", 0))

    def page(self, number, size=10):
        """Page ``number`` (1-based) of ``size`` entries: ranks
        ``(number - 1) * size + 1`` to ``number * size`` in standard order."""
        return self._range(*self._page_window(number, size))

    def around(self, member, n=5):
        """The member's entry with ``n`` entries either side, shifted at the
        ends of the board so that it holds ``2n + 1`` entries whenever the
        board has that many; [] if the member is absent."""
        return self._range(_count(n, "n", 0), 2 * n + 1, _member_bytes(member))

    def _range(self, start, count, center=None):
        """``count`` entries from 0-based position ``start`` in standard
        order, or (``center``: a member's bytes) the ``around`` window of
        ``start`` entries either side of it."""
        if not count:
            return []
        if center is None and self._by_position:
            client, stop = self.client, start + count - 1
            if self.reverse:
                pairs = client.zrevrange(self._keys[0], start, stop, withscores=True)
            else:
                pairs = client.zrange(self._keys[0], start, stop, withscores=True)
            return self._positioned(pairs, start)
        args = self._range_args(start, count, center)
        if self._embedded:  # the step's native, without AtomicStep's dispatch
            return self._ranged(self.client.run_atomically(_RANGE.native, self._read_keys, args))
        return self._ranged(_RANGE(self.client, self._read_keys, args))


class AsyncLeaderboard(_Board):
    """``Leaderboard`` for asyncio: the same arguments, data, keys and
    ``Entry`` results, every method a coroutine (``member_data``'s too).
    ``client`` is a ``minikv.asyncio.Redis`` or a ``redis.asyncio.Redis``
    (default: a new ``minikv.asyncio.Redis()``). A board written by one is
    the same board to the other: sync and async objects may share it.

    Each method awaits the same single step as its sync twin: one EVALSHA
    (or one command) on ``redis.asyncio``; on ``minikv.asyncio`` the
    native, inline (a step never waits).

    >>> import asyncio
    >>> async def season():
    ...     board = AsyncLeaderboard(name="darts", ranking="dense")
    ...     await board.add_many({"ann": 180, "bo": 140, "cy": 180})
    ...     await board.incr("bo", 20)
    ...     await board.member_data.set("bo", {"team": "red"})
    ...     return await board.top(3), await board.member_data.get("bo")
    >>> asyncio.run(season())  # doctest: +NORMALIZE_WHITESPACE
    ([Entry(member='ann', score=180.0, rank=1), Entry(member='cy', score=180.0, rank=1),
      Entry(member='bo', score=160.0, rank=2)], {'team': 'red'})
    """

    def __init__(self, client=None, name="leaderboard", *, reverse=True, ranking="standard"):
        if client is None:
            client = new_embedded_client(True)
        super().__init__(client, name, reverse, ranking)
        self.member_data = AsyncMemberData(self)
        self._embedded = is_embedded_async(client)

    async def _write(self, step, keys, args):
        try:
            return await step.run_async(self.client, keys, args)
        except (ResponseError, _RedisResponseError) as exc:
            _raise_refusal(self, exc)
            raise

    # -- writes (see Leaderboard for each method's contract) --------------------------
    async def add(self, member, score):
        return await self._write(_ADD, self._keys, self._scored(member, score)) == 1

    async def add_many(self, mapping):
        args = self._add_many_args(mapping)
        return await self._write(_ADD, self._keys, args) if len(args) > 1 else 0

    async def incr(self, member, delta=1):
        return float(await self._write(_INCR, self._keys, self._scored(member, delta, "delta")))

    async def set_if_better(self, member, score):
        return await self._write(_SET_IF_BETTER, self._keys, self._scored(member, score)) == 1

    async def remove(self, member):
        return await _REMOVE.run_async(self.client, *self._remove_request(member)) == 1

    async def expire_at(self, when):
        await _EXPIRE_AT.run_async(self.client, self._keys, self._expire_args(when))

    async def merge_into(self, dest, *others, aggregate="sum"):
        return await self._write(_MERGE, *self._merge_request(dest, others, aggregate))

    # -- reads ------------------------------------------------------------------------
    async def count(self):
        return await self.client.zcard(self._keys[0])

    async def score(self, member):
        return _decode_score(await _LOOKUP.run_async(self.client, self._read_keys,
                                                     self._score_args(member)))

    async def rank(self, member):
        return (await _LOOKUP.run_async(self.client, self._read_keys,
                                        self._rank_args(member)))[1]

    async def entries(self, members):
        names = list(members)
        if not names:
            return []
        return _decode_entries(names, await _LOOKUP.run_async(
            self.client, self._read_keys, self._entries_args(names)))

    async def percentile(self, member):
        return _decode_percentile(await _PERCENTILE.run_async(
            self.client, self._read_keys, self._percentile_args(member)))

    async def top(self, n=10):
        return await self._range(0, _count(n, "n", 0))

    async def page(self, number, size=10):
        return await self._range(*self._page_window(number, size))

    async def around(self, member, n=5):
        return await self._range(_count(n, "n", 0), 2 * n + 1, _member_bytes(member))

    async def _range(self, start, count, center=None):
        """See ``Leaderboard._range``."""
        if not count:
            return []
        if center is None and self._by_position:
            client, stop = self.client, start + count - 1
            if self.reverse:
                pairs = await client.zrevrange(self._keys[0], start, stop, withscores=True)
            else:
                pairs = await client.zrange(self._keys[0], start, stop, withscores=True)
            return self._positioned(pairs, start)
        return self._ranged(await _RANGE.run_async(self.client, self._read_keys,
                                                   self._range_args(start, count, center)))
