"""redis-py's client-side handling of expiry arguments (timedelta/datetime)."""
import datetime

from minikv.exceptions import DataError


def expire_flags(ex=None, px=None, exat=None, pxat=None):
    """The EX/PX/EXAT/PXAT words and values redis-py sends for SET and GETEX."""
    if ex is not None:
        if isinstance(ex, datetime.timedelta):
            return ["EX", int(ex.total_seconds())]
        if isinstance(ex, int):
            return ["EX", ex]
        if isinstance(ex, str) and ex.isdigit():
            return ["EX", int(ex)]
        raise DataError("ex must be datetime.timedelta or int")
    if px is not None:
        if isinstance(px, datetime.timedelta):
            return ["PX", int(px.total_seconds() * 1000)]
        if isinstance(px, int):
            return ["PX", px]
        raise DataError("px must be datetime.timedelta or int")
    if exat is not None:
        if isinstance(exat, datetime.datetime):
            exat = int(exat.timestamp())
        return ["EXAT", exat]
    if pxat is not None:
        if isinstance(pxat, datetime.datetime):
            pxat = int(pxat.timestamp() * 1000)
        return ["PXAT", pxat]
    return []


def seconds(value):
    return int(value.total_seconds()) if isinstance(value, datetime.timedelta) else value


def milliseconds(value):
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * 1000)
    return value


def unix_seconds(value):
    return int(value.timestamp()) if isinstance(value, datetime.datetime) else value


def unix_milliseconds(value):
    return int(value.timestamp() * 1000) if isinstance(value, datetime.datetime) else value


def condition_flags(nx, xx, gt, lt):
    """NX/XX/GT/LT words for the EXPIRE family, in redis-py's order."""
    return [word for word, on in (("NX", nx), ("XX", xx), ("GT", gt), ("LT", lt)) if on]


def list_or_args(keys, args):
    """redis-py's rule: a first argument that is a list/tuple holds the keys."""
    try:
        iter(keys)
        if isinstance(keys, (bytes, str, bytearray, memoryview)):
            keys = [keys]
        else:
            keys = list(keys)
    except TypeError:
        keys = [keys]
    if args:
        keys.extend(args)
    return keys
