"""Set commands (t_set.c).

A set is a ``values.Set``: a Python set of ``bytes`` members that can also
pick a random member in O(1) (see its docstring for how). Membership
commands (SADD, SREM, SISMEMBER, SMISMEMBER, SCARD) are O(1) per member;
SPOP and SRANDMEMBER without a count are O(1) expected, amortised, after an
O(n) first pick on a set.

Encoding. ``Set.hashtable`` mirrors Redis's intset/hashtable choice: a set
stays intset while every member is an integer Redis's ``string2ll`` accepts
(``numbers.parse_int``: no "+", no leading zeros, "-0" refused, within
int64) and it has at most ``set-max-intset-entries`` members. Only an
addition can flip it (SADD, SMOVE's destination), and Redis never converts
back — except where Redis itself builds a new set object: the STORE forms
(the destination is built member by member) and SPOP with a count that
leaves only a few members (Redis copies the survivors into a new set). Both
are reproduced, so OBJECT ENCODING matches. An intset keeps its members in
ascending numeric order; where that order is visible (SSCAN, a whole-set
SPOP/SRANDMEMBER reply) intset-encoded sets answer in it.

Keys. Writes mutate the set in place, so a key keeps its TTL; a new set is
stored with ``ks.store`` when its first member arrives, and a set left empty
is deleted (Redis never keeps an empty set). The STORE forms replace the
destination whatever it held (and drop its TTL) or delete it when the
result is empty. Every argument is checked before anything changes.

Type checks follow Redis 7.0: the multi-key commands look up every key, in
order, before computing (a missing key makes SINTER's result empty, but a
later key of another type is still WRONGTYPE); SMOVE answers 0 for a missing
source before looking at the destination's type. Read commands count
keyspace hits and misses as Redis's ``lookupKeyRead`` does; SPOP, SMOVE,
SADD and SREM don't.

Keyspace notifications (engine/notify.py), Redis 7.0's names: sadd, srem,
spop (each only when something changed, followed by del when the set is
left empty), SMOVE's srem on the source (and its del) before sadd on the
destination, and sinterstore/sunionstore/sdiffstore on the destination —
or del when an empty result deletes an existing destination.

The typed helpers (``add_members``, ``is_member``, ``remove_members``...)
are what both the handlers and the client's fast paths call.
"""
from minikv.engine.args import int_arg, keyword
from minikv.engine.commands import command
from minikv.engine.errors import (
    COUNT_POSITIVE, LIMIT_NEGATIVE, LONG_RANGE, NUMKEYS_POSITIVE, NUMKEYS_TOO_MANY, SYNTAX,
    CommandError,
)
from minikv.engine.glob import glob_match
from minikv.engine.notify import GENERIC, SET, emit
from minikv.engine.numbers import INT64_MAX, parse_int
from minikv.engine.scan import element_scan_options, parse_cursor
from minikv.engine.values import Set, typed_lookups, wrong_type

# Redis's SPOP switches strategy once the survivors are few: when
# survivors * 5 <= count it copies the survivors into a new set instead of
# removing ``count`` members one by one (SPOP_MOVE_STRATEGY_MUL in t_set.c).
_SPOP_MOVE_STRATEGY_MUL = 5
_LONG_MAX = INT64_MAX


# -- lookups -----------------------------------------------------------------
# The set at a key, None if missing, WRONGTYPE for another type: for a read
# command (counts a hit or miss), for a write.
read_set, _set_for_write = typed_lookups(Set)


def _read_sets(ks, keys):
    """Every key's set (None where missing), looked up and type-checked in
    order as Redis does before computing anything."""
    return [read_set(ks, key) for key in keys]


# -- encoding ----------------------------------------------------------------
def _outgrows_intset(config, size, members):
    """Would an intset holding ``size`` members, ``members`` among them,
    have to become a hashtable?"""
    if size > config["set-max-intset-entries"]:
        return True
    return any(parse_int(member) is None for member in members)


def new_set(config, members):
    """A set built member by member from ``members``, as Redis builds a
    destination: intset unless a member or the size rules it out. Checking
    the integers costs O(n) only up to the intset limit."""
    created = Set(members)
    created.hashtable = _outgrows_intset(config, len(created), created)
    return created


def members_in_order(set_value):
    """The members as Redis iterates them where we can know it: ascending
    numbers for an intset (O(n log n), n bounded by the intset limit); a
    hashtable's order is its own."""
    if set_value.hashtable:
        return list(set_value)
    return sorted(set_value, key=int)


def _copied_in_order(config, set_value):
    """The members in the order Redis lists a copy of the set it builds
    first (SPOP of the whole set does): ascending numbers when the copy is
    an intset, which it is even for a hashtable set of few integers."""
    if _outgrows_intset(config, len(set_value), set_value):
        return list(set_value)
    return sorted(set_value, key=int)


# -- membership: the client's fast paths --------------------------------------
def add_member(ks, config, key, member):
    """SADD with one member: 1 if it is new, else 0. O(1)."""
    set_value = _set_for_write(ks, key)
    if set_value is None:
        set_value = Set()
        ks.store(key, set_value)
    elif member not in set_value:
        ks.signal_modified(key)  # WATCH: an existing set changes in place
    if not set_value.add(member):
        return 0
    if not set_value.hashtable and _outgrows_intset(config, len(set_value), (member,)):
        set_value.hashtable = True
    notify = ks.notify
    if notify is not None:
        notify(SET, b"sadd", key)
    return 1


def add_members(ks, config, key, members):
    """SADD: how many of ``members`` were new. O(len(members))."""
    set_value = _set_for_write(ks, key)
    if set_value is None:
        set_value = Set()
        ks.store(key, set_value)
        added = set_value.update(members)
    else:
        added = set_value.update(members)
        if added:
            ks.signal_modified(key)
    # Members already present in an intset are integers, so checking all of
    # the arguments is checking the new ones.
    if added and not set_value.hashtable \
            and _outgrows_intset(config, len(set_value), members):
        set_value.hashtable = True
    if added:
        emit(ks, SET, b"sadd", key)
    return added


def remove_members(ks, key, members):
    """SREM: how many of ``members`` were there; deletes an emptied set."""
    set_value = _set_for_write(ks, key)
    if set_value is None:
        return 0
    removed = set_value.difference_update(members)
    if not set_value:
        ks.delete(key)
    elif removed:
        ks.signal_modified(key)
    if removed:
        notify = ks.notify
        if notify is not None:
            _notify_removed(notify, b"srem", key, set_value)
    return removed


def _notify_removed(notify, event, key, set_value):
    """``event`` about the set at ``key``, then del if it is now empty."""
    notify(SET, event, key)
    if not set_value:
        notify(GENERIC, b"del", key)


def is_member(ks, key, member):
    """SISMEMBER: 1 or 0. O(1)."""
    set_value = read_set(ks, key)
    if set_value is not None and member in set_value:
        return 1
    return 0


# SADD key member [member ...]
@command("sadd", -3, "write denyoom fast")
def cmd_sadd(session, args):
    return add_members(session.ks, session.store.config, args[0], args[1:])


# SREM key member [member ...]
@command("srem", -3, "write fast")
def cmd_srem(session, args):
    return remove_members(session.ks, args[0], args[1:])


# SISMEMBER key member
@command("sismember", 3, "readonly fast")
def cmd_sismember(session, args):
    return is_member(session.ks, args[0], args[1])


# SMISMEMBER key member [member ...]
@command("smismember", -3, "readonly fast")
def cmd_smismember(session, args):
    set_value = read_set(session.ks, args[0])
    members = args[1:]
    if set_value is None:
        return [0] * len(members)
    return [int(member in set_value) for member in members]


# SCARD key
@command("scard", 2, "readonly fast")
def cmd_scard(session, args):
    set_value = read_set(session.ks, args[0])
    return 0 if set_value is None else len(set_value)


# SMEMBERS key
@command("smembers", 2, "readonly")
def cmd_smembers(session, args):
    """O(n). The order is unspecified (redis-py makes a Python set of it)."""
    set_value = read_set(session.ks, args[0])
    return [] if set_value is None else list(set_value)


# SMOVE source destination member
@command("smove", 4, "write fast")
def cmd_smove(session, args):
    """O(1). A missing source answers 0 before the destination's type is
    looked at; moving onto the same key only tells whether the member is
    there; moving the last member deletes the source."""
    ks = session.ks
    source_key, destination_key, member = args
    source = _set_for_write(ks, source_key)
    destination = ks.lookup(destination_key)
    if source is None:
        return 0
    if destination is not None and destination.__class__ is not Set:
        raise wrong_type()
    if source is destination:
        return int(member in source)
    if not source.discard(member):
        return 0
    if not source:
        ks.delete(source_key)
    else:
        ks.signal_modified(source_key)
    notify = ks.notify
    if notify is not None:
        _notify_removed(notify, b"srem", source_key, source)
    add_member(ks, session.store.config, destination_key, member)
    return 1


# -- SPOP / SRANDMEMBER ------------------------------------------------------
def _pop_many(ks, config, key, set_value, count):
    """SPOP with 0 < count < size, with Redis's two strategies.

    Few to pop: ``count`` random pops, O(count). Most of the set to pop:
    Redis picks the few survivors, moves them to a new set that replaces
    the old one (so its encoding is decided afresh, as for any new set) and
    replies with the old set's other members in its iteration order. Either
    way O(count) (plus the O(n) first-pick cost on a set never picked from).
    """
    survivors = len(set_value) - count
    emit(ks, SET, b"spop", key)
    if survivors * _SPOP_MOVE_STRATEGY_MUL > count:
        ks.signal_modified(key)
        return [set_value.pop_random() for _ in range(count)]
    kept = set_value.random_sample(survivors)
    kept_set = new_set(config, kept)
    ks.replace(key, kept_set)
    return [member for member in members_in_order(set_value) if member not in kept_set]


# SPOP key [count]
@command("spop", -2, "write random fast")
def cmd_spop(session, args):
    ks = session.ks
    key = args[0]
    if len(args) > 2:
        raise CommandError(SYNTAX)
    if len(args) == 1:
        set_value = _set_for_write(ks, key)
        if set_value is None:
            return None
        member = set_value.pop_random()
        if not set_value:
            ks.delete(key)
        else:
            ks.signal_modified(key)
        notify = ks.notify
        if notify is not None:
            _notify_removed(notify, b"spop", key, set_value)
        return member
    count = int_arg(args[1], COUNT_POSITIVE)
    if count < 0:
        raise CommandError(COUNT_POSITIVE)
    set_value = _set_for_write(ks, key)
    if set_value is None or count == 0:
        return []
    if count >= len(set_value):
        ks.delete(key)
        notify = ks.notify
        if notify is not None:
            _notify_removed(notify, b"spop", key, ())
        return _copied_in_order(session.store.config, set_value)
    return _pop_many(ks, session.store.config, key, set_value, count)


# SRANDMEMBER key [count]
@command("srandmember", -2, "readonly random")
def cmd_srandmember(session, args):
    """A negative count asks for exactly |count| independent picks (repeats
    allowed); a positive one for that many distinct members, the whole set
    at most (in its iteration order). O(|count|), see ``Set``. Like Redis,
    a huge negative count is really served."""
    ks = session.ks
    key = args[0]
    if len(args) > 2:
        raise CommandError(SYNTAX)
    if len(args) == 1:
        set_value = read_set(ks, key)
        return None if set_value is None else set_value.random_member()
    count = int_arg(args[1])
    if count < -_LONG_MAX:
        raise CommandError(LONG_RANGE)
    set_value = read_set(ks, key)
    if set_value is None or count == 0:
        return []
    if count < 0:
        return set_value.random_choices(-count)
    if count >= len(set_value):
        return members_in_order(set_value)
    return set_value.random_sample(count)


# -- SINTER / SUNION / SDIFF and their STORE forms ---------------------------
def intersection(sets):
    """The members common to all ``sets`` (None = missing = empty).
    O(N * M): N the smallest set's size, M the number of sets."""
    if any(set_value is None for set_value in sets):
        return set()
    smallest_first = sorted(sets, key=len)
    return smallest_first[0].intersection(*smallest_first[1:])


def union(sets):
    """O(total size)."""
    return set().union(*[set_value for set_value in sets if set_value is not None])


def difference(sets):
    """The first set's members found in none of the others. O(total size)."""
    first = sets[0]
    if first is None:
        return set()
    return first.difference(*[set_value for set_value in sets[1:] if set_value is not None])


def _store_result(session, destination_key, members, event):
    """Replace the destination with the result (or delete it when empty) and
    notify ``event`` (or del); the reply is the result's size."""
    ks = session.ks
    if not members:
        if ks.delete(destination_key):
            emit(ks, GENERIC, b"del", destination_key)
        return 0
    ks.store(destination_key, new_set(session.store.config, members))
    emit(ks, SET, event, destination_key)
    return len(members)


# SINTER key [key ...]
@command("sinter", -2, "readonly")
def cmd_sinter(session, args):
    return list(intersection(_read_sets(session.ks, args)))


# SUNION key [key ...]
@command("sunion", -2, "readonly")
def cmd_sunion(session, args):
    return list(union(_read_sets(session.ks, args)))


# SDIFF key [key ...]
@command("sdiff", -2, "readonly")
def cmd_sdiff(session, args):
    return list(difference(_read_sets(session.ks, args)))


# SINTERSTORE destination key [key ...]
@command("sinterstore", -3, "write denyoom")
def cmd_sinterstore(session, args):
    return _store_result(session, args[0], intersection(_read_sets(session.ks, args[1:])),
                         b"sinterstore")


# SUNIONSTORE destination key [key ...]
@command("sunionstore", -3, "write denyoom")
def cmd_sunionstore(session, args):
    return _store_result(session, args[0], union(_read_sets(session.ks, args[1:])),
                         b"sunionstore")


# SDIFFSTORE destination key [key ...]
@command("sdiffstore", -3, "write denyoom")
def cmd_sdiffstore(session, args):
    return _store_result(session, args[0], difference(_read_sets(session.ks, args[1:])),
                         b"sdiffstore")


# SINTERCARD numkeys key [key ...] [LIMIT limit]
@command("sintercard", -3, "readonly")
def cmd_sintercard(session, args):
    """The intersection's size, counting stops at LIMIT (0: no limit).
    O(N * M) as SINTER, or less when the limit is reached early.

    Redis reads numkeys and LIMIT with their own messages (also for a value
    that is not a number at all), and checks them before any key."""
    numkeys = parse_int(args[0])
    if numkeys is None or numkeys < 1:
        raise CommandError(NUMKEYS_POSITIVE)
    if numkeys > len(args) - 1:
        raise CommandError(NUMKEYS_TOO_MANY)
    limit = 0
    options = args[1 + numkeys:]
    i = 0
    while i < len(options):
        if keyword(options[i]) != b"LIMIT" or i + 1 >= len(options):
            raise CommandError(SYNTAX)
        limit = parse_int(options[i + 1])
        if limit is None or limit < 0:
            raise CommandError(LIMIT_NEGATIVE)
        i += 2
    sets = _read_sets(session.ks, args[1:1 + numkeys])
    if any(set_value is None for set_value in sets):
        return 0
    if not limit:
        return len(intersection(sets))
    smallest_first = sorted(sets, key=len)
    others = smallest_first[1:]
    count = 0
    for member in smallest_first[0]:
        if all(member in other for other in others):
            count += 1
            if count == limit:
                break
    return count


# -- SSCAN -------------------------------------------------------------------
# SSCAN key cursor [MATCH pattern] [COUNT count]
@command("sscan", -3, "readonly")
def cmd_sscan(session, args):
    """One page of members.

    An intset is small by definition, so Redis returns all of it at once, in
    ascending order, with cursor 0, whatever the cursor and COUNT; so does
    this. A hashtable set pages through ``store.scans`` (about COUNT members
    a call, O(COUNT) after the O(n) snapshot a new iteration takes), which
    keeps Redis's guarantee: every member present for the whole iteration
    is returned.

    As in Redis, the cursor is checked first, then the key; a missing key
    answers an empty page before the options are even read.
    """
    cursor = parse_cursor(args[1])
    set_value = read_set(session.ks, args[0])
    if set_value is None:
        return [b"0", []]
    pattern, count = element_scan_options(args[2:])
    if set_value.hashtable:
        next_cursor, candidates = session.store.scans.page(set_value, cursor, count)
        members = [member for member in candidates if member in set_value]
    else:
        next_cursor, members = 0, members_in_order(set_value)
    if pattern is not None:
        members = [member for member in members if glob_match(pattern, member)]
    return [str(next_cursor).encode(), members]
