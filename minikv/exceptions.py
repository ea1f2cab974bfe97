"""minikv's exception tree, shaped like redis-py's.

When redis-py is importable every class here subclasses its namesake in
``redis.exceptions``, so ``except redis.exceptions.ResponseError`` catches
errors raised by minikv, and code written against redis-py keeps working
unchanged. Without redis-py the same tree stands on its own.
"""
try:
    from redis import exceptions as _redis_exceptions
except ImportError:  # redis-py is optional
    _redis_exceptions = None


def _bases(name, *own):
    """redis-py's namesake (when importable) first, then our own parents.

    Both matter: ``except redis.exceptions.X`` and ``except minikv.exceptions.
    RedisError`` must each catch every minikv error.
    """
    if _redis_exceptions is not None and hasattr(_redis_exceptions, name):
        return (getattr(_redis_exceptions, name),) + own
    return own


class RedisError(*_bases("RedisError", Exception)):
    pass


class ConnectionError(*_bases("ConnectionError", RedisError)):
    pass


class TimeoutError(*_bases("TimeoutError", RedisError)):
    pass


class ResponseError(*_bases("ResponseError", RedisError)):
    pass


class DataError(*_bases("DataError", RedisError)):
    pass


class PubSubError(*_bases("PubSubError", RedisError)):
    pass


class WatchError(*_bases("WatchError", RedisError)):
    pass


class NoScriptError(*_bases("NoScriptError", ResponseError)):
    pass


class OutOfMemoryError(*_bases("OutOfMemoryError", ResponseError)):
    pass


class ExecAbortError(*_bases("ExecAbortError", ResponseError)):
    pass


class ReadOnlyError(*_bases("ReadOnlyError", ResponseError)):
    pass


class NoPermissionError(*_bases("NoPermissionError", ResponseError)):
    pass


class BusyLoadingError(*_bases("BusyLoadingError", ConnectionError)):
    pass


class LockError(*_bases("LockError", RedisError, ValueError)):
    """As redis-py's: ``LockError(message, lock_name=None)``."""

    def __init__(self, message=None, lock_name=None):
        super().__init__(message)
        self.message = message
        self.lock_name = lock_name


class LockNotOwnedError(*_bases("LockNotOwnedError", LockError)):
    pass


# Mirror of how redis-py turns an error reply into an exception: the first
# word is the error code; known codes pick a class and are stripped from the
# message, "ERR" included; anything else stays whole in a ResponseError.
_ERROR_CODES = {
    "ERR": ResponseError,
    "OOM": OutOfMemoryError,
    "EXECABORT": ExecAbortError,
    "LOADING": BusyLoadingError,
    "NOSCRIPT": NoScriptError,
    "READONLY": ReadOnlyError,
    "NOPERM": NoPermissionError,
}


def error_from_reply(text):
    """Build the exception redis-py would raise for the error reply ``text``."""
    code = text.split(" ", 1)[0]
    cls = _ERROR_CODES.get(code)
    if cls is None:
        return ResponseError(text)
    exc = cls(text[len(code) + 1:])
    exc.status_code = code
    return exc


__all__ = [name for name, obj in globals().items()
           if isinstance(obj, type) and issubclass(obj, Exception)] + ["error_from_reply"]
