"""Counting a client's round trips to its store, on either kind of client.

On redis-py every ``execute_command`` call is one request/reply (EVALSHA
included); so on redis.asyncio, where the call is recorded when it is made
and the coroutine it returns is handed back to be awaited. On minikv the
equivalent unit is one entry into the engine: a method call
(``execute_command``, ``run_atomically``, or a method with a direct fast
path) that is not nested in another counted call. The counter wraps those
methods on the instance and records the outermost calls' first argument
(the command name, or the atomic function's name).
"""
import threading

# minikv.Redis methods the session store calls (add a pattern's others here)
_EMBEDDED_ENTRY_POINTS = ("execute_command", "run_atomically", "pttl", "get")


class RoundTrips:
    def __init__(self, client, monkeypatch):
        self.calls = []
        self._depth = threading.local()
        embedded = type(client).__module__.startswith("minikv")
        for name in _EMBEDDED_ENTRY_POINTS if embedded else ("execute_command",):
            monkeypatch.setattr(client, name, self._wrap(name, getattr(client, name)))

    def _wrap(self, name, method):
        depth = self._depth

        def counted(*args, **kwargs):
            level = getattr(depth, "level", 0)
            if level == 0:
                first = args[0] if args else name
                self.calls.append(getattr(first, "__name__", first))
            depth.level = level + 1
            try:
                return method(*args, **kwargs)
            finally:
                depth.level = level
        return counted

    def __len__(self):
        return len(self.calls)

    def take(self):
        """The calls recorded so far, and start counting afresh."""
        calls, self.calls = self.calls, []
        return calls
