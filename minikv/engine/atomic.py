"""Native atomic operations: a Python function run the way EVAL runs a script.

The pattern classes (minikv/patterns/) make each operation one round trip on
a real Redis with a Lua script. On the embedded engine the same operation is
a plain Python function run by ``run_atomically`` with the store lock held:
no other client's command runs in between, exactly as for a script, and no
Lua runtime is needed.

Inside, ``AtomicContext.call(*argv)`` runs a command through the command
table as ``redis.call`` does — same handlers, same errors (raised as
``CommandError``), raw replies (bytes, int, None, lists) — and the
database the step runs in reads one frozen time for lazy expiry
(``now_ms``), as during a script or EXEC (a step that SELECTs another db
sees live time there). A blocking command answers as if it timed out at
once.
Clients blocked on keys the function made ready are served, and maxmemory
eviction runs, once after it, as after one command.

For the few operations whose cost matters (a cache hit, a rate-limit hit),
``keyspace`` is the selected ``Keyspace`` for direct reads with the
typed helpers of the command modules.
"""
from minikv.engine.commands import after_command, lookup
from minikv.engine.errors import OOM, CommandError
from minikv.engine.eviction import script_write_refused
from minikv.engine.session import Session

__all__ = ["AtomicContext", "run_atomically"]


class AtomicContext:
    """What a function run by ``run_atomically`` gets as its first argument."""

    __slots__ = ("session", "db", "now_ms", "wrote")

    def __init__(self, store, db):
        session = self.session = Session(store, db, register=False)
        session.deny_blocking = True
        self.db = db
        self.now_ms = None
        self.wrote = False

    def use_db(self, db):
        """Run the next steps on database ``db`` (the client's SELECT)."""
        if db != self.db:
            self.session.select(db)
            self.db = db

    @property
    def keyspace(self):
        return self.session.ks

    def call(self, *argv):
        """Run one command (bytes, str, int or float arguments); its raw reply.

        Unknown commands, wrong arities and Redis's errors raise
        ``CommandError`` with Redis's text; a denyoom command is refused with
        the OOM error while the store is over maxmemory and nothing has been
        written yet (Redis's rule for scripts).
        """
        cmd, args = lookup([item if item.__class__ is bytes else _to_bytes(item)
                            for item in argv])
        session = self.session
        if session.store.memory is not None and script_write_refused(session.store, cmd,
                                                                     self.wrote):
            raise CommandError(OOM)
        if "write" in cmd.flags:
            self.wrote = True
        return cmd.handler(session, args)


def run_atomically(context, fn, args):
    """``fn(context, *args)`` under the store lock; its return value.

    ``context`` is the caller's own ``AtomicContext`` (one per client,
    reused: building a session per step would cost more than most steps),
    already on the caller's database; its session is not the client's, so
    a SELECT inside stays inside, as in a script.
    """
    session = context.session
    store = session.store
    with store.lock:
        ks = session.ks
        now_ms = store.clock.ms()
        context.now_ms = now_ms
        context.wrote = False
        # Lazy expiry in this db reads the step's one time (see the module
        # docstring); int.__int__ bound to it is a C callable returning it.
        live_clock = ks.clock_ms
        ks.clock_ms = now_ms.__int__
        try:
            return fn(context, *args)
        finally:
            ks.clock_ms = live_clock
            if session.ks is not ks:  # the step SELECTed another db
                session.select(context.db)
            after_command(store)


def _to_bytes(item):
    cls = item.__class__
    if cls is bytes:
        return item
    if cls is str:
        return item.encode()
    if cls is int or cls is float:
        return repr(item).encode()
    if isinstance(item, (bytearray, memoryview)):
        return bytes(item)
    raise TypeError(f"command arguments are bytes, str, int or float, not {cls.__name__}")
