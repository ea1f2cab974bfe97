"""One algorithm for a pattern's sync and async classes: flows over an I/O adapter.

A pattern operation that takes more than one round trip, or that waits
(``Cache.get_or_set``'s single-flight, ``Cache.clear``), is written once, as
a coroutine — a *flow* — that reaches the store only through an adapter.
(A single-round-trip operation needs no flow: its sync and async methods
share their request building and reply decoding and differ only in the one
call, plain or awaited — cheaper for the sync hot paths.) The adapter:

- ``await io.step(step, keys, args)``: one ``AtomicStep`` (patterns/_atomic.py);
- ``await io.command(name, *args, **kwargs)``: one client method (``"get"``, ``"scan"``...);
- ``await io.blocking(name, *args, **kwargs)``: a client method that may
  block until another client acts (BLPOP);
- ``await io.call(fn)``: the user's function (a computation to cache);
- ``io.flight_key(k)``, ``io.event()``, ``await io.wait(event)``: how callers
  of one process wait for each other (threads on a ``threading.Event``,
  tasks of one event loop on an ``asyncio.Event``).

Three adapters:

- ``BlockingIO``: a sync client (``minikv.Redis``, ``redis.Redis``) called
  from sync code. None of its coroutines ever suspends, so a flow over it
  runs to its end in one ``send`` (``run_inline``): the sync class calls
  ``run_inline(flow)`` and gets the flow's return value or exception, for
  well under a microsecond more than plain calls.
- ``ThreadedWaitIO``: a sync client used from a coroutine (``Cache.cached``
  on an ``async def``): commands run inline (µs embedded, one round trip on
  Redis), ``fn`` is awaited, and a blocking command runs in a worker thread
  so the event loop goes on.
- ``AsyncIO``: an asyncio client (``minikv.asyncio.Redis``,
  ``redis.asyncio.Redis``): everything is awaited; blocking commands wait
  on the loop (minikv.asyncio never blocks it; redis.asyncio awaits the
  socket). ``fn`` may be a plain function or return an awaitable.

Also here, for every pattern and integration: which kind a client is
(``is_async_client``, ``check_client_kind``), the private client a pattern
makes when given none (``new_embedded_client``), and how a coroutine calls
a sync client's operation (``call_sync``: inline when embedded, in a worker
thread otherwise).
"""
import asyncio
import functools
import inspect
import threading

__all__ = ["AsyncIO", "BlockingIO", "ThreadedWaitIO", "call_sync", "check_client_kind",
           "is_async_client", "new_embedded_client", "run_inline"]


def is_async_client(client):
    """True for an asyncio client (``minikv.asyncio.Redis``,
    ``redis.asyncio.Redis``): its ``execute_command`` is a coroutine function."""
    return inspect.iscoroutinefunction(getattr(client, "execute_command", None))


def check_client_kind(client, asynchronous, owner, twin):
    """A TypeError naming ``twin`` (the class for the other kind) unless
    ``client`` is an asyncio client exactly when ``asynchronous``."""
    if is_async_client(client) != asynchronous:
        kind = "an asyncio" if asynchronous else "a sync"
        raise TypeError(f"{owner} needs {kind} client; use {twin} with {client!r}")


def new_embedded_client(asynchronous, **options):
    """The private client of a pattern made without one: a new
    ``minikv.asyncio.Redis(**options)`` when ``asynchronous``, else a new
    ``minikv.Redis(**options)`` (each on a store of its own). Imported
    here, when needed: only async users load ``minikv.asyncio``."""
    if asynchronous:
        from minikv.asyncio import Redis
    else:
        from minikv.client import Redis
    return Redis(**options)


async def call_sync(embedded, fn, *args):
    """``fn(*args)`` — an operation of a sync client (``embedded``: a minikv
    one) — from a coroutine, without holding up the event loop: inline on
    minikv (microseconds under the store lock, nothing to wait for), in a
    worker thread (``asyncio.to_thread``) on a real Redis, so the loop goes
    on during the round trip."""
    if embedded:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def run_inline(flow):
    """The return value of a flow over ``BlockingIO`` (or its exception)."""
    try:
        flow.send(None)
    except StopIteration as done:
        return done.value
    flow.close()
    raise RuntimeError("a flow over a blocking client awaited something that suspends")


class BlockingIO:
    """A sync client, from sync code: every coroutine answers at once."""

    __slots__ = ("client",)

    def __init__(self, client):
        self.client = client

    async def step(self, step, keys, args):
        return step(self.client, keys, args)

    async def command(self, name, *args, **kwargs):
        return getattr(self.client, name)(*args, **kwargs)

    async def blocking(self, name, *args, **kwargs):
        return getattr(self.client, name)(*args, **kwargs)

    async def call(self, fn):
        return fn()

    def flight_key(self, key):
        return key  # one table for every thread of the process

    def event(self):
        return threading.Event()

    async def wait(self, event):
        event.wait()


class _LoopWaits:
    """Callers of one event loop wait for each other on an ``asyncio.Event``;
    each loop has its own flights (an ``asyncio.Event`` belongs to one loop)."""

    __slots__ = ()

    def flight_key(self, key):
        return asyncio.get_running_loop(), key

    def event(self):
        return asyncio.Event()

    async def wait(self, event):
        await event.wait()


class ThreadedWaitIO(_LoopWaits, BlockingIO):
    """A sync client, from a coroutine: blocking commands in a worker thread."""

    __slots__ = ()

    async def blocking(self, name, *args, **kwargs):
        method = functools.partial(getattr(self.client, name), *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(None, method)

    async def call(self, fn):
        return await fn()


class AsyncIO(_LoopWaits):
    """An asyncio client: every call is awaited."""

    __slots__ = ("client",)

    def __init__(self, client):
        self.client = client

    async def step(self, step, keys, args):
        return await step.run_async(self.client, keys, args)

    async def command(self, name, *args, **kwargs):
        return await getattr(self.client, name)(*args, **kwargs)

    blocking = command  # an asyncio client's blocking commands wait on the loop

    async def call(self, fn):
        value = fn()
        if inspect.isawaitable(value):
            value = await value
        return value
