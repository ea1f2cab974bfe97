"""The one place that picks the backend: keyspace, score index, fast paths.

The compiled ``minikv._core`` is used when it was built and ``MINIKV_PURE``
is not "1"; otherwise the pure-Python twin ``minikv._pycore``. Both export
the same names, so nothing else in minikv knows which one runs.
"""
import os

if os.environ.get("MINIKV_PURE") == "1":
    from minikv._pycore import Keyspace, StoreLock, wall_ms
    BACKEND = "pure"
else:
    try:
        from minikv._core import Keyspace, StoreLock, wall_ms
        BACKEND = "compiled"
    except ImportError:
        from minikv._pycore import Keyspace, StoreLock, wall_ms
        BACKEND = "pure"

# The ordered index of sorted sets (see minikv/_pyzset.py): the compiled
# one when the compiled core provides it, else the pure-Python one.
ScoreIndex = None
if BACKEND == "compiled":
    try:
        from minikv._core import ScoreIndex
    except ImportError:
        pass
if ScoreIndex is None:
    from minikv._pyzset import ScoreIndex



def __getattr__(name):
    """``FastPaths``, the client's hot-path methods, of the same backend.

    Resolved on first use (by minikv/client.py): the pure twin,
    minikv/_pyclient.py, imports the engine modules, which import this one.
    """
    if name != "FastPaths":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if BACKEND == "compiled":
        from minikv._core import FastPaths
    else:
        from minikv._pyclient import FastPaths
    globals()["FastPaths"] = FastPaths
    return FastPaths


__all__ = ["Keyspace", "ScoreIndex", "StoreLock", "FastPaths", "wall_ms", "BACKEND"]
