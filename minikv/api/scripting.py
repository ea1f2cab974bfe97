"""Scripting commands with redis-py's signatures, ``register_script`` and
``lock`` (needs the ``lua`` extra: ``pip install minikv[lua]``).

``register_script`` returns a ``Script`` that behaves like redis-py's:
calling it runs EVALSHA with its keys and args and, when the cache does not
know the sha (NOSCRIPT: never loaded, or SCRIPT FLUSH since), loads it with
SCRIPT LOAD and runs EVALSHA again. Called with a pipeline as ``client``, it
registers itself so that the pipeline loads it before executing, as redis-py
does. Libraries that ship Lua through this interface — redis-py's own
``Lock``, rate limiters, queues — run unchanged; ``get_encoder()`` is there
because they use it too.

``script_kill()`` does not wait for the store lock: the script it kills holds
that lock until it ends, so SCRIPT KILL is called from another thread and
must reach the running script directly (engine/scripting.py).
"""
import hashlib

from minikv.engine.errors import CommandError
from minikv.engine.scripting import kill_running_script
from minikv.exceptions import DataError, NoScriptError, error_from_reply

__all__ = ["Encoder", "Script", "ScriptingCommands"]

# The NOSCRIPT classes a Script falls back on: ours, and redis-py's when it
# is installed (a Script can be called with a redis.Redis as ``client``).
_NOSCRIPT_ERRORS = tuple(cls for cls in NoScriptError.__mro__ if cls.__name__ == "NoScriptError")


class Encoder:
    """redis-py's Encoder: arguments to bytes, replies to str on request."""

    __slots__ = ("encoding", "encoding_errors", "decode_responses")

    def __init__(self, encoding, encoding_errors, decode_responses):
        self.encoding = encoding
        self.encoding_errors = encoding_errors
        self.decode_responses = decode_responses

    def encode(self, value):
        """bytes-like values as they are; str, int and float as bytes."""
        if isinstance(value, (bytes, bytearray, memoryview)):
            return value
        if isinstance(value, bool):
            raise DataError("Invalid input of type: 'bool'. Convert to a "
                            "bytes, string, int or float first.")
        if isinstance(value, (int, float)):
            return repr(value).encode()
        if not isinstance(value, str):
            raise DataError(f"Invalid input of type: '{type(value).__name__}'. "
                            f"Convert to a bytes, string, int or float first.")
        return value.encode(self.encoding, self.encoding_errors)

    def decode(self, value, force=False):
        """bytes to str when the client decodes responses (or ``force``)."""
        if self.decode_responses or force:
            if isinstance(value, memoryview):
                value = value.tobytes()
            if isinstance(value, bytes):
                value = value.decode(self.encoding, self.encoding_errors)
        return value


class Script:
    """A Lua script bound to a client, called like redis-py's ``Script``:
    ``script(keys=[...], args=[...], client=None)``."""

    def __init__(self, registered_client, script):
        self.registered_client = registered_client
        self.script = script
        if isinstance(script, str):
            script = registered_client.get_encoder().encode(script)
        self.sha = hashlib.sha1(script).hexdigest()

    def __call__(self, keys=None, args=None, client=None):
        client, numkeys, keys_and_args = self._call_arguments(keys, args, client)
        try:
            return client.evalsha(self.sha, numkeys, *keys_and_args)
        except _NOSCRIPT_ERRORS:
            # Not in that server's cache (flushed, or another server):
            # load it, keeping the sha the server gives.
            self.sha = client.script_load(self.script)
            return client.evalsha(self.sha, numkeys, *keys_and_args)

    def _call_arguments(self, keys, args, client):
        """(client, numkeys, keys_and_args) of a call; a pipeline as
        ``client`` gets the script registered, to load it before executing.
        (Shared with minikv.asyncio's Script.)"""
        keys = keys or []
        args = args or []
        if client is None:
            client = self.registered_client
        pending = getattr(client, "scripts", None)
        if isinstance(pending, set):  # a pipeline: it loads its scripts first
            pending.add(self)
        return client, len(keys), tuple(keys) + tuple(args)


class ScriptingCommands:
    __slots__ = ()

    def eval(self, script, numkeys, *keys_and_args):
        """Run the Lua ``script`` with ``numkeys`` keys followed by args."""
        return self.execute_command("EVAL", script, numkeys, *keys_and_args)

    def eval_ro(self, script, numkeys, *keys_and_args):
        """EVAL for read-only scripts: write commands are refused."""
        return self.execute_command("EVAL_RO", script, numkeys, *keys_and_args)

    def evalsha(self, sha, numkeys, *keys_and_args):
        """Run a cached script by its sha1 (NoScriptError if unknown)."""
        return self.execute_command("EVALSHA", sha, numkeys, *keys_and_args)

    def evalsha_ro(self, sha, numkeys, *keys_and_args):
        """EVALSHA for read-only scripts."""
        return self.execute_command("EVALSHA_RO", sha, numkeys, *keys_and_args)

    def script_exists(self, *args):
        """[bool] per sha: is it in the script cache?"""
        return self.execute_command("SCRIPT EXISTS", *args)

    def script_flush(self, sync_type=None):
        """Empty the script cache (and reset the Lua state)."""
        if sync_type not in ["SYNC", "ASYNC", None]:
            raise DataError("SCRIPT FLUSH defaults to SYNC in redis > 6.2, or "
                            "accepts SYNC/ASYNC. For older versions, "
                            "of redis leave as None.")
        pieces = [] if sync_type is None else [sync_type]
        return self.execute_command("SCRIPT FLUSH", *pieces)

    def script_kill(self):
        """Kill the script another thread is running (it must not have
        written yet: UNKILLABLE otherwise; NOTBUSY when none runs)."""
        from minikv.pipeline import RoutedCommands  # it builds on the client
        if isinstance(self, RoutedCommands):
            # A pipeline, or a client inside MULTI, queues it as redis-py's.
            return self.execute_command("SCRIPT KILL")
        try:
            reply = kill_running_script(self.store)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        return self._finish("SCRIPT KILL", reply, {})

    def script_load(self, script):
        """Compile and cache ``script``; returns its sha1 (str)."""
        return self.execute_command("SCRIPT LOAD", script)

    def script_debug(self, *args):
        raise NotImplementedError("SCRIPT DEBUG is intentionally not implemented in the client.")

    def register_script(self, script):
        """A callable ``Script`` for ``script`` (see the module docstring)."""
        return Script(self, script)

    def get_encoder(self):
        """redis-py's encoder for this client's encoding settings."""
        return Encoder(self._encoding, self._encoding_errors, self._decode)

    def lock(self, name, timeout=None, sleep=0.1, blocking=True, blocking_timeout=None,
             lock_class=None, thread_local=True, raise_on_release_error=True):
        """A lock on key ``name`` as redis-py's ``Redis.lock`` makes it:
        ``lock_class`` (default: redis-py's ``redis.lock.Lock``, which runs
        on minikv's scripting)."""
        if lock_class is None:
            try:
                from redis.lock import Lock as lock_class
            except ImportError:
                raise ImportError("Redis.lock() uses redis-py's Lock class: install redis-py "
                                  "or pass lock_class=") from None
        return lock_class(self, name, timeout=timeout, sleep=sleep, blocking=blocking,
                          blocking_timeout=blocking_timeout, thread_local=thread_local,
                          raise_on_release_error=raise_on_release_error)
