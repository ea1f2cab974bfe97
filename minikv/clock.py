"""Clocks. Every part of minikv that reads time reads its store's clock.

A clock answers ``time()`` (float seconds since the Unix epoch), ``ms()``
(integer milliseconds, the unit expiries are kept in) and ``us()`` (integer
microseconds, TIME's reply: truncated as Redis's, and in step with ``ms()``
— a float would round). ``ManualClock`` only moves when told to, so tests of TTLs, rate
limits and sessions tick it instead of sleeping; stores subscribed to it run
their active-expiry cycle when it moves.
"""
import threading
import time
import weakref

from minikv.backend import wall_ms

__all__ = ["SystemClock", "ManualClock"]


class SystemClock:
    """Wall-clock time, the default."""

    __slots__ = ()

    @staticmethod
    def time():
        return time.time()

    # The backend's: a C call with the compiled core.
    ms = staticmethod(wall_ms)

    @staticmethod
    def us():
        return time.time_ns() // 1_000

    def subscribe(self, callback):
        """Wall time moves on its own; nobody needs to be told."""


class ManualClock:
    """A clock that stands still until ``advance()`` or ``set()``.

    >>> clock = ManualClock(start=1_000)
    >>> clock.advance(1.5)
    >>> clock.ms()
    1001500

    Time is kept in integer nanoseconds so that repeated ``advance(0.001)``
    never drifts by a float rounding error. Starts at the current wall time
    unless ``start`` (seconds since the epoch) is given. A timestamp given
    to ``start`` or ``set()`` is taken to the nearest microsecond: a float
    that large carries no finer digit (1.7e9 s is exact to ~0.2 µs), so
    ``ManualClock(start=1_700_000_000.001).ms()`` is ...001 as written.
    """

    __slots__ = ("_ns", "_lock", "_subscribers", "__weakref__")

    def __init__(self, start=None):
        self._ns = time.time_ns() if start is None else _timestamp_ns(start)
        self._lock = threading.Lock()
        self._subscribers = weakref.WeakSet()

    def time(self):
        return self._ns / 1_000_000_000

    def ms(self):
        return self._ns // 1_000_000

    def us(self):
        return self._ns // 1_000

    def advance(self, seconds):
        """Move time forward by ``seconds`` (float) and wake subscribers."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards; use set()")
        with self._lock:
            self._ns += round(seconds * 1_000_000_000)
        self._notify()

    def set(self, timestamp):
        """Jump to ``timestamp`` seconds since the epoch (either direction)."""
        with self._lock:
            self._ns = _timestamp_ns(timestamp)
        self._notify()

    def subscribe(self, callback):
        """Call ``callback.clock_moved()`` after every move (held weakly)."""
        self._subscribers.add(callback)

    def _notify(self):
        for subscriber in list(self._subscribers):
            subscriber.clock_moved()

    def __repr__(self):
        return f"ManualClock(start={self.time()!r})"


def _timestamp_ns(timestamp):
    """Seconds since the epoch (int or float) as ns, to the microsecond."""
    return round(timestamp * 1_000_000) * 1_000
