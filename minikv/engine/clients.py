"""Connection commands about the client itself (networking.c): CLIENT
SETNAME, GETNAME, ID and INFO.

A client here is a ``Session`` (engine/session.py): it carries the ID, the
name and the creation time these commands report. CLIENT INFO prints the
fields Redis 7.0 prints, in its order, with what minikv knows: the ID, the
name, the age on the store clock, the database, and idle 0 (the client is
running this very command). An in-process client has no socket, so its
addresses are what Redis prints for a connection-less client ("?:0", fd
-1, no file events), and the buffer and memory figures are 0: there are
no query or output buffers. It always reads as a plain client (flags N,
multi -1, no subscriptions): a command that runs is never queued, blocked
or subscribed, and minikv does not track EXEC's nesting for it.
"""
from minikv.engine.commands import command
from minikv.engine.errors import CLIENT_NAME_INVALID, CommandError

OK = b"OK"
# Redis accepts names made of the printable ASCII characters but the space.
_NAME_CHARACTERS = frozenset(range(ord("!"), ord("~") + 1))


# CLIENT SETNAME connection-name
@command("client|setname", 3, "noscript loading stale")
def cmd_client_setname(session, args):
    name = args[0]
    if not _NAME_CHARACTERS.issuperset(name):
        raise CommandError(CLIENT_NAME_INVALID)
    session.name = name or None  # an empty name removes it
    return OK


# CLIENT GETNAME
@command("client|getname", 2, "noscript loading stale")
def cmd_client_getname(session, args):
    return session.name


# CLIENT ID
@command("client|id", 2, "noscript loading stale")
def cmd_client_id(session, args):
    return session.client_id


# CLIENT INFO
@command("client|info", 2, "noscript loading stale")
def cmd_client_info(session, args):
    age = (session.store.clock.ms() - session.created_ms) // 1000
    return (b"id=%d addr=?:0 laddr=?:0 fd=-1 name=%s age=%d idle=0 flags=N db=%d sub=0 psub=0 "
            b"ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 "
            b"omem=0 tot-mem=0 events= cmd=client|info user=default redir=-1 resp=2\n"
            % (session.client_id, session.name or b"", age, session.db))
