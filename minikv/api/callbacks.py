"""Reply post-processing, as redis-py applies it on a RESP2 connection.

The engine answers with raw replies (bytes, int, None, lists); redis-py's
callbacks turn some of them into Python values (``bool``, ``float``, dicts,
tuples). The table is keyed by the command name as the client method passes
it ("SET", "CONFIG GET"). Only the shapes are copied from redis-py's
behaviour; the functions are ours.
"""


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


RESPONSE_CALLBACKS = {
    **{name: as_bool for name in (
        "COPY EXPIRE EXPIREAT HEXISTS HMSET MOVE MSETNX PERSIST PSETEX "
        "PEXPIRE PEXPIREAT RENAMENX SETEX SETNX").split()},
    **{name: as_float for name in ("HINCRBYFLOAT", "INCRBYFLOAT")},
    **{name: bool_ok for name in (
        "FLUSHALL FLUSHDB MSET RENAME SELECT SWAPDB").split()},
    "CONFIG SET": bool_ok,
    "CONFIG RESETSTAT": bool_ok,
    "CONFIG GET": config_get_result,
    "HGETALL": lambda reply, **options: reply and pairs_to_dict(reply) or {},
    "HSCAN": hscan_result,
    "INFO": info_result,
    "PING": ping_result,
    "SET": set_result,
    "SCAN": scan_result,
    "TIME": time_result,
}
