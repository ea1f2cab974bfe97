"""Test doubles for code that builds its own redis-py clients.

``patch_redis()`` is a context manager and a decorator. While it is active,
every redis-py client the code under test constructs is a minikv client:

    with patch_redis() as fake:
        app = create_app()              # calls redis.Redis.from_url(...) inside
        app.test_client().get("/")
        assert fake.client().get("hits") == b"1"

Covered constructors: ``redis.Redis(...)`` / ``redis.StrictRedis(...)``,
``Redis.from_url`` / ``redis.from_url``, ``Redis.from_pool``,
``Redis(connection_pool=redis.ConnectionPool(...))`` (and
``ConnectionPool.from_url``, ``BlockingConnectionPool``),
``Redis.client()``, the same through ``redis.asyncio`` (when
``minikv.asyncio`` is available), and subclasses of those client classes.

Addresses: clients of the same server share one ``minikv.Store``, clients of
different servers do not. A server is ``(host, port)`` — the loopback names
``localhost``, ``127.0.0.1`` and ``::1`` are one host — or a unix socket
path; ``db`` selects the database within its server's store, as SELECT does.
``fake.store(host, port)`` is a server's store, ``fake.client(...)`` a plain
``minikv.Redis`` on it. Each activation starts with no servers: a fresh store
per address, made by ``store_factory()`` (default: ``Store(clock=clock)``, so
a ``minikv.ManualClock`` passed as ``clock`` drives every TTL).

How it works. The patch is not a name swap: ``redis.Redis.__new__`` (and
``redis.asyncio.Redis.__new__``) is hooked, so a ``from redis import Redis``
done long before the patch, a class stored in a library's attribute and
``type(client)(...)`` all reach it. While a patch is active, the hook
allocates a *stand-in*: a class deriving from both the minikv client and the
redis-py class. Python then runs the stand-in's ``__init__``: redis-py's own
``__init__`` runs first (on a scratch instance whose attributes the stand-in
adopts), so arguments are validated and a ``ConnectionPool`` is built exactly
as redis-py does, without connecting; host, port, path, db, encoding and
decode_responses are read back from the pool's ``connection_kwargs`` (one
code path for keyword arguments, URLs and pools), and the minikv side is
initialized on that server's store.

Because the stand-in *is* a ``redis.Redis``, ``isinstance`` checks in
libraries pass (python-redis-lock requires ``isinstance(client,
StrictRedis)``; Flask-Session silently replaces a client that is not a
``redis.Redis`` with a real one), ``client.connection_pool.connection_kwargs``
is there for libraries that read it (rq does), and ``type(client)(...)``
builds a sibling. minikv's methods come first in the method order; redis-py's
command methods minikv does not define still work when they only call
``execute_command`` (they then run on minikv too). For a subclass of
``redis.Redis`` the stand-in puts the subclass's own methods first, then
minikv's, then redis-py's. Pipelines of real clients (``redis.client.Pipeline``
derives from ``redis.Redis``) are never replaced.

Restoring. CPython cannot give a class back its inherited ``__new__`` once
one was assigned and deleted (the type keeps a slot that then rejects
constructor arguments), so the hook stays after the first activation; with
no patch active it only allocates the original class (one extra Python call
per client construction). Everything else is per activation: leaving the
block — normally or by an exception — stops replacing clients at once, and
clients made meanwhile keep working on their stores. Patches nest: the
innermost active one decides, with its own servers, and the outer one
resumes with its stores intact when it ends. The active patch is
process-wide (as ``unittest.mock.patch`` is): threads and event loops that
the code under test starts see it too.

Not covered: ``redis.RedisCluster``, ``redis.sentinel.Sentinel``, code that
takes connections out of a pool itself (``pool.get_connection()``), and
``MONITOR`` (the stand-in's ``monitor()`` raises). Clients constructed
before the patch stay real. A stand-in's ``pipeline()`` and ``pubsub()`` are
minikv's (not ``redis.client.Pipeline`` / ``PubSub`` instances), and replies
keep their RESP2 shapes whatever ``protocol=`` says, as ``minikv.Redis``'s do.
"""
import functools
import inspect
import os
import threading

import redis
from redis.client import Pipeline as _SyncPipeline

from minikv.client import Redis as EmbeddedRedis
from minikv.engine.store import Store

__all__ = ["patch_redis", "RedisPatch", "PatchedRedis", "server_address"]

# The loopback spellings that name this machine: one server, one store.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# The active patches, innermost last; guarded by _state_lock (also held
# while the __new__ hooks are installed).
_state_lock = threading.Lock()
_active_patches = []


def _innermost_patch():
    with _state_lock:
        return _active_patches[-1] if _active_patches else None


def server_address(connection_kwargs):
    """The server a redis-py ``ConnectionPool``'s ``connection_kwargs`` name:
    ``("unix", absolute_path)`` or ``(host, port)`` with loopback names
    folded into ``"localhost"``."""
    path = connection_kwargs.get("path")
    if path:
        return ("unix", os.path.abspath(os.fsdecode(path)))
    host = str(connection_kwargs.get("host") or "localhost").strip("[]").lower()
    if host in _LOOPBACK_HOSTS:
        host = "localhost"
    return (host, int(connection_kwargs.get("port") or 6379))


class RedisPatch:
    """One ``patch_redis()``: a registry of in-process servers, and the
    context manager / decorator that makes redis-py clients use it.

    ``store_factory()`` returns the ``minikv.Store`` of each new server
    address (called once per address and activation); without it a server
    is ``Store(clock=clock)``. Pass one or the other, not both.
    """

    def __init__(self, store_factory=None, clock=None):
        if store_factory is not None and clock is not None:
            raise ValueError("pass store_factory or clock, not both: a store_factory "
                             "builds its stores with the clock it wants")
        self.clock = clock
        self._store_factory = store_factory
        # address -> Store. An RLock: a store_factory may itself build clients.
        self._stores = {}
        self._stores_lock = threading.RLock()

    def __repr__(self):
        return f"<RedisPatch servers={sorted(self._stores, key=str)!r}>"

    # -- activation --------------------------------------------------------
    def __enter__(self):
        with _state_lock:
            if self in _active_patches:
                raise RuntimeError("this patch_redis() is already active; nest a new one")
            _install_hooks()
            with self._stores_lock:
                self._stores = {}
            _active_patches.append(self)
        return self

    def __exit__(self, *exc_info):
        with _state_lock:
            _active_patches.remove(self)
        # Stop the stores' expiry threads; they stay usable (and restart the
        # thread on the next TTL) for clients that outlive the block.
        with self._stores_lock:
            stores = list(self._stores.values())
        for store in stores:
            store.close()
        return False

    def __call__(self, func):
        """Decorate ``func`` (sync or ``async def``): each call runs inside a
        fresh activation of a patch with the same settings."""
        def fresh():
            return RedisPatch(self._store_factory, self.clock)

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def run_patched_coroutine(*args, **kwargs):
                with fresh():
                    return await func(*args, **kwargs)
            return run_patched_coroutine

        @functools.wraps(func)
        def run_patched(*args, **kwargs):
            with fresh():
                return func(*args, **kwargs)
        return run_patched

    # -- the servers -------------------------------------------------------
    def store(self, host="localhost", port=6379, *, unix_socket_path=None):
        """The store of a server address (created on first use): what
        clients created with that host and port (or socket path) share."""
        if unix_socket_path is not None:
            return self.store_at(server_address({"path": unix_socket_path}))
        return self.store_at(server_address({"host": host, "port": port}))

    def store_at(self, address):
        """The store of an address as ``server_address`` returns it."""
        with self._stores_lock:
            store = self._stores.get(address)
            if store is None:
                if self._store_factory is None:
                    store = Store(clock=self.clock)
                else:
                    store = self._store_factory()
                    if not isinstance(store, Store):
                        raise TypeError(f"store_factory returned {type(store).__name__}, "
                                        f"not a minikv.Store")
                self._stores[address] = store
            return store

    def client(self, host="localhost", port=6379, db=0, *, unix_socket_path=None, **kwargs):
        """A plain ``minikv.Redis`` on that server's store and ``db`` (for a
        test to seed or inspect what the code under test sees)."""
        return EmbeddedRedis(store=self.store(host, port, unix_socket_path=unix_socket_path),
                             db=db, **kwargs)


def patch_redis(store_factory=None, clock=None):
    """A ``RedisPatch``: ``with patch_redis(clock=clock) as fake: ...`` or
    ``@patch_redis()`` on a sync or async function (see the module
    docstring)."""
    return RedisPatch(store_factory, clock)


# -- stand-ins ---------------------------------------------------------------
def _initialize_stand_in(client, redis_class, embedded_class, args, kwargs):
    """Initialize a stand-in: redis-py's half as redis-py would, minikv's
    on the store of the server that half names.

    redis-py's ``__init__`` runs on a scratch instance of ``redis_class``
    (arguments checked and turned into a pool exactly as redis-py does; it
    never connects), whose attributes the stand-in adopts — except those
    the minikv class defines itself (the async client's
    ``response_callbacks`` is a read-only property).
    """
    patch = _innermost_patch()
    if patch is None:
        raise RuntimeError(f"{type(client).__name__} stands in for a redis-py client only "
                           f"while patch_redis() is active")
    # A single-connection client would connect in __init__; in-process every
    # client is its own connection anyway.
    kwargs["single_connection_client"] = False
    scratch = object.__new__(redis_class)
    redis_class.__init__(scratch, *args, **kwargs)
    state = dict(vars(scratch))
    # Emptied, the scratch's __del__ finds nothing to close (it would close
    # the pool the stand-in adopts).
    vars(scratch).clear()
    for name, value in state.items():
        if not hasattr(embedded_class, name):
            setattr(client, name, value)
    settings = client.connection_pool.connection_kwargs
    address = server_address(settings)
    db = settings.get("db") or 0
    embedded_class.__init__(client, db=db, store=patch.store_at(address),
                            encoding=settings.get("encoding", "utf-8"),
                            encoding_errors=settings.get("encoding_errors", "strict"),
                            decode_responses=bool(settings.get("decode_responses", False)))
    client._stands_in_for = (address, db)


def _describe(client):
    (host, port), db = client._stands_in_for
    where = f"unix:{port}" if host == "unix" else f"{host}:{port}"
    return f"<{type(client).__name__} (minikv stand-in) {where} db={db}>"


def _refuse_monitor(client):
    raise NotImplementedError("MONITOR is not available on a minikv stand-in "
                              "(minikv does not implement MONITOR)")


class PatchedRedis(EmbeddedRedis, redis.Redis):
    """What ``redis.Redis(...)`` returns under ``patch_redis()``: a
    ``minikv.Redis`` that is also a ``redis.Redis``."""

    def __init__(self, *args, **kwargs):
        _initialize_stand_in(self, redis.Redis, EmbeddedRedis, args, kwargs)

    # redis-py's URL parsing (minikv's own from_url ignores host and port).
    from_url = vars(redis.Redis)["from_url"]
    __repr__ = _describe
    monitor = _refuse_monitor


class _Family:
    """A redis-py client class, the stand-in that replaces it, and the class
    of its pipelines (which derive from it but are never replaced)."""

    def __init__(self, redis_class, embedded_class, stand_in, pipeline_class):
        self.redis_class = redis_class
        self.embedded_class = embedded_class
        self.stand_in = stand_in
        self.pipeline_class = pipeline_class
        # subclass of redis_class -> its stand-in; guarded by _state_lock
        self._stand_ins = {redis_class: stand_in}

    def stand_in_for(self, cls):
        with _state_lock:
            stand_in = self._stand_ins.get(cls)
            if stand_in is None:
                # (cls, stand_in): C3 puts cls's own methods first, then
                # minikv's, then redis-py's (cls's base) last.
                stand_in = self._stand_ins[cls] = type(
                    cls.__name__, (cls, self.stand_in),
                    {"__module__": cls.__module__, "__qualname__": cls.__qualname__})
            return stand_in

    def allocate(self, stand_in):
        """An uninitialized instance, from the minikv side's allocator (the
        compiled client's base has its own)."""
        return self.embedded_class.__new__(stand_in)

    def hook(self):
        """Install the ``__new__`` that hands out stand-ins while a patch is
        active (kept for good, see the module docstring)."""
        family = self

        def __new__(cls, *args, **kwargs):
            if issubclass(cls, family.stand_in):
                return family.allocate(cls)
            if not _active_patches or issubclass(cls, family.pipeline_class):
                return object.__new__(cls)
            return family.allocate(family.stand_in_for(cls))

        self.redis_class.__new__ = staticmethod(__new__)


def _async_family():
    """The redis.asyncio family, when minikv has an asyncio client."""
    try:
        from minikv.asyncio import Redis as EmbeddedAsyncRedis
    except ImportError:
        return None
    import redis.asyncio
    from redis.asyncio.client import Pipeline as AsyncPipeline

    class PatchedAsyncRedis(EmbeddedAsyncRedis, redis.asyncio.Redis):
        """What ``redis.asyncio.Redis(...)`` returns under ``patch_redis()``."""

        __qualname__ = "PatchedAsyncRedis"

        def __init__(self, *args, **kwargs):
            _initialize_stand_in(self, redis.asyncio.Redis, EmbeddedAsyncRedis, args, kwargs)

        from_url = vars(redis.asyncio.Redis)["from_url"]
        __repr__ = _describe
        monitor = _refuse_monitor

    return _Family(redis.asyncio.Redis, EmbeddedAsyncRedis, PatchedAsyncRedis, AsyncPipeline)


_families = []


def _install_hooks():
    """Hook the client classes once (called with _state_lock held)."""
    if _families:
        return
    _families.append(_Family(redis.Redis, EmbeddedRedis, PatchedRedis, _SyncPipeline))
    async_family = _async_family()
    if async_family is not None:
        _families.append(async_family)
    for family in _families:
        family.hook()
