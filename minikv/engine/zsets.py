"""Sorted set commands (t_zset.c).

A sorted set is a ``values.ZSet``: a dict member -> score for O(1) ZSCORE
and membership, plus the backend's ``ScoreIndex`` of (score, member) pairs
in Redis's order — by score, equal scores by member bytes — for O(log n)
insert, delete and rank, and O(log n + k) ranges of k members by rank, score
or member. This module touches the index only through that interface
(minikv/_pyzset.py), so the compiled skip list can replace it. Single-member
updates (ZADD, ZINCRBY, ZREM) and queries (ZSCORE, ZRANK) are O(log n) or
better; ZRANGE & co. are O(log n + k); ZCOUNT is O(log n).

Scores are C doubles, read as Redis reads them. A score or weight (ZADD,
ZINCRBY, WEIGHTS) is ``getDoubleFromObject``: the whole string must be a
strtod number — decimal, hex, "inf"/"infinity" in any case — with no leading
space, not NaN, and not out of range (1e400 and 1e-400 are errors, a
subnormal is fine). A range bound (ZRANGEBYSCORE, ZCOUNT...) is raw strtod:
leading spaces pass, an empty string is 0, out-of-range values saturate,
and the C string ends at a NUL byte; "(" in front makes it exclusive.
Replies print scores with ``%.17g`` as Redis 7.0 does ("inf", "-0",
"0.10000000000000001", "1e+20"). Arithmetic is IEEE double, so ZINCRBY and
the aggregates round exactly as Redis; inf + -inf is an error in ZINCRBY and
0 in ZUNIONSTORE, and a weight times a score that is NaN (0 * inf) is 0.

Encoding. ``ZSet.skiplist`` mirrors Redis's listpack/skiplist choice, made
where Redis makes it: a key created by ZADD/ZINCRBY starts as a skiplist
when zset-max-listpack-entries is 0 or the first member of the command is
longer than zset-max-listpack-value; a listpack converts before adding a
member that would exceed either limit; ZRANGESTORE starts its destination as
a skiplist when the result size is known (by rank) and over the limit; the
STORE forms of ZUNION/ZINTER/ZDIFF build a skiplist and convert it back when
the result fits. Nothing else converts, and never back (as in Redis). A
listpack stores a score as text, where "-0" becomes the integer 0: a
listpack-encoded set therefore never holds -0.0 (a skiplist does).

Lexicographic ranges are defined by Redis when all scores are equal, but
what Redis answers otherwise follows from how it looks, and that is kept
where it is deterministic. A range is a walk: find the first member in range
(the last one for the REV forms), step over LIMIT's offset, then take
members until one is past the other bound. A listpack finds its start by
scanning from its first entry (its last, for REV) — reproduced exactly for
any scores, O(n) with n at most the listpack limit. A skiplist finds it by a
descent comparing members only, which the index's ``lex_rank`` bisection
mirrors (the same answer whenever the members in score order cross each
bound once; otherwise Redis's own answer depends on its random levels).
ZLEXCOUNT of a skiplist is a difference of two such ranks, O(log n).

Keys. Writes mutate the set in place, so a key keeps its TTL; a new set is
stored with ``ks.store``; a set left empty is deleted. The STORE forms
replace their destination (TTL dropped) or delete it when the result is
empty. Every argument is checked before anything changes, in Redis's order
(e.g. the scores of ZADD before the key's type; the source keys of ZUNION
before its options). Reads count keyspace hits and misses as Redis's
``lookupKeyRead`` does, the sources of the STORE forms included.

Keyspace notifications (engine/notify.py) use Redis 7.0's event names:
zadd (zincr for ZINCRBY and ZADD INCR), zrem, zremrangebyrank/score/lex,
zpopmin/zpopmax (ZMPOP and the blocking pops too), and zunionstore,
zinterstore, zdiffstore, zrangestore on the destination; "del" follows when
a command empties its key or deletes its destination. A command that
changes nothing emits nothing; the keyspace core adds "new" for new keys.

Blocking. BZPOPMIN, BZPOPMAX and BZMPOP pop at once when they can, else
block through engine/blocking.py. A client only ever waits on keys that do
not hold a sorted set, and in Redis 7.0 only a key *added* to the keyspace
wakes waiters (an overwritten destination does not); so every write that
creates a sorted set key — ZADD, ZINCRBY, the STORE forms onto a missing
key — calls ``signal_key_ready``, and waiters are served right after it,
first blocked first served.

The typed helpers (``add_member``, ``score_of``, ``rank_of``,
``incr_member``, ``rank_range``...) are what both the handlers here and the
client's fast paths call, so each rule lives in one place.
"""
import math
import random
import re

from minikv.engine.args import int_arg, keyword
from minikv.engine.blocking import block_on_keys, parse_timeout, signal_key_ready
from minikv.engine.commands import command
from minikv.engine.errors import (
    COUNT_GREATER_THAN_ZERO, COUNT_POSITIVE, LEX_BOUND, LIMIT_NEEDS_RANGE, LIMIT_NEGATIVE,
    LONG_RANGE, NOT_FLOAT, NUMKEYS_POSITIVE, SCORE_BOUND, SCORE_IS_NAN, SYNTAX,
    VALUE_OUT_OF_RANGE, WEIGHT_NOT_FLOAT, WITHSCORES_WITH_BYLEX, ZADD_GT_LT_NX,
    ZADD_INCR_PAIRS, ZADD_XX_AND_NX, CommandError, no_input_keys,
)
from minikv.engine.glob import glob_match
from minikv.engine.notify import GENERIC, ZSET, emit
from minikv.engine.numbers import INT64_MAX, parse_int
from minikv.engine.scan import element_scan_options, parse_cursor
from minikv.engine.values import Set, ZSet, typed_lookups, wrong_type

_LONG_MAX = INT64_MAX
_INF = math.inf


# -- scores: reading and printing --------------------------------------------
# The strings C's strtod converts completely, NaN aside (never accepted as a
# score): decimal, hexadecimal, and the infinities.
_DECIMAL = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_INFINITY = re.compile(rb"[+-]?inf(?:inity)?", re.IGNORECASE)
_NONZERO_DIGIT = re.compile(rb"[1-9a-f]")
_C_SPACE = b" \t\n\v\f\r"


def _strtod(text):
    """(value, out_of_range) when strtod converts all of ``text``, else None.

    ``out_of_range`` is strtod's ERANGE with an infinite or zero result: the
    number overflows a double, or is not zero but underflows to zero.
    """
    if _INFINITY.fullmatch(text):
        return (-_INF if text[:1] == b"-" else _INF), False
    lowered = text.lower()
    if _DECIMAL.fullmatch(text):
        value = float(text)
        digits = lowered.partition(b"e")[0]
    elif _HEX.fullmatch(text):
        digits = lowered.partition(b"x")[2].partition(b"p")[0]
        try:
            value = float.fromhex(text.decode())
        except OverflowError:
            value = -_INF if text[:1] == b"-" else _INF
    else:
        return None
    if value in (_INF, -_INF):
        return value, True
    return value, value == 0.0 and _NONZERO_DIGIT.search(digits) is not None


def parse_score(data):
    """A score, increment or weight as Redis's getDoubleFromObject reads it:
    a float, or None for anything Redis refuses."""
    if not data or data[0] in _C_SPACE:
        return None
    parsed = _strtod(data)
    if parsed is None or parsed[1]:
        return None
    return parsed[0]


def score_arg(data, error=NOT_FLOAT):
    score = parse_score(data)
    if score is None:
        raise CommandError(error)
    return score


def format_score(score):
    """A score as Redis 7.0 replies with it: ``%.17g`` ("inf", "-0", ...)."""
    return b"%.17g" % score


def _score_bound(data):
    """(value, exclusive) for a ZRANGEBYSCORE-style bound (zslParseRange)."""
    exclusive = data[:1] == b"("
    text = data[1:] if exclusive else data
    text = text.partition(b"\0")[0]  # strtod sees a C string
    stripped = text.lstrip(_C_SPACE)
    if not stripped:
        if text:  # only spaces: nothing converted, the pointer did not move
            raise CommandError(SCORE_BOUND)
        return 0.0, exclusive
    parsed = _strtod(stripped)
    if parsed is None:
        raise CommandError(SCORE_BOUND)
    return parsed[0], exclusive


class ScoreRange:
    __slots__ = ("low", "low_open", "high", "high_open")

    def __init__(self, low_arg, high_arg):
        self.low, self.low_open = _score_bound(low_arg)
        self.high, self.high_open = _score_bound(high_arg)

    def above_low(self, score):
        return score > self.low if self.low_open else score >= self.low

    def below_high(self, score):
        return score < self.high if self.high_open else score <= self.high


# "-" and "+" are Redis's shared minimum and maximum strings; they are str
# here, so they can never be mistaken for a member (bytes).
_LEX_MIN = "-"
_LEX_MAX = "+"


def _lex_bound(data):
    """(bound, exclusive) for a ZRANGEBYLEX-style bound (zslParseLexRangeItem)."""
    head = data[:1]
    if head == b"+" or head == b"-":
        if data[1:2] not in (b"", b"\0"):  # C compares the next char with NUL
            raise CommandError(LEX_BOUND)
        return (_LEX_MAX if head == b"+" else _LEX_MIN), True
    if head == b"(":
        return data[1:], True
    if head == b"[":
        return data[1:], False
    raise CommandError(LEX_BOUND)


def _lex_compare(a, b):
    """Redis's sdscmplex: the shared "-"/"+" below/above every string."""
    if a is b:
        return 0
    if a is _LEX_MIN or b is _LEX_MAX:
        return -1
    if a is _LEX_MAX or b is _LEX_MIN:
        return 1
    return (a > b) - (a < b)


class LexRange:
    __slots__ = ("low", "low_open", "high", "high_open", "empty")

    def __init__(self, low_arg, high_arg):
        self.low, self.low_open = _lex_bound(low_arg)
        self.high, self.high_open = _lex_bound(high_arg)
        order = _lex_compare(self.low, self.high)
        self.empty = order > 0 or (order == 0 and (self.low_open or self.high_open))

    def above_low(self, member):
        low = self.low
        if low is _LEX_MIN:
            return True
        if low is _LEX_MAX:
            return False
        return member > low if self.low_open else member >= low

    def below_high(self, member):
        high = self.high
        if high is _LEX_MAX:
            return True
        if high is _LEX_MIN:
            return False
        return member < high if self.high_open else member <= high


# -- lookups -----------------------------------------------------------------
# The sorted set at a key, None if missing, WRONGTYPE for another type: for a
# read command (counts a hit or miss), for a write.
read_zset, zset_for_write = typed_lookups(ZSet)


# -- changes, with Redis's encoding rules ------------------------------------
def _new_zset(config, first_member):
    """An empty set for a key ZADD/ZINCRBY creates (createZsetObject or
    createZsetListpackObject, chosen on the command's first member)."""
    return ZSet(skiplist=config["zset-max-listpack-entries"] == 0
                or len(first_member) > config["zset-max-listpack-value"])


def _insert(zset, config, member, score):
    """Add a new member; a listpack that would outgrow its limits becomes a
    skiplist first (zsetAdd), and a listpack stores -0 as 0."""
    if not zset.skiplist:
        if len(zset.scores) >= config["zset-max-listpack-entries"] \
                or len(member) > config["zset-max-listpack-value"]:
            zset.skiplist = True
        else:
            score += 0.0
    zset.add(member, score)


def _rescore(zset, member, score):
    zset.rescore(member, score if zset.skiplist else score + 0.0)


def _changed(ks, key, zset, event):
    """After members were removed in place: delete the key if that emptied
    it (which tells WATCH), else tell WATCH the value changed; then the
    keyspace events, the command's ``event`` and "del" for an emptied key."""
    if zset.scores:
        ks.signal_modified(key)
    else:
        ks.delete(key)
    notify = ks.notify
    if notify is not None:
        notify(ZSET, event, key)
        if not zset.scores:
            notify(GENERIC, b"del", key)


def add_member(session, key, member, score):
    """ZADD key score member, no options: 1 if the member is new, else 0.
    ``score`` is a float, never NaN. O(log n)."""
    ks = session.ks
    zset = zset_for_write(ks, key)
    if zset is None:
        zset = _new_zset(session.store.config, member)
        ks.store(key, zset)
        _insert(zset, session.store.config, member, score)
        emit(ks, ZSET, b"zadd", key)
        signal_key_ready(session.store, session.db, key)
        return 1
    current = zset.scores.get(member)
    if current is None:
        _insert(zset, session.store.config, member, score)
        added = 1
    elif score != current:
        _rescore(zset, member, score)
        added = 0
    else:
        return 0
    ks.signal_modified(key)
    notify = ks.notify
    if notify is not None:
        notify(ZSET, b"zadd", key)
    return added


def incr_member(session, key, member, increment):
    """ZINCRBY: the member's new score (a float). O(log n)."""
    ks = session.ks
    zset = zset_for_write(ks, key)
    if zset is None:
        zset = _new_zset(session.store.config, member)
        ks.store(key, zset)
        _insert(zset, session.store.config, member, increment)
        emit(ks, ZSET, b"zincr", key)
        signal_key_ready(session.store, session.db, key)
        return increment
    current = zset.scores.get(member)
    if current is None:
        score = increment
        _insert(zset, session.store.config, member, score)
    else:
        score = current + increment
        if score != score:
            raise CommandError(SCORE_IS_NAN)
        if score == current:
            return score
        _rescore(zset, member, score)
    ks.signal_modified(key)
    notify = ks.notify
    if notify is not None:
        notify(ZSET, b"zincr", key)
    return score


def _parse_zadd(args):
    """ZADD's flags and pairs, checked in Redis's order."""
    flags = set()
    position = 1
    while position < len(args):
        word = keyword(args[position])
        if word not in (b"NX", b"XX", b"CH", b"INCR", b"GT", b"LT"):
            break
        flags.add(word)
        position += 1
    pairs = args[position:]
    if not pairs or len(pairs) % 2:
        raise CommandError(SYNTAX)
    if b"NX" in flags and b"XX" in flags:
        raise CommandError(ZADD_XX_AND_NX)
    if b"NX" in flags and (b"GT" in flags or b"LT" in flags) \
            or (b"GT" in flags and b"LT" in flags):
        raise CommandError(ZADD_GT_LT_NX)
    if b"INCR" in flags and len(pairs) > 2:
        raise CommandError(ZADD_INCR_PAIRS)
    scores = [score_arg(score) for score in pairs[::2]]
    return flags, list(zip(pairs[1::2], scores))


# ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
@command("zadd", -4, "write denyoom fast")
def cmd_zadd(session, args):
    """Each pair goes through Redis's zsetAdd rules in order: NX skips
    existing members, XX skips new ones, GT/LT skip updates that would not
    raise/lower the score, INCR adds to the current score (a NaN result is
    an error, raised before the set changes since INCR takes one pair).
    Replies the number added (CH: added or changed), or with INCR the new
    score, nil when the update was skipped."""
    flags, pairs = _parse_zadd(args)
    ks = session.ks
    key = args[0]
    incr = b"INCR" in flags
    zset = zset_for_write(ks, key)
    if zset is None:
        if b"XX" in flags:
            return None if incr else 0
        zset = _new_zset(session.store.config, pairs[0][0])
        ks.store(key, zset)
        signal_key_ready(session.store, session.db, key)
    config = session.store.config
    nx, xx, gt, lt = (flag in flags for flag in (b"NX", b"XX", b"GT", b"LT"))
    added = changed = 0
    result = None
    for member, score in pairs:
        current = zset.scores.get(member)
        if current is None:
            if xx:
                continue
            _insert(zset, config, member, score)
            added += 1
            result = score
            continue
        if nx:
            continue
        if incr:
            score += current
            if score != score:
                raise CommandError(SCORE_IS_NAN)
        if (lt and score >= current) or (gt and score <= current):
            continue
        result = score
        if score != current:
            _rescore(zset, member, score)
            changed += 1
    if added or changed:
        ks.signal_modified(key)
        emit(ks, ZSET, b"zincr" if incr else b"zadd", key)
    if incr:
        return None if result is None else format_score(result)
    return added + changed if b"CH" in flags else added


# ZINCRBY key increment member
@command("zincrby", 4, "write denyoom fast")
def cmd_zincrby(session, args):
    """ZADD INCR underneath, as in Redis: option words in the increment's
    place are ZADD flags, which leaves one argument: a syntax error."""
    if keyword(args[1]) in (b"NX", b"XX", b"CH", b"INCR", b"GT", b"LT"):
        raise CommandError(SYNTAX)
    increment = score_arg(args[1])
    return format_score(incr_member(session, args[0], args[2], increment))


def remove_members(ks, key, members):
    """ZREM: how many of ``members`` were removed; an emptied set is
    deleted. O(len(members) log n)."""
    zset = zset_for_write(ks, key)
    if zset is None:
        return 0
    discard = zset.discard
    removed = 0
    for member in members:
        removed += discard(member)
    if removed:
        _changed(ks, key, zset, b"zrem")
    return removed


# ZREM key member [member ...]
@command("zrem", -3, "write fast")
def cmd_zrem(session, args):
    return remove_members(session.ks, args[0], args[1:])


# -- single-member reads -----------------------------------------------------
def score_of(ks, key, member):
    """ZSCORE: the member's score (float) or None. O(1)."""
    zset = read_zset(ks, key)
    return None if zset is None else zset.scores.get(member)


def rank_of(ks, key, member, reverse):
    """ZRANK / ZREVRANK: the member's 0-based rank, or None. O(log n)."""
    zset = read_zset(ks, key)
    if zset is None:
        return None
    score = zset.scores.get(member)
    if score is None:
        return None
    rank = zset.index.rank(score, member)
    return len(zset.scores) - 1 - rank if reverse else rank


# ZSCORE key member
@command("zscore", 3, "readonly fast")
def cmd_zscore(session, args):
    score = score_of(session.ks, args[0], args[1])
    return None if score is None else format_score(score)


# ZMSCORE key member [member ...]
@command("zmscore", -3, "readonly fast")
def cmd_zmscore(session, args):
    zset = read_zset(session.ks, args[0])
    if zset is None:
        return [None] * (len(args) - 1)
    get = zset.scores.get
    return [None if score is None else format_score(score)
            for score in (get(member) for member in args[1:])]


# ZRANK key member
@command("zrank", 3, "readonly fast")
def cmd_zrank(session, args):
    return rank_of(session.ks, args[0], args[1], False)


# ZREVRANK key member
@command("zrevrank", 3, "readonly fast")
def cmd_zrevrank(session, args):
    return rank_of(session.ks, args[0], args[1], True)


# ZCARD key
@command("zcard", 2, "readonly fast")
def cmd_zcard(session, args):
    zset = read_zset(session.ks, args[0])
    return 0 if zset is None else len(zset.scores)


# -- spans: which ranks a range covers ----------------------------------------
def _rank_span(size, start, stop):
    """(first, end) ranks for ZRANGE-style inclusive indexes (negative from
    the end), clamped as Redis does; empty when first >= end."""
    if start < 0:
        start += size
    if stop < 0:
        stop += size
    if start < 0:
        start = 0
    if start > stop or start >= size:
        return 0, 0
    return start, min(stop, size - 1) + 1


def _score_span(zset, score_range):
    """(first, end) ranks of the members whose score is in the range."""
    if not zset.scores:
        return 0, 0
    return zset.index.score_span(score_range.low, score_range.low_open,
                                 score_range.high, score_range.high_open)


def _member_at(zset, rank):
    return zset.index.by_rank(rank, rank + 1)[0][1]


def _lex_low_rank(zset, lex):
    """Where a skip list descent looking for the first member at or above
    the minimum stops (all members, for "-")."""
    low = lex.low
    if low is _LEX_MIN:
        return 0
    if low is _LEX_MAX:
        return len(zset.scores)
    return zset.index.lex_rank(low, lex.low_open)


def _lex_high_rank(zset, lex):
    """Where a descent looking for the last member at or below the maximum
    stops: how many leading members it passed."""
    high = lex.high
    if high is _LEX_MAX:
        return len(zset.scores)
    if high is _LEX_MIN:
        return 0
    return zset.index.lex_rank(high, not lex.high_open)


def _lex_start(zset, lex, reverse):
    """The rank at which Redis starts walking a lex range: its
    First/LastInLexRange (Last when ``reverse``), or None when it finds
    nothing. A listpack is scanned from its start (from its end when
    ``reverse``); a skiplist is searched. Both first check that the last
    member reaches the minimum and the first one does not pass the maximum."""
    size = len(zset.scores)
    if lex.empty or not size:
        return None
    if not lex.above_low(_member_at(zset, size - 1)) or not lex.below_high(_member_at(zset, 0)):
        return None
    index = zset.index
    if reverse:
        if zset.skiplist:
            rank = _lex_high_rank(zset, lex) - 1
        else:
            rank = next((size - 1 - steps for steps, (_, member)
                         in enumerate(index.iter_from(size - 1, True))
                         if lex.below_high(member)), -1)
        if rank < 0 or not lex.above_low(_member_at(zset, rank)):
            return None
        return rank
    if zset.skiplist:
        rank = _lex_low_rank(zset, lex)
    else:
        rank = next((rank for rank, (_, member) in enumerate(index)
                     if lex.above_low(member)), size)
    if rank >= size or not lex.below_high(_member_at(zset, rank)):
        return None
    return rank


def _walk_span(zset, start, reverse, in_range, offset=0, count=-1):
    """Redis's range loop: from rank ``start`` step over ``offset`` members
    unchecked, then take members while ``in_range(member)``, at most
    ``count`` of them (negative: no limit); downward when ``reverse``.
    Returns the (first, end) ranks taken. O(log n + offset + taken)."""
    size = len(zset.scores)
    if offset < 0:
        return 0, 0  # Redis steps past the end
    start = start - offset if reverse else start + offset
    if not 0 <= start < size:
        return 0, 0
    taken = 0
    for _, member in zset.index.iter_from(start, reverse):
        if taken == count or not in_range(member):
            break
        taken += 1
    if reverse:
        return start - taken + 1, start + 1
    return start, start + taken


def _limit_span(first, end, offset, count, reverse):
    """Apply LIMIT offset count to the ranks [first, end), counted from
    ``end`` when ``reverse``. A negative offset selects nothing (Redis walks
    past the end), a negative count means no limit."""
    if offset < 0:
        return 0, 0
    if reverse:
        end -= offset
        if count >= 0:
            first = max(first, end - count)
    else:
        first += offset
        if count >= 0:
            end = min(end, first + count)
    return (first, end) if first < end else (0, 0)


# -- range replies -----------------------------------------------------------
def _rank_pairs(zset, start, stop, reverse):
    """The (score, member) pairs of ZRANGE-style indexes ``start``..``stop``,
    counted from the highest rank when ``reverse``, in reply order."""
    size = len(zset.scores)
    first, end = _rank_span(size, start, stop)
    if first >= end:
        return []
    if reverse:
        first, end = size - end, size - first
    return zset.index.by_rank(first, end, reverse)


def rank_range(ks, key, start, stop, reverse):
    """ZRANGE/ZREVRANGE by rank: (score, member) pairs in reply order. O(log n + k)."""
    zset = read_zset(ks, key)
    return [] if zset is None else _rank_pairs(zset, start, stop, reverse)


def _flat_reply(pairs, with_scores):
    if not with_scores:
        return [member for _, member in pairs]
    reply = []
    for score, member in pairs:
        reply += (member, format_score(score))
    return reply


class _RangeRequest:
    """A parsed ZRANGE-family call: which ranks of the source to emit."""

    __slots__ = ("by", "reverse", "with_scores", "offset", "count", "start", "stop", "bounds")

    def __init__(self, by, reverse):
        self.by = by  # b"RANK", b"SCORE" or b"LEX"
        self.reverse = reverse
        self.with_scores = False
        self.offset = 0
        self.count = -1
        self.start = self.stop = self.bounds = None

    def pairs(self, zset):
        """The (score, member) pairs of the range, in reply order."""
        if self.by == b"RANK":
            return _rank_pairs(zset, self.start, self.stop, self.reverse)
        if self.offset > 0 and self.offset >= len(zset.scores):
            return []
        if self.by == b"SCORE":
            first, end = _score_span(zset, self.bounds)
            first, end = _limit_span(first, end, self.offset, self.count, self.reverse)
        else:
            lex = self.bounds
            start = _lex_start(zset, lex, self.reverse)
            if start is None:
                return []
            in_range = lex.above_low if self.reverse else lex.below_high
            first, end = _walk_span(zset, start, self.reverse, in_range, self.offset, self.count)
        if first >= end:
            return []
        return zset.index.by_rank(first, end, self.reverse)


def _parse_range(args, by, reverse, store):
    """zrangeGenericCommand's parsing. ``args`` = [key, min, max, options...];
    ``by``/``reverse`` None when the options may choose them (ZRANGE)."""
    request_by, request_reverse = by, reverse
    with_scores = False
    offset, count = 0, -1
    position = 3
    while position < len(args):
        word = keyword(args[position])
        left = len(args) - position - 1
        if not store and word == b"WITHSCORES":
            with_scores = True
        elif word == b"LIMIT" and left >= 2:
            offset = int_arg(args[position + 1])
            count = int_arg(args[position + 2])
            position += 2
        elif reverse is None and request_reverse is None and word == b"REV":
            request_reverse = True
        elif by is None and request_by is None and word in (b"BYLEX", b"BYSCORE"):
            request_by = word[2:]
        else:
            raise CommandError(SYNTAX)
        position += 1
    request = _RangeRequest(request_by or b"RANK", bool(request_reverse))
    if count != -1 and request.by == b"RANK":
        raise CommandError(LIMIT_NEEDS_RANGE)
    if with_scores and request.by == b"LEX":
        raise CommandError(WITHSCORES_WITH_BYLEX)
    low, high = args[1], args[2]
    if request.reverse and request.by != b"RANK":
        low, high = high, low  # given as max, min
    if request.by == b"RANK":
        request.start, request.stop = int_arg(low), int_arg(high)
    elif request.by == b"SCORE":
        request.bounds = ScoreRange(low, high)
    else:
        request.bounds = LexRange(low, high)
    request.with_scores = with_scores
    request.offset, request.count = offset, count
    return request


def _range_command(session, args, by, reverse):
    request = _parse_range(args, by, reverse, False)
    zset = read_zset(session.ks, args[0])
    if zset is None:
        return []
    return _flat_reply(request.pairs(zset), request.with_scores)


# ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
@command("zrange", -4, "readonly")
def cmd_zrange(session, args):
    return _range_command(session, args, None, None)


# ZREVRANGE key start stop [WITHSCORES]
@command("zrevrange", -4, "readonly")
def cmd_zrevrange(session, args):
    return _range_command(session, args, b"RANK", True)


# ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]
@command("zrangebyscore", -4, "readonly")
def cmd_zrangebyscore(session, args):
    return _range_command(session, args, b"SCORE", False)


# ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]
@command("zrevrangebyscore", -4, "readonly")
def cmd_zrevrangebyscore(session, args):
    return _range_command(session, args, b"SCORE", True)


# ZRANGEBYLEX key min max [LIMIT offset count]
@command("zrangebylex", -4, "readonly")
def cmd_zrangebylex(session, args):
    return _range_command(session, args, b"LEX", False)


# ZREVRANGEBYLEX key max min [LIMIT offset count]
@command("zrevrangebylex", -4, "readonly")
def cmd_zrevrangebylex(session, args):
    return _range_command(session, args, b"LEX", True)


def _store_zset(session, destination, zset, event):
    """Replace ``destination`` with ``zset`` (TTL dropped) and notify
    ``event``, or delete it ("del") when the result is empty; the reply is
    the result's size. As in Redis 7.0, only a destination that did not
    exist signals blocked clients (an overwritten key is not "added")."""
    ks = session.ks
    existed = ks.lookup(destination) is not None
    if not zset.scores:
        if existed:
            ks.delete(destination)
            emit(ks, GENERIC, b"del", destination)
        return 0
    ks.store(destination, zset)
    emit(ks, ZSET, event, destination)
    if not existed:
        signal_key_ready(session.store, session.db, destination)
    return len(zset.scores)


# ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
@command("zrangestore", -5, "write denyoom")
def cmd_zrangestore(session, args):
    """The destination is built pair by pair under zsetAdd's rules; it
    starts as a skiplist only when the result size is known up front (a
    rank range) and over zset-max-listpack-entries."""
    request = _parse_range(args[1:], None, None, True)
    source = read_zset(session.ks, args[1])
    pairs = [] if source is None else request.pairs(source)
    config = session.store.config
    result = ZSet(skiplist=request.by == b"RANK"
                  and len(pairs) > config["zset-max-listpack-entries"])
    for score, member in pairs:
        _insert(result, config, member, score)
    return _store_zset(session, args[0], result, b"zrangestore")


# ZCOUNT key min max
@command("zcount", 4, "readonly fast")
def cmd_zcount(session, args):
    """O(log n): the count is a difference of ranks."""
    score_range = ScoreRange(args[1], args[2])
    zset = read_zset(session.ks, args[0])
    if zset is None:
        return 0
    first, end = _score_span(zset, score_range)
    return end - first


# ZLEXCOUNT key min max
@command("zlexcount", 4, "readonly fast")
def cmd_zlexcount(session, args):
    """Counted as Redis counts: a listpack by walking from the first member
    in range, a skiplist from the ranks of the first and last (O(log n))."""
    lex = LexRange(args[1], args[2])
    zset = read_zset(session.ks, args[0])
    if zset is None:
        return 0
    first = _lex_start(zset, lex, False)
    if first is None:
        return 0
    if not zset.skiplist:
        first, end = _walk_span(zset, first, False, lex.below_high)
        return end - first
    size = len(zset.scores)
    count = size - first
    last = _lex_start(zset, lex, True)
    if last is not None:
        count -= size - 1 - last
    return count


# -- removing ranges ----------------------------------------------------------
def _remove_span(ks, key, zset, first, end, event):
    if first >= end:
        return 0
    removed = zset.delete_ranks(first, end)
    _changed(ks, key, zset, event)
    return removed


# ZREMRANGEBYRANK key start stop
@command("zremrangebyrank", 4, "write")
def cmd_zremrangebyrank(session, args):
    start, stop = int_arg(args[1]), int_arg(args[2])
    ks = session.ks
    zset = zset_for_write(ks, args[0])
    if zset is None:
        return 0
    first, end = _rank_span(len(zset.scores), start, stop)
    return _remove_span(ks, args[0], zset, first, end, b"zremrangebyrank")


# ZREMRANGEBYSCORE key min max
@command("zremrangebyscore", 4, "write")
def cmd_zremrangebyscore(session, args):
    score_range = ScoreRange(args[1], args[2])
    ks = session.ks
    zset = zset_for_write(ks, args[0])
    if zset is None:
        return 0
    first, end = _score_span(zset, score_range)
    return _remove_span(ks, args[0], zset, first, end, b"zremrangebyscore")


# ZREMRANGEBYLEX key min max
@command("zremrangebylex", 4, "write")
def cmd_zremrangebylex(session, args):
    """A listpack deletes from its first member in range, a skiplist from
    where its descent to the minimum stops (without Redis's range checks),
    both while members stay at or below the maximum."""
    lex = LexRange(args[1], args[2])
    ks = session.ks
    zset = zset_for_write(ks, args[0])
    if zset is None:
        return 0
    start = _lex_low_rank(zset, lex) if zset.skiplist else _lex_start(zset, lex, False)
    if start is None:
        return 0
    first, end = _walk_span(zset, start, False, lex.below_high)
    return _remove_span(ks, args[0], zset, first, end, b"zremrangebylex")


# -- popping -------------------------------------------------------------------
def _pop(ks, key, zset, count, highest):
    """Pop up to ``count`` members from one end: [(member, score), ...];
    deletes the key when it empties. O(count log n)."""
    pop = zset.pop_last if highest else zset.pop_first
    popped = [pop() for _ in range(min(count, len(zset.scores)))]
    _changed(ks, key, zset, b"zpopmax" if highest else b"zpopmin")
    return popped


def _flat_pairs(popped):
    reply = []
    for member, score in popped:
        reply += (member, format_score(score))
    return reply


def _zpop_command(session, args, highest):
    if len(args) > 2:
        raise CommandError(SYNTAX)
    count = None
    if len(args) == 2:
        count = parse_int(args[1])
        if count is None or count < 0:
            raise CommandError(COUNT_POSITIVE)
    ks = session.ks
    zset = zset_for_write(ks, args[0])
    if zset is None or count == 0:
        return []
    return _flat_pairs(_pop(ks, args[0], zset, 1 if count is None else count, highest))


# ZPOPMIN key [count]
@command("zpopmin", -2, "write fast")
def cmd_zpopmin(session, args):
    return _zpop_command(session, args, False)


# ZPOPMAX key [count]
@command("zpopmax", -2, "write fast")
def cmd_zpopmax(session, args):
    return _zpop_command(session, args, True)


def _parse_mpop(args):
    """numkeys key [key ...] MIN|MAX [COUNT count] -> (keys, highest, count)."""
    numkeys = parse_int(args[0])
    if numkeys is None or numkeys < 1:
        raise CommandError(NUMKEYS_POSITIVE)
    if numkeys >= len(args) - 1:
        raise CommandError(SYNTAX)
    keys = args[1:1 + numkeys]
    where = keyword(args[1 + numkeys])
    if where not in (b"MIN", b"MAX"):
        raise CommandError(SYNTAX)
    count = None
    position = 2 + numkeys
    while position < len(args):
        if count is None and keyword(args[position]) == b"COUNT" \
                and position + 1 < len(args):
            count = parse_int(args[position + 1])
            if count is None or count < 1:
                raise CommandError(COUNT_GREATER_THAN_ZERO)
            position += 2
        else:
            raise CommandError(SYNTAX)
    return keys, where == b"MAX", 1 if count is None else count


def _mpop_reply(ks, key, zset, highest, count):
    popped = _pop(ks, key, zset, count, highest)
    return [key, [[member, format_score(score)] for member, score in popped]]


# ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
@command("zmpop", -4, "write")
def cmd_zmpop(session, args):
    """Pops from the first key that exists (a key of another type there is
    WRONGTYPE); nil when none does."""
    keys, highest, count = _parse_mpop(args)
    ks = session.ks
    for key in keys:
        zset = zset_for_write(ks, key)
        if zset is not None:
            return _mpop_reply(ks, key, zset, highest, count)
    return None


# -- blocking pops -------------------------------------------------------------
def _block_for_pop(session, keys, timeout, reply_for):
    """Pop now from the first existing key, else block until a waited key
    holds a sorted set. ``reply_for(ks, key, zset)`` pops and builds the reply."""
    ks = session.ks
    for key in keys:
        zset = zset_for_write(ks, key)
        if zset is not None:
            return reply_for(ks, key, zset)

    def serve(ks, key):
        zset = ks.lookup(key)
        if zset.__class__ is not ZSet:
            return None  # another type took the key: keep waiting, as Redis
        return reply_for(ks, key, zset)

    return block_on_keys(session, keys, serve, timeout)


def _bzpop_command(session, args, highest):
    timeout = parse_timeout(args[-1])

    def reply_for(ks, key, zset):
        (member, score), = _pop(ks, key, zset, 1, highest)
        return [key, member, format_score(score)]

    return _block_for_pop(session, args[:-1], timeout, reply_for)


# BZPOPMIN key [key ...] timeout
@command("bzpopmin", -3, "write noscript blocking fast")
def cmd_bzpopmin(session, args):
    return _bzpop_command(session, args, False)


# BZPOPMAX key [key ...] timeout
@command("bzpopmax", -3, "write noscript blocking fast")
def cmd_bzpopmax(session, args):
    return _bzpop_command(session, args, True)


# BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
@command("bzmpop", -5, "write blocking")
def cmd_bzmpop(session, args):
    """The timeout is read after the other arguments, as in Redis 7.0."""
    keys, highest, count = _parse_mpop(args[1:])
    timeout = parse_timeout(args[0])

    def reply_for(ks, key, zset):
        return _mpop_reply(ks, key, zset, highest, count)

    return _block_for_pop(session, keys, timeout, reply_for)


# -- ZRANDMEMBER -----------------------------------------------------------------
# A count's reply needs one entry per member, two with WITHSCORES: Redis
# halves the allowed range then.
_WITHSCORES_MAX = INT64_MAX // 2


def random_pairs(zset, count):
    """ZRANDMEMBER with a count, as Redis chooses among its cases:

    - negative count: exactly |count| picks, repeats allowed;
    - count at least the size: the whole set, highest rank first (Redis
      7.0 walks it from the tail);
    - otherwise: ``count`` distinct members in random order.

    (score, member) pairs. O(|count| log n), or O(n + |count|) when the
    count is large next to the set.
    """
    index = zset.index
    size = len(zset.scores)
    if count >= size:
        return index.by_rank(0, size, True)
    if count < 0:
        picks = -count
        if picks * 16 >= size:
            return random.choices(index.by_rank(0, size), k=picks)
        return [index.by_rank(rank, rank + 1)[0]
                for rank in (random.randrange(size) for _ in range(picks))]
    return [index.by_rank(rank, rank + 1)[0] for rank in random.sample(range(size), count)]


# ZRANDMEMBER key [count [WITHSCORES]]
@command("zrandmember", -2, "readonly")
def cmd_zrandmember(session, args):
    key = args[0]
    if len(args) == 1:
        zset = read_zset(session.ks, key)
        if zset is None:
            return None
        rank = random.randrange(len(zset.scores))
        return zset.index.by_rank(rank, rank + 1)[0][1]
    count = int_arg(args[1])
    if count < -_LONG_MAX:
        raise CommandError(LONG_RANGE)
    if len(args) > 3 or (len(args) == 3 and keyword(args[2]) != b"WITHSCORES"):
        raise CommandError(SYNTAX)
    with_scores = len(args) == 3
    if with_scores and not -_WITHSCORES_MAX <= count <= _WITHSCORES_MAX:
        raise CommandError(VALUE_OUT_OF_RANGE)
    zset = read_zset(session.ks, key)
    if zset is None or count == 0:
        return []
    return _flat_reply(random_pairs(zset, count), with_scores)


# -- ZUNION / ZINTER / ZDIFF and their STORE forms ----------------------------------
class _Source:
    """One input of a set operation: a sorted set, a set (every member
    scores 1) or a missing key (empty), with its weight."""

    __slots__ = ("value", "weight")

    def __init__(self, value):
        self.value = value
        self.weight = 1.0

    def __len__(self):
        value = self.value
        if value is None:
            return 0
        return len(value.scores) if value.__class__ is ZSet else len(value)

    def items(self):
        """(member, score) pairs, unweighted."""
        value = self.value
        if value.__class__ is ZSet:
            return value.scores.items()
        return ((member, 1.0) for member in value)

    def score(self, member):
        """The member's unweighted score, None if absent."""
        value = self.value
        if value.__class__ is ZSet:
            return value.scores.get(member)
        return 1.0 if member in value else None


def _sum(total, value):
    total += value
    return 0.0 if total != total else total  # inf + -inf counts as 0


def _min(current, value):
    return value if value < current else current


def _max(current, value):
    return value if value > current else current


_AGGREGATES = {b"SUM": _sum, b"MIN": _min, b"MAX": _max}


def _parse_set_operation(session, args, name, operation, store, cardinality_only):
    """numkeys key [key ...] + options -> (sources, aggregate, with_scores, limit).

    Redis's order: numkeys, the key count, every key's type, then options.
    """
    numkeys = int_arg(args[0])
    if numkeys < 1:
        raise CommandError(no_input_keys(name))
    if numkeys > len(args) - 1:
        raise CommandError(SYNTAX)
    ks = session.ks
    sources = []
    for key in args[1:1 + numkeys]:
        value = ks.lookup_read(key)
        if value is not None and value.__class__ is not ZSet and value.__class__ is not Set:
            raise wrong_type()
        sources.append(_Source(value))
    aggregate, with_scores, limit = _sum, False, 0
    position = 1 + numkeys
    plain_options = operation != "diff" and not cardinality_only
    while position < len(args):
        word = keyword(args[position])
        left = len(args) - position
        if plain_options and word == b"WEIGHTS" and left >= numkeys + 1:
            for source, weight in zip(sources, args[position + 1:position + 1 + numkeys]):
                source.weight = score_arg(weight, WEIGHT_NOT_FLOAT)
            position += numkeys + 1
        elif plain_options and word == b"AGGREGATE" and left >= 2:
            aggregate = _AGGREGATES.get(keyword(args[position + 1]))
            if aggregate is None:
                raise CommandError(SYNTAX)
            position += 2
        elif not store and not cardinality_only and word == b"WITHSCORES":
            with_scores = True
            position += 1
        elif cardinality_only and word == b"LIMIT" and left >= 2:
            limit = parse_int(args[position + 1])
            if limit is None or limit < 0:
                raise CommandError(LIMIT_NEGATIVE)
            position += 2
        else:
            raise CommandError(SYNTAX)
    return sources, aggregate, with_scores, limit


def _weighted(score, weight):
    product = score * weight
    return 0.0 if product != product else product  # 0 * inf counts as 0


def _intersection(sources, aggregate):
    """member -> score for the members of every source, aggregated in the
    order Redis uses (smallest source first, ties in argument order)."""
    ordered = sorted(sources, key=len)
    result = {}
    if not len(ordered[0]):
        return result
    first, others = ordered[0], ordered[1:]
    for member, score in first.items():
        total = _weighted(score, first.weight)
        for other in others:
            if other.value is first.value:
                value = score * other.weight
            else:
                value = other.score(member)
                if value is None:
                    break
                value *= other.weight
            total = aggregate(total, value)
        else:
            result[member] = total
    return result


def _intersection_size(sources, limit):
    """ZINTERCARD: how many members all sources share, stopping at ``limit``
    (0: no limit)."""
    ordered = sorted(sources, key=len)
    if not len(ordered[0]):
        return 0
    first, others = ordered[0], ordered[1:]
    count = 0
    for member, _ in first.items():
        if all(other.value is first.value or other.score(member) is not None
               for other in others):
            count += 1
            if count == limit:
                break
    return count


def _union(sources, aggregate):
    result = {}
    for source in sorted(sources, key=len):
        if not len(source):
            continue
        weight = source.weight
        for member, score in source.items():
            value = _weighted(score, weight)
            current = result.get(member)
            result[member] = value if current is None else aggregate(current, value)
    return result


def _difference(sources):
    """The first source's members found in no other, with their scores."""
    first, others = sources[0], sources[1:]
    if not len(first) or any(other.value is first.value for other in others):
        return {}
    others = [other for other in others if len(other)]
    return {member: score for member, score in first.items()
            if not any(other.score(member) is not None for other in others)}


def _operation_result(session, args, name, operation, store):
    sources, aggregate, with_scores, _ = _parse_set_operation(
        session, args, name, operation, store, False)
    if operation == "inter":
        scores = _intersection(sources, aggregate)
    elif operation == "union":
        scores = _union(sources, aggregate)
    else:
        scores = _difference(sources)
    return scores, with_scores


def _operation_reply(session, args, name, operation):
    scores, with_scores = _operation_result(session, args, name, operation, False)
    pairs = sorted((score, member) for member, score in scores.items())
    return _flat_reply(pairs, with_scores)


def _operation_store(session, args, name, operation):
    """The result is built as a skiplist and converted to a listpack when it
    fits (zsetConvertToListpackIfNeeded), which turns -0 into 0."""
    scores, _ = _operation_result(session, args[1:], name, operation, True)
    config = session.store.config
    fits = len(scores) <= config["zset-max-listpack-entries"] and all(
        len(member) <= config["zset-max-listpack-value"] for member in scores)
    result = ZSet(skiplist=not fits)
    for member, score in scores.items():
        result.add(member, score + 0.0 if fits else score)
    return _store_zset(session, args[0], result, name.encode())


# ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
@command("zunion", -3, "readonly")
def cmd_zunion(session, args):
    return _operation_reply(session, args, "zunion", "union")


# ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
@command("zinter", -3, "readonly")
def cmd_zinter(session, args):
    return _operation_reply(session, args, "zinter", "inter")


# ZDIFF numkeys key [key ...] [WITHSCORES]
@command("zdiff", -3, "readonly")
def cmd_zdiff(session, args):
    return _operation_reply(session, args, "zdiff", "diff")


# ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
@command("zunionstore", -4, "write denyoom")
def cmd_zunionstore(session, args):
    return _operation_store(session, args, "zunionstore", "union")


# ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
@command("zinterstore", -4, "write denyoom")
def cmd_zinterstore(session, args):
    return _operation_store(session, args, "zinterstore", "inter")


# ZDIFFSTORE destination numkeys key [key ...]
@command("zdiffstore", -4, "write denyoom")
def cmd_zdiffstore(session, args):
    return _operation_store(session, args, "zdiffstore", "diff")


# ZINTERCARD numkeys key [key ...] [LIMIT limit]
@command("zintercard", -3, "readonly")
def cmd_zintercard(session, args):
    sources, _, _, limit = _parse_set_operation(session, args, "zintercard", "inter",
                                                False, True)
    return _intersection_size(sources, limit)


# -- ZSCAN ---------------------------------------------------------------------
# ZSCAN key cursor [MATCH pattern] [COUNT count]
@command("zscan", -3, "readonly")
def cmd_zscan(session, args):
    """One page of [member, score, ...].

    A listpack-encoded set is small by definition, so Redis returns all of
    it at once, in order, with cursor 0, whatever the cursor and COUNT; so
    does this. A skiplist pages through ``store.scans`` over the member
    dict (about COUNT members a call, O(COUNT) after the O(n) snapshot a new
    iteration takes), which keeps Redis's guarantee: every member present
    for the whole iteration is returned. MATCH filters on members.

    As in Redis, the cursor is checked first, then the key; a missing key
    answers an empty page before the options are even read.
    """
    cursor = parse_cursor(args[1])
    zset = read_zset(session.ks, args[0])
    if zset is None:
        return [b"0", []]
    pattern, count = element_scan_options(args[2:])
    scores = zset.scores
    if zset.skiplist:
        next_cursor, members = session.store.scans.page(scores, cursor, count)
    else:
        next_cursor, members = 0, list(zset)
    reply = []
    for member in members:
        score = scores.get(member)
        if score is None:  # removed since the iteration's snapshot
            continue
        if pattern is not None and not glob_match(pattern, member):
            continue
        reply += (member, format_score(score))
    return [str(next_cursor).encode(), reply]
