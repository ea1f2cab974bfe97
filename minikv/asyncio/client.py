"""``minikv.asyncio.Redis``: redis.asyncio's client API over a minikv store.

>>> import asyncio, minikv.asyncio
>>> async def main():
...     async with minikv.asyncio.Redis() as r:
...         await r.set("greeting", "hello")
...         return await r.get("greeting")
>>> asyncio.run(main())
b'hello'

Every command method of ``minikv.Redis`` exists here as a coroutine with the
same signature and the same reply; ``scan_iter`` and its siblings are async
iterators, as in redis.asyncio. The methods are generated from the sync
client's (``_command_method``): each calls the sync method of a private
``LoopSideClient`` inline, in the coroutine. A command that does not block
takes microseconds under the store lock — handing it to a thread would cost
more than running it — so nothing here touches a thread pool.

A command that blocks (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
BZPOPMAX, BZMPOP) never blocks the event loop: the client's session defers
its waits (engine/blocking.py's ``defer_blocking``), so the command returns
a ``Blocked`` reply at once, and the coroutine awaits the wake-up that the
push — from any thread or event loop — sends to its loop; see
minikv/asyncio/waiting.py for the waiting, the timeouts and the exact
guarantee when such a call is cancelled.

Stores are shared both ways: ``minikv.asyncio.Redis(store=r.store)`` and
``minikv.Redis(store=a.store)``. The constructor takes ``minikv.Redis``'s
arguments (``db``, ``decode_responses``, ``encoding``, ``clock``,
``maxmemory``...; redis-py's connection arguments are accepted and
ignored). ``pipeline()`` (minikv/asyncio/pipeline.py), ``pubsub()``
(minikv/asyncio/pubsub.py), ``transaction()``, ``register_script()`` and
``lock()`` (redis-py's ``redis.asyncio.lock.Lock``, which runs on the
scripting commands, as the sync client's ``lock()`` runs redis-py's
``Lock``) follow redis.asyncio.
"""
import asyncio
import functools
import inspect
import warnings

from minikv.api.scripting import _NOSCRIPT_ERRORS
from minikv.api.scripting import Script as SyncScript
from minikv.asyncio.waiting import loop_deferral, wait_for_reply
from minikv.client import Redis as SyncRedis
from minikv.engine.errors import CommandError
from minikv.exceptions import WatchError, error_from_reply

__all__ = ["Redis", "StrictRedis", "Blocked", "LoopSide", "LoopSideClient", "Script"]


class Blocked:
    """The reply of a command that blocked: ``await blocked.wait()`` gives
    its final reply, shaped by the client's decoding and callbacks."""

    __slots__ = ("client", "argv", "waiter", "command_name", "options")

    def __init__(self, client, argv, waiter, command_name, options):
        self.client = client
        self.argv = argv
        self.waiter = waiter
        self.command_name = command_name
        self.options = options

    async def wait(self):
        client = self.client
        try:
            reply = await wait_for_reply(client.store, self.waiter, self.argv)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        return client._finish(self.command_name, reply, self.options)


class LoopSide:
    """What makes a sync client (or pipeline) the one behind an async one:
    its session defers blocked calls to the event loop, and a command that
    blocks returns a ``Blocked`` (minikv.Redis.execute_command's hook)."""

    __slots__ = ()

    def _defer_to_loop(self):
        self._session.defer_blocking = loop_deferral(self.store.blocked)

    def _blocked(self, argv, waiter, command_name, options):
        return Blocked(self, argv, waiter, command_name, options)


class LoopSideClient(LoopSide, SyncRedis):
    """The synchronous client behind an async one: same store, same
    database, but its blocked calls are awaited on the event loop."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._defer_to_loop()


class Script(SyncScript):
    """redis.asyncio's ``AsyncScript``: ``await script(keys, args, client)``.

    Runs EVALSHA; on NOSCRIPT loads the script and runs it again. With a
    pipeline as ``client`` it registers itself so that the pipeline loads
    it before executing, and queues the call.
    """

    async def __call__(self, keys=None, args=None, client=None):
        client, numkeys, keys_and_args = self._call_arguments(keys, args, client)
        try:
            return await client.evalsha(self.sha, numkeys, *keys_and_args)
        except _NOSCRIPT_ERRORS:
            self.sha = await client.script_load(self.script)
            return await client.evalsha(self.sha, numkeys, *keys_and_args)


# Public members of minikv.Redis that are not commands. (What the async
# classes define themselves is not generated either.)
_NOT_GENERATED = frozenset((
    "close", "execute_command", "from_url", "get_encoder", "lock", "pipeline", "pubsub",
    "register_script", "set_response_callback", "store", "transaction",
))


def command_names():
    """The public command methods of ``minikv.Redis`` that the async classes
    generate: (name, sync function, is a generator) triples."""
    names = []
    for name in dir(SyncRedis):
        if name.startswith("_") or name in _NOT_GENERATED:
            continue
        static = inspect.getattr_static(SyncRedis, name)
        if isinstance(static, (classmethod, staticmethod, property)) or not callable(static):
            continue
        function = getattr(SyncRedis, name)
        names.append((name, function, inspect.isgeneratorfunction(function)))
    return names


def describe(method, name, sync_function, owner):
    """Name, docstring and signature of ``sync_function`` on a generated method."""
    functools.update_wrapper(method, sync_function)
    method.__module__ = owner.__module__
    method.__qualname__ = f"{owner.__name__}.{name}"
    return method


def _command_method(name):
    async def method(self, *args, **kwargs):
        reply = getattr(self._client, name)(*args, **kwargs)
        if reply.__class__ is Blocked:
            return await reply.wait()
        return reply
    return method


def _iterator_method(name):
    async def method(self, *args, **kwargs):
        for item in getattr(self._client, name)(*args, **kwargs):
            yield item
    return method


class Redis:
    """An embedded Redis with redis.asyncio's API (see the module docstring).

    Takes ``minikv.Redis``'s arguments; ``store=`` shares a store with any
    other minikv client, sync or async.
    """

    def __init__(self, *args, auto_close_connection_pool=None, **kwargs):
        # auto_close_connection_pool: a redis.asyncio argument, meaningless here
        self._client = LoopSideClient(*args, **kwargs)
        self.store = self._client.store

    @classmethod
    def from_url(cls, url, **kwargs):
        """Accept a redis:// URL; only its db (and decode_responses) matter."""
        return SyncRedis.from_url.__func__(cls, url, **kwargs)

    def __repr__(self):
        return f"<minikv.asyncio.Redis db={self._client._session.db} store={id(self.store):#x}>"

    # -- lifecycle ----------------------------------------------------------
    def __await__(self):
        return self.initialize().__await__()

    async def initialize(self):
        return self

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.aclose()

    async def aclose(self, close_connection_pool=None):
        """Release the client; a private store stops its background thread."""
        self._client.close()

    async def close(self, close_connection_pool=None):
        """Deprecated alias of ``aclose()``, as in redis.asyncio."""
        warnings.warn("Call to deprecated close. (Use aclose() instead) -- Deprecated since "
                      "version 5.0.1.", DeprecationWarning, stacklevel=2)
        await self.aclose()

    # -- settings -------------------------------------------------------------
    @property
    def response_callbacks(self):
        return self._client.response_callbacks

    def set_response_callback(self, command, callback):
        self._client.set_response_callback(command, callback)

    def get_encoder(self):
        return self._client.get_encoder()

    # -- commands ---------------------------------------------------------------
    async def execute_command(self, *args, **options):
        """Run any command by name: ``await r.execute_command("SET", "k", "v")``."""
        reply = self._client.execute_command(*args, **options)
        if reply.__class__ is Blocked:
            return await reply.wait()
        return reply

    def register_script(self, script):
        """An awaitable ``Script`` for ``script``: ``await script(keys, args)``."""
        return Script(self, script)

    def lock(self, name, timeout=None, sleep=0.1, blocking=True, blocking_timeout=None,
             lock_class=None, thread_local=True, raise_on_release_error=True):
        """A lock on key ``name``: ``lock_class``, by default redis-py's
        ``redis.asyncio.lock.Lock`` (it runs on minikv's scripting)."""
        if lock_class is None:
            try:
                from redis.asyncio.lock import Lock as lock_class
            except ImportError:
                raise ImportError("Redis.lock() uses redis-py's asyncio Lock class: install "
                                  "redis-py or pass lock_class=") from None
        return lock_class(self, name, timeout=timeout, sleep=sleep, blocking=blocking,
                          blocking_timeout=blocking_timeout, thread_local=thread_local,
                          raise_on_release_error=raise_on_release_error)

    # -- pipelines, transactions, pub/sub ----------------------------------------
    def pipeline(self, transaction=True, shard_hint=None):
        """A ``minikv.asyncio.Pipeline``: commands queue at once, ``await
        pipe.execute()`` runs them (MULTI/EXEC unless ``transaction=False``)."""
        from minikv.asyncio.pipeline import Pipeline  # it builds on this module
        return Pipeline(self, transaction, shard_hint)

    async def transaction(self, func, *watches, shard_hint=None, value_from_callable=False,
                          watch_delay=None):
        """Call ``func(pipe)`` (a function or a coroutine function) and
        execute the pipeline, WATCHing ``watches``; start over on WatchError."""
        async with self.pipeline(True, shard_hint) as pipe:
            while True:
                try:
                    if watches:
                        await pipe.watch(*watches)
                    func_value = func(pipe)
                    if inspect.isawaitable(func_value):
                        func_value = await func_value
                    exec_value = await pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        await asyncio.sleep(watch_delay)

    def pubsub(self, **kwargs):
        """A ``minikv.asyncio.PubSub`` on this client's store."""
        from minikv.asyncio.pubsub import PubSub  # it builds on this module
        return PubSub(self._client, **kwargs)


for _name, _function, _is_generator in command_names():
    if _name not in vars(Redis):
        _make = _iterator_method if _is_generator else _command_method
        setattr(Redis, _name, describe(_make(_name), _name, _function, Redis))
del _name, _function, _is_generator, _make

StrictRedis = Redis
