"""Server configuration as CONFIG GET/SET see it: the parameters minikv knows.

Each parameter is declared once with its kind, default and bounds, and is
parsed the way Redis 7.0's config.c parses that kind:

- integer parameters use ``string2ll`` (no spaces, no '+', no leading
  zeros), then a range check;
- memory parameters use ``memtoull``: digits with an optional unit (b, k,
  kb, m, mb, g, gb in any case), where Redis's C arithmetic saturates an
  over-long number at 2**64-1 and wraps the unit multiplication modulo
  2**64 — both reproduced, because a test double must accept exactly what
  the server accepts;
- enums compare case-insensitively; notify-keyspace-events is a set of
  class letters rendered back in Redis's canonical order.

CONFIG SET is all-or-nothing and reports errors in Redis's precedence: a
first pass finds unknown, immutable and duplicate names (the first problem
wins, except that an unknown name reported before any other problem beats
it); a second pass parses values in order. Aliases (the pre-7.0 "ziplist"
names) are distinct entries, as in Redis: CONFIG GET lists both under a
glob, and setting a name and its alias in one call is not a duplicate.
"""
from minikv.engine.errors import CommandError, SYNTAX
from minikv.engine.glob import glob_match
from minikv.engine.numbers import parse_int

__all__ = ["Config", "MAXMEMORY_POLICIES", "ALIASES"]

MAXMEMORY_POLICIES = ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                      "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")

INT64_MAX = (1 << 63) - 1
UINT64_MAX = (1 << 64) - 1
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1

# notify-keyspace-events: the class letters and their order when rendered.
EVENT_CLASSES = "g$lshzxetdn"
EVENT_ALL = frozenset("g$lshzxetd")

NOT_AN_INTEGER = "argument couldn't be parsed into an integer"
NOT_A_MEMORY_VALUE = "argument must be a memory value"

# memtoull keeps at most 127 digits in its buffer before calling strtoull.
_MEMORY_DIGITS_MAX = 127
_MEMORY_UNITS = {b"": 1, b"b": 1, b"k": 1000, b"kb": 1024, b"m": 1000 ** 2, b"mb": 1024 ** 2,
                 b"g": 1000 ** 3, b"gb": 1024 ** 3}
_GLOB_CHARS = frozenset(b"[*?")


def _in_range(value, low, high):
    if not low <= value <= high:
        raise ValueError(f"argument must be between {low} and {high} inclusive")
    return value


def _integer(low, high):
    def parse(data):
        value = parse_int(data)
        if value is None:
            raise ValueError(NOT_AN_INTEGER)
        return _in_range(value, low, high)
    return parse


def _memory(low, high):
    def parse(data):
        lowered = data.lower()
        digits = len(lowered) - len(lowered.lstrip(b"0123456789"))
        number, unit = lowered[:digits], lowered[digits:]
        if unit not in _MEMORY_UNITS or digits > _MEMORY_DIGITS_MAX:
            raise ValueError(NOT_A_MEMORY_VALUE)
        value = min(int(number), UINT64_MAX) if number else 0
        return _in_range((value * _MEMORY_UNITS[unit]) & UINT64_MAX, low, high)
    return parse


def _clamped(parse, low, high):
    """Accept the parsed range, then clamp, as Redis's update hook for hz does."""
    return lambda data: min(max(parse(data), low), high)


def _parse_events(data):
    flags = set()
    for char in data.decode("latin-1"):
        if char == "A":
            flags |= EVENT_ALL
        elif char in EVENT_CLASSES or char in "KEm":
            flags.add(char)
        else:
            raise ValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return frozenset(flags)


def _render_events(flags):
    if EVENT_ALL <= flags:
        text = "A"  # like Redis, "A" stands for the classes and hides 'n'
    else:
        text = "".join(c for c in EVENT_CLASSES if c in flags)
    return text + "".join(c for c in "KEm" if c in flags)


def _parse_policy(data):
    lowered = data.decode("latin-1").lower()
    if lowered not in MAXMEMORY_POLICIES:
        raise ValueError("argument(s) must be one of the following: "
                         + ", ".join(MAXMEMORY_POLICIES))
    return lowered


class _Param:
    __slots__ = ("name", "parse", "default", "render", "mutable")

    def __init__(self, name, parse, default, render=str, mutable=True):
        self.name, self.parse, self.default = name, parse, default
        self.render, self.mutable = render, mutable


_PARAMS = [
    _Param("maxmemory", _memory(0, UINT64_MAX), 0),
    _Param("maxmemory-policy", _parse_policy, "noeviction"),
    _Param("maxmemory-samples", _integer(1, INT32_MAX), 5),
    _Param("lfu-log-factor", _integer(0, INT32_MAX), 10),
    _Param("lfu-decay-time", _integer(0, INT32_MAX), 1),
    _Param("hz", _clamped(_integer(0, INT32_MAX), 1, 500), 10),
    _Param("notify-keyspace-events", _parse_events, frozenset(), render=_render_events),
    _Param("hash-max-listpack-entries", _integer(0, INT64_MAX), 512),
    _Param("hash-max-listpack-value", _memory(0, INT64_MAX), 64),
    _Param("list-max-listpack-size", _integer(INT32_MIN, INT32_MAX), -2),
    _Param("set-max-intset-entries", _integer(0, INT64_MAX), 512),
    _Param("zset-max-listpack-entries", _integer(0, INT64_MAX), 128),
    _Param("zset-max-listpack-value", _memory(0, INT64_MAX), 64),
    _Param("stream-node-max-bytes", _memory(0, INT64_MAX), 4096),
    _Param("stream-node-max-entries", _integer(0, INT64_MAX), 100),
    _Param("proto-max-bulk-len", _memory(1024 * 1024, INT64_MAX), 512 * 1024 * 1024),
    _Param("databases", _integer(1, INT32_MAX), 16, mutable=False),
]
_PARAMS_BY_NAME = {p.name: p for p in _PARAMS}
# Redis 7 still answers to the pre-listpack names.
ALIASES = {
    "hash-max-ziplist-entries": "hash-max-listpack-entries",
    "hash-max-ziplist-value": "hash-max-listpack-value",
    "list-max-ziplist-size": "list-max-listpack-size",
    "zset-max-ziplist-entries": "zset-max-listpack-entries",
    "zset-max-ziplist-value": "zset-max-listpack-value",
}
# Every name CONFIG GET/SET accepts (lower-case bytes) -> canonical name.
_NAMES = {name.encode(): name for name in _PARAMS_BY_NAME}
_NAMES.update({alias.encode(): name for alias, name in ALIASES.items()})


def _failed(name, why):
    return f"ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"


def _text(data):
    return data.decode(errors="replace")


class Config:
    """Parsed parameter values: ``config["hz"]`` is an int."""

    __slots__ = ("_values",)

    def __init__(self, databases=16):
        self._values = {p.name: p.default for p in _PARAMS}
        self._values["databases"] = databases

    def __getitem__(self, name):
        return self._values[name]

    def _render(self, canonical):
        return _PARAMS_BY_NAME[canonical].render(self._values[canonical]).encode()

    def get(self, patterns):
        """CONFIG GET pattern [pattern ...] -> flat [name, value, ...].

        A pattern without glob characters is looked up directly and replied
        under the spelling the caller used; a glob is matched without case
        against every name. Names already replied are skipped, ignoring case.
        """
        reply = {}  # lower-case name -> (name as replied, canonical)
        for pattern in patterns:
            if _GLOB_CHARS.isdisjoint(pattern):
                lowered = pattern.lower()
                canonical = _NAMES.get(lowered)
                if canonical is not None and lowered not in reply:
                    reply[lowered] = (pattern, canonical)
                continue
            for name, canonical in _NAMES.items():
                if name not in reply and glob_match(pattern, name, nocase=True):
                    reply[name] = (name, canonical)
        flat = []
        for shown, canonical in reply.values():
            flat += [shown, self._render(canonical)]
        return flat

    def set(self, args):
        """CONFIG SET name value [name value ...], all or nothing."""
        if len(args) % 2:
            raise CommandError(SYNTAX)
        chosen = []  # (lower-case name as given, canonical, raw value)
        problem = None
        for i in range(0, len(args), 2):
            raw_name, raw_value = args[i], args[i + 1]
            lowered = raw_name.lower()
            canonical = _NAMES.get(lowered)
            if canonical is None:
                if problem is None:
                    problem = ("ERR Unknown option or number of arguments for CONFIG SET - "
                               f"'{_text(raw_name)}'")
                continue
            if problem is not None:
                continue
            if not _PARAMS_BY_NAME[canonical].mutable:
                problem = _failed(_text(raw_name), "can't set immutable config")
            elif any(lowered == seen for seen, _, _ in chosen):
                problem = _failed(_text(raw_name), "duplicate parameter")
            chosen.append((lowered, canonical, raw_value))
        if problem is not None:
            raise CommandError(problem)
        parsed = []
        for lowered, canonical, raw_value in chosen:
            try:
                parsed.append((canonical, _PARAMS_BY_NAME[canonical].parse(raw_value)))
            except ValueError as exc:
                raise CommandError(_failed(_text(lowered), str(exc))) from None
        for canonical, value in parsed:
            self._values[canonical] = value
