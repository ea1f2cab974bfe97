"""Keys commands with redis-py's signatures."""


class KeyCommands:
    __slots__ = ()
