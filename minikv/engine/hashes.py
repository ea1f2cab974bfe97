"""Hash commands (t_hash.c).

A hash is a ``values.Hash``: a dict of field -> value, both ``bytes``. A
dict keeps insertion order, updates in place and appends new fields, which
is exactly the order Redis's listpack encoding keeps — so HGETALL, HKEYS,
HSCAN and a whole-hash HRANDFIELD of a small hash answer in Redis's order.

Encoding. ``Hash.hashtable`` mirrors Redis's switch from listpack to
hashtable: it is set once a write stores a field or value longer than
``hash-max-listpack-value`` bytes, or the hash grows past
``hash-max-listpack-entries`` fields, and never cleared (Redis never
converts back). Only what a write actually stores is measured: HSETNX on an
existing field, or a failed HINCRBY, leaves the encoding alone, as in Redis.
The flag decides OBJECT ENCODING and how HSCAN pages.

Writes mutate the dict in place, so a key keeps its TTL. A new hash enters
the keyspace only when its first field is stored; HDEL of the last field
deletes the key (Redis never keeps an empty hash). Every argument is
checked before anything changes.

Keyspace notifications (engine/notify.py), Redis 7.0's names: hset (HSET,
HMSET, HSETNX when it stores), hincrby, hincrbyfloat, hdel followed by del
when the last field goes.

The typed helpers (``get_field``, ``set_field``, ``set_fields``,
``incr_field``...) are what both the handlers here and the client's fast
paths call, so each rule lives in one place.
"""
import random
from itertools import chain, islice

from minikv.engine.args import int_arg, keyword
from minikv.engine.commands import command
from minikv.engine.errors import (
    HASH_INCREMENT_NAN_OR_INF, HASH_NOT_FLOAT, HASH_NOT_INTEGER, LONG_RANGE, NOT_FLOAT,
    OVERFLOW, SYNTAX, VALUE_OUT_OF_RANGE, CommandError, wrong_arity,
)
from minikv.engine.glob import glob_match
from minikv.engine.notify import GENERIC, HASH, emit
from minikv.engine.numbers import INT64_MAX, INT64_MIN, parse_int, parse_long_double
from minikv.engine.scan import element_scan_options, parse_cursor
from minikv.engine.strings import incr_by_float
from minikv.engine.values import Hash, typed_lookups

OK = b"OK"
_INFINITIES = (float("inf"), float("-inf"))
# HRANDFIELD's count is a C long in -LONG_MAX..LONG_MAX; with WITHVALUES the
# reply has two entries per field, so Redis halves the range.
_LONG_MAX = INT64_MAX
_WITHVALUES_MAX = INT64_MAX // 2


# -- lookups -----------------------------------------------------------------
# The hash at a key, None if missing, WRONGTYPE for another type: for a read
# command (counts a hit or miss), for a write.
read_hash, _hash_for_write = typed_lookups(Hash)


def _new_hash(ks, key):
    """An empty hash stored at the (missing) ``key``; the caller fills it at once.

    Storing it tells WATCH; a write to an existing hash changes it in place
    and calls ``ks.signal_modified`` (Redis signals every HSET, even one that
    changes nothing, and HDEL/HSETNX only when they change the hash)."""
    created = Hash()
    ks.replace(key, created)
    return created


def _note_stored(hash_value, config, field, value):
    """Switch to hashtable encoding if this field/value pair needs it."""
    limit = config["hash-max-listpack-value"]
    if len(field) > limit or len(value) > limit \
            or len(hash_value) > config["hash-max-listpack-entries"]:
        hash_value.hashtable = True


# -- single-field access: the client's fast paths ----------------------------
def get_field(ks, key, field):
    """HGET: the value of ``field``, None if the field or the key is missing."""
    hash_value = read_hash(ks, key)
    return None if hash_value is None else hash_value.get(field)


def set_field(ks, config, key, field, value):
    """HSET with one pair: 1 if ``field`` is new, else 0. O(1)."""
    hash_value = _hash_for_write(ks, key)
    if hash_value is None:
        hash_value = _new_hash(ks, key)
    else:
        ks.signal_modified(key)
    size = len(hash_value)
    hash_value[field] = value
    if not hash_value.hashtable:
        _note_stored(hash_value, config, field, value)
    notify = ks.notify
    if notify is not None:
        notify(HASH, b"hset", key)
    return len(hash_value) - size


def set_fields(ks, config, key, pairs):
    """HSET/HMSET: ``pairs`` is the flat [field, value, ...] list (even
    length). Returns how many fields were new. O(number of pairs)."""
    hash_value = _hash_for_write(ks, key)
    if hash_value is None:
        hash_value = _new_hash(ks, key)
    else:
        ks.signal_modified(key)
    size = len(hash_value)
    hash_value.update(zip(pairs[::2], pairs[1::2]))
    if not hash_value.hashtable:
        limit = config["hash-max-listpack-value"]
        if len(hash_value) > config["hash-max-listpack-entries"] \
                or any(len(item) > limit for item in pairs):
            hash_value.hashtable = True
    emit(ks, HASH, b"hset", key)
    return len(hash_value) - size


def _store_field(ks, config, key, hash_value, field, value, event):
    """Store one computed value and notify ``event``; ``hash_value`` None
    means the key is missing."""
    if hash_value is None:
        hash_value = _new_hash(ks, key)
    else:
        ks.signal_modified(key)
    hash_value[field] = value
    if not hash_value.hashtable:
        _note_stored(hash_value, config, field, value)
    emit(ks, HASH, event, key)


def incr_field(ks, config, key, field, delta):
    """HINCRBY: the new integer. The hash is unchanged on any error."""
    hash_value = _hash_for_write(ks, key)
    current = None if hash_value is None else hash_value.get(field)
    if current is None:
        number = 0
    else:
        number = parse_int(current)
        if number is None:
            raise CommandError(HASH_NOT_INTEGER)
    result = number + delta
    if result > INT64_MAX or result < INT64_MIN:
        raise CommandError(OVERFLOW)
    _store_field(ks, config, key, hash_value, field, str(result).encode(), b"hincrby")
    return result


def incr_field_float(ks, config, key, field, increment_arg):
    """HINCRBYFLOAT: the new value's text, computed as Redis does in long double.

    Unlike INCRBYFLOAT, an infinite increment is refused up front with its own
    message, before the key is even looked at.
    """
    increment = parse_long_double(increment_arg)
    if increment is None:
        raise CommandError(NOT_FLOAT)
    if increment in _INFINITIES:
        raise CommandError(HASH_INCREMENT_NAN_OR_INF)
    hash_value = _hash_for_write(ks, key)
    current = None if hash_value is None else hash_value.get(field)
    result = incr_by_float(current, increment_arg, HASH_NOT_FLOAT)
    _store_field(ks, config, key, hash_value, field, result, b"hincrbyfloat")
    return result


# -- writes ------------------------------------------------------------------
def _field_pairs(args, name):
    """args = [key, field, value, ...]: the pairs must come complete."""
    if len(args) % 2 == 0:
        raise CommandError(wrong_arity(name))
    return args[1:]


# HSET key field value [field value ...]
@command("hset", -4, "write denyoom fast")
def cmd_hset(session, args):
    pairs = _field_pairs(args, "hset")
    return set_fields(session.ks, session.store.config, args[0], pairs)


# HMSET key field value [field value ...]   (deprecated: HSET without the count)
@command("hmset", -4, "write denyoom fast")
def cmd_hmset(session, args):
    pairs = _field_pairs(args, "hmset")
    set_fields(session.ks, session.store.config, args[0], pairs)
    return OK


# HSETNX key field value
@command("hsetnx", 4, "write denyoom fast")
def cmd_hsetnx(session, args):
    ks = session.ks
    key, field, value = args
    hash_value = _hash_for_write(ks, key)
    if hash_value is not None and field in hash_value:
        return 0
    _store_field(ks, session.store.config, key, hash_value, field, value, b"hset")
    return 1


# HDEL key field [field ...]
@command("hdel", -3, "write fast")
def cmd_hdel(session, args):
    ks = session.ks
    key = args[0]
    hash_value = _hash_for_write(ks, key)
    if hash_value is None:
        return 0
    size = len(hash_value)
    for field in args[1:]:
        hash_value.pop(field, None)
    deleted = size - len(hash_value)
    if deleted:
        if hash_value:
            ks.signal_modified(key)
        else:
            ks.delete(key)
        notify = ks.notify
        if notify is not None:
            notify(HASH, b"hdel", key)
            if not hash_value:
                notify(GENERIC, b"del", key)
    return deleted


# HINCRBY key field increment
@command("hincrby", 4, "write denyoom fast")
def cmd_hincrby(session, args):
    delta = int_arg(args[2])
    return incr_field(session.ks, session.store.config, args[0], args[1], delta)


# HINCRBYFLOAT key field increment
@command("hincrbyfloat", 4, "write denyoom fast")
def cmd_hincrbyfloat(session, args):
    return incr_field_float(session.ks, session.store.config, args[0], args[1], args[2])


# -- reads -------------------------------------------------------------------
# HGET key field
@command("hget", 3, "readonly fast")
def cmd_hget(session, args):
    return get_field(session.ks, args[0], args[1])


# HMGET key field [field ...]
@command("hmget", -3, "readonly fast")
def cmd_hmget(session, args):
    hash_value = read_hash(session.ks, args[0])
    fields = args[1:]
    if hash_value is None:
        return [None] * len(fields)
    get = hash_value.get
    return [get(field) for field in fields]


# HEXISTS key field
@command("hexists", 3, "readonly fast")
def cmd_hexists(session, args):
    hash_value = read_hash(session.ks, args[0])
    return int(hash_value is not None and args[1] in hash_value)


# HLEN key
@command("hlen", 2, "readonly fast")
def cmd_hlen(session, args):
    hash_value = read_hash(session.ks, args[0])
    return 0 if hash_value is None else len(hash_value)


# HSTRLEN key field
@command("hstrlen", 3, "readonly fast")
def cmd_hstrlen(session, args):
    value = get_field(session.ks, args[0], args[1])
    return 0 if value is None else len(value)


# HKEYS key
@command("hkeys", 2, "readonly")
def cmd_hkeys(session, args):
    hash_value = read_hash(session.ks, args[0])
    return [] if hash_value is None else list(hash_value)


# HVALS key
@command("hvals", 2, "readonly")
def cmd_hvals(session, args):
    hash_value = read_hash(session.ks, args[0])
    return [] if hash_value is None else list(hash_value.values())


# HGETALL key
@command("hgetall", 2, "readonly")
def cmd_hgetall(session, args):
    """The flat [field, value, ...] reply redis-py turns into a dict."""
    hash_value = read_hash(session.ks, args[0])
    return [] if hash_value is None else list(chain.from_iterable(hash_value.items()))


# -- HRANDFIELD --------------------------------------------------------------
def random_field(hash_value):
    """One field chosen uniformly. O(n) at C speed: a dict has no random access."""
    return next(islice(hash_value, random.randrange(len(hash_value)), None))


def random_fields(hash_value, count, with_values):
    """HRANDFIELD with a count, as Redis chooses among its cases.

    - negative count: exactly |count| picks, repeats allowed;
    - count at least the size: the whole hash in its own order;
    - otherwise: ``count`` distinct fields in random order.

    O(n + |count|). Like Redis, a huge negative count really is served: the
    reply it asks for cannot fit in memory, here or there.
    """
    if count < 0:
        picked = random.choices(list(hash_value), k=-count)
    elif count >= len(hash_value):
        picked = list(hash_value)
    else:
        picked = random.sample(list(hash_value), count)
    if not with_values:
        return picked
    reply = []
    for field in picked:
        reply += (field, hash_value[field])
    return reply


# HRANDFIELD key [count [WITHVALUES]]
@command("hrandfield", -2, "readonly")
def cmd_hrandfield(session, args):
    key = args[0]
    if len(args) == 1:
        hash_value = read_hash(session.ks, key)
        return None if hash_value is None else random_field(hash_value)
    count = int_arg(args[1])
    if count < -_LONG_MAX:
        raise CommandError(LONG_RANGE)
    if len(args) > 3 or (len(args) == 3 and keyword(args[2]) != b"WITHVALUES"):
        raise CommandError(SYNTAX)
    with_values = len(args) == 3
    if with_values and not -_WITHVALUES_MAX <= count <= _WITHVALUES_MAX:
        raise CommandError(VALUE_OUT_OF_RANGE)
    hash_value = read_hash(session.ks, key)
    if hash_value is None or count == 0:
        return []
    return random_fields(hash_value, count, with_values)


# -- HSCAN -------------------------------------------------------------------
# HSCAN key cursor [MATCH pattern] [COUNT count]
@command("hscan", -3, "readonly")
def cmd_hscan(session, args):
    """One page of [field, value, ...].

    A listpack-encoded hash is small by definition, so Redis returns all of
    it at once with cursor 0 whatever the cursor and COUNT; so does this. A
    hashtable-encoded one pages through ``store.scans`` (about COUNT fields a
    call, O(COUNT) after the O(n) snapshot a new iteration takes), which
    keeps Redis's guarantee: every field present for the whole iteration is
    returned. MATCH filters on fields only.

    As in Redis, the cursor is checked first, then the key; a missing key
    answers an empty page before the options are even read.
    """
    cursor = parse_cursor(args[1])
    hash_value = read_hash(session.ks, args[0])
    if hash_value is None:
        return [b"0", []]
    pattern, count = element_scan_options(args[2:])
    if hash_value.hashtable:
        next_cursor, fields = session.store.scans.page(hash_value, cursor, count)
    else:
        next_cursor, fields = 0, hash_value
    reply = []
    for field in fields:
        value = hash_value.get(field)
        if value is None:  # deleted since the iteration's snapshot
            continue
        if pattern is not None and not glob_match(pattern, field):
            continue
        reply += (field, value)
    return [str(next_cursor).encode(), reply]
