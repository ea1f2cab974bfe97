"""Hash commands with redis-py's signatures.

Arguments are built as redis-py builds them (HSET's items/key/mapping order,
HMGET's list-or-args, HSCAN's NOVALUES flag), including redis-py's
client-side DataErrors; ``hset_arguments`` serves the fast path's other
forms and pipelines. The hot paths — ``hget`` and ``hset`` — are
``FastPaths``' methods (minikv/_pyclient.py, compiled in minikv/_core.pyx);
everything else goes through ``execute_command`` and the RESP2 callbacks.
"""
import warnings

from minikv.api.expiry_args import list_or_args
from minikv.exceptions import DataError

__all__ = ["HashCommands", "hset_arguments"]


def hset_arguments(key, value, mapping, items):
    """HSET's field/value arguments as redis-py builds them: ``items``,
    then ``key``/``value``, then ``mapping``'s pairs (DataError if none)."""
    if key is None and not mapping and not items:
        raise DataError("'hset' with no key value pairs")
    pieces = list(items) if items else []
    if key is not None:
        pieces += (key, value)
    if mapping:
        for pair in mapping.items():
            pieces.extend(pair)
    return pieces


class HashCommands:
    __slots__ = ()

    # The hot paths are minikv._pyclient.FastPaths' (compiled: _core.pyx).
    def hmset(self, name, mapping):
        warnings.warn("Call to deprecated hmset. (Use 'hset' instead.) "
                      "-- Deprecated since version 4.0.0.",
                      category=DeprecationWarning, stacklevel=2)
        if not mapping:
            raise DataError("'hmset' with 'mapping' of length 0")
        items = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("HMSET", name, *items)

    def hsetnx(self, name, key, value):
        return self.execute_command("HSETNX", name, key, value)

    def hmget(self, name, keys, *args):
        fields = list_or_args(keys, args)
        return self.execute_command("HMGET", name, *fields, keys=[name])

    def hgetall(self, name):
        return self.execute_command("HGETALL", name, keys=[name])

    def hdel(self, name, *keys):
        return self.execute_command("HDEL", name, *keys)

    def hexists(self, name, key):
        return self.execute_command("HEXISTS", name, key, keys=[name])

    def hlen(self, name):
        return self.execute_command("HLEN", name, keys=[name])

    def hkeys(self, name):
        return self.execute_command("HKEYS", name, keys=[name])

    def hvals(self, name):
        return self.execute_command("HVALS", name, keys=[name])

    def hstrlen(self, name, key):
        return self.execute_command("HSTRLEN", name, key, keys=[name])

    def hincrby(self, name, key, amount=1):
        return self.execute_command("HINCRBY", name, key, amount)

    def hincrbyfloat(self, name, key, amount=1.0):
        return self.execute_command("HINCRBYFLOAT", name, key, amount)

    def hrandfield(self, key, count=None, withvalues=False):
        params = []
        if count is not None:
            params.append(count)
        if withvalues:
            params.append("WITHVALUES")
        return self.execute_command("HRANDFIELD", key, *params, withvalues=withvalues)

    def hscan(self, name, cursor=0, match=None, count=None, no_values=None):
        pieces = [name, cursor]
        if match is not None:
            pieces += (b"MATCH", match)
        if count is not None:
            pieces += (b"COUNT", count)
        # redis-py sends NOVALUES whenever no_values is given, even False.
        if no_values is not None:
            pieces.append(b"NOVALUES")
        return self.execute_command("HSCAN", *pieces, no_values=no_values)

    def hscan_iter(self, name, match=None, count=None, no_values=None):
        cursor = "0"
        while cursor != 0:
            cursor, data = self.hscan(name, cursor=cursor, match=match, count=count,
                                      no_values=no_values)
            if no_values:
                yield from data
            else:
                yield from data.items()
