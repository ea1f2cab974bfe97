"""Generic key commands (Redis's db.c, expire.c, object.c): keys of any type.

Existence and deletion, TTLs, renaming / copying / moving keys, walking the
keyspace (KEYS, SCAN, RANDOMKEY) and OBJECT introspection. Every rule below
was checked against redis-server 7.0.

Expiry. A key is expired once ``now > when`` (``Keyspace.lookup`` deletes it
on sight). The EXPIRE family parses its NX/XX/GT/LT flags first, then the
number, then turns it into absolute milliseconds with Redis's overflow
checks (``expire_when``); a resulting time at or before now deletes the key
and still replies 1. GT and LT treat "no TTL" as an infinite TTL: GT never
succeeds on such a key, LT always does. TTL and EXPIRETIME round to the
nearest second as Redis does: ``(ms + 500) // 1000``.

Which lookups count keyspace hits/misses follows Redis: the commands that go
through ``lookupKeyRead`` (TYPE, EXISTS, the TTL family, TOUCH, COPY's
source, SCAN's TYPE filter) use ``Keyspace.lookup_read``, and OBJECT counts
its own (see below); the write lookups (DEL, EXPIRE, PERSIST, RENAME, MOVE,
COPY's destination) do not.

Walking the keyspace. KEYS skips expired keys without deleting them
(Redis's ``keyIsExpired``), SCAN deletes the expired keys it meets that
passed MATCH, RANDOMKEY deletes the expired keys it draws. SCAN pages come
from ``store.scans`` (engine/scan.py), which gives Redis's full-iteration
guarantee; each page is filtered here by presence, MATCH, TYPE and expiry.
One deliberate difference: Redis 7.0 compares a TYPE filter against the
type of the key *after* expiring it, so ``SCAN ... TYPE none`` returns
expired keys; here an expired key is never returned.

OBJECT. ENCODING reports ``values.string_encoding`` for strings and
listpack/hashtable for hashes. REFCOUNT reports Redis's shared-integer
count (``OBJ_SHARED_REFCOUNT``) for the strings Redis would store as shared
integers (0..9999, int-encoded, unless maxmemory is set with an LRU/LFU
policy) and 1 otherwise; it is computed from the value and the *current*
configuration, so it differs from Redis for a key written before the
maxmemory settings changed, and for a small integer made by COPY (Redis's
copy is unshared). IDLETIME and FREQ answer from the access data that
maxmemory's tracking keeps (engine/eviction.py: the last access time under
the LRU-family policies, Redis's LFU counter under *-lfu); like Redis they
answer nil for a missing key and an error when the policy keeps the other
kind of data. While maxmemory is 0 minikv tracks no accesses (that would
cost every read a write), so they answer an error that says so instead of
inventing a number. OBJECT is not itself an access (it uses ``lookup``).

Keyspace notifications (engine/notify.py), Redis 7.0's generic events:
del (DEL, UNLINK, an EXPIRE-family time at or before now), expire, persist,
rename_from + rename_to, copy_to, move_from + move_to (the destination's in
its own db). An overwritten RENAME/COPY destination is deleted before the
value is added, so it gets a "new" event, as in Redis. OBJECT counts its
hit or miss but sends no keymiss event (Redis's LOOKUP_NONOTIFY).

The typed helpers (``delete_keys``, ``count_existing``, ``expire_when``,
``expire_key``, ``key_ttl``) are what both the handlers here and the
client's fast paths call, so each rule lives in one place.
"""
import itertools
import random

from minikv.engine.args import int_arg, keyword
from minikv.engine.blocking import signal_key_ready
from minikv.engine.commands import command
from minikv.engine.errors import (
    DB_INDEX, EXPIRE_FLAGS, GT_AND_LT, INT_RANGE, LFU_NOT_SELECTED, LRU_NOT_SELECTED,
    NO_SUCH_KEY, SAME_OBJECT, SYNTAX, CommandError, invalid_expire, unsupported_option,
)
from minikv.engine.glob import glob_match
from minikv.engine.notify import GENERIC, emit
from minikv.engine.numbers import INT64_MAX
from minikv.engine.scan import parse_cursor
from minikv.engine.values import copy_value, encoding_name, string_encoding, type_name

OK = b"OK"

# minikv's own replies where Redis would report per-key access tracking.
IDLETIME_NOT_TRACKED = ("ERR OBJECT IDLETIME is not available while maxmemory is 0: "
                        "minikv tracks key accesses only under a memory limit")
FREQ_NOT_TRACKED = ("ERR OBJECT FREQ is not available while maxmemory is 0: "
                    "minikv tracks key accesses only under a memory limit")


# -- existence and deletion --------------------------------------------------
def delete_keys(ks, keys):
    """DEL: remove each live key; returns how many were removed. O(len(keys))."""
    deleted = 0
    for key in keys:
        # An expired key is already gone: lookup removes it and DEL skips it.
        if ks.lookup(key) is not None:
            ks.delete(key)
            deleted += 1
            notify = ks.notify
            if notify is not None:
                notify(GENERIC, b"del", key)
    return deleted


def count_existing(ks, keys):
    """EXISTS: live keys among ``keys``, a repeated key counted each time."""
    found = 0
    for key in keys:
        if ks.lookup_read(key) is not None:
            found += 1
    return found


# DEL key [key ...]
@command("del", -2, "write")
def cmd_del(session, args):
    return delete_keys(session.ks, args)


# UNLINK key [key ...]  (no background freeing in-process: same as DEL)
@command("unlink", -2, "write fast")
def cmd_unlink(session, args):
    return delete_keys(session.ks, args)


# EXISTS key [key ...]
@command("exists", -2, "readonly fast")
def cmd_exists(session, args):
    return count_existing(session.ks, args)


# TOUCH key [key ...]
@command("touch", -2, "readonly fast")
def cmd_touch(session, args):
    return count_existing(session.ks, args)


# TYPE key
@command("type", 2, "readonly fast")
def cmd_type(session, args):
    value = session.ks.lookup_read(args[0])
    return b"none" if value is None else type_name(value)


# -- expiry ------------------------------------------------------------------
NX, XX, GT, LT = 1, 2, 4, 8
_EXPIRE_FLAGS = {b"NX": NX, b"XX": XX, b"GT": GT, b"LT": LT}

# C's LLONG_MAX / 1000 and LLONG_MIN / 1000: C division truncates toward zero,
# so the bounds are symmetric.
_MAX_SECONDS = INT64_MAX // 1000
_MIN_SECONDS = -_MAX_SECONDS


def parse_expire_flags(words):
    """NX/XX/GT/LT words -> bit set; repeats are allowed, combinations checked."""
    flags = 0
    for word in words:
        flag = _EXPIRE_FLAGS.get(keyword(word))
        if flag is None:
            raise CommandError(unsupported_option(word.decode(errors="replace")))
        flags |= flag
    if flags & NX and flags & (XX | GT | LT):
        raise CommandError(EXPIRE_FLAGS)
    if flags & GT and flags & LT:
        raise CommandError(GT_AND_LT)
    return flags


def expire_when(amount, in_seconds, basetime, command_name):
    """Absolute expiry (ms) for an EXPIRE-family number.

    ``amount`` is an int64 in seconds or milliseconds; ``basetime`` is now
    (relative forms) or 0 (the *AT forms). Negative amounts are allowed —
    they expire the key — but the unit conversion and the addition must not
    overflow int64, exactly as Redis checks them.
    """
    if in_seconds:
        if amount > _MAX_SECONDS or amount < _MIN_SECONDS:
            raise CommandError(invalid_expire(command_name))
        amount *= 1000
    if amount > INT64_MAX - basetime:
        raise CommandError(invalid_expire(command_name))
    return amount + basetime


def expire_key(ks, key, when, now, flags=0):
    """Give ``key`` the absolute expiry ``when`` subject to ``flags``; 1 or 0.

    A time at or before ``now`` deletes the key (and still counts as set).
    """
    if ks.lookup(key) is None:
        return 0
    if flags:
        current = ks.expiry(key)
        if flags & NX and current is not None:
            return 0
        if flags & XX and current is None:
            return 0
        # No TTL counts as infinite: never exceeded (GT), always undercut (LT).
        if flags & GT and (current is None or when <= current):
            return 0
        if flags & LT and current is not None and when >= current:
            return 0
    if when <= now:
        ks.delete(key)
        event = b"del"
    else:
        ks.set_expiry(key, when)
        event = b"expire"
    notify = ks.notify
    if notify is not None:
        notify(GENERIC, event, key)
    return 1


def _expire_command(session, args, in_seconds, relative, command_name):
    flags = parse_expire_flags(args[2:])
    amount = int_arg(args[1])
    now = session.store.clock.ms()
    when = expire_when(amount, in_seconds, now if relative else 0, command_name)
    return expire_key(session.ks, args[0], when, now, flags)


# EXPIRE key seconds [NX|XX|GT|LT]
@command("expire", -3, "write fast")
def cmd_expire(session, args):
    return _expire_command(session, args, True, True, "expire")


# PEXPIRE key milliseconds [NX|XX|GT|LT]
@command("pexpire", -3, "write fast")
def cmd_pexpire(session, args):
    return _expire_command(session, args, False, True, "pexpire")


# EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
@command("expireat", -3, "write fast")
def cmd_expireat(session, args):
    return _expire_command(session, args, True, False, "expireat")


# PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
@command("pexpireat", -3, "write fast")
def cmd_pexpireat(session, args):
    return _expire_command(session, args, False, False, "pexpireat")


def key_ttl(ks, key, now, in_seconds=True, absolute=False):
    """TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 missing, -1 no expiry."""
    if ks.lookup_read(key) is None:
        return -2
    when = ks.expiry(key)
    if when is None:
        return -1
    ms = when if absolute else when - now
    if ms < 0:
        ms = 0
    return (ms + 500) // 1000 if in_seconds else ms


# TTL key
@command("ttl", 2, "readonly fast")
def cmd_ttl(session, args):
    return key_ttl(session.ks, args[0], session.store.clock.ms())


# PTTL key
@command("pttl", 2, "readonly fast")
def cmd_pttl(session, args):
    return key_ttl(session.ks, args[0], session.store.clock.ms(), in_seconds=False)


# EXPIRETIME key
@command("expiretime", 2, "readonly fast")
def cmd_expiretime(session, args):
    return key_ttl(session.ks, args[0], session.store.clock.ms(), absolute=True)


# PEXPIRETIME key
@command("pexpiretime", 2, "readonly fast")
def cmd_pexpiretime(session, args):
    return key_ttl(session.ks, args[0], session.store.clock.ms(),
                   in_seconds=False, absolute=True)


# PERSIST key
@command("persist", 2, "write fast")
def cmd_persist(session, args):
    ks = session.ks
    if ks.lookup(args[0]) is None or not ks.persist(args[0]):
        return 0
    emit(ks, GENERIC, b"persist", args[0])
    return 1


# -- walking the keyspace ----------------------------------------------------
# KEYS pattern
@command("keys", 2, "readonly")
def cmd_keys(session, args):
    """O(n) over the db. Expired keys are skipped, not deleted, as in Redis."""
    pattern = args[0]
    # A lone "*" matches every key, the empty one included (which the glob
    # matcher, like Redis's, would not match).
    match_all = pattern == b"*"
    ks = session.ks
    expires = ks.expires
    now = ks.clock_ms()  # the keyspace's clock: frozen during EXEC, like lookups
    reply = []
    for key in ks.data:
        if match_all or glob_match(pattern, key):
            when = expires.get(key) if expires else None
            if when is None or now <= when:
                reply.append(key)
    return reply


def _scan_options(args):
    """[MATCH pattern] [COUNT count] [TYPE type] -> (pattern, count, type)."""
    pattern = None
    count = 10
    type_filter = None
    i = 0
    while i < len(args):
        word = keyword(args[i])
        if i + 1 >= len(args):
            raise CommandError(SYNTAX)
        value = args[i + 1]
        if word == b"COUNT":
            count = int_arg(value)
            if count < 1:
                raise CommandError(SYNTAX)
        elif word == b"MATCH":
            # A lone "*" is no filter at all (it must match the empty key too).
            pattern = None if value == b"*" else value
        elif word == b"TYPE":
            # Redis compares type names case-insensitively (ASCII).
            type_filter = value.lower()
        else:
            raise CommandError(SYNTAX)
        i += 2
    return pattern, count, type_filter


# SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
@command("scan", -2, "readonly")
def cmd_scan(session, args):
    """One page: about COUNT candidates, filtered. O(COUNT) per call after the
    snapshot a new iteration takes (O(n), amortised over the iteration)."""
    cursor = parse_cursor(args[0])
    pattern, count, type_filter = _scan_options(args[1:])
    ks = session.ks
    data = ks.data
    next_cursor, candidates = session.store.scans.page(data, cursor, count)
    keys = []
    for key in candidates:
        if key not in data:  # deleted since the iteration's snapshot
            continue
        if pattern is not None and not glob_match(pattern, key):
            continue
        if type_filter is not None:
            value = ks.lookup_read(key)
            if value is None or type_name(value) != type_filter:
                continue
        elif ks.lookup(key) is None:
            continue
        keys.append(key)
    return [str(next_cursor).encode(), keys]


def random_key(ks):
    """A random live key or None; expired keys drawn are deleted.

    O(n): a dict has no random access, so the key at a random position is
    reached by iteration (without copying the key list).
    """
    data = ks.data
    while data:
        key = next(itertools.islice(data, random.randrange(len(data)), None))
        if ks.lookup(key) is not None:
            return key
    return None


# RANDOMKEY
@command("randomkey", 1, "readonly")
def cmd_randomkey(session, args):
    return random_key(session.ks)


# -- renaming, copying, moving -----------------------------------------------
def _rename(session, source, destination, nx):
    """RENAME/RENAMENX: True if renamed. The TTL travels with the value;
    clients blocked on the destination are served from it."""
    ks = session.ks
    value = ks.lookup(source)
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    if source == destination:
        return not nx
    # Looked up for RENAME too: like Redis, an expired destination is expired
    # (and counted) here rather than silently overwritten.
    if ks.lookup(destination) is not None:
        if nx:
            return False
        ks.delete(destination)
    when = ks.expiry(source)
    ks.delete(source)
    if when is None:
        ks.store(destination, value)
    else:
        ks.store_with_expiry(destination, value, when)
    signal_key_ready(session.store, session.db, destination)
    notify = ks.notify
    if notify is not None:
        notify(GENERIC, b"rename_from", source)
        notify(GENERIC, b"rename_to", destination)
    return True


# RENAME key newkey
@command("rename", 3, "write")
def cmd_rename(session, args):
    _rename(session, args[0], args[1], False)
    return OK


# RENAMENX key newkey
@command("renamenx", 3, "write fast")
def cmd_renamenx(session, args):
    return 1 if _rename(session, args[0], args[1], True) else 0


def _database(session, data):
    """The Keyspace a DB argument names, with Redis's two range errors."""
    index = int_arg(data)
    if not -(1 << 31) <= index < (1 << 31):
        raise CommandError(INT_RANGE)
    dbs = session.store.dbs
    if not 0 <= index < len(dbs):
        raise CommandError(DB_INDEX)
    return dbs[index]


# COPY source destination [DB destination-db] [REPLACE]
@command("copy", -3, "write denyoom")
def cmd_copy(session, args):
    source, destination = args[0], args[1]
    ks = session.ks
    target = ks
    replace = False
    i = 2
    while i < len(args):
        word = keyword(args[i])
        if word == b"REPLACE":
            replace = True
        elif word == b"DB" and i + 1 < len(args):
            target = _database(session, args[i + 1])
            i += 1
        else:
            raise CommandError(SYNTAX)
        i += 1
    if target is ks and source == destination:
        raise CommandError(SAME_OBJECT)
    value = ks.lookup_read(source)
    if value is None:
        return 0
    if target.lookup(destination) is not None:
        if not replace:
            return 0
        target.delete(destination)
    when = ks.expiry(source)
    duplicate = copy_value(value)
    if when is None:
        target.store(destination, duplicate)
    else:
        target.store_with_expiry(destination, duplicate, when)
    store = session.store
    signal_key_ready(store, store.dbs.index(target), destination)
    emit(target, GENERIC, b"copy_to", destination)
    return 1


# MOVE key db
@command("move", 3, "write fast")
def cmd_move(session, args):
    key = args[0]
    ks = session.ks
    target = _database(session, args[1])
    if target is ks:
        raise CommandError(SAME_OBJECT)
    value = ks.lookup(key)
    if value is None or target.lookup(key) is not None:
        return 0
    when = ks.expiry(key)
    if when is None:
        target.store(key, value)
    else:
        target.store_with_expiry(key, value, when)
    ks.delete(key)
    store = session.store
    signal_key_ready(store, store.dbs.index(target), key)
    emit(ks, GENERIC, b"move_from", key)
    emit(target, GENERIC, b"move_to", key)
    return 1


# -- OBJECT ------------------------------------------------------------------
SHARED_REFCOUNT = 2147483647  # Redis's OBJ_SHARED_REFCOUNT (INT_MAX)
SHARED_INTEGERS = 10000  # Redis shares the integers 0 .. 9999
_NO_SHARED_INTEGERS = frozenset(("volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu"))


def _lfu_policy(config):
    return config["maxmemory-policy"].endswith("-lfu")


def refcount(value, config):
    """OBJECT REFCOUNT: shared small integers report OBJ_SHARED_REFCOUNT.

    Redis stores an int-encoded string 0..9999 as a shared object unless
    maxmemory is set with an LRU or LFU policy (which need per-key access
    data, so cannot share).
    """
    if value.__class__ is bytes and string_encoding(value) == b"int":
        sharing = not (config["maxmemory"] and config["maxmemory-policy"] in _NO_SHARED_INTEGERS)
        if sharing and 0 <= int(value) < SHARED_INTEGERS:
            return SHARED_REFCOUNT
    return 1


def _object_lookup(ks, key):
    """OBJECT's lookup: counted as a keyspace hit or miss like a read, but a
    miss sends no keymiss event (Redis's LOOKUP_NONOTIFY)."""
    value = ks.lookup(key)
    if value is None:
        ks.misses += 1
    else:
        ks.hits += 1
    return value


# OBJECT ENCODING key
@command("object|encoding", 3, "readonly")
def cmd_object_encoding(session, args):
    value = _object_lookup(session.ks, args[0])
    return None if value is None else encoding_name(value)


# OBJECT REFCOUNT key
@command("object|refcount", 3, "readonly")
def cmd_object_refcount(session, args):
    value = _object_lookup(session.ks, args[0])
    return None if value is None else refcount(value, session.store.config)


# OBJECT FREQ key
@command("object|freq", 3, "readonly")
def cmd_object_freq(session, args):
    ks = session.ks
    if _object_lookup(ks, args[0]) is None:
        return None
    if not _lfu_policy(session.store.config):
        raise CommandError(LFU_NOT_SELECTED)
    if ks.memory is None:
        raise CommandError(FREQ_NOT_TRACKED)
    return ks.memory.frequency(args[0])


# OBJECT IDLETIME key
@command("object|idletime", 3, "readonly")
def cmd_object_idletime(session, args):
    ks = session.ks
    if _object_lookup(ks, args[0]) is None:
        return None
    if _lfu_policy(session.store.config):
        raise CommandError(LRU_NOT_SELECTED)
    if ks.memory is None:
        raise CommandError(IDLETIME_NOT_TRACKED)
    return ks.memory.idle_seconds(args[0])


_OBJECT_HELP = [
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
]


# OBJECT HELP
@command("object|help", 2, "")
def cmd_object_help(session, args):
    return list(_OBJECT_HELP)
