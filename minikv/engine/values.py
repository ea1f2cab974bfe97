"""The value types a key can hold, and what TYPE / OBJECT ENCODING call them.

Strings are stored as ``bytes`` (the common, immutable case) or as
``bytearray`` once APPEND or SETRANGE has modified them in place — which is
exactly when Redis's encoding becomes "raw", and what makes repeated APPEND
amortised O(1) as in Redis. Hashes are ``Hash`` dicts that remember whether
they outgrew the listpack limits (Redis never converts back).
"""
from minikv.engine.errors import CommandError, WRONGTYPE
from minikv.engine.numbers import parse_int

STRING_TYPES = (bytes, bytearray)


class Hash(dict):
    """field (bytes) -> value (bytes). ``hashtable`` mirrors Redis's encoding."""

    __slots__ = ("hashtable",)

    def __init__(self, *args):
        dict.__init__(self, *args)
        self.hashtable = False


def type_name(value):
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return b"string"
    if cls is Hash:
        return b"hash"
    raise AssertionError(f"unknown value type {cls!r}")


def string_encoding(value):
    """Redis's choice for a string: int, embstr (<= 44 bytes) or raw."""
    if value.__class__ is bytearray:
        return b"raw"
    if len(value) <= 20 and parse_int(value) is not None:
        return b"int"
    return b"embstr" if len(value) <= 44 else b"raw"


def wrong_type():
    return CommandError(WRONGTYPE)
