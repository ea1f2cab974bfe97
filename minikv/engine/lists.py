"""List commands (t_list.c), blocking pops included.

A list is a ``values.List``: a ``collections.deque`` of ``bytes``. Pushing
and popping at either end is O(1) at any length, as with Redis's quicklist;
access by index (LINDEX, LSET) walks from the nearer end, and LRANGE reads
from whichever end is closer to the range, again as Redis does. Elements are
the client's ``bytes`` objects themselves (immutable, never copied).

Writes mutate the deque in place, so a key keeps its TTL. A list enters the
keyspace with its first element (``ks.store``) and leaves it with its last:
Redis never keeps an empty list. A write that changes a list in place tells
WATCH with ``ks.signal_modified`` (creating or deleting the key tells it
through the keyspace), when Redis's signalModifiedKey does: every push and
pop that moves an element, LSET, LINSERT and LREM when they change
something, and LTRIM always, even when it keeps every element. Every argument is checked before anything
changes; the order of the checks (argument, key, type) follows Redis per
command, since it decides which error a bad call gets.

Reads that Redis does through lookupKeyRead (LRANGE, LINDEX, LLEN, LPOS)
count keyspace hits and misses; the writes don't.

Blocking. BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP first try exactly what
their non-blocking forms do; when every key is missing they hand a
``serve(ks, key)`` function to ``blocking.block_on_keys``. Every command
that creates a list calls ``signal_key_ready`` so that waiters are served
right after it, first blocked first served (see engine/blocking.py). As in
Redis 7.0 only creation signals: a push onto an existing list does not (no
list waiter can be waiting on a non-empty list, except one that blocked
before SORT ... STORE replaced a string there, and Redis leaves that one
waiting).

Keyspace notifications (engine/notify.py), Redis 7.0's names: lpush/rpush
(the X forms too), lpop/rpop (also for LMPOP and for every blocking pop,
served at once or later), lset, linsert, lrem, ltrim, each followed by del
when the list is left empty. LMOVE and friends send the destination's push
event, then the source's pop event (Redis's order).

The typed helpers (``push``, ``pop``, ``list_length``...) are what both the
handlers and the client's fast paths call, so each rule lives in one place.
"""
from itertools import islice

from minikv.engine.args import int_arg, keyword
from minikv.engine.blocking import block_on_keys, parse_timeout, signal_key_ready
from minikv.engine.commands import command
from minikv.engine.errors import (
    COUNT_GREATER_THAN_ZERO, COUNT_POSITIVE, INDEX_RANGE, LPOS_COUNT_NEGATIVE,
    LPOS_MAXLEN_NEGATIVE, LPOS_RANK_ZERO, NO_SUCH_KEY, NUMKEYS_POSITIVE, SYNTAX, CommandError,
    wrong_arity,
)
from minikv.engine.notify import GENERIC, LIST, emit
from minikv.engine.numbers import INT64_MIN, parse_int
from minikv.engine.values import List, typed_lookups

OK = b"OK"
_ENDS = {b"LEFT": True, b"RIGHT": False}  # True: the head
# Event names by end: True is the head.
_PUSH_EVENTS = {True: b"lpush", False: b"rpush"}
_POP_EVENTS = {True: b"lpop", False: b"rpop"}


# -- lookups -----------------------------------------------------------------
# The list at a key, None if missing, WRONGTYPE for another type: for a read
# command (counts a hit or miss), for a write.
read_list, list_for_write = typed_lookups(List)


def _end(data):
    """LEFT (True) or RIGHT (False), case-insensitive; else a syntax error."""
    head = _ENDS.get(keyword(data))
    if head is None:
        raise CommandError(SYNTAX)
    return head


def _positive(data, error):
    """Redis's getPositiveLong: an integer >= 0, else ``error``."""
    value = parse_int(data)
    if value is None or value < 0:
        raise CommandError(error)
    return value


def _at_least_one(data, error):
    """Redis's getRangeLong(1, LONG_MAX): else ``error``."""
    value = parse_int(data)
    if value is None or value < 1:
        raise CommandError(error)
    return value


# -- pushing and popping: the client's fast paths ----------------------------
def push(session, key, values, head, create=True):
    """LPUSH (``head``) / RPUSH, and the X forms with ``create=False``.

    Returns the new length (0 when an X form finds no list). O(len(values)).
    LPUSH a b c leaves c first: each element goes to the head in turn. A
    list created here is signalled to blocked clients.
    """
    ks = session.ks
    value = list_for_write(ks, key)
    if value is not None:
        if head:
            value.extendleft(values)
        else:
            value.extend(values)
        ks.signal_modified(key)
    elif not create:
        return 0
    else:
        value = List(reversed(values) if head else values)
        ks.store(key, value)
        signal_key_ready(session.store, session.db, key)
    notify = ks.notify
    if notify is not None:
        notify(LIST, _PUSH_EVENTS[head], key)
    return len(value)


def pop(ks, key, head):
    """LPOP / RPOP of one element: it, or None when the key is missing. O(1)."""
    value = list_for_write(ks, key)
    if value is None:
        return None
    element = value.popleft() if head else value.pop()
    if value:
        ks.signal_modified(key)
    else:
        ks.delete(key)
    notify = ks.notify
    if notify is not None:
        _notify_change(notify, _POP_EVENTS[head], key, value)
    return element


def _notify_change(notify, event, key, value):
    """Send ``event`` about the list at ``key``, then del if ``value`` (what
    is left of it) is empty."""
    notify(LIST, event, key)
    if not value:
        notify(GENERIC, b"del", key)


def _pop_from(ks, key, value, head, count):
    """Up to ``count`` elements off one end of the (non-empty) ``value``."""
    take = value.popleft if head else value.pop
    popped = [take() for _ in range(min(count, len(value)))]
    if value:
        ks.signal_modified(key)
    else:
        ks.delete(key)
    notify = ks.notify
    if notify is not None:
        _notify_change(notify, _POP_EVENTS[head], key, value)
    return popped


def list_length(ks, key):
    value = read_list(ks, key)
    return 0 if value is None else len(value)


def _span(value, first, last):
    """Elements ``first``..``last`` (inclusive, 0 <= first <= last < len),
    read from the nearer end: O(distance from that end + span)."""
    size = len(value)
    if first <= size - 1 - last:
        return list(islice(value, first, last + 1))
    items = list(islice(reversed(value), size - 1 - last, size - first))
    items.reverse()
    return items


def _clamp_range(start, end, size):
    """Redis's LRANGE/LTRIM index rules: (first, last) inclusive, or None."""
    if start < 0:
        start += size
    if end < 0:
        end += size
    if start < 0:
        start = 0
    if start > end or start >= size:
        return None
    if end >= size:
        end = size - 1
    return start, end


def list_range(ks, key, start, end):
    """LRANGE with already-parsed indexes."""
    value = read_list(ks, key)
    if value is None:
        return []
    bounds = _clamp_range(start, end, len(value))
    return [] if bounds is None else _span(value, *bounds)


def _index(value, index):
    """A Redis list index (negative from the tail) as a deque index, or None."""
    if index < 0:
        index += len(value)
    return index if 0 <= index < len(value) else None


# -- push / pop commands -----------------------------------------------------
# LPUSH key element [element ...]
@command("lpush", -3, "write denyoom fast")
def cmd_lpush(session, args):
    return push(session, args[0], args[1:], True)


# RPUSH key element [element ...]
@command("rpush", -3, "write denyoom fast")
def cmd_rpush(session, args):
    return push(session, args[0], args[1:], False)


# LPUSHX key element [element ...]
@command("lpushx", -3, "write denyoom fast")
def cmd_lpushx(session, args):
    return push(session, args[0], args[1:], True, create=False)


# RPUSHX key element [element ...]
@command("rpushx", -3, "write denyoom fast")
def cmd_rpushx(session, args):
    return push(session, args[0], args[1:], False, create=False)


def _pop_command(session, args, head, name):
    """LPOP/RPOP key [count]: Redis 7.0's reply shapes.

    Without a count: the element or nil. With one: an array of up to count
    elements, nil (a null array) for a missing key, and an empty array for
    count 0 on an existing list. The count is checked before the key.
    """
    if len(args) > 2:
        raise CommandError(wrong_arity(name))
    ks = session.ks
    key = args[0]
    if len(args) == 1:
        return pop(ks, key, head)
    count = _positive(args[1], COUNT_POSITIVE)
    value = list_for_write(ks, key)
    if value is None:
        return None
    if count == 0:
        return []
    return _pop_from(ks, key, value, head, count)


# LPOP key [count]
@command("lpop", -2, "write fast")
def cmd_lpop(session, args):
    return _pop_command(session, args, True, "lpop")


# RPOP key [count]
@command("rpop", -2, "write fast")
def cmd_rpop(session, args):
    return _pop_command(session, args, False, "rpop")


# -- reads -------------------------------------------------------------------
# LLEN key
@command("llen", 2, "readonly fast")
def cmd_llen(session, args):
    return list_length(session.ks, args[0])


# LRANGE key start stop
@command("lrange", 4, "readonly")
def cmd_lrange(session, args):
    start = int_arg(args[1])
    end = int_arg(args[2])
    return list_range(session.ks, args[0], start, end)


# LINDEX key index
@command("lindex", 3, "readonly")
def cmd_lindex(session, args):
    """The key is looked at before the index: a missing key is nil whatever
    the index says. O(distance from the nearer end)."""
    value = read_list(session.ks, args[0])
    if value is None:
        return None
    index = _index(value, int_arg(args[1]))
    return None if index is None else value[index]


# LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
@command("lpos", -3, "readonly")
def cmd_lpos(session, args):
    """Positions of ``element``, scanning from the head (or the tail for a
    negative RANK) over at most MAXLEN entries. O(scanned entries).

    Redis 7.0 negates a negative rank in C: LLONG_MIN stays negative, so
    every match qualifies from the first one and the COUNT limit is never
    reached. That quirk is kept: ``RANK -9223372036854775808`` scans from
    the tail and returns all matches when COUNT is given.
    """
    rank, count, maxlen = 1, None, 0
    options = args[2:]
    for i in range(0, len(options), 2):
        word = keyword(options[i])
        if i + 1 >= len(options):
            raise CommandError(SYNTAX)
        if word == b"RANK":
            rank = int_arg(options[i + 1])
            if rank == 0:
                raise CommandError(LPOS_RANK_ZERO)
        elif word == b"COUNT":
            count = _positive(options[i + 1], LPOS_COUNT_NEGATIVE)
        elif word == b"MAXLEN":
            maxlen = _positive(options[i + 1], LPOS_MAXLEN_NEGATIVE)
        else:
            raise CommandError(SYNTAX)
    value = read_list(session.ks, args[0])
    if value is None:
        return None if count is None else []
    element = args[1]
    from_head = rank > 0
    unlimited = rank == INT64_MIN
    skip = 0 if unlimited else abs(rank) - 1  # matches to pass over first
    wanted = 1 if count is None else count  # 0: all of them
    if unlimited and count is not None:
        wanted = 0
    size = len(value)
    entries = iter(value) if from_head else reversed(value)
    if maxlen:
        entries = islice(entries, maxlen)
    found = []
    for position, item in enumerate(entries):
        if item == element:
            if skip:
                skip -= 1
                continue
            found.append(position if from_head else size - 1 - position)
            if len(found) == wanted:
                break
    if count is not None:
        return found
    return found[0] if found else None


# -- in-place edits ----------------------------------------------------------
# LSET key index element
@command("lset", 4, "write denyoom")
def cmd_lset(session, args):
    """The key is looked at first ("no such key" beats a bad index)."""
    ks = session.ks
    value = list_for_write(ks, args[0])
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    index = _index(value, int_arg(args[1]))
    if index is None:
        raise CommandError(INDEX_RANGE)
    value[index] = args[2]
    ks.signal_modified(args[0])
    emit(ks, LIST, b"lset", args[0])
    return OK


# LINSERT key BEFORE|AFTER pivot element
@command("linsert", 5, "write denyoom")
def cmd_linsert(session, args):
    """New length, -1 without the pivot, 0 without the key. O(n)."""
    where = keyword(args[1])
    if where not in (b"BEFORE", b"AFTER"):
        raise CommandError(SYNTAX)
    ks = session.ks
    value = list_for_write(ks, args[0])
    if value is None:
        return 0
    try:
        index = value.index(args[2])
    except ValueError:
        return -1
    value.insert(index if where == b"BEFORE" else index + 1, args[3])
    ks.signal_modified(args[0])
    emit(ks, LIST, b"linsert", args[0])
    return len(value)


# LREM key count element
@command("lrem", 4, "write")
def cmd_lrem(session, args):
    """Remove up to |count| occurrences (all for 0), from the head for a
    positive count, from the tail for a negative one. O(n)."""
    count = int_arg(args[1])
    ks = session.ks
    key, element = args[0], args[2]
    value = list_for_write(ks, key)
    if value is None or element not in value:
        return 0
    limit = abs(count) if count else len(value)
    kept = []
    removed = 0
    for item in (value if count >= 0 else reversed(value)):
        if removed < limit and item == element:
            removed += 1
        else:
            kept.append(item)
    if count < 0:
        kept.reverse()
    value.clear()
    value.extend(kept)
    if value:
        ks.signal_modified(key)
    else:
        ks.delete(key)
    notify = ks.notify
    if notify is not None:
        _notify_change(notify, b"lrem", key, value)
    return removed


# LTRIM key start stop
@command("ltrim", 4, "write")
def cmd_ltrim(session, args):
    """Keep start..stop. O(min(kept, removed)): whichever is smaller is
    what gets touched."""
    start = int_arg(args[1])
    end = int_arg(args[2])
    ks = session.ks
    key = args[0]
    value = list_for_write(ks, key)
    if value is None:
        return OK
    bounds = _clamp_range(start, end, len(value))
    if bounds is None:
        ks.delete(key)
        notify = ks.notify
        if notify is not None:
            _notify_change(notify, b"ltrim", key, ())
        return OK
    first, last = bounds
    from_head, from_tail = first, len(value) - 1 - last
    if last - first + 1 < from_head + from_tail:
        kept = _span(value, first, last)
        value.clear()
        value.extend(kept)
    else:
        for _ in range(from_head):
            value.popleft()
        for _ in range(from_tail):
            value.pop()
    ks.signal_modified(key)
    emit(ks, LIST, b"ltrim", key)
    return OK


# -- moving between lists ----------------------------------------------------
def _move_from(store, db, source, src, destination, pop_head, push_head):
    """Pop from the non-empty list ``src`` at ``source`` in db ``db`` and push
    onto ``destination``; the destination's type is checked before anything
    moves. Source and destination may be the same list (a rotation)."""
    ks = store.dbs[db]
    dst = src if destination == source else list_for_write(ks, destination)
    element = src.popleft() if pop_head else src.pop()
    if dst is None:
        ks.store(destination, List((element,)))
        signal_key_ready(store, db, destination)
    else:
        if push_head:
            dst.appendleft(element)
        else:
            dst.append(element)
        ks.signal_modified(destination)
    if src:
        ks.signal_modified(source)
    else:
        ks.delete(source)
    notify = ks.notify
    if notify is not None:
        notify(LIST, _PUSH_EVENTS[push_head], destination)
        _notify_change(notify, _POP_EVENTS[pop_head], source, src)
    return element


def move(session, source, destination, pop_head, push_head):
    """LMOVE: the moved element, or None when the source is missing."""
    ks = session.ks
    src = list_for_write(ks, source)
    if src is None:
        return None
    return _move_from(session.store, session.db, source, src, destination, pop_head, push_head)


# LMOVE source destination LEFT|RIGHT LEFT|RIGHT
@command("lmove", 5, "write denyoom")
def cmd_lmove(session, args):
    pop_head, push_head = _end(args[2]), _end(args[3])
    return move(session, args[0], args[1], pop_head, push_head)


# RPOPLPUSH source destination   (deprecated: LMOVE source destination RIGHT LEFT)
@command("rpoplpush", 3, "write denyoom")
def cmd_rpoplpush(session, args):
    return move(session, args[0], args[1], False, True)


def _parse_mpop(args):
    """``numkeys key [key ...] LEFT|RIGHT [COUNT count]`` (LMPOP, BLMPOP).

    Returns (keys, head, count), checked in Redis's order: numkeys, the
    direction, then the options (COUNT at most once).
    """
    numkeys = _at_least_one(args[0], NUMKEYS_POSITIVE)
    where_at = 1 + numkeys
    if where_at >= len(args):
        raise CommandError(SYNTAX)
    head = _end(args[where_at])
    count = None
    options = args[where_at + 1:]
    i = 0
    while i < len(options):
        if count is None and keyword(options[i]) == b"COUNT" and i + 1 < len(options):
            count = _at_least_one(options[i + 1], COUNT_GREATER_THAN_ZERO)
            i += 2
        else:
            raise CommandError(SYNTAX)
    return args[1:where_at], head, 1 if count is None else count


def _mpop_now(ks, keys, head, count):
    """[key, [elements]] from the first non-empty list of ``keys``, or None.
    A key of another type met before that is a WRONGTYPE error."""
    for key in keys:
        value = list_for_write(ks, key)
        if value is not None:
            return [key, _pop_from(ks, key, value, head, count)]
    return None


# LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
@command("lmpop", -4, "write")
def cmd_lmpop(session, args):
    keys, head, count = _parse_mpop(args)
    return _mpop_now(session.ks, keys, head, count)


# -- blocking forms ----------------------------------------------------------
def _blocking_pop(session, args, head):
    """BLPOP/BRPOP: the timeout is checked first, then the keys in order."""
    timeout = parse_timeout(args[-1])
    keys = args[:-1]
    ks = session.ks
    for key in keys:
        value = list_for_write(ks, key)
        if value is not None:
            return [key, _pop_from(ks, key, value, head, 1)[0]]

    def serve(ks, key):
        value = ks.lookup(key)
        if value.__class__ is not List:
            return None
        return [key, _pop_from(ks, key, value, head, 1)[0]]

    return block_on_keys(session, keys, serve, timeout)


# BLPOP key [key ...] timeout
@command("blpop", -3, "write noscript blocking")
def cmd_blpop(session, args):
    return _blocking_pop(session, args, True)


# BRPOP key [key ...] timeout
@command("brpop", -3, "write noscript blocking")
def cmd_brpop(session, args):
    return _blocking_pop(session, args, False)


def _blocking_move(session, source, destination, pop_head, push_head, timeout_arg):
    timeout = parse_timeout(timeout_arg)
    store, db = session.store, session.db
    src = list_for_write(session.ks, source)
    if src is not None:
        return _move_from(store, db, source, src, destination, pop_head, push_head)

    def serve(ks, key):
        src = ks.lookup(key)
        if src.__class__ is not List:
            return None
        # A destination of another type: this client gets WRONGTYPE and
        # nothing moves (Redis 7.0 serves the next waiter instead).
        return _move_from(store, db, source, src, destination, pop_head, push_head)

    return block_on_keys(session, (source,), serve, timeout)


# BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
@command("blmove", 6, "write denyoom noscript blocking")
def cmd_blmove(session, args):
    pop_head, push_head = _end(args[2]), _end(args[3])
    return _blocking_move(session, args[0], args[1], pop_head, push_head, args[4])


# BRPOPLPUSH source destination timeout   (deprecated: BLMOVE ... RIGHT LEFT)
@command("brpoplpush", 4, "write denyoom noscript blocking")
def cmd_brpoplpush(session, args):
    return _blocking_move(session, args[0], args[1], False, True, args[2])


# BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
@command("blmpop", -5, "write blocking")
def cmd_blmpop(session, args):
    """The timeout is parsed after everything else, as in Redis 7.0."""
    keys, head, count = _parse_mpop(args[1:])
    timeout = parse_timeout(args[0])
    reply = _mpop_now(session.ks, keys, head, count)
    if reply is not None:
        return reply

    def serve(ks, key):
        value = ks.lookup(key)
        if value.__class__ is not List:
            return None
        return [key, _pop_from(ks, key, value, head, count)]

    return block_on_keys(session, keys, serve, timeout)
