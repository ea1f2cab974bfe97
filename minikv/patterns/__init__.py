"""The classic Redis patterns, on an embedded minikv or a real Redis.

Each class takes a ``client`` that is a ``minikv.Redis`` or a redis-py
``redis.Redis`` and behaves the same on both: on a real Redis every
operation is one round trip (a Lua script or a single command); on the
embedded engine it runs natively under the store lock (patterns/_atomic.py).
"""
from minikv.patterns.broadcast import AsyncBroadcast, Broadcast
from minikv.patterns.cache import AsyncCache, Cache
from minikv.patterns.leaderboard import AsyncLeaderboard, Entry, Leaderboard
from minikv.patterns.lock import AsyncLock, AsyncSemaphore, Lock, Semaphore
from minikv.patterns.ratelimit import (AsyncCompositeLimiter, AsyncRateLimiter, CompositeLimiter,
                                       RateLimiter, RateLimitResult)
from minikv.patterns.sessions import AsyncSessionStore, SessionStore

__all__ = ["Broadcast", "AsyncBroadcast", "Cache", "Entry", "Leaderboard", "Lock",
           "Semaphore", "SessionStore",
           "RateLimiter", "RateLimitResult", "CompositeLimiter", "AsyncRateLimiter",
           "AsyncCompositeLimiter", "AsyncLeaderboard", "AsyncLock", "AsyncSemaphore",
           "AsyncCache", "AsyncSessionStore"]
