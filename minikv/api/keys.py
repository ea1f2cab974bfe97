"""Generic key commands with redis-py's signatures.

Arguments are shaped as redis-py shapes them (timedelta/datetime converted
client-side, NX/XX/GT/LT appended in redis-py's order). The hot paths —
``delete``, ``exists``, ``expire``, ``ttl`` — are ``FastPaths``' methods
(minikv/_pyclient.py, compiled in minikv/_core.pyx).
"""
from minikv.api.expiry_args import (
    condition_flags, milliseconds, unix_milliseconds, unix_seconds,
)


class KeyCommands:
    __slots__ = ()

    def __delitem__(self, name):
        self.delete(name)

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
