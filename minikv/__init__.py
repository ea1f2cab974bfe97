"""minikv: Redis, embedded in a Python process.

``minikv.Redis()`` is a client with redis-py's methods, arguments, replies
and errors over an in-memory keyspace in this process: no server, no socket.
"""
from minikv import exceptions
from minikv.backend import BACKEND
from minikv.clock import ManualClock, SystemClock
from minikv.client import Redis, StrictRedis
from minikv.engine import (  # noqa: F401  (register commands)
    clients, hashes, keys, lists, memory, scripting, server, sets, sort, streams, strings,
    transactions, zsets,
)
# engine.pubsub under another name: ``minikv.pubsub`` is the PubSub module.
from minikv.engine import pubsub as _pubsub_commands  # noqa: F401  (register commands)
from minikv.engine.store import Store
from minikv.pubsub import PubSub, PubSubWorkerThread

__version__ = "0.1.0"
__all__ = ["Redis", "StrictRedis", "Store", "PubSub", "PubSubWorkerThread", "ManualClock",
           "SystemClock", "BACKEND", "exceptions", "__version__"]
