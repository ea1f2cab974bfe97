"""List commands with redis-py's signatures, blocking pops included.

Arguments are built as redis-py builds them (BLPOP's list-or-args keys with
the timeout appended, a ``None`` timeout sent as 0, LMPOP's COUNT only when
it is not 1 while BLMPOP always sends it, LPOS's options in RANK, COUNT,
MAXLEN order). The hot paths — pushes and LPOP/RPOP — are ``FastPaths``'
methods (minikv/_pyclient.py, compiled in minikv/_core.pyx); LLEN calls its
engine helper directly under the store lock.
Everything else goes through ``execute_command`` and the RESP2 callbacks.

A blocking call blocks the calling thread (the store lock is released while
it waits, so other threads keep running commands), returns ``None`` on
timeout, and is woken by pushes from other threads or other clients of the
same store.
"""
from minikv.api.expiry_args import list_or_args
from minikv.engine.errors import CommandError
from minikv.engine.lists import list_length
from minikv.exceptions import error_from_reply


class ListCommands:
    __slots__ = ()

    # -- hot paths: straight to the engine, same rules as the handlers ----
    def llen(self, name):
        key = name if name.__class__ is bytes else self._encode(name)
        try:
            with self._lock:
                return list_length(self._session.ks, key)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    # -- the rest: through execute_command, like redis-py ----------------
    def lpushx(self, name, *values):
        return self.execute_command("LPUSHX", name, *values)

    def rpushx(self, name, *values):
        return self.execute_command("RPUSHX", name, *values)

    def lrange(self, name, start, end):
        return self.execute_command("LRANGE", name, start, end, keys=[name])

    def lindex(self, name, index):
        return self.execute_command("LINDEX", name, index, keys=[name])

    def lset(self, name, index, value):
        return self.execute_command("LSET", name, index, value)

    def linsert(self, name, where, refvalue, value):
        return self.execute_command("LINSERT", name, where, refvalue, value)

    def lrem(self, name, count, value):
        return self.execute_command("LREM", name, count, value)

    def ltrim(self, name, start, end):
        return self.execute_command("LTRIM", name, start, end)

    def lpos(self, name, value, rank=None, count=None, maxlen=None):
        pieces = [name, value]
        if rank is not None:
            pieces += ["RANK", rank]
        if count is not None:
            pieces += ["COUNT", count]
        if maxlen is not None:
            pieces += ["MAXLEN", maxlen]
        return self.execute_command("LPOS", *pieces, keys=[name])

    def lmove(self, first_list, second_list, src="LEFT", dest="RIGHT"):
        return self.execute_command("LMOVE", first_list, second_list, src, dest)

    def rpoplpush(self, src, dst):
        return self.execute_command("RPOPLPUSH", src, dst)

    def lmpop(self, num_keys, *args, direction, count=1):
        pieces = [num_keys, *args, direction]
        if count != 1:
            pieces += ["COUNT", count]
        return self.execute_command("LMPOP", *pieces)

    # -- blocking ------------------------------------------------------------
    def blpop(self, keys, timeout=0):
        keys = list_or_args(keys, None)
        keys.append(0 if timeout is None else timeout)
        return self.execute_command("BLPOP", *keys)

    def brpop(self, keys, timeout=0):
        keys = list_or_args(keys, None)
        keys.append(0 if timeout is None else timeout)
        return self.execute_command("BRPOP", *keys)

    def blmove(self, first_list, second_list, timeout, src="LEFT", dest="RIGHT"):
        return self.execute_command("BLMOVE", first_list, second_list, src, dest, timeout)

    def brpoplpush(self, src, dst, timeout=0):
        return self.execute_command("BRPOPLPUSH", src, dst, 0 if timeout is None else timeout)

    def blmpop(self, timeout, numkeys, *args, direction, count=1):
        return self.execute_command("BLMPOP", timeout, numkeys, *args, direction, "COUNT", count)
