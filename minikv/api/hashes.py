"""Hashes commands with redis-py's signatures."""


class HashCommands:
    __slots__ = ()
