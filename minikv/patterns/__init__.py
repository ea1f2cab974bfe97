"""The classic Redis patterns, on an embedded minikv or a real Redis.

Each class takes a ``client`` that is a ``minikv.Redis`` or a redis-py
``redis.Redis`` and behaves the same on both: on a real Redis every
operation is one round trip (a Lua script or a single command); on the
embedded engine it runs natively under the store lock (patterns/_atomic.py).
"""
from minikv.patterns.cache import Cache
from minikv.patterns.sessions import SessionStore

__all__ = ["Cache", "SessionStore"]
