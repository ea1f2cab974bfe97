"""String commands with redis-py's signatures.

GET, SET and INCRBY are ``FastPaths``' methods (minikv/_pyclient.py,
compiled in minikv/_core.pyx); this module builds SET's argv for them and
for pipelines (``set_arguments``).
"""
import warnings

from minikv.api.expiry_args import expire_flags, list_or_args, milliseconds, seconds
from minikv.exceptions import DataError


# EX values this large could overflow Redis's int64 ms arithmetic; the
# handler path reports that with Redis's error.
MAX_FAST_EX = 10 ** 12


def _at_most_one(*flags):
    return sum(1 for flag in flags if flag) <= 1


def set_arguments(name, value, ex, px, nx, xx, keepttl, get, exat, pxat,
                  ifeq, ifne, ifdeq, ifdne):
    """SET's argv and callback options exactly as redis-py builds them."""
    if not _at_most_one(ex is not None, px is not None, exat is not None,
                        pxat is not None, keepttl):
        raise DataError("``ex``, ``px``, ``exat``, ``pxat``, "
                        "and ``keepttl`` are mutually exclusive.")
    if not _at_most_one(nx, xx, ifeq is not None, ifne is not None,
                        ifdeq is not None, ifdne is not None):
        raise DataError("``nx``, ``xx``, ``ifeq``, ``ifne``, ``ifdeq``, ``ifdne`` "
                        "are mutually exclusive.")
    pieces = [name, value]
    if nx:
        pieces.append("NX")
    elif xx:
        pieces.append("XX")
    elif ifeq is not None:
        pieces += ["IFEQ", ifeq]
    elif ifne is not None:
        pieces += ["IFNE", ifne]
    elif ifdeq is not None:
        pieces += ["IFDEQ", ifdeq]
    elif ifdne is not None:
        pieces += ["IFDNE", ifdne]
    options = {}
    if get:
        pieces.append("GET")
        options["get"] = True
    pieces += expire_flags(ex, px, exat, pxat)
    if keepttl:
        pieces.append("KEEPTTL")
    return pieces, options


class StringCommands:
    __slots__ = ()

    # -- hot paths: straight to the engine, same rules as the handlers ----
    def __getitem__(self, name):
        value = self.get(name)
        if value is not None:
            return value
        raise KeyError(name)

    def __setitem__(self, name, value):
        self.set(name, value)

    # -- the rest: through execute_command, like redis-py ----------------
    def decrby(self, name, amount=1):
        return self.execute_command("DECRBY", name, amount)

    decr = decrby

    def incrbyfloat(self, name, amount=1.0):
        return self.execute_command("INCRBYFLOAT", name, amount)

    def getex(self, name, ex=None, px=None, exat=None, pxat=None, persist=False):
        if not _at_most_one(ex is not None, px is not None, exat is not None,
                            pxat is not None, persist):
            raise DataError("``ex``, ``px``, ``exat``, ``pxat``, "
                            "and ``persist`` are mutually exclusive.")
        pieces = expire_flags(ex, px, exat, pxat)
        if persist:
            pieces.append("PERSIST")
        return self.execute_command("GETEX", name, *pieces)

    def getdel(self, name):
        return self.execute_command("GETDEL", name)

    def getset(self, name, value):
        return self.execute_command("GETSET", name, value)

    def mget(self, keys, *args):
        args = list_or_args(keys, args)
        options = {"keys": args}
        if not args:
            options["EMPTY_RESPONSE"] = []
        return self.execute_command("MGET", *args, **options)

    def mset(self, mapping):
        items = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("MSET", *items)

    def msetnx(self, mapping):
        items = []
        for pair in mapping.items():
            items.extend(pair)
        return self.execute_command("MSETNX", *items)

    def setnx(self, name, value):
        return self.execute_command("SETNX", name, value)

    def setex(self, name, time, value):
        warnings.warn("Call to deprecated setex. (Use 'set' instead.) "
                      "-- Deprecated since version 2.6.12.",
                      category=DeprecationWarning, stacklevel=2)
        return self.execute_command("SETEX", name, seconds(time), value)

    def psetex(self, name, time_ms, value):
        return self.execute_command("PSETEX", name, milliseconds(time_ms), value)

    def append(self, key, value):
        return self.execute_command("APPEND", key, value)

    def strlen(self, name):
        return self.execute_command("STRLEN", name)

    def getrange(self, key, start, end):
        return self.execute_command("GETRANGE", key, start, end, keys=[key])

    def substr(self, name, start, end=-1):
        return self.execute_command("SUBSTR", name, start, end, keys=[name])

    def setrange(self, name, offset, value):
        return self.execute_command("SETRANGE", name, offset, value)

    def lcs(self, key1, key2, len=False, idx=False, minmatchlen=0, withmatchlen=False):
        pieces = [key1, key2]
        if len:
            pieces.append("LEN")
        if idx:
            pieces.append("IDX")
        if minmatchlen is not None and minmatchlen != 0:
            pieces += ["MINMATCHLEN", minmatchlen]
        if withmatchlen:
            pieces.append("WITHMATCHLEN")
        return self.execute_command("LCS", *pieces, keys=[key1, key2])
