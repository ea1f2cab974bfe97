"""The client fast paths' writes while maxmemory is set.

A fast path calls its engine helper directly instead of going through
``dispatch``; while ``store.memory`` is set it calls
``write_under_limit(store, denyoom, helper, *args)`` instead, which applies
what ``dispatch`` applies around a command (engine/eviction.py's
``limited_write``: evict or refuse with OOM before, settle and evict after)
and raises the error redis-py would. Call it with the store lock held.
"""
from minikv.engine.errors import CommandError
from minikv.engine.eviction import limited_write
from minikv.exceptions import error_from_reply

__all__ = ["write_under_limit"]


def write_under_limit(store, denyoom, write, *args):
    try:
        return limited_write(store, denyoom, write, args)
    except CommandError as exc:
        raise error_from_reply(exc.text) from None
