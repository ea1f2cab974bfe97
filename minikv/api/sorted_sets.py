"""Sorted set commands with redis-py's signatures, and their reply shapes.

Arguments are built as redis-py builds them (ZADD's mapping as score/member
pairs after the flags, ``_zaggregate``'s key/weight dicts, ZRANGE ``desc``
becoming ZREVRANGE, BZMPOP always sending COUNT), including redis-py's
client-side DataErrors; ``zadd_arguments`` builds ZADD's for the fast
path's other forms and for pipelines. The hot paths — ZADD of one pair
without flags, ZINCRBY, ZREM, ZSCORE, ZRANK/ZREVRANK and index ranges — are
``FastPaths``' methods (minikv/_pyclient.py, compiled in minikv/_core.pyx);
ZCARD calls its engine helper directly. They build the Python reply without
printing and re-reading scores (``float("%.17g" % x) == x`` for every
double, so the result is identical). Everything else goes through
``execute_command``.

Reply shapes. ``ZSET_CALLBACKS`` gives the Python values a default
``redis.Redis()`` (redis-py 8: RESP3 on the wire, legacy response shapes)
returns: WITHSCORES ranges and ZPOPMIN/ZPOPMAX as lists of (member, score)
tuples, BZPOPMIN/BZPOPMAX as (key, member, score), ZSCORE/ZINCRBY/ZMSCORE
as floats, ZRANDMEMBER/ZDIFF WITHSCORES as flat lists and ZMPOP/BZMPOP as
[key, [[member, score], ...]] with the scores as bytes. That client
receives scores as doubles and turns them back into bytes before
``score_cast_func`` and in those flat shapes — bytes even with
``decode_responses=True`` — so the callbacks here re-encode decoded scores
the same way. With ``decode_responses=False`` these shapes are also exactly
those of a RESP2 connection.
"""
from minikv.api.expiry_args import list_or_args
from minikv.engine.errors import CommandError
from minikv.engine.zsets import (
    read_zset,
)
from minikv.exceptions import DataError, error_from_reply

__all__ = ["SortedSetCommands", "ZSET_CALLBACKS", "fast_score", "zadd_arguments"]

# Integers this small convert to the same double as Redis's strtod of their
# decimal text (both round correctly); larger ones take the command path.
_EXACT_INT_LIMIT = 1 << 1000


def fast_score(value):
    """``value`` as the double Redis would parse from redis-py's encoding of
    it, when that is certain without text; None otherwise (NaN included)."""
    cls = value.__class__
    if cls is float:
        return value if value == value else None
    if cls is int and -_EXACT_INT_LIMIT < value < _EXACT_INT_LIMIT:
        return float(value)
    return None


def zadd_arguments(mapping, nx, xx, ch, incr, gt, lt):
    """ZADD's arguments after the key (flags, then score/member pairs) and
    callback options, exactly as redis-py builds them, with its
    client-side DataErrors."""
    if not mapping:
        raise DataError("ZADD requires at least one element/score pair")
    if nx and xx:
        raise DataError("ZADD allows either 'nx' or 'xx', not both")
    if gt and lt:
        raise DataError("ZADD allows either 'gt' or 'lt', not both")
    if incr and len(mapping) != 1:
        raise DataError("ZADD option 'incr' only works when passing a single "
                        "element/score pair")
    if nx and (gt or lt):
        raise DataError("Only one of 'nx', 'lt', or 'gr' may be defined.")
    pieces = [word for word, on in ((b"NX", nx), (b"XX", xx), (b"CH", ch),
                                    (b"INCR", incr), (b"GT", gt), (b"LT", lt)) if on]
    options = {"as_score": True} if incr else {}
    for member, score in mapping.items():
        pieces += (score, member)
    return pieces, options


# -- reply shapes ------------------------------------------------------------------
def _score_bytes(score):
    """A score as redis-py's RESP3-to-legacy conversion hands it on: bytes."""
    return score.encode() if score.__class__ is str else score


def _score_cast(options):
    """redis-py's score_cast_func, with its fallback through float() for
    casts such as int that refuse "1e+20"."""
    cast = options.get("score_cast_func", float)
    if cast is float:
        return float

    def safe_cast(score):
        try:
            return cast(score)
        except (ValueError, TypeError):
            return cast(float(score))

    return safe_cast


def _pairs(flat):
    it = iter(flat)
    return zip(it, it)


def score_pairs(reply, **options):
    """WITHSCORES ranges: [(member, score), ...]."""
    if not reply or not options.get("withscores"):
        return reply
    cast = _score_cast(options)
    return [(member, cast(_score_bytes(score))) for member, score in _pairs(reply)]


def flat_score_pairs(reply, **options):
    """ZRANDMEMBER / ZDIFF WITHSCORES: flat [member, score-bytes, ...]."""
    if not reply or not options.get("withscores"):
        return reply
    flat = []
    for member, score in _pairs(reply):
        flat += (member, _score_bytes(score))
    return flat


def popped_pairs(reply, **options):
    """ZPOPMIN / ZPOPMAX: [(member, score), ...] whatever the options."""
    if not reply:
        return reply
    cast = _score_cast(options)
    return [(member, cast(_score_bytes(score))) for member, score in _pairs(reply)]


def blocking_pop(reply, **options):
    return (reply[0], reply[1], float(reply[2])) if reply else None


def multi_pop(reply, **options):
    if not reply:
        return reply
    return [reply[0], [[member, _score_bytes(score)] for member, score in reply[1]]]


def zadd_result(reply, **options):
    """An added count (int), or ZADD INCR's new score (float) / nil."""
    if reply is None or reply.__class__ is int:
        return reply
    return float(reply)


def float_or_none(reply, **options):
    return None if reply is None else float(reply)


def float_list(reply, **options):
    return [None if score is None else float(score) for score in reply]


def zscan_result(reply, **options):
    cursor, flat = reply
    cast = _score_cast(options)
    return int(cursor), [(member, cast(score)) for member, score in _pairs(flat)]


ZSET_CALLBACKS = {
    **{name: score_pairs for name in (
        "ZINTER ZRANGE ZRANGEBYSCORE ZREVRANGE ZREVRANGEBYSCORE ZUNION").split()},
    **{name: flat_score_pairs for name in ("ZDIFF", "ZRANDMEMBER")},
    **{name: popped_pairs for name in ("ZPOPMAX", "ZPOPMIN")},
    **{name: blocking_pop for name in ("BZPOPMAX", "BZPOPMIN")},
    **{name: multi_pop for name in ("ZMPOP", "BZMPOP")},
    **{name: float_or_none for name in ("ZINCRBY", "ZSCORE")},
    "ZADD": zadd_result,
    "ZMSCORE": float_list,
    "ZSCAN": zscan_result,
}


class SortedSetCommands:
    __slots__ = ()

    # -- hot paths: straight to the engine, same rules as the handlers ----
    def zcard(self, name):
        key = name if name.__class__ is bytes else self._encode(name)
        try:
            with self._lock:
                zset = read_zset(self._session.ks, key)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        return 0 if zset is None else len(zset.scores)

    def zrange(self, name, start, end, desc=False, withscores=False, score_cast_func=float,
               byscore=False, bylex=False, offset=None, num=None):
        # As redis-py: a plain reversed index range is sent as ZREVRANGE.
        if not byscore and not bylex and offset is None and num is None:
            return self._rank_range(name, start, end, withscores, score_cast_func, desc)
        return self._zrange("ZRANGE", None, name, start, end, desc, byscore, bylex,
                            withscores, score_cast_func, offset, num)

    # -- the rest: through execute_command, like redis-py ----------------
    def _zrange(self, command_name, dest, name, start, end, desc, byscore, bylex, withscores,
                score_cast_func, offset, num):
        if byscore and bylex:
            raise DataError("``byscore`` and ``bylex`` can not be specified together.")
        if (offset is not None and num is None) or (num is not None and offset is None):
            raise DataError("``offset`` and ``num`` must both be specified.")
        if bylex and withscores:
            raise DataError("``withscores`` not supported in combination with ``bylex``.")
        pieces = [command_name]
        if dest:
            pieces.append(dest)
        pieces += (name, start, end)
        if byscore:
            pieces.append("BYSCORE")
        if bylex:
            pieces.append("BYLEX")
        if desc:
            pieces.append("REV")
        if offset is not None and num is not None:
            pieces += ("LIMIT", offset, num)
        if withscores:
            pieces.append("WITHSCORES")
        return self.execute_command(*pieces, withscores=withscores,
                                    score_cast_func=score_cast_func, keys=[name])

    def zrangestore(self, dest, name, start, end, byscore=False, bylex=False, desc=False,
                    offset=None, num=None):
        return self._zrange("ZRANGESTORE", dest, name, start, end, desc, byscore, bylex,
                            False, None, offset, num)

    def _by_score_or_lex(self, command_name, name, low, high, start, num, withscores=False,
                         score_cast_func=float):
        if (start is not None and num is None) or (num is not None and start is None):
            raise DataError("``start`` and ``num`` must both be specified")
        pieces = [command_name, name, low, high]
        if start is not None and num is not None:
            pieces += ("LIMIT", start, num)
        if withscores:
            pieces.append("WITHSCORES")
        return self.execute_command(*pieces, withscores=withscores,
                                    score_cast_func=score_cast_func, keys=[name])

    def zrangebylex(self, name, min, max, start=None, num=None):
        return self._by_score_or_lex("ZRANGEBYLEX", name, min, max, start, num)

    def zrevrangebylex(self, name, max, min, start=None, num=None):
        return self._by_score_or_lex("ZREVRANGEBYLEX", name, max, min, start, num)

    def zrangebyscore(self, name, min, max, start=None, num=None, withscores=False,
                      score_cast_func=float):
        return self._by_score_or_lex("ZRANGEBYSCORE", name, min, max, start, num,
                                     withscores, score_cast_func)

    def zrevrangebyscore(self, name, max, min, start=None, num=None, withscores=False,
                         score_cast_func=float):
        return self._by_score_or_lex("ZREVRANGEBYSCORE", name, max, min, start, num,
                                     withscores, score_cast_func)

    def zcount(self, name, min, max):
        return self.execute_command("ZCOUNT", name, min, max, keys=[name])

    def zlexcount(self, name, min, max):
        return self.execute_command("ZLEXCOUNT", name, min, max, keys=[name])

    def zmscore(self, key, members):
        if not members:
            raise DataError("ZMSCORE members must be a non-empty list")
        return self.execute_command("ZMSCORE", key, *members, keys=[key])

    def zremrangebylex(self, name, min, max):
        return self.execute_command("ZREMRANGEBYLEX", name, min, max)

    def zremrangebyrank(self, name, min, max):
        return self.execute_command("ZREMRANGEBYRANK", name, min, max)

    def zremrangebyscore(self, name, min, max):
        return self.execute_command("ZREMRANGEBYSCORE", name, min, max)

    def zpopmax(self, name, count=None):
        args = [] if count is None else [count]
        return self.execute_command("ZPOPMAX", name, *args, withscores=True)

    def zpopmin(self, name, count=None):
        args = [] if count is None else [count]
        return self.execute_command("ZPOPMIN", name, *args, withscores=True)

    def zmpop(self, num_keys, keys, min=False, max=False, count=1):
        args = [num_keys] + keys
        if (min and max) or (not min and not max):
            raise DataError
        args.append("MIN" if min else "MAX")
        if count != 1:
            args += ["COUNT", count]
        return self.execute_command("ZMPOP", *args)

    def zrandmember(self, key, count=None, withscores=False):
        params = []
        if count is not None:
            params.append(count)
        if withscores:
            params.append("WITHSCORES")
        return self.execute_command("ZRANDMEMBER", key, *params, withscores=withscores)

    # -- set operations --------------------------------------------------
    def _zaggregate(self, command_name, dest, keys, aggregate=None, **options):
        pieces = [command_name]
        if dest is not None:
            pieces.append(dest)
        pieces.append(len(keys))
        if isinstance(keys, dict):
            keys, weights = keys.keys(), keys.values()
        else:
            weights = None
        pieces.extend(keys)
        if weights:
            pieces.append(b"WEIGHTS")
            pieces.extend(weights)
        if aggregate:
            if aggregate.upper() not in ("SUM", "MIN", "MAX", "COUNT"):
                raise DataError("aggregate can be sum, min, max or count.")
            pieces += (b"AGGREGATE", aggregate)
        if options.get("withscores", False):
            pieces.append(b"WITHSCORES")
        options["keys"] = keys
        return self.execute_command(*pieces, **options)

    def zunion(self, keys, aggregate=None, withscores=False, score_cast_func=float):
        return self._zaggregate("ZUNION", None, keys, aggregate, withscores=withscores,
                                score_cast_func=score_cast_func)

    def zunionstore(self, dest, keys, aggregate=None):
        return self._zaggregate("ZUNIONSTORE", dest, keys, aggregate)

    def zinter(self, keys, aggregate=None, withscores=False):
        return self._zaggregate("ZINTER", None, keys, aggregate, withscores=withscores)

    def zinterstore(self, dest, keys, aggregate=None):
        return self._zaggregate("ZINTERSTORE", dest, keys, aggregate)

    def zintercard(self, numkeys, keys, limit=0):
        return self.execute_command("ZINTERCARD", numkeys, *keys, "LIMIT", limit, keys=keys)

    def zdiff(self, keys, withscores=False):
        pieces = [len(keys), *keys]
        if withscores:
            pieces.append("WITHSCORES")
        return self.execute_command("ZDIFF", *pieces, keys=keys, withscores=withscores)

    def zdiffstore(self, dest, keys):
        return self.execute_command("ZDIFFSTORE", dest, len(keys), *keys)

    # -- blocking pops: the thread waits, the store lock released -----------
    def bzpopmax(self, keys, timeout=0):
        keys = list_or_args(keys, None)
        keys.append(0 if timeout is None else timeout)
        return self.execute_command("BZPOPMAX", *keys)

    def bzpopmin(self, keys, timeout=0):
        keys = list_or_args(keys, None)
        keys.append(0 if timeout is None else timeout)
        return self.execute_command("BZPOPMIN", *keys)

    def bzmpop(self, timeout, numkeys, keys, min=False, max=False, count=1):
        if (min and max) or (not min and not max):
            raise DataError("Either min or max, but not both must be set")
        args = [timeout, numkeys, *keys, "MIN" if min else "MAX", "COUNT", count]
        return self.execute_command("BZMPOP", *args)

    # -- scanning -----------------------------------------------------------
    def zscan(self, name, cursor=0, match=None, count=None, score_cast_func=float):
        pieces = [name, cursor]
        if match is not None:
            pieces += (b"MATCH", match)
        if count is not None:
            pieces += (b"COUNT", count)
        return self.execute_command("ZSCAN", *pieces, score_cast_func=score_cast_func)

    def zscan_iter(self, name, match=None, count=None, score_cast_func=float):
        cursor = "0"
        while cursor != 0:
            cursor, data = self.zscan(name, cursor=cursor, match=match, count=count,
                                      score_cast_func=score_cast_func)
            yield from data
