"""Set commands with redis-py's signatures.

Arguments are built as redis-py builds them (list-or-args key lists,
SINTERCARD's always-sent LIMIT, SPOP/SRANDMEMBER's optional count), and the
replies go through redis-py's RESP2 shapes: SMEMBERS/SINTER/SUNION/SDIFF
become Python sets, SMOVE a bool, SSCAN a (cursor, list) pair; SISMEMBER and
SMISMEMBER stay 0/1 integers as in redis-py.

The hot paths — ``sadd``, ``srem`` and ``sismember`` with a single member
— call the engine helpers directly under the store lock, the same
functions the SADD/SREM/SISMEMBER handlers call; everything else goes
through ``execute_command``.

``sdiffcard`` and ``sunioncard`` exist in redis-py for Redis 8; Redis 7.0
answers them with "unknown command", and so does minikv.
"""
from minikv.api.expiry_args import list_or_args
from minikv.api.limits import write_under_limit
from minikv.engine.errors import CommandError
from minikv.engine.sets import add_member, is_member, remove_members
from minikv.exceptions import error_from_reply


class SetCommands:
    __slots__ = ()

    # -- hot paths: straight to the engine, same rules as the handlers ----
    def sadd(self, name, *values):
        if len(values) != 1:
            return self.execute_command("SADD", name, *values)
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        member = values[0]
        if member.__class__ is not bytes:
            member = encode(member)
        try:
            with self._lock:
                store = self.store
                if store.memory is not None:  # maxmemory is set
                    return write_under_limit(store, True, add_member, self._session.ks,
                                             store.config, key, member)
                return add_member(self._session.ks, store.config, key, member)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def srem(self, name, *values):
        if len(values) != 1:
            return self.execute_command("SREM", name, *values)
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        member = values[0]
        if member.__class__ is not bytes:
            member = encode(member)
        try:
            with self._lock:
                store = self.store
                if store.memory is not None:  # maxmemory is set
                    return write_under_limit(store, False, remove_members, self._session.ks,
                                             key, (member,))
                return remove_members(self._session.ks, key, (member,))
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def sismember(self, name, value):
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        member = value if value.__class__ is bytes else encode(value)
        try:
            with self._lock:
                return is_member(self._session.ks, key, member)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    # -- the rest: through execute_command, like redis-py ----------------
    def scard(self, name):
        return self.execute_command("SCARD", name, keys=[name])

    def smembers(self, name):
        return self.execute_command("SMEMBERS", name, keys=[name])

    def smismember(self, name, values, *args):
        members = list_or_args(values, args)
        return self.execute_command("SMISMEMBER", name, *members, keys=[name])

    def smove(self, src, dst, value):
        return self.execute_command("SMOVE", src, dst, value)

    def spop(self, name, count=None):
        args = [] if count is None else [count]
        return self.execute_command("SPOP", name, *args)

    def srandmember(self, name, number=None):
        args = [] if number is None else [number]
        return self.execute_command("SRANDMEMBER", name, *args)

    def sdiff(self, keys, *args):
        names = list_or_args(keys, args)
        return self.execute_command("SDIFF", *names, keys=names)

    def sdiffstore(self, dest, keys, *args):
        names = list_or_args(keys, args)
        return self.execute_command("SDIFFSTORE", dest, *names)

    def sinter(self, keys, *args):
        names = list_or_args(keys, args)
        return self.execute_command("SINTER", *names, keys=names)

    def sinterstore(self, dest, keys, *args):
        names = list_or_args(keys, args)
        return self.execute_command("SINTERSTORE", dest, *names)

    def sunion(self, keys, *args):
        names = list_or_args(keys, args)
        return self.execute_command("SUNION", *names, keys=names)

    def sunionstore(self, dest, keys, *args):
        names = list_or_args(keys, args)
        return self.execute_command("SUNIONSTORE", dest, *names)

    def sintercard(self, numkeys, keys, limit=0):
        return self.execute_command("SINTERCARD", numkeys, *keys, "LIMIT", limit, keys=keys)

    def sdiffcard(self, numkeys, keys, limit=0):
        return self.execute_command("SDIFFCARD", numkeys, *keys, "LIMIT", limit, keys=keys)

    def sunioncard(self, numkeys, keys, limit=0, approx=False):
        pieces = [numkeys, *keys]
        if approx:
            pieces.append("APPROX")
        pieces += ("LIMIT", limit)
        return self.execute_command("SUNIONCARD", *pieces, keys=keys)

    def sscan(self, name, cursor=0, match=None, count=None):
        pieces = [name, cursor]
        if match is not None:
            pieces += (b"MATCH", match)
        if count is not None:
            pieces += (b"COUNT", count)
        return self.execute_command("SSCAN", *pieces)

    def sscan_iter(self, name, match=None, count=None):
        cursor = "0"
        while cursor != 0:
            cursor, data = self.sscan(name, cursor=cursor, match=match, count=count)
            yield from data
