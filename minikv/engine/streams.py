"""Stream commands without consumer groups (t_stream.c): XADD, XRANGE,
XREVRANGE, XLEN, XDEL, XTRIM, XREAD (blocking too), XSETID, XINFO STREAM.

Layout. Redis keeps a stream as a radix tree of "macro nodes": listpacks
of consecutive entries, keyed by the ID of the first entry each received
(its master ID). A ``Stream`` here keeps the same nodes, in ID order, as
``StreamNode`` objects in a list (``nodes``) beside the sorted list of their
master IDs (``masters``), because Redis's behaviour depends on where the
node boundaries are: XADD/XTRIM with ``~`` remove only whole nodes, and
XINFO STREAM reports the nodes. A node is closed to new entries exactly
when Redis closes its listpack:

- when it holds ``stream-node-max-entries`` entries (live and deleted), or
- when its listpack size plus the raw length of the new entry's fields and
  values reaches ``stream-node-max-bytes``. The listpack size is computed
  exactly, with listpack.c's encodings (integers in 1..9 bytes, strings
  with a 1, 2 or 5 byte header, a 1..5 byte back-length per element), for
  the layout t_stream.c writes: a master entry (live count, deleted count,
  the first entry's field names, a 0), then per entry its flags, ID deltas
  from the master ID, the field names unless they equal the master's, the
  values, and an element count.

IDs are ints, ``ms << 64 | seq``, so comparing, incrementing and bisecting
them is integer arithmetic. Each node stores its entries' IDs and their
field/value lists (flat, as the client sent them; never mutated
afterwards, so replies and COPY may share them) in the order they were
appended. XDEL and exact trimming mark entries deleted (``None``) as Redis
flags them; a node whose last live entry XDEL removes leaves the tree, as
in Redis. Reads walk the nodes as Redis's stream iterator does. IDs ascend
through the nodes unless XSETID moved the last ID below a deleted entry
(``Stream.ordered``); while they do, the walk starts from a bisect over
the masters and then over the node: XRANGE/XREAD are O(log n + entries
read, deleted ones included), XDEL O(log n) per ID, XADD O(fields) (plus
O(nodes) when a trim drops a node). XINFO STREAM's radix-tree-nodes is
counted from the master IDs as Redis's rax holds them (a compressed radix
tree over 16-byte big-endian keys): O(nodes).

Stream metadata follows Redis 7.0: ``last_id`` (last generated, XSETID can
move it), ``first_id`` (recorded-first-entry-id), ``max_deleted_id``
(moved by XDEL and XSETID, not by trimming), ``entries_added``.

Argument parsing reproduces t_stream.c, including its C-string habits: an
option word or the ``*`` ID is compared up to the first NUL byte, and IDs
are read like ``string2ull`` reads them (``string2ll``, then ``strtoull``:
leading whitespace and a sign are accepted, "-5" as a sequence wraps).

Keyspace events (class t): xadd (then xtrim when XADD's trim removed
something), xtrim, xdel, xsetid; XADD creating the key sends new first.
WATCH sees XADD, and XDEL/XTRIM when they remove something; not XSETID
(Redis 7.0 does not signal it). XREAD looks each key up twice, as Redis
does (keyspace hits, misses and keymiss events count twice).
Every successful XADD signals the key ready (Redis's signalKeyAsReady), so
XREAD BLOCK waiters are served right after it through engine/blocking.py:
a waiter is served when the stream's last ID passed the ID it waits after
(possibly with no entries, if they were deleted meanwhile), and gets that
one stream's new entries. Empty streams stay in the keyspace, as in Redis.

Not here: consumer groups (XGROUP, XREADGROUP, XACK, XCLAIM, XPENDING,
XAUTOCLAIM, XINFO GROUPS/CONSUMERS).
"""
from bisect import bisect_left, bisect_right
from itertools import groupby

from minikv.engine.args import int_arg
from minikv.engine.blocking import block_on_keys, signal_key_ready
from minikv.engine.commands import command
from minikv.engine.errors import (
    CommandError, NO_SUCH_KEY, SYNTAX, TIMEOUT_NEGATIVE, STREAM_ELEMENTS_TOO_LARGE,
    STREAM_EXHAUSTED, STREAM_ID_INVALID, STREAM_INVALID_END_ID, STREAM_INVALID_START_ID,
    STREAM_LIMIT_NEGATIVE, STREAM_LIMIT_WITHOUT_APPROX, STREAM_LIMIT_WITHOUT_STRATEGY,
    STREAM_MAXLEN_AND_MINID, STREAM_MAXLEN_NEGATIVE, TIMEOUT_NOT_INTEGER, XADD_ID_TOO_SMALL,
    XADD_ID_ZERO, XINFO_STREAM_SYNTAX, XREAD_BLOCK_IN_SCRIPT, XREAD_GREATER_ID,
    XREAD_GROUP_OPTION, XREAD_NOACK_OPTION, XREAD_UNBALANCED, XSETID_ENTRIES_ADDED_NEGATIVE,
    XSETID_ENTRIES_ADDED_TOO_SMALL, XSETID_SMALLER_THAN_MAX_DELETED, XSETID_SMALLER_THAN_TOP,
    XTRIM_NEEDS_STRATEGY, wrong_arity,
)
from minikv.engine.notify import STREAM, emit
from minikv.engine.numbers import parse_int
from minikv.engine.values import typed_lookups, wrong_type

__all__ = ["Stream", "StreamNode", "format_id"]

OK = b"OK"
UINT64_MAX = (1 << 64) - 1
MAX_ID = (1 << 128) - 1  # UINT64_MAX-UINT64_MAX
LISTPACK_MAX_BYTES = 1 << 30  # STREAM_LISTPACK_MAX_SIZE
# Redis copies an ID argument into a 128-byte buffer: longer ones are invalid.
_ID_MAX_LENGTH = 127
_C_SPACES = b" \t\n\v\f\r"  # what strtoull skips before the number


# -- IDs -------------------------------------------------------------------------
def format_id(entry_id):
    """b"<ms>-<seq>" of an int ID."""
    return b"%d-%d" % (entry_id >> 64, entry_id & UINT64_MAX)


def _c_string(data):
    """``data`` as C's string functions see it: up to the first NUL."""
    end = data.find(b"\0")
    return data if end < 0 else data[:end]


def _parse_u64(text):
    """Redis's string2ull: string2ll (then a negative is refused), else
    strtoull over the whole text (leading whitespace, one sign — a minus
    wraps modulo 2**64 — and decimal digits to the end, within 64 bits)."""
    value = parse_int(text)
    if value is not None:
        return value if value >= 0 else None
    body = text.lstrip(_C_SPACES)
    negative = body[:1] == b"-"
    if body[:1] in (b"+", b"-"):
        body = body[1:]
    if not body.isdigit():  # bytes.isdigit: ASCII digits, and False when empty
        return None
    value = int(body)
    if value > UINT64_MAX:
        return None
    return -value & UINT64_MAX if negative else value


def _invalid_id():
    return CommandError(STREAM_ID_INVALID)


def parse_id(data, missing_seq=0, strict=True, auto_seq=False):
    """(ID, seq_given) as streamGenericParseIDOrReply reads ``data``.

    "-" and "+" are the smallest and largest IDs unless ``strict``; a
    missing sequence is ``missing_seq``; with ``auto_seq`` (XADD) "<ms>-*"
    gives (ms << 64, False).
    """
    if len(data) > _ID_MAX_LENGTH:
        raise _invalid_id()
    text = _c_string(data)
    if text == b"-" or text == b"+":
        if strict:
            raise _invalid_id()
        return (0 if text == b"-" else MAX_ID), True
    ms_text, dash, seq_text = text.partition(b"-")
    ms = _parse_u64(ms_text)
    if ms is None:
        raise _invalid_id()
    if not dash:
        return ms << 64 | missing_seq, True
    if auto_seq and seq_text == b"*":
        return ms << 64, False
    seq = _parse_u64(seq_text)
    if seq is None:
        raise _invalid_id()
    return ms << 64 | seq, True


def _interval_bound(data, missing_seq):
    """An XRANGE bound: (ID, exclusive). "(" makes it exclusive, and then
    "-"/"+" are refused (streamParseIntervalIDOrReply)."""
    if len(data) > 1 and data[:1] == b"(":
        return parse_id(data[1:], missing_seq)[0], True
    return parse_id(data, missing_seq, strict=False)[0], False


def _int64(value):
    """A C uint64 difference passed as int64_t."""
    value &= UINT64_MAX
    return value - (1 << 64) if value >> 63 else value


# -- listpack sizes (listpack.c) ----------------------------------------------------
def _int_bytes(value):
    """An integer element: its encoding (1 to 9 bytes) and a 1-byte back-length."""
    if 0 <= value <= 127:
        return 2
    if -4096 <= value <= 4095:
        return 3
    if -32768 <= value <= 32767:
        return 4
    if -8388608 <= value <= 8388607:
        return 5
    if -2147483648 <= value <= 2147483647:
        return 6
    return 10


def _string_bytes(data):
    """A string element: stored as an integer when it is the canonical text
    of an int64 (lpStringToInt64), else a length header and the bytes; plus
    the back-length, which grows with the entry."""
    if len(data) <= 20:
        value = parse_int(data)
        if value is not None:
            return _int_bytes(value)
    size = len(data)
    size += 1 if size < 64 else 2 if size < 4096 else 5
    if size <= 127:
        return size + 1
    if size < 16383:
        return size + 2
    if size < 2097151:
        return size + 3
    if size < 268435455:
        return size + 4
    return size + 5


_LISTPACK_FRAME_BYTES = 7  # a 6-byte header and the end byte
_FLAGS_BYTES = _int_bytes(0)  # the flags (0..3) are always one small integer


# -- the value -----------------------------------------------------------------------
class StreamNode:
    """One macro node: what a listpack of Redis's rax holds.

    ``ids`` and ``entries`` are parallel: an entry's flat [field, value, ...]
    list, or None once deleted. ``fixed_bytes`` is the listpack's size
    without its two counters, whose encoded size changes with their values.
    """

    __slots__ = ("master", "master_fields", "ids", "entries", "live", "deleted", "fixed_bytes")

    def __init__(self, master, fields):
        self.master = master
        self.master_fields = fields[0::2]
        self.ids = []
        self.entries = []
        self.live = 0
        self.deleted = 0
        self.fixed_bytes = (_LISTPACK_FRAME_BYTES + _int_bytes(len(self.master_fields))
                            + sum(map(_string_bytes, self.master_fields)) + _int_bytes(0))

    def listpack_bytes(self):
        return self.fixed_bytes + _int_bytes(self.live) + _int_bytes(self.deleted)

    def add(self, entry_id, fields):
        """Append an entry, after the others (its ID is normally above theirs)."""
        master = self.master
        names = fields[0::2]
        pairs = len(names)
        # The ID as (ms, seq) differences from the master ID, each a C
        # uint64 difference stored as int64 (the seq one can be negative).
        size = (_FLAGS_BYTES + _int_bytes(_int64((entry_id >> 64) - (master >> 64)))
                + _int_bytes(_int64((entry_id & UINT64_MAX) - (master & UINT64_MAX))))
        size += sum(map(_string_bytes, fields[1::2]))
        if names == self.master_fields:  # STREAM_ITEM_FLAG_SAMEFIELDS: values only
            size += _int_bytes(pairs + 3)
        else:
            size += (_int_bytes(pairs) + sum(map(_string_bytes, names))
                     + _int_bytes(2 * pairs + 4))
        self.fixed_bytes += size
        self.ids.append(entry_id)
        self.entries.append(fields)
        self.live += 1

    def copy(self):
        node = StreamNode.__new__(StreamNode)
        node.master = self.master
        node.master_fields = self.master_fields
        node.ids = list(self.ids)
        node.entries = list(self.entries)
        node.live, node.deleted, node.fixed_bytes = self.live, self.deleted, self.fixed_bytes
        return node


class Stream:
    """A stream value: see the module docstring. ``len()`` is the number of
    live entries (XLEN); iterating yields (ID, fields) of the live entries
    in order. Always true, even when empty: an empty stream is still a key.

    ``ordered`` holds while every entry was appended above every ID the
    nodes hold (deleted ones included), which is the rule unless XSETID
    moved the last ID below a deleted entry: then IDs ascend through the
    nodes and searches bisect. Otherwise scans follow Redis's iterator
    literally (nodes by master ID, entries in the order they were
    appended), so replies match Redis even then. ``top_id`` is the highest
    ID appended since the stream last had no node.
    """

    __slots__ = ("nodes", "masters", "length", "last_id", "first_id", "max_deleted_id",
                 "entries_added", "ordered", "top_id")
    TYPE_NAME = b"stream"

    def __init__(self):
        self.nodes = []
        self.masters = []
        self.length = 0
        self.last_id = 0
        self.first_id = 0
        self.max_deleted_id = 0
        self.entries_added = 0
        self.ordered = True
        self.top_id = 0

    def __len__(self):
        return self.length

    def __bool__(self):
        return True

    def __iter__(self):
        for node, position in self._scan(0, MAX_ID, False):
            yield node.ids[position], node.entries[position]

    def encoding(self):
        return b"stream"

    def duplicate(self):
        copy = Stream()
        copy.nodes = [node.copy() for node in self.nodes]
        copy.masters = list(self.masters)
        copy.length, copy.last_id, copy.first_id = self.length, self.last_id, self.first_id
        copy.max_deleted_id, copy.entries_added = self.max_deleted_id, self.entries_added
        copy.ordered, copy.top_id = self.ordered, self.top_id
        return copy

    # -- writes ------------------------------------------------------------------
    def append(self, entry_id, fields, max_bytes, max_entries):
        """Add an entry whose ID is above ``last_id`` (streamAppendItem): to
        the node with the highest master ID (the rax's last), or to a new
        node if that one is full."""
        nodes = self.nodes
        node = nodes[-1] if nodes else None
        if node is not None:
            if not 0 < max_bytes <= LISTPACK_MAX_BYTES:
                max_bytes = LISTPACK_MAX_BYTES
            if node.listpack_bytes() + sum(map(len, fields)) >= max_bytes:
                node = None
            elif max_entries and node.live + node.deleted >= max_entries:
                node = None
        if node is None:
            node = StreamNode(entry_id, fields)
            index = bisect_left(self.masters, entry_id)
            if index < len(nodes) and self.masters[index] == entry_id:
                nodes[index] = node  # raxInsert overwrites: that node is lost
            else:
                nodes.insert(index, node)
                self.masters.insert(index, entry_id)
        node.add(entry_id, fields)
        if entry_id <= self.top_id:
            self.ordered = False
        else:
            self.top_id = entry_id
        self.length += 1
        self.entries_added += 1
        self.last_id = entry_id
        if self.length == 1:
            self.first_id = entry_id

    def _remove_node(self, index):
        del self.nodes[index]
        del self.masters[index]
        if not self.nodes:
            self.ordered = True
            self.top_id = 0

    def delete(self, entry_id):
        """Delete the live entry with this ID; False if there is none."""
        for node, position in self._scan(entry_id, entry_id, False):
            self.length -= 1
            if node.live == 1:  # its last live entry: the node leaves the tree
                self._remove_node(self.nodes.index(node))
            else:
                node.entries[position] = None
                node.live -= 1
                node.deleted += 1
            return True
        return False

    def trim(self, maxlen, minid, approx, limit):
        """streamTrim: drop entries from the head until at most ``maxlen``
        remain, or every ID is >= ``minid`` (one of them is None). Whole
        nodes go first; with ``approx`` only whole nodes; ``limit`` (0: no
        limit) caps the entries removed. Returns how many were removed."""
        removed = 0
        nodes = self.nodes
        while nodes:
            if maxlen is not None and self.length <= maxlen:
                break
            node = nodes[0]
            live = node.live
            if limit and removed + live > limit:
                break
            if maxlen is not None:
                whole = self.length - live >= maxlen
            else:
                whole = node.ids[-1] < minid  # the last entry, deleted or not
            if whole:
                self._remove_node(0)
                self.length -= live
                removed += live
                continue
            if approx:
                break
            entries = node.entries
            marked = 0
            for position, entry_id in enumerate(node.ids):
                if self.length <= maxlen if maxlen is not None else entry_id >= minid:
                    break
                if entries[position] is not None:
                    entries[position] = None
                    marked += 1
                    self.length -= 1
            node.live -= marked
            node.deleted += marked
            removed += marked
            break
        self.first_id = self.edge_id(first=True) if self.length else 0
        return removed

    # -- reads -------------------------------------------------------------------
    def _scan(self, start, end, reverse):
        """(node, position) of the live entries from ``start`` to ``end``, as
        Redis's stream iterator walks them: from the node whose master ID
        is the last <= the ID it starts from (or from the first/last node),
        skipping deleted entries and entries before the range, and stopping
        at the first live entry past it."""
        nodes = self.nodes
        masters = self.masters
        ordered = self.ordered
        if not reverse:
            index = max(bisect_right(masters, start) - 1, 0)
            for index in range(index, len(nodes)):
                node = nodes[index]
                ids, entries = node.ids, node.entries
                for position in range(bisect_left(ids, start) if ordered else 0, len(ids)):
                    if entries[position] is None:
                        continue
                    entry_id = ids[position]
                    if entry_id < start:
                        continue
                    if entry_id > end:
                        return
                    yield node, position
            return
        index = bisect_right(masters, end) - 1 if end else -1
        if index < 0:
            if ordered:
                return  # every ID is above the range
            index = len(nodes) - 1
        for index in range(index, -1, -1):
            node = nodes[index]
            ids, entries = node.ids, node.entries
            for position in range((bisect_right(ids, end) if ordered else len(ids)) - 1, -1, -1):
                if entries[position] is None:
                    continue
                entry_id = ids[position]
                if entry_id > end:
                    continue
                if entry_id < start:
                    return
                yield node, position

    def edge_id(self, first):
        """streamGetEdgeID: the first (or last) live ID as the iterator meets
        it; when there is none, the largest (or smallest) ID."""
        for node, position in self._scan(0, MAX_ID, not first):
            return node.ids[position]
        return MAX_ID if first else 0

    def entries_between(self, start, end, count=None, reverse=False):
        """[[ID, fields], ...] of the live entries from ``start`` to ``end``
        (both included; ``reverse`` walks from ``end`` down), at most
        ``count`` of them (None: all)."""
        reply = []
        if count == 0:
            return reply
        for node, position in self._scan(start, end, reverse):
            reply.append([format_id(node.ids[position]), list(node.entries[position])])
            if len(reply) == count:
                break
        return reply

    def radix_tree_nodes(self):
        """How many nodes Redis's rax has for these master IDs."""
        keys = [master.to_bytes(16, "big") for master in self.masters]
        return _rax_nodes(keys, 0) if keys else 1


def _rax_nodes(keys, depth):
    """Nodes of a compressed radix tree below ``depth`` for the sorted, equal
    length ``keys``: a run of bytes all keys share is one (compressed)
    node, a byte where they differ one node per branch, and each key ends
    in a node of its own."""
    if depth == len(keys[0]):
        return 1
    first, last = keys[0], keys[-1]
    shared = depth
    while shared < len(first) and first[shared] == last[shared]:
        shared += 1
    if shared > depth:
        return 1 + _rax_nodes(keys, shared)
    return 1 + sum(_rax_nodes(list(group), depth + 1)
                   for _, group in groupby(keys, key=lambda k: k[depth]))


# -- lookups ---------------------------------------------------------------------------
# The stream at a key, None if missing, WRONGTYPE for another type: for a read
# command (counts a hit or miss), for a write.
read_stream, _stream_for_write = typed_lookups(Stream)


def _keyword(data):
    """An option word as strcasecmp compares it (C string, ASCII case)."""
    return _c_string(data).upper()


# -- XADD and XTRIM's options ---------------------------------------------------------------
class _TrimArgs:
    """streamAddTrimArgs: what XADD or XTRIM asked for."""

    __slots__ = ("maxlen", "minid", "approx", "limit", "nomkstream", "entry_id", "seq_given",
                 "id_at")

    def __init__(self):
        self.maxlen = self.minid = None  # the strategy: one of them is set
        self.approx = False
        self.limit = 0
        self.nomkstream = False
        self.entry_id = None  # XADD's ID; None for "*"
        self.seq_given = True
        self.id_at = None


def _trim_threshold(args, at, parse):
    """The value after MAXLEN/MINID at ``at`` (an optional "~" or "=" first):
    (value, approx, index of the value)."""
    approx = False
    if len(args) - 1 - at >= 2:
        mark = _c_string(args[at + 1])
        if mark == b"~":
            approx = True
            at += 1
        elif mark == b"=":
            at += 1
    return parse(args[at + 1]), approx, at + 1


def _parse_maxlen(data):
    value = int_arg(data)
    if value < 0:
        raise CommandError(STREAM_MAXLEN_NEGATIVE)
    return value


def _parse_trim_args(store, args, xadd):
    """streamParseAddOrTrimArgsOrReply over ``args`` (the key first); XADD's
    ID position is ``id_at`` (len(args) when there is none)."""
    parsed = _TrimArgs()
    limit_given = False
    index = 1
    count = len(args)
    while index < count:
        more = count - 1 - index
        option = args[index]
        word = _keyword(option)
        if xadd and word == b"*":
            break
        if word == b"MAXLEN" and more or word == b"MINID" and more:
            if parsed.maxlen is not None or parsed.minid is not None:
                raise CommandError(STREAM_MAXLEN_AND_MINID)
            if word == b"MAXLEN":
                parsed.maxlen, parsed.approx, index = _trim_threshold(args, index, _parse_maxlen)
            else:
                parsed.minid, parsed.approx, index = _trim_threshold(
                    args, index, lambda data: parse_id(data)[0])
        elif word == b"LIMIT" and more:
            index += 1
            parsed.limit = int_arg(args[index])
            if parsed.limit < 0:
                raise CommandError(STREAM_LIMIT_NEGATIVE)
            limit_given = True
        elif xadd and word == b"NOMKSTREAM":
            parsed.nomkstream = True
        elif xadd:
            parsed.entry_id, parsed.seq_given = parse_id(option, auto_seq=True)
            break
        else:
            raise CommandError(SYNTAX)
        index += 1
    parsed.id_at = index
    no_strategy = parsed.maxlen is None and parsed.minid is None
    if parsed.limit and no_strategy:
        raise CommandError(STREAM_LIMIT_WITHOUT_STRATEGY)
    if not xadd and no_strategy:
        raise CommandError(XTRIM_NEEDS_STRATEGY)
    if limit_given:
        if not parsed.approx:
            raise CommandError(STREAM_LIMIT_WITHOUT_APPROX)
    elif parsed.approx:
        # Redis bounds the work of a "~" trim: 100 nodes' worth of entries.
        limit = _int64(100 * store.config["stream-node-max-entries"])
        parsed.limit = 10000 if limit <= 0 else min(limit, 1000000)
    return parsed


def _trim(stream, parsed):
    if parsed.maxlen is None and parsed.minid is None:
        return 0
    return stream.trim(parsed.maxlen, parsed.minid, parsed.approx, parsed.limit)


def _next_id(stream, parsed, now_ms):
    """The ID XADD gives the new entry (streamAppendItem), or its error."""
    last = stream.last_id
    if parsed.entry_id is None:  # "*": the clock, or one above the last ID
        entry_id = now_ms << 64 if now_ms > last >> 64 else last + 1
    elif parsed.seq_given:
        entry_id = parsed.entry_id
    elif parsed.entry_id >> 64 == last >> 64:  # "<ms>-*" in the last ID's ms
        if last & UINT64_MAX == UINT64_MAX:
            # Redis 7.0 fails here without setting errno, and XADD reports
            # the stale one as not EDOM: the size error.
            raise CommandError(STREAM_ELEMENTS_TOO_LARGE)
        entry_id = last + 1
    else:
        entry_id = parsed.entry_id
    if entry_id <= last:
        raise CommandError(XADD_ID_TOO_SMALL)
    return entry_id


# XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
#      [field value ...]
@command("xadd", -5, "write denyoom fast")
def cmd_xadd(session, args):
    store = session.store
    parsed = _parse_trim_args(store, args, xadd=True)
    fields = args[parsed.id_at + 1:]
    if len(fields) < 2 or len(fields) % 2:
        raise CommandError(wrong_arity("xadd"))
    if parsed.entry_id == 0 and parsed.seq_given:
        raise CommandError(XADD_ID_ZERO)
    ks = session.ks
    key = args[0]
    stream = _stream_for_write(ks, key)
    if stream is None:
        if parsed.nomkstream:
            return None
        # Created before the checks below, as Redis does (on a new stream
        # only the size one can fail, and it leaves the stream empty).
        stream = Stream()
        ks.store(key, stream)
    if stream.last_id == MAX_ID:
        raise CommandError(STREAM_EXHAUSTED)
    entry_id = _next_id(stream, parsed, store.clock.ms())
    if sum(map(len, fields)) > LISTPACK_MAX_BYTES:
        raise CommandError(STREAM_ELEMENTS_TOO_LARGE)
    config = store.config
    stream.append(entry_id, fields, config["stream-node-max-bytes"],
                  config["stream-node-max-entries"])
    ks.signal_modified(key)
    notify = ks.notify
    if notify is not None:
        notify(STREAM, b"xadd", key)
    if _trim(stream, parsed) and notify is not None:
        notify(STREAM, b"xtrim", key)
    signal_key_ready(store, session.db, key)
    return format_id(entry_id)


# XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
@command("xtrim", -4, "write")
def cmd_xtrim(session, args):
    parsed = _parse_trim_args(session.store, args, xadd=False)
    ks = session.ks
    key = args[0]
    stream = _stream_for_write(ks, key)
    if stream is None:
        return 0
    removed = _trim(stream, parsed)
    if removed:
        ks.signal_modified(key)
        emit(ks, STREAM, b"xtrim", key)
    return removed


# XDEL key id [id ...]
@command("xdel", -3, "write fast")
def cmd_xdel(session, args):
    ks = session.ks
    key = args[0]
    stream = _stream_for_write(ks, key)
    if stream is None:
        return 0
    ids = [parse_id(data)[0] for data in args[1:]]  # all checked before any change
    removed = 0
    first_removed = False
    for entry_id in ids:
        if stream.delete(entry_id):
            removed += 1
            if entry_id == stream.first_id:
                first_removed = True
            if entry_id > stream.max_deleted_id:
                stream.max_deleted_id = entry_id
    if removed:
        if not stream.length:
            stream.first_id = 0
        elif first_removed:
            stream.first_id = stream.edge_id(first=True)
        ks.signal_modified(key)
        emit(ks, STREAM, b"xdel", key)
    return removed


# XLEN key
@command("xlen", 2, "readonly fast")
def cmd_xlen(session, args):
    stream = read_stream(session.ks, args[0])
    return 0 if stream is None else stream.length


def _range(session, args, reverse):
    """XRANGE/XREVRANGE, checked in Redis's order: the start bound (the
    last argument of XREVRANGE), the end bound, COUNT, then the key."""
    first, second = (args[2], args[1]) if reverse else (args[1], args[2])
    start, exclusive = _interval_bound(first, 0)
    if exclusive:
        if start == MAX_ID:
            raise CommandError(STREAM_INVALID_START_ID)
        start += 1
    end, exclusive = _interval_bound(second, UINT64_MAX)
    if exclusive:
        if end == 0:
            raise CommandError(STREAM_INVALID_END_ID)
        end -= 1
    count = None
    index = 3
    while index < len(args):
        if _keyword(args[index]) == b"COUNT" and index + 1 < len(args):
            count = max(int_arg(args[index + 1]), 0)
            index += 2
        else:
            raise CommandError(SYNTAX)
    stream = read_stream(session.ks, args[0])
    if stream is None:
        return []
    if count == 0:
        return None  # Redis answers a null array
    return stream.entries_between(start, end, count, reverse)


# XRANGE key start end [COUNT count]
@command("xrange", -4, "readonly")
def cmd_xrange(session, args):
    return _range(session, args, False)


# XREVRANGE key end start [COUNT count]
@command("xrevrange", -4, "readonly")
def cmd_xrevrange(session, args):
    return _range(session, args, True)


# -- XREAD -----------------------------------------------------------------------------
def _in_script(session):
    """Whether ``session`` is the one a running Lua script calls through."""
    scripts = session.store.scripts
    run = scripts.bridge.run if scripts is not None else None
    return run is not None and run.session is session


def _parse_block(data):
    """BLOCK's milliseconds (getTimeoutFromObjectOrReply, UNIT_MILLISECONDS)."""
    value = parse_int(data)
    if value is None:
        raise CommandError(TIMEOUT_NOT_INTEGER)
    if value < 0:
        raise CommandError(TIMEOUT_NEGATIVE)
    return value


def _new_entries(stream, after, count):
    return stream.entries_between(after + 1, MAX_ID, count) if after < MAX_ID else []


# XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
@command("xread", -4, "readonly blocking")
def cmd_xread(session, args):
    block_ms = None
    count = None
    keys_at = None
    index = 0
    while index < len(args):
        more = len(args) - 1 - index
        word = _keyword(args[index])
        if word == b"BLOCK" and more:
            if _in_script(session):
                raise CommandError(XREAD_BLOCK_IN_SCRIPT)
            index += 1
            block_ms = _parse_block(args[index])
        elif word == b"COUNT" and more:
            index += 1
            count = max(int_arg(args[index]), 0) or None
        elif word == b"STREAMS" and more:
            keys_at = index + 1
            if (len(args) - keys_at) % 2:
                raise CommandError(XREAD_UNBALANCED)
            break
        elif word == b"GROUP" and more >= 2:
            raise CommandError(XREAD_GROUP_OPTION)
        elif word == b"NOACK":
            raise CommandError(XREAD_NOACK_OPTION)
        else:
            raise CommandError(SYNTAX)
        index += 1
    if keys_at is None:
        raise CommandError(SYNTAX)
    half = (len(args) - keys_at) // 2
    keys = args[keys_at:keys_at + half]
    ks = session.ks
    after = []  # per key, the ID its entries must be above
    for key, data in zip(keys, args[keys_at + half:]):
        stream = read_stream(ks, key)
        if _c_string(data) == b"$":
            after.append(stream.last_id if stream is not None else 0)
        elif _c_string(data) == b">":
            raise CommandError(XREAD_GREATER_ID)
        else:
            after.append(parse_id(data)[0])
    # Redis looks every key up a second time to serve it.
    reply = []
    for key, gt in zip(keys, after):
        stream = read_stream(ks, key)
        if stream is not None and stream.edge_id(first=False) > gt:
            reply.append([key, _new_entries(stream, gt, count)])
    if reply or block_ms is None:
        return reply or None
    waits = {}  # a key named twice waits after its first ID, as in Redis
    for key, gt in zip(keys, after):
        waits.setdefault(key, gt)

    def serve(ks, key):
        stream = ks.lookup(key)
        if stream.__class__ is not Stream or stream.last_id <= waits[key]:
            return None
        return [[key, _new_entries(stream, waits[key], count)]]

    return block_on_keys(session, keys, serve, block_ms / 1000)


# -- XSETID ----------------------------------------------------------------------------
# XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
@command("xsetid", -3, "write denyoom fast")
def cmd_xsetid(session, args):
    last_id = parse_id(args[1])[0]
    entries_added = None
    max_deleted = 0
    index = 2
    while index < len(args):
        word = _keyword(args[index])
        if word == b"ENTRIESADDED" and index + 1 < len(args):
            entries_added = int_arg(args[index + 1])
            if entries_added < 0:
                raise CommandError(XSETID_ENTRIES_ADDED_NEGATIVE)
        elif word == b"MAXDELETEDID" and index + 1 < len(args):
            max_deleted = parse_id(args[index + 1])[0]
            if last_id < max_deleted:
                raise CommandError(XSETID_SMALLER_THAN_MAX_DELETED)
        else:
            raise CommandError(SYNTAX)
        index += 2
    ks = session.ks
    key = args[0]
    stream = _stream_for_write(ks, key)
    if stream is None:
        raise CommandError(NO_SUCH_KEY)
    if stream.length:
        if last_id < stream.edge_id(first=False):
            raise CommandError(XSETID_SMALLER_THAN_TOP)
        if entries_added is not None and stream.length > entries_added:
            raise CommandError(XSETID_ENTRIES_ADDED_TOO_SMALL)
    stream.last_id = last_id
    if entries_added is not None:
        stream.entries_added = entries_added
    if max_deleted:
        stream.max_deleted_id = max_deleted
    # Redis 7.0's XSETID notifies but does not signalModifiedKey: WATCH
    # does not see it.
    emit(ks, STREAM, b"xsetid", key)
    return OK


# -- XINFO -----------------------------------------------------------------------------
def _edge_entry(stream, first):
    entries = (stream.entries_between(0, MAX_ID, 1) if first
               else stream.entries_between(0, MAX_ID, 1, reverse=True))
    return entries[0] if entries else None


# XINFO STREAM key [FULL [COUNT count]]
@command("xinfo|stream", -3, "readonly")
def cmd_xinfo_stream(session, args):
    stream = session.ks.lookup_read(args[0])
    if stream is None:
        raise CommandError(NO_SUCH_KEY)
    if stream.__class__ is not Stream:
        raise wrong_type()
    options = args[1:]
    full = bool(options)
    count = 10
    if full:
        if len(options) not in (1, 3) or _keyword(options[0]) != b"FULL":
            raise CommandError(XINFO_STREAM_SYNTAX)
        if len(options) == 3:
            if _keyword(options[1]) != b"COUNT":
                raise CommandError(XINFO_STREAM_SYNTAX)
            count = int_arg(options[2])
            if count < 0:
                count = 10
    reply = [
        b"length", stream.length,
        b"radix-tree-keys", len(stream.nodes),
        b"radix-tree-nodes", stream.radix_tree_nodes(),
        b"last-generated-id", format_id(stream.last_id),
        b"max-deleted-entry-id", format_id(stream.max_deleted_id),
        b"entries-added", stream.entries_added,
        b"recorded-first-entry-id", format_id(stream.first_id),
    ]
    if full:
        reply += [b"entries", stream.entries_between(0, MAX_ID, count or None), b"groups", []]
    else:
        reply += [b"groups", 0, b"first-entry", _edge_entry(stream, True),
                  b"last-entry", _edge_entry(stream, False)]
    return reply


_XINFO_HELP = [
    b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CONSUMERS <key> <groupname>",
    b"    Show consumers of <groupname>.",
    b"GROUPS <key>",
    b"    Show the stream consumer groups.",
    b"STREAM <key> [FULL [COUNT <count>]",
    b"    Show information about the stream.",
    b"HELP",
    b"    Prints this help.",
]


# XINFO HELP
@command("xinfo|help", 2, "loading stale")
def cmd_xinfo_help(session, args):
    return list(_XINFO_HELP)

