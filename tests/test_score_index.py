"""The two ``ScoreIndex`` implementations: same interface, same results.

``minikv._pyzset.ScoreIndex`` (a ``SortedList``) is the reference;
``minikv._core.ScoreIndex`` (a skip list with spans) must return the same
value, of the same type, for every call of the interface the sorted-set
commands use (see minikv/_pyzset.py), and both must pass their ``_check()``
after every step. Results are compared by ``repr`` so that ``-0.0`` versus
``0.0``, ``int`` versus ``float`` and list versus tuple all count. Both are
imported directly, whatever ``minikv.backend`` picked, so the pure run
(MINIKV_PURE=1) checks the compiled index too; the compiled half is skipped
only when the extension was not built and the run does not expect it
(MINIKV_EXPECT_BACKEND != "compiled").
"""
import importlib
import importlib.util
import inspect
import itertools
import math
import os
import sys

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from minikv._pyzset import ScoreIndex as PureIndex


def compiled_index():
    """``minikv._core.ScoreIndex``, or skip/fail as the module docstring says."""
    if importlib.util.find_spec("minikv._core") is None:
        if os.environ.get("MINIKV_EXPECT_BACKEND") == "compiled":
            pytest.fail("minikv._core was not built but MINIKV_EXPECT_BACKEND=compiled")
        pytest.skip("minikv._core was not built (pure-only install)")
    return importlib.import_module("minikv._core").ScoreIndex


INTERFACE = ["insert", "remove", "move", "rank", "by_rank", "score_span", "lex_rank",
             "iter_from", "pop_first", "pop_last", "delete_ranks"]


def outcome(call):
    """What a call returned (as repr) or which exception it raised."""
    try:
        return "ok", repr(call())
    except (IndexError, ValueError) as exc:
        return "raised", type(exc).__name__


# -- fixed cases ------------------------------------------------------------
def test_same_interface_and_signatures():
    CompiledIndex = compiled_index()
    pure, compiled = PureIndex(), CompiledIndex()
    for name in INTERFACE + ["_check", "__len__"]:
        assert inspect.signature(getattr(compiled, name)) == \
            inspect.signature(getattr(pure, name)), name
    assert inspect.signature(CompiledIndex) == inspect.signature(PureIndex)


def test_order_is_score_then_member_bytes():
    CompiledIndex = compiled_index()
    pairs = [(1.0, b"b"), (-0.0, b"c"), (0.0, b"a"), (math.inf, b""), (-math.inf, b"z"),
             (1.0, b"a\x00"), (1.0, b"aa"), (1.0, b"\xff"), (-1e-300, b"q")]
    compiled = CompiledIndex(pairs)
    expected = [(-math.inf, b"z"), (-1e-300, b"q"), (0.0, b"a"), (-0.0, b"c"), (1.0, b"a\x00"),
                (1.0, b"aa"), (1.0, b"b"), (1.0, b"\xff"), (math.inf, b"")]
    assert repr(list(compiled)) == repr(expected) == repr(list(PureIndex(pairs)))
    assert repr(list(reversed(compiled))) == repr(expected[::-1])
    assert [compiled.rank(score, member) for score, member in expected] == list(range(9))
    assert compiled.score_span(0.0, False, 0.0, False) == (2, 4)  # -0.0 == 0.0
    assert compiled.score_span(-0.0, True, 1.0, True) == (4, 4)
    compiled._check()


def test_empty_index():
    CompiledIndex = compiled_index()
    for index in (PureIndex(), CompiledIndex()):
        assert (len(index), list(index), index.by_rank(0, 0), index.by_rank(0, 5, True)) == \
            (0, [], [], [])
        assert (index.score_span(-math.inf, False, math.inf, False), index.lex_rank(b"a", True),
                index.rank(1.0, b"a"), index.delete_ranks(0, 3)) == ((0, 0), 0, 0, [])
        assert (list(index.iter_from(0)), list(index.iter_from(-1, True))) == ([], [])
        with pytest.raises(IndexError):
            index.pop_first()
        with pytest.raises(IndexError):
            index.pop_last()
        with pytest.raises(ValueError):
            index.remove(1.0, b"a")
        index._check()


def test_members_are_owned_references():
    CompiledIndex = compiled_index()
    member = b"owned-" + os.urandom(16)
    baseline = sys.getrefcount(member)
    index = CompiledIndex()
    index.insert(1.0, member)
    assert sys.getrefcount(member) == baseline + 1
    index.move(1.0, member, 500.0)
    assert sys.getrefcount(member) == baseline + 1
    index.remove(500.0, member)
    assert sys.getrefcount(member) == baseline
    for n in range(50):
        index.insert(float(n), member + b"%d" % n)
    index.insert(100.5, member)  # past the ranks deleted below
    pair = index.pop_first()
    del pair
    index.delete_ranks(0, 10)
    assert sys.getrefcount(member) == baseline + 1
    del index  # dealloc frees every node and drops every member
    assert sys.getrefcount(member) == baseline


def test_iterator_stops_when_the_index_changes():
    # The skip list's iterators hold node pointers: a change must not let
    # them follow a freed node.
    index = compiled_index()([(float(n), b"m%d" % n) for n in range(10)])
    walk = index.iter_from(0)
    assert next(walk) == (0.0, b"m0")
    index.pop_first()
    with pytest.raises(RuntimeError):
        next(walk)
    with pytest.raises(StopIteration):
        next(walk)


def test_large_index_keeps_ranks_and_invariants():
    CompiledIndex = compiled_index()
    pairs = [((n * 7919) % 1000 / 10, b"m%05d" % n) for n in range(5000)]
    pure, compiled = PureIndex(pairs), CompiledIndex(pairs)
    compiled._check()
    for rank in range(0, 5000, 97):
        score, member = pure.by_rank(rank, rank + 1)[0]
        assert compiled.rank(score, member) == rank
        assert compiled.by_rank(rank, rank + 3) == pure.by_rank(rank, rank + 3)
    assert compiled.delete_ranks(100, 4900) == pure.delete_ranks(100, 4900)
    assert list(compiled) == list(pure)
    compiled._check()


# -- random operation sequences ----------------------------------------------
SCORES = st.sampled_from([-math.inf, math.inf, -0.0, 0.0, 1.0, -2.5, 3.0, 1e-300, -1e300]) \
    | st.floats(allow_nan=False)
MEMBERS = st.sampled_from([b"", b"a", b"ab", b"a\x00", b"b", b"\x00", b"\xff", b"z" * 300,
                           b"z" * 299 + b"y"]) | st.binary(max_size=4)


class SideBySide(RuleBasedStateMachine):
    """Every operation on both indexes; same results, both well formed."""

    def __init__(self):
        super().__init__()
        self.pure, self.compiled = PureIndex(), compiled_index()()
        self.scores = {}  # member -> score: what the sorted-set code keeps

    def both(self, method, *args):
        results = [outcome(lambda: getattr(index, method)(*args))
                   for index in (self.pure, self.compiled)]
        assert results[1] == results[0], (method, args)
        return results[0]

    def forget(self, result):
        """Drop the pairs a pop/delete returned from the member dict."""
        status, text = result
        if status == "ok":
            popped = eval(text, {"inf": math.inf})
            for _, member in popped if isinstance(popped, list) else [popped]:
                del self.scores[member]

    @rule(score=SCORES, member=MEMBERS)
    def insert(self, score, member):
        if member not in self.scores:
            self.scores[member] = score
            self.both("insert", score, member)

    @rule(score=SCORES, count=st.integers(1, 40), prefix=MEMBERS)
    def insert_many_with_one_score(self, score, count, prefix):
        # Equal scores: member order decides, and lex_rank is exact.
        for n in range(count):
            self.insert(score, prefix + b"%d" % n)

    @precondition(lambda self: self.scores)
    @rule(data=st.data())
    def remove(self, data):
        member = data.draw(st.sampled_from(sorted(self.scores)))
        self.both("remove", self.scores.pop(member), member)

    @precondition(lambda self: self.scores)
    @rule(data=st.data(), new_score=SCORES, nudge=st.booleans())
    def move(self, data, new_score, nudge):
        member = data.draw(st.sampled_from(sorted(self.scores)))
        score = self.scores[member]
        if nudge and math.isfinite(score):  # ZINCRBY's small step: often in place
            new_score = math.nextafter(score, math.inf)
        self.both("move", score, member, new_score)
        self.scores[member] = new_score

    @rule(score=SCORES, member=MEMBERS)
    def rank(self, score, member):
        # Also for absent pairs: how many pairs sort before it.
        self.both("rank", score, member)

    @precondition(lambda self: self.scores)
    @rule(data=st.data())
    def rank_of_present(self, data):
        member = data.draw(st.sampled_from(sorted(self.scores)))
        self.both("rank", self.scores[member], member)

    @rule(data=st.data(), reverse=st.booleans())
    def by_rank(self, data, reverse):
        size = len(self.scores)
        start = data.draw(st.integers(0, size + 2))
        stop = data.draw(st.integers(start, size + 3))
        self.both("by_rank", start, stop, reverse)

    @rule(low=SCORES, low_open=st.booleans(), high=SCORES, high_open=st.booleans())
    def score_span(self, low, low_open, high, high_open):
        self.both("score_span", low, low_open, high, high_open)

    @rule(bound=MEMBERS, after=st.booleans())
    def lex_rank(self, bound, after):
        self.both("lex_rank", bound, after)

    @rule(data=st.data(), reverse=st.booleans(), taken=st.integers(0, 5))
    def iter_from(self, data, reverse, taken):
        rank = data.draw(st.integers(-2, len(self.scores) + 2))
        walks = [index.iter_from(rank, reverse) for index in (self.pure, self.compiled)]
        # Lazily: a few pairs first, then the rest.
        assert repr(list(itertools.islice(walks[1], taken))) == \
            repr(list(itertools.islice(walks[0], taken)))
        assert repr(list(walks[1])) == repr(list(walks[0]))

    @rule()
    def pop_first(self):
        self.forget(self.both("pop_first"))

    @rule()
    def pop_last(self):
        self.forget(self.both("pop_last"))

    @rule(data=st.data())
    def delete_ranks(self, data):
        size = len(self.scores)
        start = data.draw(st.integers(-size - 2, size + 2))
        stop = data.draw(st.integers(-size - 2, size + 3))
        self.forget(self.both("delete_ranks", start, stop))

    @rule()
    def copy(self):
        self.pure, self.compiled = PureIndex(self.pure), type(self.compiled)(self.compiled)

    @invariant()
    def same_pairs_and_well_formed(self):
        assert len(self.compiled) == len(self.pure) == len(self.scores)
        assert repr(list(self.compiled)) == repr(list(self.pure))
        assert repr(list(reversed(self.compiled))) == repr(list(reversed(self.pure)))
        self.pure._check()
        self.compiled._check()


TestIndexesBehaveIdentically = SideBySide.TestCase
