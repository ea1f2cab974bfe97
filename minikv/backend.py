"""The one place that picks the keyspace implementation.

The compiled ``minikv._core`` is used when it was built and ``MINIKV_PURE``
is not "1"; otherwise the pure-Python twin ``minikv._pycore``. Both export
the same names, so nothing else in minikv knows which one runs.
"""
import os

if os.environ.get("MINIKV_PURE") == "1":
    from minikv._pycore import Keyspace
    BACKEND = "pure"
else:
    try:
        from minikv._core import Keyspace
        BACKEND = "compiled"
    except ImportError:
        from minikv._pycore import Keyspace
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

__all__ = ["Keyspace", "ScoreIndex", "BACKEND"]
