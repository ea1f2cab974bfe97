"""Per-connection state: which store and database a client talks to.

A ``Session`` is what Redis calls a client: it selects a database and
carries the transaction state. Command handlers receive it as their first
argument; the keyspace of the selected db is ``session.ks``.

Transaction state (engine/transactions.py reads and writes it):

- ``multi``: None outside MULTI; inside, the list of queued (Command, args).
- ``multi_failed``: a command was rejected while queueing (Redis's
  CLIENT_DIRTY_EXEC): EXEC will answer EXECABORT.
- ``watches``: the ``WatchState`` of this session's WATCHed keys, created by
  its first WATCH.
- ``deny_blocking``: set while EXEC runs the queue (and while a script
  runs): a blocking command must answer as if it timed out at once instead
  of waiting (Redis's CLIENT_DENY_BLOCKING).
- ``defer_blocking``: None, or the hook of a client that waits for blocked
  calls itself instead of in the calling thread (minikv.asyncio's event
  loop; see engine/blocking.py).

Connection identity (engine/clients.py's CLIENT commands): ``client_id``,
unique and increasing in the process, as Redis's client IDs are in a
server; ``name`` (CLIENT SETNAME; None until set); ``created_ms``, the
store clock when the session was made (CLIENT INFO's age).
"""
from itertools import count

from minikv.engine.errors import DB_INDEX, CommandError

_client_ids = count(1)


class Session:
    __slots__ = ("store", "db", "ks", "multi", "multi_failed", "watches", "deny_blocking",
                 "defer_blocking", "client_id", "name", "created_ms", "__weakref__")

    def __init__(self, store, db=0, register=True):
        """``register=False`` leaves the session out of INFO's connected_clients
        (a pipeline's session borrows its client's place, as a pooled
        connection does in redis-py)."""
        self.store = store
        self.multi = None
        self.multi_failed = False
        self.watches = None
        self.deny_blocking = False
        self.defer_blocking = None
        self.client_id = next(_client_ids)
        self.name = None
        self.created_ms = store.clock.ms()
        self.select(db)
        if register:
            store.sessions.add(self)

    def select(self, db):
        dbs = self.store.dbs
        if not 0 <= db < len(dbs):
            raise CommandError(DB_INDEX)
        self.db = db
        self.ks = dbs[db]
