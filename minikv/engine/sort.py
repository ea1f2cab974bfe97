"""SORT and SORT_RO (Redis's sort.c): sort a list, set or sorted set.

Every rule below was checked against redis-server 7.0.

Parsing. Options are read left to right before the key is looked up, so a
syntax error or a bad LIMIT number wins over WRONGTYPE. ASC/DESC and ALPHA
may repeat (the last ASC/DESC wins), LIMIT takes two int64s, BY and LIMIT
may repeat (the last wins) and GET accumulates. STORE is a syntax error in
SORT_RO. A BY pattern without ``*`` means "don't sort" — and that sticks: a
later BY with a ``*`` does not turn sorting back on.

Which elements, in what order. The source is loaded in its own order: a
list front to back, a set in Redis's iteration order where it is knowable
(ascending numbers for an intset, ``sets.members_in_order``), a sorted set
by rank. Then:

- Sorting (no "don't sort"): by the element itself or by the value its BY
  pattern finds. Numeric by default: each value is read with C's ``strtod``
  (see ``sort_score``); a missing BY value counts as 0; equal scores order
  by the elements' bytes. ALPHA compares strings instead, and a missing BY
  value sorts before every present one. DESC reverses the comparison. The
  sort is stable, as glibc's ``qsort`` (a merge sort) is, so values that
  compare equal under ALPHA keep their load order. (With BY and a LIMIT
  that cuts the result Redis uses an unstable partial quicksort instead,
  so the order of such ties is an accident there; minikv keeps it stable.
  Redis also loads a sorted set to sort from its hash table, in no
  particular order, where minikv loads it by rank.)
- "Don't sort" (BY without ``*``): a list or sorted set keeps its order,
  and DESC walks it from the other end; a set keeps its iteration order and
  ignores DESC — except with STORE, where Redis sorts the set with ALPHA
  (ignoring BY) so that what it writes is deterministic.

ALPHA without STORE compares with ``strcoll``. minikv collates as the C
locale does (and as glibc's C.UTF-8 does): unsigned bytes, but a string
ends at its first NUL byte, so "a\\0x" and "a" compare equal. With STORE
Redis compares the full bytes, and so does minikv. A redis-server started
under another collation locale (e.g. en_US.UTF-8) orders ALPHA replies by
that locale's rules, which minikv does not reproduce.

LIMIT offset count. A negative offset counts as 0, a negative count as
"to the end"; the window is cut from the sorted result. For a list or a
sorted set that is not sorted, only the window is read (O(offset + count)).

Patterns. ``#`` stands for the element itself. Otherwise the first ``*`` is
replaced by the element and the result names a key; ``->field`` after the
``*`` names a field of a hash at that key. A string key gives its value, a
hash field its value; anything else (missing key or field, another type, a
pattern without ``*``) gives nothing: nil in the reply, "" when storing, 0
(numeric) or "first" (ALPHA) as a BY value. Like Redis, the pattern is read
as a C string for finding ``#``, ``*`` and ``->`` (a NUL byte ends it), while
the key and field are built from all of its bytes.

Side effects, as in Redis: every key lookup counts a keyspace hit or miss
and expires the key if due; sorting a sorted set converts it to the
skiplist encoding (Redis converts it before reading, even for SORT_RO and
even when the sort then fails); a scores error comes after all lookups and
stores nothing.

STORE replaces the destination with a list (dropping any TTL) or, when
the result is empty, deletes it; the reply is the stored length. Like
Redis's ``setKey``, only a destination that did not exist before signals
blocked clients (an overwritten key does not). Keyspace notifications: a
stored result sends sortstore (a list event), an empty result that deletes
an existing destination sends del.

Not reproduced: Redis 7.0 tests strtod's ``errno`` without clearing it,
so after one out-of-range value every non-integer value fails to convert
on that connection until errno changes (new connections reset it). minikv
judges each value on its own.

Complexity: O(n log n) to sort n elements plus O(m * g) for m output
elements and g GET patterns; O(offset + count) for an unsorted list or
sorted set window.
"""
import math
import re
from decimal import Decimal
from fractions import Fraction
from itertools import islice

from minikv.engine.args import int_arg, keyword
from minikv.engine.blocking import signal_key_ready
from minikv.engine.commands import command
from minikv.engine.errors import SCORES_NOT_DOUBLE, SYNTAX, CommandError
from minikv.engine.notify import GENERIC, LIST, emit
from minikv.engine.sets import members_in_order
from minikv.engine.values import Hash, List, type_name, wrong_type

_SORTABLE = (b"list", b"set", b"zset")


# -- C's strtod, as SORT uses it --------------------------------------------
# SORT accepts a value when strtod consumes all of it, without ERANGE, and
# the result is not NaN. strtod skips leading whitespace (C's isspace),
# takes an optional sign, then a decimal number, a hexadecimal one
# ("0x1.8p3") or inf/infinity (any case). NaN and "nan(...)" are refused
# anyway, so they need no grammar of their own.
_SPACE = b" \t\n\v\f\r"
_DECIMAL = re.compile(rb"[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEXADECIMAL = re.compile(
    rb"[ \t\n\v\f\r]*([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?[0-9]+))?")
_INFINITY = re.compile(rb"[ \t\n\v\f\r]*([+-]?)inf(?:inity)?", re.IGNORECASE)
_NONZERO_DIGIT = re.compile(rb"[1-9a-fA-F]")
_DBL_MIN = 2.0 ** -1022
# Below this, a value next to DBL_MIN still counts as tiny: glibc detects
# underflow after rounding to 53 bits with an unbounded exponent.
_TINY_BELOW = Fraction(2) ** -1022 - Fraction(2) ** -1076


def sort_score(data):
    """The double ``strtod`` reads from all of ``data``, or None where SORT
    reports "can't be converted": trailing junk, NaN, or ERANGE.

    glibc sets ERANGE when the result overflows to infinity or underflows:
    rounds to zero from a nonzero value, or is tiny (below DBL_MIN) and
    inexact. "" reads as 0 (strtod stops at once, at the terminating NUL);
    blanks alone do not. Python's ``float`` is correctly rounded like glibc,
    so only the underflow region needs the exact value.
    """
    if not data:
        return 0.0
    if _DECIMAL.fullmatch(data) is not None:
        text = data.lstrip(_SPACE)
        value = float(text)
        if value == math.inf or value == -math.inf:
            return None
        if abs(value) <= _DBL_MIN:
            mantissa = text.partition(b"e")[0].partition(b"E")[0]
            # Decimal, unlike int and Fraction, reads any number of digits.
            if _underflows(value, mantissa, lambda: Fraction(Decimal(text.decode()))):
                return None
        return value
    match = _HEXADECIMAL.fullmatch(data)
    if match is not None:
        sign, whole, fraction, exponent = match.groups()
        if not whole and not fraction:
            return None  # "0x" alone: strtod reads the "0" and stops at "x"
        try:
            value = float.fromhex(data.lstrip(_SPACE).decode())
        except OverflowError:
            return None
        if abs(value) <= _DBL_MIN:
            digits = whole + fraction

            def exact():
                shift = _decimal_int(exponent or b"0") - 4 * len(fraction)
                magnitude = int(digits, 16) * Fraction(2) ** shift
                return -magnitude if sign == b"-" else magnitude

            if _underflows(value, digits, exact):
                return None
        return value
    match = _INFINITY.fullmatch(data)
    if match is not None:
        return -math.inf if match.group(1) == b"-" else math.inf
    return None


def _decimal_int(text):
    """int(text) for a signed decimal exponent; leading zeros, however
    many, do not count against Python's limit on digits."""
    magnitude = int(text.lstrip(b"+-").lstrip(b"0") or b"0")
    return -magnitude if text[:1] == b"-" else magnitude


def _underflows(value, mantissa, exact):
    """ERANGE for a result at or below DBL_MIN. ``exact()`` gives the value
    read as a Fraction; it is only computed next to zero, where its size
    is bounded by the text's."""
    if value == 0:
        return _NONZERO_DIGIT.search(mantissa) is not None
    magnitude = abs(exact())
    if abs(value) < _DBL_MIN:
        return magnitude != abs(Fraction(value))
    return magnitude < _TINY_BELOW


# -- patterns ----------------------------------------------------------------
class Pattern:
    """A compiled BY/GET pattern: ``find(ks, element)`` is its value or None.

    ``kind`` is "self" for ``#``, "none" for a pattern without ``*`` (never
    finds anything), "key" or "field" otherwise.
    """

    __slots__ = ("kind", "prefix", "suffix", "field")

    def __init__(self, pattern):
        # Redis scans the pattern as a C string: a NUL byte ends it.
        visible = pattern.partition(b"\0")[0]
        self.prefix = self.suffix = self.field = None
        if visible == b"#":
            self.kind = "self"
            return
        star = visible.find(b"*")
        if star < 0:
            self.kind = "none"
            return
        self.prefix = pattern[:star]
        arrow = visible.find(b"->", star + 1)
        if 0 <= arrow and arrow + 2 < len(visible):
            self.kind = "field"
            self.suffix = pattern[star + 1:arrow]
            self.field = pattern[arrow + 2:]
        else:
            self.kind = "key"
            self.suffix = pattern[star + 1:]

    def find(self, ks, element):
        kind = self.kind
        if kind == "self":
            return element
        if kind == "none":
            return None
        value = ks.lookup_read(self.prefix + element + self.suffix)
        if value is None:
            return None
        if kind == "field":
            if value.__class__ is not Hash:
                return None
            return value.get(self.field)
        if value.__class__ is bytearray:
            return bytes(value)  # a snapshot: the string may change later
        return value if value.__class__ is bytes else None


def _has_star(pattern):
    return b"*" in pattern.partition(b"\0")[0]


# -- options -----------------------------------------------------------------
class SortOptions:
    """What SORT's arguments ask for; ``parse`` raises Redis's errors."""

    __slots__ = ("by", "dontsort", "offset", "count", "gets", "desc", "alpha", "store")

    def __init__(self):
        self.by = None
        self.dontsort = False
        self.offset = 0
        self.count = -1
        self.gets = []
        self.desc = False
        self.alpha = False
        self.store = None

    @classmethod
    def parse(cls, args, readonly):
        options = cls()
        i = 0
        argc = len(args)
        while i < argc:
            word = keyword(args[i])
            left = argc - i - 1
            if word == b"ASC":
                options.desc = False
            elif word == b"DESC":
                options.desc = True
            elif word == b"ALPHA":
                options.alpha = True
            elif word == b"LIMIT" and left >= 2:
                options.offset = int_arg(args[i + 1])
                options.count = int_arg(args[i + 2])
                i += 2
            elif word == b"STORE" and not readonly and left >= 1:
                options.store = args[i + 1]
                i += 1
            elif word == b"BY" and left >= 1:
                options.by = args[i + 1]
                if not _has_star(options.by):
                    options.dontsort = True
                i += 1
            elif word == b"GET" and left >= 1:
                options.gets.append(Pattern(args[i + 1]))
                i += 1
            else:
                raise CommandError(SYNTAX)
            i += 1
        return options


# -- the command -------------------------------------------------------------
def _window(options, length):
    """LIMIT as a [start, stop) slice of ``length`` elements."""
    start = options.offset if options.offset > 0 else 0
    if start >= length:
        return 0, 0
    count = options.count
    stop = length if count < 0 or count >= length - start else start + count
    return start, stop


def _c_string(data):
    """What strcoll sees of ``data``: the bytes before the first NUL."""
    return data.partition(b"\0")[0] if b"\0" in data else data


def _sorted(ks, elements, options):
    """``elements`` sorted as SORT sorts them; CommandError for a bad score."""
    by = Pattern(options.by) if options.by is not None else None
    if options.alpha:
        # STORE compares whole strings; a reply is collated (see module doc).
        compare_as = bytes if options.store is not None else _c_string
        if by is None:
            return sorted(elements, key=compare_as, reverse=options.desc)
        keys = []
        for element in elements:
            value = by.find(ks, element)
            # A missing value sorts first; present ones compare as strings.
            keys.append((False, b"") if value is None else (True, compare_as(value)))
        order = sorted(range(len(elements)), key=keys.__getitem__, reverse=options.desc)
        return [elements[i] for i in order]
    scored = []
    convertible = True
    for element in elements:
        if by is None:
            value = element
        else:
            value = by.find(ks, element)
            if value is None:
                scored.append((0.0, element))
                continue
        score = sort_score(value)
        if score is None:
            # Redis carries on looking up the remaining BY keys first.
            convertible = False
            continue
        scored.append((score, element))
    if not convertible:
        raise CommandError(SCORES_NOT_DOUBLE)
    scored.sort(reverse=options.desc)
    return [element for _, element in scored]


def _zset_window(zset, start, stop, reverse):
    """Members of ranks [start, stop), counted from the highest rank if
    ``reverse``. O(log n + (stop - start))."""
    if reverse:
        size = len(zset)
        pairs = zset.index.by_rank(size - stop, size - start, reverse=True)
    else:
        pairs = zset.index.by_rank(start, stop)
    return [member for _, member in pairs]


def _selected(ks, value, kind, options):
    """The elements SORT outputs, before GET patterns, in order."""
    if value is None:
        return []
    length = len(value)
    start, stop = _window(options, length)
    if options.dontsort and kind != b"set":
        if kind == b"list":
            if start == 0 and stop == length:
                return list(reversed(value)) if options.desc else list(value)
            source = reversed(value) if options.desc else value
            return list(islice(source, start, stop))
        return _zset_window(value, start, stop, options.desc)
    elements = members_in_order(value) if kind == b"set" else list(value)
    if not options.dontsort:
        elements = _sorted(ks, elements, options)
    return elements[start:stop]


def sort(session, key, options):
    """Run a parsed SORT on ``key``: the reply list, or the stored length."""
    ks = session.ks
    value = ks.lookup_read(key)
    kind = None
    if value is not None:
        kind = type_name(value)
        if kind not in _SORTABLE:
            raise wrong_type()
    if kind == b"set" and options.dontsort and options.store is not None:
        # Redis sorts a set it stores, so the stored list is deterministic.
        options.dontsort = False
        options.alpha = True
        options.by = None
    if kind == b"zset":
        value.skiplist = True
    elements = _selected(ks, value, kind, options)
    gets = options.gets
    if options.store is None:
        if not gets:
            return elements
        return [pattern.find(ks, element) for element in elements for pattern in gets]
    if gets:
        found = [pattern.find(ks, element) for element in elements for pattern in gets]
        elements = [b"" if item is None else item for item in found]
    return _store(session, options.store, elements)


def _store(session, destination, elements):
    ks = session.ks
    if not elements:
        if ks.delete(destination):
            emit(ks, GENERIC, b"del", destination)
        return 0
    existed = ks.lookup(destination) is not None
    ks.store(destination, List(elements))
    if not existed:
        signal_key_ready(session.store, session.db, destination)
    emit(ks, LIST, b"sortstore", destination)
    return len(elements)


# SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
#      [ASC|DESC] [ALPHA] [STORE destination]
@command("sort", -2, "write denyoom")
def cmd_sort(session, args):
    return sort(session, args[0], SortOptions.parse(args[1:], readonly=False))


# SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]]
#         [ASC|DESC] [ALPHA]
@command("sort_ro", -2, "readonly")
def cmd_sort_ro(session, args):
    return sort(session, args[0], SortOptions.parse(args[1:], readonly=True))
