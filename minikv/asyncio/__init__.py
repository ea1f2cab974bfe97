"""minikv for asyncio: ``minikv.asyncio.Redis`` mirrors ``redis.asyncio.Redis``.

>>> import minikv.asyncio
>>> r = minikv.asyncio.Redis()          # or Redis(store=sync_client.store)

Commands are awaited (``await r.get("k")``) and run inline: no threads.
Blocking commands (BLPOP & co.) and pub/sub reads wait on the event loop
for a wake-up that any thread or loop can send, and are safe to cancel —
see minikv/asyncio/waiting.py. Modules: ``client`` (Redis),
``pipeline`` (Pipeline), ``pubsub`` (PubSub), ``waiting``.
"""
from minikv.asyncio.client import Redis, Script, StrictRedis
from minikv.asyncio.pipeline import Pipeline
from minikv.asyncio.pubsub import PubSub

__all__ = ["Redis", "StrictRedis", "Pipeline", "PubSub", "Script"]
