"""The command table: per command its name, arity, flags and handler.

This is the single declarative place every caller goes through — the
client's generic ``execute_command``, pipelines and MULTI/EXEC, and later a
RESP server. Handlers live one module per data type and register here with
the ``command`` decorator::

    @command("getdel", 2, "write fast")
    def getdel(client, args): ...      # args: list of bytes, name excluded

Arity follows Redis: a positive arity is the exact argument count including
the command name, a negative one the minimum. A container command (CONFIG,
OBJECT) registers subcommands as "config|get"; their arity counts the
container and the subcommand, and errors name them as Redis does.

Handlers run with the store lock held and return raw replies in the shape
redis-py's RESP2 parser produces before its callbacks: bytes for bulk and
status strings, int, None for nil, lists; errors are raised as
``CommandError``. A handler validates every argument before it mutates
anything.

Inside MULTI (``session.multi`` is a list) ``dispatch`` queues instead of
running, as Redis's processCommand does: the command is looked up and its
arity checked now — an unknown command or a wrong arity is answered with its
error and makes the coming EXEC fail (EXECABORT) — and anything else is
answered "QUEUED", except the commands that act on the transaction itself
(EXEC, DISCARD, MULTI, WATCH), which run at once.
"""
from minikv.engine.blocking import serve_ready_keys
from minikv.engine.errors import CommandError, unknown_command, unknown_subcommand, wrong_arity

__all__ = ["Command", "COMMANDS", "QUEUED", "after_command", "command", "dispatch", "lookup"]

QUEUED = b"QUEUED"
# Redis's processCommand list of commands that MULTI does not queue.
_NOT_QUEUED = frozenset(("exec", "discard", "multi", "watch", "quit", "reset"))


class Command:
    __slots__ = ("name", "arity", "flags", "handler", "subcommands")

    def __init__(self, name, arity, flags, handler):
        self.name = name
        self.arity = arity
        self.flags = frozenset(flags.split())
        self.handler = handler
        self.subcommands = None

    def check_arity(self, argc):
        """``argc`` counts the command name (and subcommand) as Redis does."""
        arity = self.arity
        if (arity > 0 and argc != arity) or argc < -arity:
            raise CommandError(wrong_arity(self.name))

    def __repr__(self):
        return f"Command({self.name!r}, {self.arity}, {sorted(self.flags)})"


COMMANDS = {}


def command(name, arity, flags=""):
    """Register the decorated handler as command ``name`` ("a|b" for subcommands)."""
    def register(handler):
        cmd = Command(name, arity, flags, handler)
        container, _, sub = name.partition("|")
        if sub:
            parent = COMMANDS.get(container.encode())
            if parent is None:
                parent = COMMANDS[container.encode()] = Command(container, -2, "", _container)
                parent.subcommands = {}
            parent.subcommands[sub.encode()] = cmd
        else:
            COMMANDS[name.encode()] = cmd
        return handler
    return register


def _container(client, args):
    raise AssertionError("container commands are resolved by lookup()")


def lookup(argv):
    """(Command, args) for a full argv; raises Redis's errors for unknowns/arity."""
    name = argv[0].lower()
    cmd = COMMANDS.get(name)
    if cmd is None:
        shown = [a.decode(errors="replace") for a in argv[1:]]
        raise CommandError(unknown_command(argv[0].decode(errors="replace"), shown))
    if cmd.subcommands is not None:
        cmd.check_arity(len(argv))
        sub = cmd.subcommands.get(argv[1].lower())
        if sub is None:
            raise CommandError(unknown_subcommand(argv[1].decode(errors="replace"),
                                                  cmd.name.upper()))
        sub.check_arity(len(argv))
        return sub, argv[2:]
    cmd.check_arity(len(argv))
    return cmd, argv[1:]


def dispatch(session, argv):
    """Run one command (store lock held by the caller) and return its reply.

    Clients blocked on keys the command made ready are served right after
    it, before the lock is released (Redis's handleClientsBlockedOnKeys);
    the command's own reply is computed first (LPUSH counts the elements
    before a waiter pops one).

    With maxmemory set (``store.memory``), Redis's memory check comes after
    the lookup and before queueing or running: it evicts, or refuses the
    command with the OOM error; after the command (and the clients it
    served) its writes are measured and eviction brings memory back under
    the limit (engine/eviction.py).
    """
    store = session.store
    if session.multi is None:
        cmd, args = lookup(argv)
    else:
        try:
            cmd, args = lookup(argv)
        except CommandError:
            session.multi_failed = True
            raise
    limit = store.memory
    if limit is not None:
        limit.admit_command(session, cmd)
    # Inside MULTI: queue, unless the command acts on the transaction.
    if session.multi is not None and cmd.name not in _NOT_QUEUED:
        session.multi.append((cmd, args))
        return QUEUED
    try:
        return cmd.handler(session, args)
    finally:
        after_command(store)


def after_command(store):
    """What follows a command, before the store lock is released: the
    clients blocked on keys it made ready are served (Redis's
    handleClientsBlockedOnKeys), then, with maxmemory set, its writes are
    measured and eviction brings memory back under the limit. ``dispatch``
    calls it after every command; so does whatever runs handlers itself
    (engine/atomic.py, minikv/asyncio/waiting.py's give-back)."""
    if store.blocked.ready:
        serve_ready_keys(store)
    limit = store.memory
    if limit is not None:
        limit.finish(store.dbs)
