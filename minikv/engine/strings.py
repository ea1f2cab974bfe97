"""String commands (t_string.c).

A string value is ``bytes``, or ``bytearray`` after an in-place APPEND or
SETRANGE (Redis's "raw" encoding, and amortised O(1) appends). Integers are
stored as their decimal text, as Redis replies them; INCR and friends parse
with Redis's strict rules on every call. Writes through the keyspace's
methods tell WATCH by themselves; an in-place edit of a bytearray calls
``ks.signal_modified`` (Redis signals every APPEND, and every SETRANGE with
a non-empty value). The typed helpers (``get_string``,
``set_string``, ``incr_by``) are what both the command handlers here and the
client's fast paths call, so each rule lives in one place.

Keyspace notifications (engine/notify.py) use Redis 7.0's names: set (SET
and its relatives, MSET per key, GETSET), expire after it when SET/SETEX
give a TTL, incrby (INCR, DECR, INCRBY, DECRBY), incrbyfloat, append,
setrange, getdel's del, and GETEX's expire / persist / del (a time already
past deletes the key). Nothing is sent when nothing changed.
"""
from minikv.engine.args import expire_ms, int_arg, keyword
from minikv.engine.commands import command
from minikv.engine.errors import (
    NAN_OR_INF, NOT_FLOAT, NOT_INTEGER, OFFSET_RANGE, OVERFLOW, STRING_TOO_LONG, SYNTAX,
    CommandError, wrong_arity,
)
from minikv.engine.notify import GENERIC, STRING, emit
from minikv.engine.numbers import (
    INT64_MAX, INT64_MIN, incr_long_double, parse_int, parse_long_double,
)
from minikv.engine.values import wrong_type

OK = b"OK"


def get_string(ks, key):
    """The string at ``key`` as bytes, None if missing; WRONGTYPE otherwise."""
    value = ks.lookup_read(key)
    if value is None or value.__class__ is bytes:
        return value
    if value.__class__ is bytearray:
        return bytes(value)
    raise wrong_type()


def _string_for_write(ks, key):
    value = ks.lookup(key)
    if value is None or value.__class__ is bytes or value.__class__ is bytearray:
        return value
    raise wrong_type()


def incr_by(ks, key, delta):
    """INCRBY semantics; keeps the TTL. Returns the new integer."""
    current = ks.lookup(key)
    if current is None:
        number = 0
    else:
        cls = current.__class__
        if cls is bytearray:
            current = bytes(current)
        elif cls is not bytes:
            raise wrong_type()
        number = parse_int(current)
        if number is None:
            raise CommandError(NOT_INTEGER)
    result = number + delta
    if result > INT64_MAX or result < INT64_MIN:
        raise CommandError(OVERFLOW)
    ks.replace(key, b"%d" % result)
    notify = ks.notify
    if notify is not None:
        notify(STRING, b"incrby", key)
    return result


def _check_size(ks_store, length):
    if length > ks_store.config["proto-max-bulk-len"]:
        raise CommandError(STRING_TOO_LONG)


# -- SET and its relatives ---------------------------------------------------
_EXPIRE_OPTIONS = {b"EX": (True, False), b"PX": (False, False),
                   b"EXAT": (True, True), b"PXAT": (False, True)}


def _parse_extended(args, for_set):
    """SET/GETEX options, accepted exactly when Redis's parser accepts them.

    Returns (flags, expire) where flags is a set of option words and expire
    is None or (seconds, absolute, raw value). Repeating an option is fine
    (the last expire value wins); mixing conflicting ones is a syntax error.
    NX/XX/GET/KEEPTTL belong to SET, PERSIST to GETEX.
    """
    flags = set()
    expire = None
    i, n = 0, len(args)
    while i < n:
        word = keyword(args[i])
        has_next = i + 1 < n
        if word == b"NX" and for_set and b"XX" not in flags:
            flags.add(word)
        elif word == b"XX" and for_set and b"NX" not in flags:
            flags.add(word)
        elif word == b"GET" and for_set:
            flags.add(word)
        elif word == b"KEEPTTL" and for_set and expire is None:
            flags.add(word)
        elif word == b"PERSIST" and not for_set and expire is None:
            flags.add(word)
        elif (word in _EXPIRE_OPTIONS and has_next and b"KEEPTTL" not in flags
              and b"PERSIST" not in flags and (expire is None or expire[0] == word)):
            expire = (word, args[i + 1])
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    if expire is not None:
        word, raw = expire
        expire = _EXPIRE_OPTIONS[word] + (raw,)
    return flags, expire


# SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
@command("set", -3, "write denyoom")
def cmd_set(client, args):
    key, value = args[0], args[1]
    flags, expire = _parse_extended(args[2:], True)
    nx, xx, get, keepttl = (b"NX" in flags, b"XX" in flags, b"GET" in flags,
                            b"KEEPTTL" in flags)
    store = client.store
    when = None
    if expire is not None:
        seconds, absolute, raw = expire
        when = expire_ms(raw, seconds, absolute, store.clock.ms(), "set")
    ks = client.ks
    old = get_string(ks, key) if get else ks.lookup(key)
    if (nx and old is not None) or (xx and old is None):
        return old if get else None
    if when is not None:
        ks.store_with_expiry(key, value, when)
    elif keepttl:
        ks.replace(key, value)
    else:
        ks.store(key, value)
    notify = ks.notify
    if notify is not None:
        notify(STRING, b"set", key)
        if when is not None:
            notify(GENERIC, b"expire", key)
    return old if get else OK


def set_string(ks, key, value):
    """Plain ``SET key value``: the client's fast path."""
    ks.store(key, value)
    notify = ks.notify
    if notify is not None:
        notify(STRING, b"set", key)


def set_string_with_expiry(ks, key, value, when):
    """``SET key value EX/PX`` at the absolute time ``when`` (ms): the
    client's fast path, and SETEX/PSETEX."""
    ks.store_with_expiry(key, value, when)
    notify = ks.notify
    if notify is not None:
        notify(STRING, b"set", key)
        notify(GENERIC, b"expire", key)


# GET key
@command("get", 2, "readonly fast")
def cmd_get(client, args):
    return get_string(client.ks, args[0])


# GETDEL key
@command("getdel", 2, "write fast")
def cmd_getdel(client, args):
    ks = client.ks
    value = get_string(ks, args[0])
    if value is not None:
        ks.delete(args[0])
        emit(ks, GENERIC, b"del", args[0])
    return value


# GETSET key value
@command("getset", 3, "write denyoom fast")
def cmd_getset(client, args):
    ks = client.ks
    old = get_string(ks, args[0])
    set_string(ks, args[0], args[1])
    return old


# GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
@command("getex", -2, "write fast")
def cmd_getex(client, args):
    key = args[0]
    flags, expire = _parse_extended(args[1:], False)
    persist = b"PERSIST" in flags
    ks = client.ks
    value = get_string(ks, key)
    if value is None:
        return None  # Redis answers nil before it looks at the expire value
    now = client.store.clock.ms()
    when = None
    if expire is not None:
        seconds, absolute, raw = expire
        when = expire_ms(raw, seconds, absolute, now, "getex")
    if when is not None:
        if when <= now:
            ks.delete(key)
            emit(ks, GENERIC, b"del", key)
        else:
            ks.set_expiry(key, when)
            emit(ks, GENERIC, b"expire", key)
    elif persist and ks.persist(key):
        emit(ks, GENERIC, b"persist", key)
    return value


# MGET key [key ...]
@command("mget", -2, "readonly fast")
def cmd_mget(client, args):
    ks = client.ks
    reply = []
    for key in args:
        value = ks.lookup_read(key)
        if value is not None and value.__class__ is not bytes:
            value = bytes(value) if value.__class__ is bytearray else None
        reply.append(value)
    return reply


def _pairs(args, name):
    if len(args) % 2:
        raise CommandError(wrong_arity(name))
    return list(zip(args[::2], args[1::2]))


# MSET key value [key value ...]
@command("mset", -3, "write denyoom")
def cmd_mset(client, args):
    ks = client.ks
    for key, value in _pairs(args, "mset"):
        set_string(ks, key, value)
    return OK


# MSETNX key value [key value ...]
@command("msetnx", -3, "write denyoom")
def cmd_msetnx(client, args):
    ks = client.ks
    pairs = _pairs(args, "msetnx")
    if any(ks.lookup(key) is not None for key, _ in pairs):
        return 0
    for key, value in pairs:
        set_string(ks, key, value)
    return 1


# SETNX key value
@command("setnx", 3, "write denyoom fast")
def cmd_setnx(client, args):
    ks = client.ks
    if ks.lookup(args[0]) is not None:
        return 0
    set_string(ks, args[0], args[1])
    return 1


def _setex(client, args, seconds, name):
    when = expire_ms(args[1], seconds, False, client.store.clock.ms(), name)
    set_string_with_expiry(client.ks, args[0], args[2], when)
    return OK


# SETEX key seconds value
@command("setex", 4, "write denyoom")
def cmd_setex(client, args):
    return _setex(client, args, True, "setex")


# PSETEX key milliseconds value
@command("psetex", 4, "write denyoom")
def cmd_psetex(client, args):
    return _setex(client, args, False, "psetex")


# -- counters ----------------------------------------------------------------
# INCR key / DECR key / INCRBY key increment / DECRBY key decrement
@command("incr", 2, "write denyoom fast")
def cmd_incr(client, args):
    return incr_by(client.ks, args[0], 1)


@command("decr", 2, "write denyoom fast")
def cmd_decr(client, args):
    return incr_by(client.ks, args[0], -1)


@command("incrby", 3, "write denyoom fast")
def cmd_incrby(client, args):
    return incr_by(client.ks, args[0], int_arg(args[1]))


@command("decrby", 3, "write denyoom fast")
def cmd_decrby(client, args):
    delta = int_arg(args[1])
    if delta == INT64_MIN:
        raise CommandError("ERR decrement would overflow")
    return incr_by(client.ks, args[0], -delta)


def incr_by_float(current, increment_arg, not_number_error):
    """Shared by INCRBYFLOAT and HINCRBYFLOAT: the new value's text."""
    increment = parse_long_double(increment_arg)
    if increment is None:
        raise CommandError(NOT_FLOAT)
    if current is None:
        base = 0
    else:
        base = parse_long_double(bytes(current))
        if base is None:
            raise CommandError(not_number_error)
    result = incr_long_double(base, increment)
    if result is None:
        raise CommandError(NAN_OR_INF)
    return result


# INCRBYFLOAT key increment
@command("incrbyfloat", 3, "write denyoom fast")
def cmd_incrbyfloat(client, args):
    ks = client.ks
    current = _string_for_write(ks, args[0])
    result = incr_by_float(current, args[1], NOT_FLOAT)
    ks.replace(args[0], result)
    emit(ks, STRING, b"incrbyfloat", args[0])
    return result


# -- byte-level edits --------------------------------------------------------
# APPEND key value
@command("append", 3, "write denyoom fast")
def cmd_append(client, args):
    ks = client.ks
    key, tail = args
    current = _string_for_write(ks, key)
    if current is None:
        ks.replace(key, tail)
        emit(ks, STRING, b"append", key)
        return len(tail)
    _check_size(client.store, len(current) + len(tail))
    if current.__class__ is bytes:
        current = bytearray(current)
        current += tail
        ks.replace(key, current)
    else:
        current += tail
        ks.signal_modified(key)
    emit(ks, STRING, b"append", key)
    return len(current)


# STRLEN key
@command("strlen", 2, "readonly fast")
def cmd_strlen(client, args):
    value = get_string(client.ks, args[0])
    return 0 if value is None else len(value)


# GETRANGE key start end
@command("getrange", 4, "readonly")
def cmd_getrange(client, args):
    start = int_arg(args[1])
    end = int_arg(args[2])
    value = get_string(client.ks, args[0])
    if value is None:
        return b""
    return string_range(value, start, end)


@command("substr", 4, "readonly")
def cmd_substr(client, args):
    return cmd_getrange(client, args)


def string_range(value, start, end):
    """Redis's inclusive, negative-aware byte range (GETRANGE)."""
    length = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(length + start, 0)
    if end < 0:
        end = max(length + end, 0)
    if end >= length:
        end = length - 1
    if start > end or length == 0:
        return b""
    return value[start:end + 1]


# SETRANGE key offset value
@command("setrange", 4, "write denyoom")
def cmd_setrange(client, args):
    ks = client.ks
    key, patch = args[0], args[2]
    offset = int_arg(args[1])
    if offset < 0:
        raise CommandError(OFFSET_RANGE)
    current = _string_for_write(ks, key)
    if not patch:
        return 0 if current is None else len(current)
    _check_size(client.store, offset + len(patch))
    in_place = current.__class__ is bytearray
    if not in_place:
        current = bytearray() if current is None else bytearray(current)
    if len(current) < offset:
        current.extend(bytes(offset - len(current)))
    current[offset:offset + len(patch)] = patch
    if in_place:
        ks.signal_modified(key)
    else:
        ks.replace(key, current)
    emit(ks, STRING, b"setrange", key)
    return len(current)


# LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
@command("lcs", -3, "readonly")
def cmd_lcs(client, args):
    want_len = want_idx = with_match_len = False
    min_match_len = 0
    i = 2
    while i < len(args):
        word = keyword(args[i])
        if word == b"IDX":
            want_idx = True
        elif word == b"LEN":
            want_len = True
        elif word == b"WITHMATCHLEN":
            with_match_len = True
        elif word == b"MINMATCHLEN" and i + 1 < len(args):
            min_match_len = max(int_arg(args[i + 1]), 0)
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    ks = client.ks
    a, b = ks.lookup_read(args[0]), ks.lookup_read(args[1])
    for value in (a, b):
        if value is not None and value.__class__ not in (bytes, bytearray):
            raise CommandError("ERR The specified keys must contain string values")
    if want_idx and want_len:
        raise CommandError(
            "ERR If you want both the length and indexes, please just use IDX.")
    a = b"" if a is None else bytes(a)
    b = b"" if b is None else bytes(b)
    if (len(a) + 1) * (len(b) + 1) * 4 > client.store.config["proto-max-bulk-len"]:
        raise CommandError(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
    return _lcs(a, b, want_len, want_idx, min_match_len, with_match_len)


def _lcs(a, b, want_len, want_idx, min_match_len, with_match_len):
    """Redis's dynamic programme and backtrack, so ranges come out identical."""
    alen, blen = len(a), len(b)
    table = [[0] * (blen + 1)]
    for i in range(1, alen + 1):
        prev = table[i - 1]
        row = [0] * (blen + 1)
        ai = a[i - 1]
        for j in range(1, blen + 1):
            if ai == b[j - 1]:
                row[j] = prev[j - 1] + 1
            else:
                up, left = prev[j], row[j - 1]
                row[j] = up if up > left else left
        table.append(row)
    total = table[alen][blen]
    if want_len:
        return total
    result = bytearray(total)
    matches = []
    idx = total
    i, j = alen, blen
    a_start = alen  # alen means "no range open"
    a_end = b_start = b_end = 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if a_start == alen:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            if table[i - 1][j] > table[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if a_start != alen:
                emit = True
        if emit:
            match_len = a_end - a_start + 1
            if min_match_len == 0 or match_len >= min_match_len:
                entry = [[a_start, a_end], [b_start, b_end]]
                if with_match_len:
                    entry.append(match_len)
                matches.append(entry)
            a_start = alen
    if want_idx:
        return [b"matches", matches, b"len", total]
    return bytes(result)
