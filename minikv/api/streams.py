"""Stream commands with redis-py's signatures (no consumer groups yet).

Arguments are built as redis-py 8 builds them, with its client-side
``DataError``s: XADD's options in NOMKSTREAM, ref policy, IDMPAUTO/IDMP,
MAXLEN/MINID (``~`` unless ``approximate=False``), LIMIT order before the
ID; XTRIM's ``~`` for either strategy; COUNT only when given. Options of
later servers (ref policies, IDMP, XREAD's MAXCOUNT/MAXSIZE) are sent as
redis-py sends them, and refused by the engine as Redis 7.0 refuses them.
Replies take redis-py's RESP2 shapes (api/callbacks.py): XRANGE/XREVRANGE
a list of (id, {field: value}) tuples, XREAD a list of [key, entries],
XINFO STREAM a dict with its first and last entries as tuples.

``xread(..., block=ms)`` blocks the calling thread (other threads keep
running commands) until another client adds to one of the streams, and
returns ``[]`` on timeout.
"""
from minikv.exceptions import DataError

_REF_POLICIES = ("KEEPREF", "DELREF", "ACKED")


def _positive(value, message):
    if not isinstance(value, int) or value < 1:
        raise DataError(message)


def _trim_pieces(strategy, approximate, threshold):
    """MAXLEN/MINID [~] threshold, as XADD and XTRIM send it."""
    return [strategy, b"~", threshold] if approximate else [strategy, threshold]


def _range_pieces(command, first, second, count):
    """XRANGE's start end / XREVRANGE's end start, then COUNT when given."""
    pieces = [first, second]
    if count is not None:
        _positive(count, f"{command} count must be a positive integer")
        pieces += [b"COUNT", str(count)]
    return pieces


class StreamCommands:
    __slots__ = ()

    def xadd(self, name, fields, id="*", maxlen=None, approximate=True, nomkstream=False,
             minid=None, limit=None, ref_policy=None, idmpauto=None, idmp=None):
        if maxlen is not None and minid is not None:
            raise DataError("Only one of ```maxlen``` or ```minid``` may be specified")
        if idmpauto is not None and idmp is not None:
            raise DataError("Only one of ```idmpauto``` or ```idmp``` may be specified")
        if (idmpauto is not None or idmp is not None) and id != "*":
            raise DataError("IDMPAUTO and IDMP can only be used with id='*'")
        if ref_policy is not None and ref_policy not in _REF_POLICIES:
            raise DataError("XADD ref_policy must be one of: KEEPREF, DELREF, ACKED")
        pieces = []
        if nomkstream:
            pieces.append(b"NOMKSTREAM")
        if ref_policy is not None:
            pieces.append(ref_policy)
        if idmpauto is not None:
            pieces += [b"IDMPAUTO", idmpauto]
        if idmp is not None:
            if not isinstance(idmp, tuple) or len(idmp) != 2:
                raise DataError("XADD idmp must be a tuple of (producer_id, idempotent_id)")
            pieces += [b"IDMP", idmp[0], idmp[1]]
        if maxlen is not None:
            if not isinstance(maxlen, int) or maxlen < 0:
                raise DataError("XADD maxlen must be non-negative integer")
            pieces += _trim_pieces(b"MAXLEN", approximate, str(maxlen))
        if minid is not None:
            pieces += _trim_pieces(b"MINID", approximate, minid)
        if limit is not None:
            pieces += [b"LIMIT", limit]
        pieces.append(id)
        if not isinstance(fields, dict) or len(fields) == 0:
            raise DataError("XADD fields must be a non-empty dict")
        for pair in fields.items():
            pieces.extend(pair)
        return self.execute_command("XADD", name, *pieces)

    def xtrim(self, name, maxlen=None, approximate=True, minid=None, limit=None,
              ref_policy=None):
        if maxlen is not None and minid is not None:
            raise DataError("Only one of ``maxlen`` or ``minid`` may be specified")
        if maxlen is None and minid is None:
            raise DataError("One of ``maxlen`` or ``minid`` must be specified")
        if ref_policy is not None and ref_policy not in _REF_POLICIES:
            raise DataError("XTRIM ref_policy must be one of: KEEPREF, DELREF, ACKED")
        if maxlen is not None:
            pieces = _trim_pieces(b"MAXLEN", approximate, maxlen)
        else:
            pieces = _trim_pieces(b"MINID", approximate, minid)
        if limit is not None:
            pieces += [b"LIMIT", limit]
        if ref_policy is not None:
            pieces.append(ref_policy)
        return self.execute_command("XTRIM", name, *pieces)

    def xlen(self, name):
        return self.execute_command("XLEN", name, keys=[name])

    def xdel(self, name, *ids):
        return self.execute_command("XDEL", name, *ids)

    def xrange(self, name, min="-", max="+", count=None):
        pieces = _range_pieces("XRANGE", min, max, count)
        return self.execute_command("XRANGE", name, *pieces, keys=[name])

    def xrevrange(self, name, max="+", min="-", count=None):
        pieces = _range_pieces("XREVRANGE", max, min, count)
        return self.execute_command("XREVRANGE", name, *pieces, keys=[name])

    def xread(self, streams, count=None, block=None, max_count=None, max_size=None):
        pieces = []
        if block is not None:
            if not isinstance(block, int) or block < 0:
                raise DataError("XREAD block must be a non-negative integer")
            pieces += [b"BLOCK", str(block)]
        if count is not None:
            _positive(count, "XREAD count must be a positive integer")
            pieces += [b"COUNT", str(count)]
        if max_count is not None:
            _positive(max_count, "XREAD max_count must be a positive integer")
            if count is not None and max_count < count:
                raise DataError("XREAD max_count must be greater than or equal to count")
            pieces += [b"MAXCOUNT", str(max_count)]
        if max_size is not None:
            _positive(max_size, "XREAD max_size must be a positive integer")
            pieces += [b"MAXSIZE", str(max_size)]
        if not isinstance(streams, dict) or len(streams) == 0:
            raise DataError("XREAD streams must be a non empty dict")
        pieces.append(b"STREAMS")
        keys, ids = zip(*streams.items())
        pieces += keys
        pieces += ids
        return self.execute_command("XREAD", *pieces, keys=keys)

    def xinfo_stream(self, name, full=False):
        pieces = [name]
        options = {}
        if full:
            pieces.append(b"FULL")
            options = {"full": full}
        return self.execute_command("XINFO STREAM", *pieces, **options)
