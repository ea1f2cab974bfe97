"""Leaderboard (minikv/patterns/leaderboard.py) on both backends.

Every test body runs on an embedded minikv on a manual clock and on the
private redis-server (``backend`` fixture); the hypothesis test checks
random operation sequences against a brute-force model on both.
"""
import doctest
import threading
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikv.patterns import leaderboard as leaderboard_module
from minikv.patterns.leaderboard import ARRIVALS, Entry, Leaderboard
from tests.helpers import JOIN_SECONDS
from tests.patterns.round_trips import RoundTrips

# (member, score) in arrival order: ties at 50 (b before d) and 20 (c before e)
PLAYERS = [("a", 70), ("b", 50), ("c", 20), ("d", 50), ("e", 20), ("f", 10)]


def board_with(backend, players=PLAYERS, **options):
    board = Leaderboard(backend.client, "lb", **options)
    for member, score in players:
        board.add(member, score)
    return board


def view(board, **options):
    """Another Leaderboard object on the same board's data."""
    return Leaderboard(board.client, board.name, reverse=board.reverse, **options)


def members(entries):
    return [entry.member for entry in entries]


def server_seconds(client):
    seconds, micros = client.time()
    return seconds + micros / 1e6


def keys(client):
    return sorted(key.decode() for key in client.keys("*"))


def test_docstring_example_runs():
    result = doctest.testmod(leaderboard_module)
    assert result.attempted > 0
    assert result.failed == 0


# -- ranking modes and ties by arrival ------------------------------------------------------
def test_standard_ranks_break_ties_by_arrival(backend):
    board = board_with(backend)
    assert board.top(10) == [Entry("a", 70.0, 1), Entry("b", 50.0, 2), Entry("d", 50.0, 3),
                             Entry("c", 20.0, 4), Entry("e", 20.0, 5), Entry("f", 10.0, 6)]
    assert [board.rank(member) for member in "abcdef"] == [1, 2, 4, 3, 5, 6]


def test_competition_and_dense_ranks(backend):
    board = board_with(backend)
    competition = view(board, ranking="competition")
    dense = view(board, ranking="dense")
    assert [competition.rank(member) for member in "abdcef"] == [1, 2, 2, 4, 4, 6]
    assert [dense.rank(member) for member in "abdcef"] == [1, 2, 2, 3, 3, 4]
    assert [entry.rank for entry in competition.top(10)] == [1, 2, 2, 4, 4, 6]
    assert [entry.rank for entry in dense.top(10)] == [1, 2, 2, 3, 3, 4]
    # a window starting inside a tie gets the tie's rank
    assert competition.page(2, 2) == [Entry("d", 50.0, 2), Entry("c", 20.0, 4)]
    assert dense.page(2, 2) == [Entry("d", 50.0, 2), Entry("c", 20.0, 3)]
    assert dense.page(3, 2) == [Entry("e", 20.0, 3), Entry("f", 10.0, 4)]
    assert competition.around("e", 0) == [Entry("e", 20.0, 4)]


def test_rescoring_is_a_new_arrival_but_the_same_score_is_not(backend):
    board = board_with(backend)
    assert board.add("b", 50) is False  # unchanged: b keeps its place before d
    assert members(board.top(3)) == ["a", "b", "d"]
    board.add("b", 51)
    board.add("b", 50)  # b now reached 50 after d did
    assert members(board.top(3)) == ["a", "d", "b"]
    assert board.incr("d", 0) == 50.0  # no change, no new arrival
    assert members(board.top(3)) == ["a", "d", "b"]


def test_low_scores_first(backend):
    board = board_with(backend, reverse=False)
    assert board.top(10) == [Entry("f", 10.0, 1), Entry("c", 20.0, 2), Entry("e", 20.0, 3),
                             Entry("b", 50.0, 4), Entry("d", 50.0, 5), Entry("a", 70.0, 6)]
    assert view(board, ranking="competition").rank("e") == 2
    assert view(board, ranking="dense").rank("a") == 4
    assert board.set_if_better("a", 80) is False
    assert board.set_if_better("a", 5) is True
    assert board.rank("a") == 1
    assert board.percentile("a") == 100.0


def test_a_board_keeps_its_direction(backend):
    board = board_with(backend)
    other = Leaderboard(backend.client, "lb", reverse=False)
    before = board.top(10)
    with pytest.raises(ValueError, match="ranks high scores first"):
        other.add("z", 1)
    with pytest.raises(ValueError, match="ranks high scores first"):
        other.incr("a", 1)
    with pytest.raises(ValueError, match="ranks high scores first"):
        other.set_if_better("a", 1)
    assert board.top(10) == before


# -- writes -------------------------------------------------------------------------------
def test_add_reports_new_members(backend):
    board = Leaderboard(backend.client, "lb")
    assert board.add("a", 1) is True
    assert board.add("a", 2) is False
    assert board.score("a") == 2.0
    assert board.add_many({"b": 3, "c": 3, "a": 2}) == 2
    assert members(board.top(3)) == ["b", "c", "a"]  # in the mapping's order
    assert board.add_many({}) == 0


def test_incr(backend):
    board = board_with(backend)
    assert board.incr("new", 5) == 5.0  # from 0
    assert board.incr("f", 40) == 50.0  # reaches 50 after b and d
    assert members(board.top(4)) == ["a", "b", "d", "f"]
    assert board.incr("a", -0.5) == 69.5
    assert board.incr("c") == 21.0
    assert isinstance(board.incr("c", 1), float)


def test_set_if_better(backend):
    board = board_with(backend)
    assert board.set_if_better("b", 50) is False  # equal is not better
    assert board.set_if_better("b", 49) is False
    assert board.score("b") == 50.0
    assert board.set_if_better("b", 60) is True
    assert board.rank("b") == 2
    assert board.set_if_better("new", -5) is True
    assert board.score("new") == -5.0


def test_remove(backend):
    board = board_with(backend)
    dense = view(board, ranking="dense")
    assert board.remove("a") is True
    assert board.remove("a") is False
    assert board.score("a") is None and board.rank("a") is None
    assert board.count() == 5
    # the last member at 10 leaves: dense ranks stop counting that score
    board.remove("f")
    board.add("g", 5)
    assert dense.rank("g") == 3


def test_scores_must_be_exact_finite_numbers(backend):
    board = Leaderboard(backend.client, "lb")
    for bad in (float("nan"), float("inf"), -float("inf"), 2 ** 53 + 1, 10 ** 400):
        with pytest.raises(ValueError):
            board.add("a", bad)
    with pytest.raises(ValueError):
        board.incr("a", float("nan"))
    for wrong_type in ("1", None, True, b"1"):
        with pytest.raises(TypeError):
            board.add("a", wrong_type)
    with pytest.raises(TypeError):
        board.add(b"a", 1)
    with pytest.raises(TypeError):
        board.add(7, 1)
    assert backend.client.keys("*") == []
    board.add("big", 2 ** 60)  # exact as a double
    assert board.score("big") == float(2 ** 60)
    board.add("zero", -0.0)
    assert str(board.score("zero")) == "0.0"


def test_nearby_large_scores_rank_apart(backend):
    # The case a (score, arrival) composite double would lose: neighbours.
    big = 2.0 ** 70
    above = big + 2 ** 18  # the next double above 2**70
    board = Leaderboard(backend.client, "lb")
    board.add("later-but-higher", above)
    board.add("first", big)
    board.add("tie", big)
    assert board.top(3) == [Entry("later-but-higher", above, 1), Entry("first", big, 2),
                            Entry("tie", big, 3)]
    assert view(board, ranking="dense").rank("tie") == 2
    tiny = Leaderboard(backend.client, "tiny")
    tiny.add("x", 5e-324)
    tiny.add("y", 0.0)
    assert members(tiny.top(2)) == ["x", "y"]


def test_incr_that_overflows_is_refused(backend):
    board = Leaderboard(backend.client, "lb")
    board.add("a", 1.7e308)
    with pytest.raises(ValueError, match="overflow"):
        board.incr("a", 1.7e308)
    assert board.score("a") == 1.7e308


def test_arrivals_run_out_with_an_error_not_a_misranking(backend):
    board = board_with(backend, [("a", 1)])
    backend.client.hset("lb:meta", "seq", ARRIVALS - 3)
    board.add("b", 1)
    board.add("c", 1)  # the last arrival the encoding holds
    assert members(board.top(3)) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="arrivals"):
        board.add("d", 1)
    with pytest.raises(ValueError, match="arrivals"):
        board.incr("a", 1)
    assert board.count() == 3
    assert board.remove("c") is True  # removals need no arrival


def test_concurrent_increments_are_atomic(backend):
    board = Leaderboard(backend.client, "lb")
    clients = [backend.new_client() for _ in range(4)]

    def work(client):
        mine = Leaderboard(client, "lb")
        for _ in range(50):
            mine.incr("shared", 1)
            mine.incr("other", 2)

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert board.score("shared") == 200.0
    assert board.score("other") == 400.0
    assert view(board, ranking="dense").rank("shared") == 2


# -- reads --------------------------------------------------------------------------------
def test_score_rank_entries_count_on_absent_and_empty(backend):
    board = Leaderboard(backend.client, "lb")
    assert board.count() == 0
    assert board.top(5) == [] and board.page(1, 5) == [] and board.around("x", 2) == []
    assert board.score("x") is None and board.rank("x") is None
    assert board.percentile("x") is None
    assert board.entries(["x"]) == [None]
    assert board.entries([]) == []
    board = board_with(backend)
    assert board.entries(["d", "x", "a"]) == [Entry("d", 50.0, 3), None, Entry("a", 70.0, 1)]
    assert view(board, ranking="dense").entries(["e", "c"]) == [Entry("e", 20.0, 3),
                                                                Entry("c", 20.0, 3)]
    assert board.count() == 6


def test_top_and_pages(backend):
    board = board_with(backend)
    assert board.top(0) == []
    assert members(board.top(2)) == ["a", "b"]
    assert len(board.top(100)) == 6
    assert members(board.page(1, 4)) == ["a", "b", "d", "c"]
    assert board.page(2, 4) == [Entry("e", 20.0, 5), Entry("f", 10.0, 6)]
    assert board.page(3, 4) == []
    for bad in ((0, 4), (1, 0), (-1, 4)):
        with pytest.raises(ValueError):
            board.page(*bad)
    with pytest.raises(ValueError):
        board.top(-1)


def test_around_shifts_at_the_edges(backend):
    board = board_with(backend, [(f"p{i}", 100 - i) for i in range(10)])
    assert members(board.around("p5", 2)) == ["p3", "p4", "p5", "p6", "p7"]
    assert members(board.around("p0", 2)) == ["p0", "p1", "p2", "p3", "p4"]
    assert members(board.around("p1", 2)) == ["p0", "p1", "p2", "p3", "p4"]
    assert members(board.around("p9", 2)) == ["p5", "p6", "p7", "p8", "p9"]
    assert [entry.rank for entry in board.around("p8", 2)] == [6, 7, 8, 9, 10]
    assert members(board.around("p4", 0)) == ["p4"]
    assert len(board.around("p4", 5)) == 10  # the whole board, fewer than 11
    assert board.around("nobody", 2) == []
    low = Leaderboard(backend.client, "low", reverse=False)
    low.add_many({f"q{i}": i for i in range(6)})
    assert members(low.around("q5", 1)) == ["q3", "q4", "q5"]
    assert members(low.around("q0", 1)) == ["q0", "q1", "q2"]


def test_repeated_reads_follow_the_board(backend):
    # (entries are memoized per Leaderboard object: they must never go stale)
    board = board_with(backend, [("a", 5), ("b", 3)])
    competition = view(board, ranking="competition")
    assert board.top(2) == [Entry("a", 5.0, 1), Entry("b", 3.0, 2)]
    assert competition.around("b", 1) == [Entry("a", 5.0, 1), Entry("b", 3.0, 2)]
    board.add("c", 9)  # the same elements, shifted down
    assert board.page(2, 1) == [Entry("a", 5.0, 2)]
    assert board.page(3, 1) == [Entry("b", 3.0, 3)]
    assert competition.around("a", 0) == [Entry("a", 5.0, 2)]
    assert competition.around("b", 1) == [Entry("c", 9.0, 1), Entry("a", 5.0, 2),
                                          Entry("b", 3.0, 3)]
    board.add("d", 5)
    assert board.top(3) == [Entry("c", 9.0, 1), Entry("a", 5.0, 2), Entry("d", 5.0, 3)]
    assert competition.around("b", 1) == [Entry("a", 5.0, 2), Entry("d", 5.0, 2),
                                          Entry("b", 3.0, 4)]
    backend.client.flushall()  # the arrival counter starts over: the same tags return
    board.add("a", 1)  # a's first element again, with another score
    assert board.top(1) == [Entry("a", 1.0, 1)]
    board.add("b", 2)
    assert board.top(2) == [Entry("b", 2.0, 1), Entry("a", 1.0, 2)]
    assert competition.around("a", 1) == [Entry("b", 2.0, 1), Entry("a", 1.0, 2)]
    board.add_many({f"p{i}": i for i in range(3000)})
    for number in range(1, 301):
        assert board.page(number, 10)[0].rank == number * 10 - 9
    assert len(board._memo) <= leaderboard_module.ENTRY_MEMO + 10


def test_percentile(backend):
    board = board_with(backend)
    # "of the 5 others, how many score strictly worse", as a percentage
    assert board.percentile("a") == 100.0
    assert board.percentile("b") == board.percentile("d") == 60.0
    assert board.percentile("c") == 20.0
    assert board.percentile("f") == 0.0
    solo = Leaderboard(backend.client, "solo")
    solo.add("only", 3)
    assert solo.percentile("only") == 100.0
    board.add("f", 20)  # ties never count as beaten
    assert board.percentile("c") == 0.0


def test_decoding_clients_give_the_same_results(backend):
    board_with(backend)
    board = Leaderboard(backend.new_client(decode_responses=True), "lb")
    dense = view(board, ranking="dense")
    assert board.top(2) == [Entry("a", 70.0, 1), Entry("b", 50.0, 2)]
    assert dense.around("c", 1) == [Entry("d", 50.0, 2), Entry("c", 20.0, 3),
                                    Entry("e", 20.0, 3)]
    assert board.entries(["e", "x"]) == [Entry("e", 20.0, 5), None]
    assert board.incr("f", 0.5) == 10.5
    assert board.percentile("b") == 60.0
    board.member_data.set("a", {"k": "v"})
    assert board.member_data.get_many(["a"]) == [{"k": "v"}]
    with pytest.raises(ValueError, match="ranks high scores first"):
        Leaderboard(board.client, "lb", reverse=False).add("a", 1)


# -- member data --------------------------------------------------------------------------
def test_member_data_lives_and_dies_with_the_member(backend):
    board = board_with(backend)
    data = board.member_data
    assert data.set("a", {"name": "Ada", "level": 7, "ratio": 0.5}) is True
    assert data.set("a", {"level": 8}) is True
    assert data.get("a") == {"name": "Ada", "level": "8", "ratio": "0.5"}
    assert data.set("nobody", {"name": "x"}) is False
    assert data.get("nobody") == {}
    assert "lb:data:nobody" not in keys(backend.client)
    data.set("b", {"name": "Bob"})
    assert data.get_many(["a", "b", "c"]) == [
        {"name": "Ada", "level": "8", "ratio": "0.5"}, {"name": "Bob"}, {}]
    assert data.get_many([]) == []
    assert data.delete("a", "ratio", "missing") == 1
    assert data.get("a") == {"name": "Ada", "level": "8"}
    assert data.delete("b") == 1
    assert data.get("b") == {}
    board.remove("a")
    assert data.get("a") == {}
    assert "lb:data:a" not in keys(backend.client)
    with pytest.raises(TypeError):
        data.set("c", {"x": None})
    with pytest.raises(TypeError):
        data.set("c", {1: "x"})


# -- seasons ------------------------------------------------------------------------------
def test_expire_at_ends_the_whole_board(backend):
    board = board_with(backend)
    board.member_data.set("a", {"name": "Ada"})
    deadline = server_seconds(backend.client) + 0.4
    board.expire_at(deadline)
    board_keys = ["lb:data:a", "lb:members", "lb:meta", "lb:rank", "lb:scores"]
    assert keys(backend.client) == board_keys
    for key in board_keys:
        assert 0 < backend.client.pttl(key) <= 400
    # keys created after the call get the same deadline
    board.member_data.set("b", {"name": "Bob"})
    assert 0 < backend.client.pttl("lb:data:b") <= 400
    for member, _ in PLAYERS:
        board.remove(member)  # empties the sets: their keys are gone
    board.add("late", 1)
    assert 0 < backend.client.pttl("lb:rank") <= 400
    backend.advance(0.5)
    assert board.count() == 0
    assert keys(backend.client) == []
    board.add("next-season", 1)  # a fresh board, no deadline
    assert backend.client.pttl("lb:rank") == -1


def test_expire_at_takes_a_datetime(backend):
    board = board_with(backend, [("a", 1)])
    board.expire_at(datetime.fromtimestamp(server_seconds(backend.client) + 60, timezone.utc))
    assert 55_000 < backend.client.pttl("lb:rank") <= 60_000
    board.expire_at(server_seconds(backend.client) - 1)  # in the past: gone now
    assert keys(backend.client) == []
    with pytest.raises(TypeError):
        board.expire_at("tomorrow")


# -- merging ------------------------------------------------------------------------------
def test_merge_into_sums_into_the_destination(backend):
    week1 = board_with(backend, [("a", 10), ("b", 5)])
    week2 = Leaderboard(backend.client, "week2")
    week2.add_many({"b": 5, "c": 7, "a": 1})
    total = Leaderboard(backend.client, "total")
    total.add("old", 11)
    total.add("a", 100)
    assert week1.merge_into(total, week2) == 4
    assert total.top(10) == [Entry("a", 111.0, 1), Entry("old", 11.0, 2), Entry("b", 10.0, 3),
                             Entry("c", 7.0, 4)]
    # sources are untouched
    assert week1.top(10) == [Entry("a", 10.0, 1), Entry("b", 5.0, 2)]


def test_merge_into_min_max_and_arrival_order(backend):
    one = board_with(backend, [("x", 3), ("y", 8)])
    two = Leaderboard(backend.client, "two")
    two.add_many({"y": 2, "z": 8, "x": 9})
    assert one.merge_into("best", two, aggregate="max") == 3
    best = Leaderboard(backend.client, "best")
    # y reached 8 first (seen first: one's board order is y, x), then z
    assert best.top(5) == [Entry("x", 9.0, 1), Entry("y", 8.0, 2), Entry("z", 8.0, 3)]
    assert one.merge_into("worst", "two", aggregate="min") == 3
    assert members(Leaderboard(backend.client, "worst").top(5)) == ["z", "x", "y"]
    # a dest member whose score does not change keeps its arrival
    keep = Leaderboard(backend.client, "keep")
    keep.add_many({"y": 8, "x": 8})
    one.merge_into(keep, aggregate="max")
    assert members(keep.top(2)) == ["y", "x"]
    with pytest.raises(ValueError):
        one.merge_into("dest", aggregate="avg")


def test_merge_into_checks_direction_and_overflow_before_writing(backend):
    high = board_with(backend, [("a", 1.7e308)])
    low_dest = Leaderboard(backend.client, "low", reverse=False)
    low_dest.add("x", 1)
    with pytest.raises(ValueError, match="ranks low scores first"):
        high.merge_into(Leaderboard(backend.client, "low"))
    assert low_dest.top(5) == [Entry("x", 1.0, 1)]
    # a source ranked the other way still merges (its scores are read as they are)
    high.merge_into(low_dest)
    assert members(low_dest.top(5)) == ["x", "a"]
    twice = Leaderboard(backend.client, "twice")
    twice.add("a", 1.7e308)
    with pytest.raises(ValueError, match="overflow"):
        high.merge_into(twice)
    assert twice.score("a") == 1.7e308


# -- layout and round trips ---------------------------------------------------------------
def test_layout(backend):
    board = board_with(backend, [("a", 5), ("b", 5)])
    board.member_data.set("a", {"k": "v"})
    client = backend.client
    assert keys(client) == ["lb:data:a", "lb:members", "lb:meta", "lb:rank", "lb:scores"]
    tags = client.hgetall("lb:members")
    assert tags == {b"a": b"%016d" % (ARRIVALS - 1), b"b": b"%016d" % (ARRIVALS - 2)}
    assert client.zrevrange("lb:rank", 0, -1, withscores=True) == [
        (tags[b"a"] + b"a", 5.0), (tags[b"b"] + b"b", 5.0)]
    assert client.zrange("lb:scores", 0, -1, withscores=True) == [(b"5", 5.0)]
    assert client.hgetall("lb:meta") == {b"order": b"desc", b"seq": b"2"}
    asc = Leaderboard(client, "asc", reverse=False)
    asc.add("a", 1)
    assert client.hget("asc:members", "a") == b"%016d" % 1


def test_one_round_trip_per_operation(real_redis, monkeypatch):
    board = Leaderboard(real_redis, "lb")
    dense = Leaderboard(real_redis, "lb", ranking="dense")
    other = Leaderboard(real_redis, "other")

    def every_operation():
        yield lambda: board.add("a", 1)
        yield lambda: board.add_many({"b": 2, "c": 3})
        yield lambda: board.incr("a", 5)
        yield lambda: board.set_if_better("b", 10)
        yield lambda: board.score("a")
        yield lambda: board.rank("a")
        yield lambda: dense.rank("a")
        yield lambda: board.entries(["a", "b", "x"])
        yield lambda: board.top(2)
        yield lambda: dense.page(1, 2)
        yield lambda: board.around("b", 1)
        yield lambda: board.percentile("a")
        yield lambda: board.count()
        yield lambda: board.member_data.set("a", {"x": 1})
        yield lambda: board.member_data.get("a")
        yield lambda: board.member_data.get_many(["a", "b"])
        yield lambda: board.member_data.delete("a", "x")
        yield lambda: board.merge_into(other)
        yield lambda: board.remove("c")
        yield lambda: board.expire_at(2_000_000_000)

    for operation in every_operation():  # load every script once
        operation()
    trips = RoundTrips(real_redis, monkeypatch)
    for operation in every_operation():
        operation()
        assert len(trips.take()) == 1


# -- against a model ----------------------------------------------------------------------
class Model:
    """The board as the docs define it, by brute force."""

    def __init__(self, reverse):
        self.reverse = reverse
        self.scores = {}
        self.arrivals = {}
        self.clock = 0

    def _set(self, member, score):
        if self.scores.get(member) != score or member not in self.scores:
            self.clock += 1
            self.arrivals[member] = self.clock
            self.scores[member] = score

    def apply(self, operation, member, value):
        if operation == "add":
            self._set(member, value)
        elif operation == "incr":
            self._set(member, self.scores.get(member, 0.0) + value)
        elif operation == "better":
            old = self.scores.get(member)
            if old is None or (value > old if self.reverse else value < old):
                self._set(member, value)
        else:
            self.scores.pop(member, None)

    def better(self, a, b):
        return a > b if self.reverse else a < b

    def order(self):
        sign = -1 if self.reverse else 1
        return sorted(self.scores, key=lambda m: (sign * self.scores[m], self.arrivals[m]))

    def rank(self, member, mode):
        score = self.scores[member]
        if mode == "standard":
            return self.order().index(member) + 1
        if mode == "competition":
            return 1 + sum(self.better(other, score) for other in self.scores.values())
        return 1 + len({other for other in self.scores.values() if self.better(other, score)})

    def percentile(self, member):
        score = self.scores[member]
        worse = sum(self.better(score, other) for other in self.scores.values())
        return 100.0 if len(self.scores) == 1 else 100.0 * worse / (len(self.scores) - 1)


MEMBERS = ["ann", "bo", "cy", "di", "ed"]
operations = st.lists(st.tuples(st.sampled_from(["add", "incr", "better", "remove"]),
                                st.sampled_from(MEMBERS),
                                st.sampled_from([0, 1, 2, 3, -1, 0.5, 2.5])), max_size=25)


def test_rankings_match_a_brute_force_model(backend):
    client = backend.client
    examples = settings.default.max_examples
    if not backend.embedded:  # each example costs real round trips
        examples = max(10, examples // 3)

    @settings(max_examples=examples)
    @given(ops=operations, reverse=st.booleans())
    def check(ops, reverse):
        client.flushall()
        model = Model(reverse)
        boards = {mode: Leaderboard(client, "m", reverse=reverse, ranking=mode)
                  for mode in ("standard", "competition", "dense")}
        board = boards["standard"]
        for operation, member, value in ops:
            model.apply(operation, member, value)
            if operation == "add":
                board.add(member, value)
            elif operation == "incr":
                assert board.incr(member, value) == model.scores[member]
            elif operation == "better":
                board.set_if_better(member, value)
            else:
                board.remove(member)
        order = model.order()
        assert board.count() == len(order)
        for mode, view_ in boards.items():
            expected = [Entry(m, model.scores[m], model.rank(m, mode)) for m in order]
            assert view_.top(len(MEMBERS)) == expected
            assert view_.entries(MEMBERS) == [
                Entry(m, model.scores[m], model.rank(m, mode)) if m in model.scores else None
                for m in MEMBERS]
            assert view_.page(2, 2) == expected[2:4]
            for member in order:
                position = order.index(member)
                start = max(0, min(position - 1, len(order) - 3))
                assert view_.around(member, 1) == expected[start:start + 3]
        for member in MEMBERS:
            expected = model.percentile(member) if member in model.scores else None
            assert board.percentile(member) == expected
        # the layout's invariants: one rank element per member, its tag
        # prefixed; the distinct-score set holds exactly the scores in use
        tags = client.hgetall("m:members")
        assert sorted(client.zrange("m:rank", 0, -1)) == sorted(
            tag + member for member, tag in tags.items())
        assert sorted(float(s) for s in client.zrange("m:scores", 0, -1)) == \
            sorted(set(model.scores.values()))

    check()
