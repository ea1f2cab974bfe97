"""Per-connection state: which store and database a client talks to.

A ``Session`` is what Redis calls a client: it selects a database and will
carry transaction and subscription state. Command handlers receive it as
their first argument; the keyspace of the selected db is ``session.ks``.
"""
from minikv.engine.errors import CommandError, DB_INDEX


class Session:
    __slots__ = ("store", "db", "ks", "__weakref__")

    def __init__(self, store, db=0):
        self.store = store
        self.select(db)
        store.sessions.add(self)

    def select(self, db):
        dbs = self.store.dbs
        if not 0 <= db < len(dbs):
            raise CommandError(DB_INDEX)
        self.db = db
        self.ks = dbs[db]
