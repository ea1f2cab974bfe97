"""Server configuration as CONFIG GET/SET see it: the parameters minikv honours.

Each parameter is declared once with its type, default and bounds; values
are validated with Redis's messages and CONFIG SET applies all-or-nothing.
Values are kept parsed (ints, flag sets) and rendered back the way Redis
renders them.
"""
from minikv.engine.errors import CommandError
from minikv.engine.glob import glob_match

MAXMEMORY_POLICIES = ("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                      "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")

INT64_MAX = (1 << 63) - 1
INT32_MAX = (1 << 31) - 1

# notify-keyspace-events: the class letters and their order when rendered.
EVENT_CLASSES = "g$lshzxetdn"
EVENT_ALL = frozenset("g$lshzxetd")


def _parse_int(text, low, high, clamp=False):
    try:
        value = int(text)
        if not text or text.strip() != text or text.startswith("+"):
            raise ValueError
    except ValueError:
        raise ValueError("argument couldn't be parsed into an integer") from None
    if clamp:
        return min(max(value, low), high)
    if not low <= value <= high:
        raise ValueError(f"argument must be between {low} and {high} inclusive")
    return value


_MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2,
                 "g": 1000 ** 3, "gb": 1024 ** 3}


def _parse_memory(text):
    lowered = text.lower()
    digits = len(lowered) - len(lowered.lstrip("0123456789"))
    number, unit = lowered[:digits], lowered[digits:]
    if not number or unit not in _MEMORY_UNITS:
        raise ValueError("argument must be a memory value")
    value = int(number) * _MEMORY_UNITS[unit]
    if value > INT64_MAX:
        raise ValueError("argument must be a memory value")
    return value


def _parse_events(text):
    flags = set()
    for char in text:
        if char == "A":
            flags |= EVENT_ALL
        elif char in EVENT_CLASSES or char in "KEm":
            flags.add(char)
        else:
            raise ValueError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    return frozenset(flags)


def _render_events(flags):
    if EVENT_ALL <= flags:
        text = "A"
    else:
        text = "".join(c for c in EVENT_CLASSES if c in flags)
    return text + "".join(c for c in "KEm" if c in flags)


def _parse_policy(text):
    lowered = text.lower()
    if lowered not in MAXMEMORY_POLICIES:
        raise ValueError("argument(s) must be one of the following: " + ", ".join(MAXMEMORY_POLICIES))
    return lowered


class _Param:
    __slots__ = ("name", "parse", "render", "default", "mutable")

    def __init__(self, name, parse, default, render=str, mutable=True):
        self.name, self.parse, self.default = name, parse, default
        self.render, self.mutable = render, mutable


def _int_param(name, default, low, high, clamp=False):
    return _Param(name, lambda text: _parse_int(text, low, high, clamp), default)


_PARAMS = [
    _Param("maxmemory", _parse_memory, 0),
    _Param("maxmemory-policy", _parse_policy, "noeviction"),
    _int_param("maxmemory-samples", 5, 1, INT32_MAX),
    _int_param("hz", 10, 1, 500, clamp=True),
    _Param("notify-keyspace-events", _parse_events, frozenset(), render=_render_events),
    _int_param("hash-max-listpack-entries", 512, 0, INT64_MAX),
    _int_param("hash-max-listpack-value", 64, 0, INT64_MAX),
    _int_param("list-max-listpack-size", -2, -5, INT32_MAX),
    _int_param("set-max-intset-entries", 512, 0, INT64_MAX),
    _int_param("zset-max-listpack-entries", 128, 0, INT64_MAX),
    _int_param("zset-max-listpack-value", 64, 0, INT64_MAX),
    _int_param("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024, INT64_MAX),
    _int_param("databases", 16, 1, INT32_MAX),
]
_PARAMS_BY_NAME = {p.name: p for p in _PARAMS}
_PARAMS_BY_NAME["databases"].mutable = False
# Redis 7 still answers to the pre-listpack names.
ALIASES = {
    "hash-max-ziplist-entries": "hash-max-listpack-entries",
    "hash-max-ziplist-value": "hash-max-listpack-value",
    "list-max-ziplist-size": "list-max-listpack-size",
    "zset-max-ziplist-entries": "zset-max-listpack-entries",
    "zset-max-ziplist-value": "zset-max-listpack-value",
}


class Config:
    """Parsed parameter values: ``config["hz"]`` is an int."""

    __slots__ = ("_values",)

    def __init__(self):
        self._values = {p.name: p.default for p in _PARAMS}

    def __getitem__(self, name):
        return self._values[name]

    def get(self, patterns):
        """CONFIG GET pattern [pattern ...] -> flat [name, value, ...]."""
        reply = {}
        for pattern in patterns:
            names = list(self._values) + list(ALIASES)
            for name in names:
                if name not in reply and glob_match(pattern, name.encode(), nocase=True):
                    param = _PARAMS_BY_NAME[ALIASES.get(name, name)]
                    reply[name] = param.render(self._values[param.name])
        flat = []
        for name, value in reply.items():
            flat += [name.encode(), value.encode()]
        return flat

    def set(self, pairs):
        """CONFIG SET name value [name value ...], all or nothing."""
        parsed = {}
        for raw_name, raw_value in pairs:
            name = raw_name.decode(errors="replace").lower()
            canonical = ALIASES.get(name, name)
            param = _PARAMS_BY_NAME.get(canonical)
            if param is None:
                raise CommandError(
                    f"ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
            if canonical in parsed:
                raise CommandError(_failed(name, "duplicate parameter"))
            if not param.mutable:
                raise CommandError(_failed(name, "can't set immutable config"))
            try:
                parsed[canonical] = param.parse(raw_value.decode(errors="replace"))
            except ValueError as exc:
                raise CommandError(_failed(name, str(exc))) from None
        self._values.update(parsed)
        return list(parsed)


def _failed(name, why):
    return f"ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
