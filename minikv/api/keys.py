"""Generic key commands with redis-py's signatures.

Arguments are shaped as redis-py shapes them (timedelta/datetime converted
client-side, NX/XX/GT/LT appended in redis-py's order). The hot paths —
``delete``, single-key ``exists``, ``expire`` with plain int seconds and no
flags, ``ttl`` — call the engine helpers directly under the store lock, the
same functions the command handlers call, and return what redis-py's
callbacks would (EXPIRE's reply as a bool).
"""
from minikv.api.expiry_args import (
    condition_flags, milliseconds, seconds, unix_milliseconds, unix_seconds,
)
from minikv.api.limits import write_under_limit
from minikv.engine.errors import CommandError
from minikv.engine.keys import count_existing, delete_keys, expire_key, expire_when, key_ttl
from minikv.engine.numbers import INT64_MAX, INT64_MIN
from minikv.exceptions import error_from_reply


class KeyCommands:
    __slots__ = ()

    # -- hot paths: straight to the engine, same rules as the handlers ----
    def delete(self, *names):
        if not names:
            return self.execute_command("DEL")  # Redis's arity error
        encode = self._encode
        keys = [name if name.__class__ is bytes else encode(name) for name in names]
        with self._lock:
            return delete_keys(self._session.ks, keys)

    def __delitem__(self, name):
        self.delete(name)

    def exists(self, *names):
        if len(names) != 1:
            return self.execute_command("EXISTS", *names, keys=names)
        name = names[0]
        key = name if name.__class__ is bytes else self._encode(name)
        with self._lock:
            return count_existing(self._session.ks, (key,))

    __contains__ = exists

    def expire(self, name, time, nx=False, xx=False, gt=False, lt=False):
        time = seconds(time)
        if nx or xx or gt or lt or time.__class__ is not int \
                or not INT64_MIN <= time <= INT64_MAX:
            return self.execute_command("EXPIRE", name, time,
                                        *condition_flags(nx, xx, gt, lt))
        key = name if name.__class__ is bytes else self._encode(name)
        try:
            with self._lock:
                now = self.store.clock.ms()
                when = expire_when(time, True, now, "expire")
                if self.store.memory is not None:  # maxmemory is set
                    return write_under_limit(self.store, False, expire_key, self._session.ks,
                                             key, when, now) == 1
                return expire_key(self._session.ks, key, when, now) == 1
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def ttl(self, name):
        key = name if name.__class__ is bytes else self._encode(name)
        with self._lock:
            return key_ttl(self._session.ks, key, self.store.clock.ms())

    # -- the rest: through execute_command, like redis-py ----------------
    def unlink(self, *names):
        return self.execute_command("UNLINK", *names)

    def type(self, name):
        return self.execute_command("TYPE", name, keys=[name])

    def pexpire(self, name, time, nx=False, xx=False, gt=False, lt=False):
        return self.execute_command("PEXPIRE", name, milliseconds(time),
                                    *condition_flags(nx, xx, gt, lt))

    def expireat(self, name, when, nx=False, xx=False, gt=False, lt=False):
        return self.execute_command("EXPIREAT", name, unix_seconds(when),
                                    *condition_flags(nx, xx, gt, lt))

    def pexpireat(self, name, when, nx=False, xx=False, gt=False, lt=False):
        return self.execute_command("PEXPIREAT", name, unix_milliseconds(when),
                                    *condition_flags(nx, xx, gt, lt))

    def pttl(self, name):
        return self.execute_command("PTTL", name)

    def expiretime(self, key):
        return self.execute_command("EXPIRETIME", key)

    def pexpiretime(self, key):
        return self.execute_command("PEXPIRETIME", key)

    def persist(self, name):
        return self.execute_command("PERSIST", name)

    def keys(self, pattern="*", **kwargs):
        return self.execute_command("KEYS", pattern, **kwargs)

    def scan(self, cursor=0, match=None, count=None, _type=None, **kwargs):
        pieces = [cursor]
        if match is not None:
            pieces += [b"MATCH", match]
        if count is not None:
            pieces += [b"COUNT", count]
        if _type is not None:
            pieces += [b"TYPE", _type]
        return self.execute_command("SCAN", *pieces, **kwargs)

    def scan_iter(self, match=None, count=None, _type=None, **kwargs):
        """Every key of a full SCAN iteration, one page at a time."""
        cursor = "0"
        while cursor != 0:
            cursor, keys = self.scan(cursor=cursor, match=match, count=count,
                                     _type=_type, **kwargs)
            yield from keys

    def rename(self, src, dst):
        return self.execute_command("RENAME", src, dst)

    def renamenx(self, src, dst):
        return self.execute_command("RENAMENX", src, dst)

    def copy(self, source, destination, destination_db=None, replace=False):
        pieces = [source, destination]
        if destination_db is not None:
            pieces += ["DB", destination_db]
        if replace:
            pieces.append("REPLACE")
        return self.execute_command("COPY", *pieces)

    def move(self, name, db):
        return self.execute_command("MOVE", name, db)

    def randomkey(self, **kwargs):
        return self.execute_command("RANDOMKEY", **kwargs)

    def touch(self, *args):
        return self.execute_command("TOUCH", *args)

    def object(self, infotype, key, **kwargs):
        return self.execute_command("OBJECT", infotype, key, infotype=infotype, **kwargs)
