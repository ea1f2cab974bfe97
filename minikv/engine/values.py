"""The value types a key can hold, and what TYPE / OBJECT ENCODING call them.

Strings are stored as ``bytes`` (the common, immutable case) or as
``bytearray`` once APPEND or SETRANGE has modified them in place — which is
exactly when Redis's encoding becomes "raw", and what makes repeated APPEND
amortised O(1) as in Redis. Every other type is a class of its own that
answers the same three questions, so generic commands (TYPE, OBJECT, COPY,
SCAN TYPE, SORT) need no per-type code:

- ``TYPE_NAME`` — what TYPE replies;
- ``encoding()`` — what OBJECT ENCODING replies (Redis never converts a
  compact encoding back, so types remember when they outgrew it);
- ``duplicate()`` — an independent deep copy, for COPY.
"""
from collections import deque

from minikv.engine.errors import CommandError, WRONGTYPE
from minikv.engine.numbers import parse_int

STRING_TYPES = (bytes, bytearray)


class Hash(dict):
    """field (bytes) -> value (bytes). ``hashtable`` mirrors Redis's encoding."""

    __slots__ = ("hashtable",)
    TYPE_NAME = b"hash"

    def __init__(self, *args):
        dict.__init__(self, *args)
        self.hashtable = False

    def encoding(self):
        return b"hashtable" if self.hashtable else b"listpack"

    def duplicate(self):
        copy = Hash(self)
        copy.hashtable = self.hashtable
        return copy


class List(deque):
    """A list: a deque, O(1) at both ends. Redis 7.0 always says "quicklist"."""

    __slots__ = ()
    TYPE_NAME = b"list"

    def encoding(self):
        return b"quicklist"

    def duplicate(self):
        return List(self)


class Set(set):
    """A set of bytes members. ``hashtable`` turns True once the set stops
    qualifying for Redis's intset encoding (all members integers and at most
    set-max-intset-entries of them); Redis never converts back."""

    __slots__ = ("hashtable",)
    TYPE_NAME = b"set"

    def __init__(self, *args):
        set.__init__(self, *args)
        self.hashtable = False

    def encoding(self):
        return b"hashtable" if self.hashtable else b"intset"

    def duplicate(self):
        copy = Set(self)
        copy.hashtable = self.hashtable
        return copy


def type_name(value):
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return b"string"
    return cls.TYPE_NAME


def encoding_name(value):
    """What OBJECT ENCODING says for a value."""
    cls = value.__class__
    if cls is bytes or cls is bytearray:
        return string_encoding(value)
    return value.encoding()


def copy_value(value):
    """An independent duplicate of a value, as COPY makes it. O(size).

    ``bytes`` are immutable, so the object itself serves as its copy; a
    ``bytearray`` stays a bytearray (Redis keeps the "raw" encoding).
    """
    cls = value.__class__
    if cls is bytes:
        return value
    if cls is bytearray:
        return bytearray(value)
    return value.duplicate()


def string_encoding(value):
    """Redis's choice for a string: int, embstr (<= 44 bytes) or raw."""
    if value.__class__ is bytearray:
        return b"raw"
    if len(value) <= 20 and parse_int(value) is not None:
        return b"int"
    return b"embstr" if len(value) <= 44 else b"raw"


def wrong_type():
    return CommandError(WRONGTYPE)
