"""Cursors for SCAN, HSCAN (and later SSCAN/ZSCAN) with Redis's guarantee.

Redis promises that a full iteration returns every element present for the
whole iteration; elements added or removed meanwhile may or may not appear,
and an element may appear more than once. Redis gets there by walking hash
buckets in reverse-binary order. A Python dict exposes no buckets, so a scan
here walks a snapshot of the collection's members taken when the iteration
starts (cursor 0): copying the member list is one C-speed pass, amortised
over the whole iteration, and every page filters out members that are gone.

A cursor is ``scan_id << 32 | position``. At most ``MAX_OPEN_SCANS``
snapshots are kept (least recently used dropped); a cursor whose snapshot
was dropped restarts from a fresh snapshot — allowed duplicates, never a
missed element.
"""
from collections import OrderedDict

from minikv.engine.args import int_arg, keyword
from minikv.engine.errors import SYNTAX, CommandError

MAX_OPEN_SCANS = 64
_POSITION_BITS = 32
_POSITION_MASK = (1 << _POSITION_BITS) - 1


class ScanCursors:
    __slots__ = ("_open", "_next_id")

    def __init__(self):
        self._open = OrderedDict()
        self._next_id = 1

    def page(self, members, cursor, count):
        """(next_cursor, candidate members) for one call; the caller filters.

        ``members`` is the live collection (dict or set) being scanned.
        """
        scan_id = cursor >> _POSITION_BITS
        position = cursor & _POSITION_MASK
        snapshot = self._open.get(scan_id) if cursor else None
        if snapshot is None:
            snapshot = list(members)
            if cursor == 0 and len(snapshot) <= count:
                return 0, snapshot
            position = 0
            scan_id = self._next_id
            self._next_id += 1
            self._open[scan_id] = snapshot
            if len(self._open) > MAX_OPEN_SCANS:
                self._open.popitem(last=False)
        else:
            self._open.move_to_end(scan_id)
        end = position + count
        chunk = snapshot[position:end]
        if end >= len(snapshot):
            del self._open[scan_id]
            return 0, chunk
        return (scan_id << _POSITION_BITS) | end, chunk


def parse_cursor(data):
    """A cursor as Redis's strtoul reads it: optional sign, wraps negatives."""
    if data == b"":
        return 0
    sign = data[:1]
    digits = data[1:] if sign in (b"+", b"-") else data
    if not digits.isdigit() or not digits.isascii():
        raise CommandError("ERR invalid cursor")
    value = int(digits)
    if value >= 1 << 64:
        raise CommandError("ERR invalid cursor")
    return (-value) % (1 << 64) if sign == b"-" else value


def element_scan_options(args):
    """HSCAN/SSCAN/ZSCAN's [MATCH pattern] [COUNT count] -> (pattern or None, count).

    SCAN's TYPE (and 7.4's NOVALUES) are syntax errors here; a repeated
    option: the last one wins; COUNT must be at least 1. A lone "*" is no
    filter at all: it must match the empty field/member too.
    """
    pattern = None
    count = 10
    for i in range(0, len(args), 2):
        word = keyword(args[i])
        if i + 1 >= len(args):
            raise CommandError(SYNTAX)
        if word == b"COUNT":
            count = int_arg(args[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
        elif word == b"MATCH":
            pattern = None if args[i + 1] == b"*" else args[i + 1]
        else:
            raise CommandError(SYNTAX)
    return pattern, count
