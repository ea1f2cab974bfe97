"""One atomic step of a pattern, on either kind of client.

A pattern operation (a rate-limit hit, a session field update) must be one
indivisible step. On a real Redis (a ``redis.Redis``) that is one EVALSHA of
a Lua script — one round trip, run by the server without interleaving. On
the embedded engine (a ``minikv.Redis``) the same step is a Python function
run with the store lock held (``Redis.run_atomically``, engine/atomic.py):
no Lua runtime needed, and no script parsing on the hot path.

``AtomicStep(lua, native)`` pairs the two. The Lua text and the Python
function implement the same algorithm; the pattern test suites run every
behaviour on both kinds of client, which is what keeps them in step. The
Python function receives ``(context, keys, args)`` — ``context.call(*argv)``
runs a command and returns its raw reply, ``context.now_ms`` is the frozen
time of the step — and returns what the Lua script returns, in the shape
redis-py gives a script's reply (bytes, int, None, lists), so the caller
decodes one shape.

``await step.run_async(client, keys, args)`` is the same step for the
asyncio clients: ``minikv.asyncio.Redis`` runs the native function inline
(it never waits, so there is nothing to hand to a thread), and
``redis.asyncio.Redis`` runs the script with redis-py's ``AsyncScript``.

Helpers several patterns' steps share are here too, each a Lua function to
prepend to a script and its native twin: ``now_ms()`` (the server's clock;
natively ``context.now_ms``) and ``keep_alive``.
"""
from minikv.client import Redis as EmbeddedRedis

__all__ = ["AtomicStep", "LUA_KEEP_ALIVE", "LUA_NOW_MS", "is_embedded", "is_embedded_async",
           "keep_alive"]

LUA_NOW_MS = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

LUA_KEEP_ALIVE = """
-- a key lives at least ms more (a key with no TTL gets one)
local function keep_alive(key, ms)
  if redis.call('PTTL', key) < ms then redis.call('PEXPIRE', key, ms) end
end
"""


def keep_alive(call, key, ms):
    """LUA_KEEP_ALIVE's ``keep_alive`` in a native step (``call``: its
    ``context.call``): ``key`` lives at least ``ms`` more."""
    if call("PTTL", key) < ms:
        call("PEXPIRE", key, ms)


def is_embedded(client):
    """True for a minikv client (sync), which runs steps natively."""
    return isinstance(client, EmbeddedRedis)


def is_embedded_async(client):
    """True for a ``minikv.asyncio.Redis``, which runs steps natively."""
    from minikv.asyncio import Redis as AsyncEmbeddedRedis  # only async users load it
    return isinstance(client, AsyncEmbeddedRedis)


class AtomicStep:
    __slots__ = ("lua", "native", "_script", "_async_script")

    def __init__(self, lua, native):
        self.lua = lua
        self.native = native
        self._script = None
        self._async_script = None

    def __call__(self, client, keys=(), args=()):
        if isinstance(client, EmbeddedRedis):
            return client.run_atomically(self.native, keys, args)
        script = self._script
        if script is None:
            # redis-py's Script: EVALSHA, loading the body once on NOSCRIPT;
            # bound to no client in particular (``client=`` per call).
            script = self._script = client.register_script(self.lua)
        return script(keys=list(keys), args=list(args), client=client)

    async def run_async(self, client, keys=(), args=()):
        """The step on an asyncio client: natively on a ``minikv.asyncio.Redis``
        (inline: a step never waits), one EVALSHA on a ``redis.asyncio.Redis``.
        Same reply shapes as ``__call__``."""
        from minikv.asyncio import Redis as AsyncEmbeddedRedis  # only async users load it
        if isinstance(client, AsyncEmbeddedRedis):
            return await client.run_atomically(self.native, keys, args)
        script = self._async_script
        if script is None:
            script = self._async_script = client.register_script(self.lua)
        return await script(keys=list(keys), args=list(args), client=client)
