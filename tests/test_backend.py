"""The two keyspace backends: same surface, same behaviour, right one loaded.

``minikv._pycore`` (pure Python) is the reference; ``minikv._core`` (Cython)
must be indistinguishable from it apart from speed. These tests import both
modules directly, whichever one ``minikv.backend`` picked for this run, so
the pure run (MINIKV_PURE=1) checks the compiled module too. The compiled
half is skipped only when the extension was not built at all and the run
does not expect it (MINIKV_EXPECT_BACKEND != "compiled").
"""
import importlib
import importlib.util
import inspect
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import minikv
from helpers import JOIN_SECONDS
from minikv import _pyclient, _pycore

PACKAGE_ROOT = Path(minikv.__file__).resolve().parent.parent


def compiled_core():
    """``minikv._core``, or skip/fail as explained in the module docstring."""
    if importlib.util.find_spec("minikv._core") is None:
        if os.environ.get("MINIKV_EXPECT_BACKEND") == "compiled":
            pytest.fail("minikv._core was not built but MINIKV_EXPECT_BACKEND=compiled")
        pytest.skip("minikv._core was not built (pure-only install)")
    # Built but not importable is a broken build: let the ImportError fail the test.
    return importlib.import_module("minikv._core")


@pytest.fixture(params=["pure", "compiled"])
def backend(request):
    return _pycore if request.param == "pure" else compiled_core()


def public_names(namespace):
    return sorted(name for name in dir(namespace) if not name.startswith("_"))


PUBLIC_ATTRIBUTES = tuple(name for name in _pycore.Keyspace.__slots__ if not name.startswith("_"))


# -- (1) same names, signatures, attributes -------------------------------
def test_modules_export_the_same_names():
    # The compiled core holds the keyspace and the client's fast paths; the
    # pure twins are two modules, one per layer.
    core = compiled_core()
    pure_names = sorted(_pycore.__all__ + _pyclient.__all__)
    assert pure_names == ["ExpiryTable", "FastPaths", "Keyspace", "ScoreIndex", "StoreLock", "wall_ms"]
    assert sorted(core.__all__) == pure_names
    assert public_names(core) == pure_names
    for name in pure_names:
        twin = _pyclient if name == "FastPaths" else _pycore
        assert hasattr(twin, name)


def _own_methods(cls):
    return sorted(name for name, member in vars(cls).items()
                  if callable(member) and name not in ("__init__", "__new__"))


def test_fast_paths_have_the_same_methods_and_signatures():
    pure_class, core_class = _pyclient.FastPaths, compiled_core().FastPaths
    core_methods = [name for name in _own_methods(core_class)
                    if not (name.startswith("__") and name.endswith("__"))
                    or name == "__contains__"]
    assert core_methods == [name for name in _own_methods(pure_class)
                            if not name.startswith("__") or name == "__contains__"]
    for name in core_methods:
        # The compiled signature is text (a default such as ``float`` is not
        # a literal inspect can evaluate): compare it with the pure one's.
        core_text = getattr(core_class, name).__text_signature__.replace("$self", "self")
        assert core_text.replace(" ", "") == _signature_text(getattr(pure_class, name)), name


def _signature_text(function):
    parts = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            parts.append("*" + parameter.name)
        elif parameter.default is parameter.empty:
            parts.append(parameter.name)
        else:
            default = parameter.default
            shown = default.__name__ if isinstance(default, type) else repr(default)
            parts.append(f"{parameter.name}={shown}")
    return "(" + ",".join(parts) + ")"


def test_wall_ms_is_the_system_clock_in_milliseconds(backend):
    before = time.time_ns() // 1_000_000
    now = backend.wall_ms()
    assert type(now) is int and before <= now <= time.time_ns() // 1_000_000


def test_minikv_redis_gets_the_fast_paths_of_the_loaded_backend():
    expected = compiled_core().FastPaths if minikv.BACKEND == "compiled" else _pyclient.FastPaths
    assert minikv.Redis.__mro__[1] is expected


@pytest.fixture(params=["pure", "compiled"])
def lock_class(request):
    return _pycore.StoreLock if request.param == "pure" else compiled_core().StoreLock


def test_store_lock_has_threading_lock_behaviour(lock_class):
    lock = lock_class()
    assert not lock.locked()
    assert lock.acquire() is True and lock.locked()
    assert lock.acquire(False) is False
    assert lock.acquire(True, 0.01) is False
    with pytest.raises(ValueError):
        lock.acquire(False, 1)
    lock.release()
    assert not lock.locked()
    with pytest.raises(RuntimeError):
        lock.release()
    with lock:
        assert lock.locked()
    assert lock.acquire(timeout=0.5) is True
    lock.release()


def test_store_lock_excludes_other_threads_and_serves_a_condition(lock_class):
    lock = lock_class()
    condition = threading.Condition(lock)
    counter = {"value": 0, "inside": 0, "overlaps": 0}

    def work():
        for _ in range(2000):
            with lock:
                counter["inside"] += 1
                if counter["inside"] != 1:
                    counter["overlaps"] += 1
                value = counter["value"]
                time.sleep(0) if value % 100 == 0 else None
                counter["value"] = value + 1
                counter["inside"] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert counter["value"] == 8000 and counter["overlaps"] == 0
    ready = []

    def waiter():
        with condition:
            condition.wait_for(lambda: ready, JOIN_SECONDS)
            ready.append("woken")

    thread = threading.Thread(target=waiter)
    thread.start()
    with condition:
        ready.append("go")
        condition.notify_all()
    thread.join(JOIN_SECONDS)
    assert ready == ["go", "woken"]


def test_keyspace_methods_have_the_same_signatures():
    pure_class, core_class = _pycore.Keyspace, compiled_core().Keyspace
    pure_methods = [name for name, member in vars(pure_class).items()
                    if callable(member) and not name.startswith("_")]
    assert public_names(core_class) == sorted(pure_methods + list(PUBLIC_ATTRIBUTES))
    assert inspect.signature(core_class) == inspect.signature(pure_class)
    # Compared as callers see them, bound: the compiled methods are C methods
    # whose unbound signature spells ``self`` positional-only.
    pure, core = pure_class(lambda: 0), core_class(lambda: 0)
    for name in pure_methods + ["_check", "__len__"]:
        assert inspect.signature(getattr(core, name)) == \
            inspect.signature(getattr(pure, name)), name
    for ks in (pure, core):
        ks.store(b"k", b"v")
        assert len(ks) == 1


def test_keyspace_attributes_are_the_same_and_writable(backend):
    def clock_ms():
        return 0

    def first_ttl():
        pass

    def expired(ks, key):
        pass

    ks = backend.Keyspace(clock_ms, on_first_ttl=first_ttl, on_expired=expired)
    attributes = {name: getattr(ks, name) for name in PUBLIC_ATTRIBUTES}
    expires = attributes.pop("expires")
    assert expires.__class__ is backend.ExpiryTable and len(expires) == 0
    assert attributes == {
        "data": {}, "clock_ms": clock_ms, "on_first_ttl": first_ttl,
        "on_expired": expired, "ttl_armed": False, "hits": 0, "misses": 0, "expired": 0,
        "watched": {}, "notify": None, "memory": None}
    data, expires = {b"k": b"v"}, backend.ExpiryTable()
    expires[b"k"] = 5
    ks.data, ks.expires, ks.hits, ks.misses, ks.expired = data, expires, 3, 4, 5
    assert (ks.data, ks.expires, ks.hits, ks.misses, ks.expired) == (data, expires, 3, 4, 5)
    ks.ttl_armed = True
    assert ks.ttl_armed is True
    assert ks.data is data and ks.expires is expires
    ks.clock_ms = ks.on_first_ttl = ks.on_expired = None
    assert (ks.clock_ms, ks.on_first_ttl, ks.on_expired) == (None, None, None)
    with pytest.raises(AttributeError):
        ks.not_an_attribute = 1
    ks._check()


# -- (2) the backend that loads ---------------------------------------------
# Prints BACKEND, which module's Keyspace minikv.backend exports (by
# identity), and where minikv was imported from.
LOADED_BACKEND = """
import importlib, minikv, minikv.backend
for twin in ("minikv._pycore", "minikv._core"):
    try:
        if minikv.backend.Keyspace is importlib.import_module(twin).Keyspace:
            break
    except ImportError:
        pass
else:
    twin = "neither"
print(minikv.BACKEND, twin, minikv.__file__, sep="\\n")
"""


def loaded_backend(pure_env):
    """(BACKEND, twin behind minikv.backend.Keyspace) in a fresh interpreter."""
    env = {name: value for name, value in os.environ.items() if name != "MINIKV_PURE"}
    if pure_env is not None:
        env["MINIKV_PURE"] = pure_env
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    backend, twin, origin = subprocess.run(
        [sys.executable, "-c", LOADED_BACKEND], env=env, cwd=PACKAGE_ROOT,
        capture_output=True, text=True, check=True).stdout.splitlines()
    assert Path(origin).resolve() == Path(minikv.__file__).resolve()  # the package under test
    return backend, twin


def test_minikv_pure_selects_the_pure_twin():
    assert loaded_backend("1") == ("pure", "minikv._pycore")


@pytest.mark.parametrize("pure_env", [None, "0"])
def test_compiled_core_is_used_when_built(pure_env):
    compiled_core()
    assert loaded_backend(pure_env) == ("compiled", "minikv._core")


# -- semantics both backends must have ------------------------------------
def times(ks):
    """The keyspace's expiry table as a dict."""
    return dict(ks.expires.items())


class ClockRead(Exception):
    pass


def test_no_ttl_means_no_clock_read(backend):
    def clock_ms():
        raise ClockRead

    ks = backend.Keyspace(clock_ms)
    ks.store(b"k", b"v")
    ks.replace(b"k", b"w")
    assert (ks.lookup(b"k"), ks.lookup_read(b"k"), ks.contains(b"k")) == (b"w", b"w", True)
    assert (ks.lookup(b"nope"), ks.lookup_read(b"nope")) == (None, None)
    assert (ks.hits, ks.misses) == (1, 1)
    assert (ks.persist(b"k"), ks.delete(b"k"), ks.delete(b"k")) == (False, True, False)
    ks._check()


def test_lazy_expiry_is_strictly_after_the_deadline(backend):
    now = [1000]
    events = []
    ks = backend.Keyspace(lambda: now[0], lambda: events.append("first_ttl"),
                          lambda keyspace, key: events.append((keyspace is ks, key)))
    ks.store_with_expiry(b"k", b"v", 1005)
    ks.store_with_expiry(b"other", b"v", 1005)
    assert events == ["first_ttl"]
    now[0] = 1005
    assert (ks.lookup_read(b"k"), ks.expiry(b"k")) == (b"v", 1005)
    now[0] = 1006
    assert (ks.lookup_read(b"k"), ks.contains(b"k")) == (None, False)
    assert (ks.data, times(ks)) == ({b"other": b"v"}, {b"other": 1005})
    assert (ks.hits, ks.misses, ks.expired) == (1, 1, 1)
    assert events == ["first_ttl", (True, b"k")]
    ks._check()


def test_expire_step_visits_every_ttl_once_per_pass(backend):
    ks = backend.Keyspace(lambda: 0)
    for n in range(50):
        ks.store_with_expiry(b"%d" % n, b"v", 10)
    assert ks.expire_step(10, 50) == (50, 0)  # at the deadline: still live
    steps = [ks.expire_step(11, 7) for _ in range(8)]
    assert steps == [(7, 7)] * 7 + [(1, 1)]
    assert (ks.data, times(ks), ks.expired) == ({}, {}, 50)
    assert ks.expire_step(11, 7) == (0, 0)
    ks._check()


def test_expire_step_skips_keys_that_lost_their_ttl_mid_pass(backend):
    ks = backend.Keyspace(lambda: 0)
    for n in range(10):
        ks.store_with_expiry(b"k%d" % n, b"v", 10)
    assert ks.expire_step(5, 3) == (3, 0)  # k0..k2: not due yet
    ks.delete(b"k3")
    ks.store(b"k4", b"plain")
    ks.persist(b"k5")
    ks.store_with_expiry(b"late", b"v", 10)  # not in this pass's snapshot
    assert ks.expire_step(11, 4) == (1, 1)  # k3..k6: only k6 still has a TTL
    assert ks.expire_step(11, 10) == (3, 3)  # k7..k9 end the pass
    assert ks.expire_step(11, 10) == (4, 4)  # new pass: k0..k2 and late
    assert (ks.data, times(ks)) == ({b"k4": b"plain", b"k5": b"v"}, {})
    ks._check()


def test_a_ttl_set_while_disarmed_wakes_active_expiry(backend):
    woken = []
    ks = backend.Keyspace(lambda: 0, lambda: woken.append(True))
    ks.store_with_expiry(b"a", b"v", 10)
    ks.store_with_expiry(b"b", b"v", 10)
    assert (woken, ks.ttl_armed) == ([True], True)
    ks.ttl_armed = False  # what the expiry thread does before it parks
    ks.set_expiry(b"a", 20)
    assert (woken, ks.ttl_armed) == ([True, True], True)
    ks._check()


def test_swap_restarts_active_expiry_for_the_side_with_ttls(backend):
    started = []
    first = backend.Keyspace(lambda: 0, lambda: started.append("first"))
    second = backend.Keyspace(lambda: 0, lambda: started.append("second"))
    first.store_with_expiry(b"k", b"v", 10)
    second.store(b"plain", b"v")
    first.swap(second)
    assert (first.data, times(first)) == ({b"plain": b"v"}, {})
    assert (second.data, times(second)) == ({b"k": b"v"}, {b"k": 10})
    assert started == ["first", "second"]
    first._check()
    second._check()


# -- (3) behavioural equivalence under random operation sequences ----------
class Side:
    """Two keyspaces of one backend on a fake clock that counts its reads."""

    def __init__(self, module):
        self.now = 1_000
        self.clock_reads = 0
        self.events = []
        self.dbs = [module.Keyspace(self.clock_ms, self._first_ttl(db), self.on_expired)
                    for db in range(2)]

    def clock_ms(self):
        self.clock_reads += 1
        return self.now

    def _first_ttl(self, db):
        return lambda: self.events.append(("first_ttl", db))

    def on_expired(self, keyspace, key):
        db = next(n for n, ks in enumerate(self.dbs) if ks is keyspace)
        self.events.append(("expired", db, key))

    def state(self):
        """Everything observable, in dict order (SCAN/KEYS order depends on it)."""
        return ([(list(ks.data.items()), list(ks.expires.items()), ks.ttl_armed,
                  ks.hits, ks.misses, ks.expired)
                 for ks in self.dbs], self.clock_reads, self.events)


DBS = st.integers(0, 1)
KEYS = st.sampled_from([b"k0", b"k1", b"k2", b"k3"])
VALUES = st.sampled_from([b"", b"x", b"yy", b"1"])
TTL_DELTAS = st.integers(-3, 12)  # relative to now; <= 0 is already due


class SideBySide(RuleBasedStateMachine):
    """Every step runs on both backends; results and full state must match."""

    def __init__(self):
        super().__init__()
        self.pure, self.compiled = Side(_pycore), Side(compiled_core())

    def both(self, method, db, *args):
        results = [getattr(side.dbs[db], method)(*args) for side in (self.pure, self.compiled)]
        assert results[1] == results[0], (method, db, args)

    @rule(method=st.sampled_from(["lookup", "lookup_read", "contains", "expiry"]),
          db=DBS, key=KEYS)
    def read(self, method, db, key):
        self.both(method, db, key)

    @rule(method=st.sampled_from(["store", "replace"]), db=DBS, key=KEYS, value=VALUES)
    def write(self, method, db, key, value):
        self.both(method, db, key, value)

    @rule(db=DBS, key=KEYS, value=VALUES, delta=TTL_DELTAS)
    def store_with_expiry(self, db, key, value, delta):
        self.both("store_with_expiry", db, key, value, self.pure.now + delta)

    @rule(db=DBS, count=st.integers(1, 60), delta=TTL_DELTAS)
    def many_with_expiry(self, db, count, delta):
        # Enough TTLs that expire_step needs several slices for one pass and
        # the compiled table grows; the first few are KEYS, which the other
        # rules touch in between.
        for n in range(count):
            self.both("store_with_expiry", db, b"k%d" % n, b"v", self.pure.now + delta + n % 3)

    @rule(db=DBS, key=KEYS, delta=TTL_DELTAS)
    def set_expiry(self, db, key, delta):
        # Callers only set a TTL on a key that exists (the invariant _check tests).
        if key in self.pure.dbs[db].data:
            self.both("set_expiry", db, key, self.pure.now + delta)

    @rule(method=st.sampled_from(["persist", "delete"]), db=DBS, key=KEYS)
    def remove(self, method, db, key):
        self.both(method, db, key)

    @rule(method=st.sampled_from(["persist", "delete"]), db=DBS, count=st.integers(1, 60))
    def remove_many(self, method, db, count):
        # Enough to shrink the compiled table, in the middle of a pass too.
        for n in range(count):
            self.both(method, db, b"k%d" % n)

    @rule(method=st.sampled_from(["clear", "__len__"]), db=DBS)
    def whole_db(self, method, db):
        self.both(method, db)

    @rule()
    def swap(self):
        for side in (self.pure, self.compiled):
            side.dbs[0].swap(side.dbs[1])

    @rule(db=DBS, late=st.integers(0, 6), sample=st.integers(-1, 8))
    def expire_step(self, db, late, sample):
        self.both("expire_step", db, self.pure.now + late, sample)

    @rule(db=DBS)
    def disarm(self, db):
        # What the expiry thread does when it parks or stops.
        for side in (self.pure, self.compiled):
            side.dbs[db].ttl_armed = False

    @rule(ms=st.integers(0, 6))
    def advance(self, ms):
        self.pure.now += ms
        self.compiled.now += ms

    @rule(db=DBS, key=KEYS, past=st.integers(0, 1))
    def jump_to_deadline(self, db, key, past):
        # Land exactly on a deadline (not yet expired) or one ms after it.
        when = self.pure.dbs[db].expires.get(key)
        if when is not None and when + past > self.pure.now:
            self.pure.now = self.compiled.now = when + past

    @invariant()
    def same_state(self):
        assert self.compiled.state() == self.pure.state()
        for ks in self.pure.dbs + self.compiled.dbs:
            ks._check()


TestBackendsBehaveIdentically = SideBySide.TestCase


# -- (4) the expiry table ---------------------------------------------------
# ``Keyspace.expires`` is an ExpiryTable: ``dict`` in the pure twin, a C hash
# table in the compiled one (see _core.pyx), which must act as a dict of the
# operations minikv uses, in the same order, and keep its invariants through
# growing and shrinking.
TABLE_SLOTS = ["__contains__", "__delitem__", "__getitem__", "__iter__", "__len__",
               "__setitem__", "__sizeof__"]


def test_the_compiled_expiry_table_offers_what_minikv_uses_of_a_dict():
    core_table = compiled_core().ExpiryTable
    assert _pycore.ExpiryTable is dict
    assert public_names(core_table) == ["clear", "get", "items", "pop", "values"]
    for name in public_names(core_table) + TABLE_SLOTS:
        assert callable(getattr(core_table, name)) and callable(getattr(dict, name))


def test_a_compiled_expiry_table_costs_under_40_bytes_a_key_and_shrinks_back():
    table = compiled_core().ExpiryTable()
    empty = sys.getsizeof(table)
    keys = [b"key:%08d" % n for n in range(100_000)]
    for key in keys:
        table[key] = 1_700_000_000_000
    assert (sys.getsizeof(table) - empty) / len(keys) <= 40
    for key in keys[100:]:
        del table[key]
    assert sys.getsizeof(table) - empty <= 100 * 64
    table._check()
    assert list(table) == keys[:100]


TABLE_KEY_NUMBERS = st.integers(0, 999)
TIMES = st.integers(-2 ** 63, 2 ** 63 - 1)


def same_outcome(table, model, operation):
    """Apply ``operation`` to both; the results (or exception types) must match."""
    outcomes = []
    for mapping in (model, table):
        try:
            outcomes.append(("value", operation(mapping)))
        except (KeyError, RuntimeError) as exc:
            outcomes.append(("raised", exc.__class__))
    assert outcomes[1] == outcomes[0]
    return outcomes[0]


class TableAgainstDict(RuleBasedStateMachine):
    """Random operations on the compiled table and on a dict, with runs of
    up to 400 keys added or removed at once so that the table grows and
    shrinks through several sizes; after each, the table passes ``_check``
    and lists the same items in the same order."""

    def __init__(self):
        super().__init__()
        self.table = compiled_core().ExpiryTable()
        self.model = {}

    @rule(n=TABLE_KEY_NUMBERS, when=TIMES)
    def set(self, n, when):
        same_outcome(self.table, self.model, lambda mapping: mapping.__setitem__(b"k%d" % n, when))

    @rule(first=TABLE_KEY_NUMBERS, count=st.integers(1, 400), when=st.integers(-2 ** 62, 2 ** 62))
    def set_many(self, first, count, when):
        for n in range(first, first + count):
            self.table[b"k%d" % n] = self.model[b"k%d" % n] = when + n

    @rule(n=TABLE_KEY_NUMBERS)
    def delete(self, n):
        same_outcome(self.table, self.model, lambda mapping: mapping.__delitem__(b"k%d" % n))

    @rule(first=TABLE_KEY_NUMBERS, count=st.integers(1, 400))
    def delete_many(self, first, count):
        for n in range(first, first + count):
            assert self.table.pop(b"k%d" % n, None) == self.model.pop(b"k%d" % n, None)

    @rule(n=TABLE_KEY_NUMBERS, default=st.sampled_from([(), (None,), ("absent",)]))
    def pop(self, n, default):
        same_outcome(self.table, self.model, lambda mapping: mapping.pop(b"k%d" % n, *default))

    @rule(n=TABLE_KEY_NUMBERS)
    def read(self, n):
        key = b"k%d" % n
        for operation in (lambda mapping: mapping[key], lambda mapping: key in mapping,
                          lambda mapping: mapping.get(key), lambda mapping: mapping.get(key, 7)):
            same_outcome(self.table, self.model, operation)

    @rule()
    def clear(self):
        self.table.clear()
        self.model.clear()

    @rule(n=TABLE_KEY_NUMBERS, when=TIMES, steps=st.integers(0, 3),
          kind=st.sampled_from(["__iter__", "items", "values"]))
    def change_while_iterating(self, n, when, steps, kind):
        """A key added or removed stops an iteration under way, as in a
        dict; an overwrite does not, and nor does anything after the end."""
        key = b"k%d" % n
        walks = [iter(getattr(mapping, kind)()) for mapping in (self.model, self.table)]
        for walk in walks:
            for _ in range(steps):
                next(walk, None)
        if key in self.model:
            del self.model[key], self.table[key]
        else:
            self.model[key] = self.table[key] = when
        same_outcome(*walks[::-1], lambda walk: list(walk))

    @rule(n=TABLE_KEY_NUMBERS, when=TIMES)
    def overwrite_while_iterating(self, n, when):
        if not self.model:
            return
        key = list(self.model)[n % len(self.model)]
        walks = [iter(mapping.items()) for mapping in (self.model, self.table)]
        for walk in walks:
            next(walk)
        self.model[key] = self.table[key] = when
        assert list(walks[1]) == list(walks[0])

    @invariant()
    def same_contents(self):
        self.table._check()
        assert len(self.table) == len(self.model)
        assert list(self.table.items()) == list(self.model.items())
        assert list(self.table.values()) == list(self.model.values())


TestExpiryTableActsAsADict = TableAgainstDict.TestCase


def test_the_compiled_expiry_table_takes_bytes_keys_and_int64_times():
    table = compiled_core().ExpiryTable()
    with pytest.raises(TypeError):
        table["text"] = 1
    with pytest.raises(OverflowError):
        table[b"k"] = 2 ** 63
    assert ("text" not in table, table.get(1), len(table)) == (True, None, 0)
    table._check()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_an_expiry_pass_checks_each_of_its_keys_once_whatever_changes_between_steps(
        backend, data):
    """Every key is due, so each key a step checks is expired (and logged).
    A pass walks the keys that had a TTL when it began, ``sample`` a step:
    whatever is added, removed or re-added between steps (growing and
    shrinking the compiled table, which moves its entries), each key that
    keeps its TTL throughout is expired exactly once in those steps, and no
    key that got its TTL during the pass is."""
    expired = []
    ks = backend.Keyspace(lambda: 0, on_expired=lambda keyspace, key: expired.append(key))
    size = data.draw(st.integers(1, 400), label="keys with a TTL")
    sample = data.draw(st.integers(-(-size // 10), 50).filter(lambda n: n > 0), label="sample")
    pass_keys = [b"p%d" % n for n in range(size)]
    for key in pass_keys:
        ks.store_with_expiry(key, b"v", 10)
    lost_ttl = set()  # pass keys whose TTL went away at some point
    for _ in range(-(-size // sample)):  # the steps a pass of ``size`` keys takes
        ks.expire_step(11, sample)
        ks._check()
        changes = st.tuples(st.sampled_from(["delete", "persist", "set with TTL"]),
                            st.integers(0, size + 200), st.integers(1, 150))
        for action, first, count in data.draw(st.lists(changes, max_size=4), label="changes"):
            for n in range(first, first + count):
                key = b"p%d" % n
                if action == "set with TTL":
                    ks.store_with_expiry(key, b"v", 10)
                elif key in ks.expires:
                    lost_ttl.add(key)
                    ks.delete(key) if action == "delete" else ks.persist(key)
        ks._check()
    assert len(set(expired)) == len(expired)  # nothing twice
    assert set(pass_keys) - lost_ttl <= set(expired)
    assert set(expired) <= set(pass_keys)  # nothing that got its TTL in the pass
    # The keys left are all due: the rest of the pass (if an empty table
    # held it up) and the next one take them all.
    for _ in range(-(-size // sample) + -(-len(ks.expires) // sample)):
        ks.expire_step(11, sample)
    assert len(ks.expires) == 0
    ks._check()


def test_compact_rebuilds_sparse_tables_in_place_and_in_order(backend):
    ks = backend.Keyspace(lambda: 0)
    for n in range(100_000):
        ks.store_with_expiry(b"k%d" % n, b"v", 10)
    ks.store(b"plain", b"v")
    data, expires = ks.data, ks.expires
    full = sys.getsizeof(data)
    ks.compact()
    assert sys.getsizeof(data) == full  # dense: left alone
    for n in range(99_000):
        ks.delete(b"k%d" % n)
    assert sys.getsizeof(data) == full  # a dict keeps its table...
    ks.compact()
    assert sys.getsizeof(data) < full / 50  # ...until compact rebuilds it
    assert sys.getsizeof(expires) < 100_000
    assert ks.data is data and ks.expires is expires
    assert list(data) == [b"k%d" % n for n in range(99_000, 100_000)] + [b"plain"]
    assert list(times(ks)) == [b"k%d" % n for n in range(99_000, 100_000)]
    ks._check()
