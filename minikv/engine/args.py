"""Argument parsing shared by the command modules, with Redis's errors."""
from minikv.engine.errors import CommandError, NOT_FLOAT, NOT_INTEGER, invalid_expire
from minikv.engine.numbers import INT64_MAX, parse_float, parse_int


def int_arg(data, error=NOT_INTEGER):
    value = parse_int(data)
    if value is None:
        raise CommandError(error)
    return value


def float_arg(data, error=NOT_FLOAT):
    value = parse_float(data)
    if value is None:
        raise CommandError(error)
    return value


def expire_ms(data, seconds, absolute, now, command):
    """Absolute expiry in ms for an EX/PX/EXAT/PXAT-style argument.

    Mirrors Redis's getExpireMillisecondsOrReply: the number must be an
    integer, positive, and neither the unit conversion nor adding ``now``
    may overflow int64.
    """
    value = int_arg(data)
    if value <= 0 or (seconds and value > INT64_MAX // 1000):
        raise CommandError(invalid_expire(command))
    if seconds:
        value *= 1000
    if not absolute:
        if value > INT64_MAX - now:
            raise CommandError(invalid_expire(command))
        value += now
    return value


def keyword(data):
    """Upper-cased option word for case-insensitive comparison."""
    return data.upper()
