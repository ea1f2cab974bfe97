"""Server commands with redis-py's signatures."""


class ServerCommands:
    __slots__ = ()
