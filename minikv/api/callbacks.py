"""Reply post-processing, as redis-py applies it on a RESP2 connection.

The engine answers with raw replies (bytes, int, None, lists); redis-py's
callbacks turn some of them into Python values (``bool``, ``float``, dicts,
tuples). The table is keyed by the command name as the client method passes
it ("SET", "CONFIG GET"). Only the shapes are copied from redis-py's
behaviour; the functions are ours.
"""
from minikv.api.sorted_sets import ZSET_CALLBACKS


def _to_str(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def bool_ok(reply, **options):
    return _to_str(reply) == "OK"


def as_bool(reply, **options):
    return bool(reply)


def as_float(reply, **options):
    return None if reply is None else float(reply)


def set_result(reply, **options):
    if options.get("get"):
        return reply
    return reply and _to_str(reply) == "OK"


def as_set(reply, **options):
    return set(reply) if reply else set()


def as_tuple(reply, **options):
    return tuple(reply) if reply else None


def pairs_to_dict(reply, **options):
    it = iter(reply)
    return dict(zip(it, it))


def scan_result(reply, **options):
    cursor, keys = reply
    return int(cursor), keys


def hscan_result(reply, **options):
    cursor, items = reply
    if options.get("no_values"):
        return int(cursor), items or []
    return int(cursor), pairs_to_dict(items) if items else {}


def time_result(reply, **options):
    return int(reply[0]), int(reply[1])


def config_get_result(reply, **options):
    flat = [_to_str(item) for item in reply] if reply else []
    it = iter(flat)
    return dict(zip(it, it))


def _info_value(value):
    """A scalar (int, float or str), a list for "a,b", a dict for "k=v,flag"."""
    if "=" not in value:
        if "," in value:
            return [_info_value(item) for item in value.split(",") if item]
        try:
            return float(value) if "." in value else int(value)
        except ValueError:
            return value
    sub = {}
    for item in value.split(","):
        if "=" in item:
            k, v = item.rsplit("=", 1)
            sub[k] = _info_value(v)
        elif item:
            sub[item] = True
    return sub


def info_result(reply, **options):
    """INFO text -> dict, parsed the way redis-py parses it."""
    text = _to_str(reply)
    info = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            if ":" in line:
                key, value = line.split(":", 1)
                if key == "cmdstat_host":
                    key, value = line.rsplit(":", 1)
                if key == "module":
                    info.setdefault("modules", []).append(_info_value(value))
                else:
                    info[key] = _info_value(value)
            else:
                info.setdefault("__raw__", []).append(line)
    return info


def ping_result(reply, **options):
    return _to_str(reply) == "PONG"


def pairs_to_tuples(reply, **options):
    """PUBSUB NUMSUB/SHARDNUMSUB: [name, count, ...] -> [(name, count), ...]."""
    return list(zip(reply[0::2], reply[1::2]))


def stream_entries(reply, **options):
    """XRANGE/XREVRANGE: [[id, [field, value, ...]], ...] -> [(id, {field: value}), ...];
    a null reply (COUNT 0) stays None."""
    if reply is None:
        return None
    return [(entry_id, pairs_to_dict(fields)) for entry_id, fields in reply]


def xread_result(reply, **options):
    """XREAD: [[key, entries], ...] with each entries list shaped as XRANGE's;
    a null reply (nothing read, or a timeout) is []. A key named twice is
    listed once, with its last entries, as redis-py 8's default connection
    (RESP3, where the reply is a map) gives it."""
    if reply is None:
        return []
    by_key = {}
    for key, entries in reply:
        by_key[key] = entries
    return [[key, stream_entries(entries)] for key, entries in by_key.items()]


def xinfo_stream_result(reply, **options):
    """XINFO STREAM: a dict with str keys; its first and last entries as
    (id, {field: value}), or with ``full`` its entries as {id: {field: value}}."""
    info = dict(zip((_to_str(name) for name in reply[0::2]), reply[1::2]))
    if options.get("full"):
        info["entries"] = {entry_id: pairs_to_dict(fields)
                           for entry_id, fields in info["entries"]}
    else:
        for name in ("first-entry", "last-entry"):
            entry = info[name]
            if entry is not None:
                info[name] = (entry[0], pairs_to_dict(entry[1]))
    return info


def client_info_result(reply, **options):
    """CLIENT INFO's "name=value ..." line -> dict, the numeric fields redis-py
    knows as ints (and, as in redis-py, ValueError for a value with a "=")."""
    info = {}
    for item in _to_str(reply).split():
        name, value = item.split("=")
        info[name] = value
    for name in _CLIENT_INFO_INTS.intersection(info):
        info[name] = int(info[name])
    return info


_CLIENT_INFO_INTS = frozenset(("id", "age", "idle", "db", "sub", "psub", "multi", "qbuf",
                               "qbuf-free", "obl", "argv-mem", "oll", "omem", "tot-mem"))


def sort_groups(reply, **options):
    """SORT with ``groups=n``: one n-tuple per element (GET values in order).
    A STORE reply (the stored length) is returned as it is."""
    size = options.get("groups")
    if not size or not isinstance(reply, list) or not reply:
        return reply
    return list(zip(*[reply[i::size] for i in range(size)]))


RESPONSE_CALLBACKS = {
    **ZSET_CALLBACKS,
    **{name: as_bool for name in (
        "COPY EXPIRE EXPIREAT HEXISTS HMSET MOVE MSETNX PERSIST PSETEX "
        "PEXPIRE PEXPIREAT RENAMENX SETEX SETNX SMOVE").split()},
    **{name: as_float for name in ("HINCRBYFLOAT", "INCRBYFLOAT")},
    **{name: as_tuple for name in ("BLPOP", "BRPOP")},
    **{name: as_set for name in ("SDIFF", "SINTER", "SMEMBERS", "SUNION")},
    **{name: bool_ok for name in (
        "FLUSHALL FLUSHDB LSET LTRIM MSET RENAME SELECT SWAPDB UNWATCH WATCH").split()},
    "CLIENT GETNAME": lambda reply, **options: _to_str(reply),
    "CLIENT INFO": client_info_result,
    "CLIENT SETNAME": bool_ok,
    "CONFIG SET": bool_ok,
    "CONFIG RESETSTAT": bool_ok,
    "CONFIG GET": config_get_result,
    "HGETALL": lambda reply, **options: reply and pairs_to_dict(reply) or {},
    "HSCAN": hscan_result,
    "INFO": info_result,
    "PING": ping_result,
    "PUBSUB NUMSUB": pairs_to_tuples,
    "PUBSUB SHARDNUMSUB": pairs_to_tuples,
    "SET": set_result,
    "SORT": sort_groups,
    "SCAN": scan_result,
    "SCRIPT EXISTS": lambda reply, **options: [bool(item) for item in reply],
    "SCRIPT FLUSH": bool_ok,
    "SCRIPT KILL": bool_ok,
    "SCRIPT LOAD": lambda reply, **options: _to_str(reply),
    "SSCAN": scan_result,
    "TIME": time_result,
    "XINFO STREAM": xinfo_stream_result,
    "XRANGE": stream_entries,
    "XREAD": xread_result,
    "XREVRANGE": stream_entries,
}


# -- RESP3 reply types -----------------------------------------------------------
# redis-py 8 talks RESP3 by default and only reshapes a reply when a callback
# exists for it; for commands whose RESP3 reply has its own type (maps,
# doubles, pairs) it has none. So where no callback runs — the items of a raw
# execute_command("EXEC") — replies come back as the RESP3 parser builds
# them, and a command queued by a raw MULTI answers its "QUEUED" untouched.
# ``resp3_reply`` turns the engine's RESP2-shaped reply into that form; the
# checks are Redis 7.0's replies as redis-py parses them.
def _has_word(argv, word):
    return any(arg.upper() == word for arg in argv[2:])


def _double(value):
    return None if value is None else float(value)


def _map(reply):
    return dict(zip(reply[::2], reply[1::2])) if isinstance(reply, list) else reply


def _score_pairs(reply):
    return [[member, float(score)] for member, score in zip(reply[::2], reply[1::2])]


def _with_scores(reply, argv):
    return _score_pairs(reply) if _has_word(argv, b"WITHSCORES") else reply


def _pop_pairs(reply, argv):
    if len(argv) > 2:  # a count: one pair per element
        return _score_pairs(reply)
    return [reply[0], float(reply[1])] if reply else reply


def _keyed_pairs(reply, argv):
    return None if reply is None else [reply[0], _score_pairs(reply[1])]


_RESP3_TYPES = {
    b"HGETALL": lambda reply, argv: _map(reply),
    b"CONFIG GET": lambda reply, argv: _map(reply),
    b"LCS": lambda reply, argv: _map(reply) if _has_word(argv, b"IDX") else reply,
    b"HRANDFIELD": lambda reply, argv: (
        [list(pair) for pair in zip(reply[::2], reply[1::2])]
        if _has_word(argv, b"WITHVALUES") else reply),
    b"ZSCORE": lambda reply, argv: _double(reply),
    b"ZINCRBY": lambda reply, argv: _double(reply),
    b"ZADD": lambda reply, argv: _double(reply) if _has_word(argv, b"INCR") else reply,
    b"ZMSCORE": lambda reply, argv: [_double(score) for score in reply],
    b"ZPOPMIN": _pop_pairs,
    b"ZPOPMAX": _pop_pairs,
    b"BZPOPMIN": lambda reply, argv: None if reply is None else [
        reply[0], reply[1], float(reply[2])],
    b"BZPOPMAX": lambda reply, argv: None if reply is None else [
        reply[0], reply[1], float(reply[2])],
    b"ZMPOP": _keyed_pairs,
    b"BZMPOP": _keyed_pairs,
    **{name: _with_scores for name in (
        b"ZRANGE", b"ZREVRANGE", b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE", b"ZUNION",
        b"ZINTER", b"ZDIFF", b"ZRANDMEMBER")},
}


def _resp3_converter(argv):
    name = argv[0].upper()
    if name == b"CONFIG" and len(argv) > 1:
        name += b" " + argv[1].upper()
    return _RESP3_TYPES.get(name)


def has_resp3_type(argv):
    """Whether the reply to ``argv`` (encoded, name first) has a RESP3 type
    of its own, so redis-py applies no callback to it."""
    return _resp3_converter(argv) is not None


def resp3_reply(argv, reply):
    """The reply to ``argv`` as redis-py's RESP3 parser would give it.
    Errors (exception instances) pass through."""
    convert = _resp3_converter(argv)
    if convert is None or isinstance(reply, Exception):
        return reply
    return convert(reply, argv)
