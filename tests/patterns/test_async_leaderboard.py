"""AsyncLeaderboard on both async clients (``async_backend``: minikv.asyncio
on a manual clock, redis.asyncio on the private server).

The expectations are the sync suite's (test_leaderboard.py): the same
players, the same ranks in every mode; its brute-force model checks random
operation sequences on minikv.asyncio (hypothesis), and a sync Leaderboard
reads what an async one wrote, and the other way round.
"""
import asyncio
import inspect

import pytest
import redis.asyncio
from asyncio_support import sync_twin
from hypothesis import given, settings
from hypothesis import strategies as st
from round_trips import RoundTrips
from test_leaderboard import MEMBERS, PLAYERS, Model, operations

import minikv
import minikv.asyncio
from minikv.patterns import AsyncLeaderboard, Entry, Leaderboard
from minikv.patterns.leaderboard import AsyncMemberData, MemberData

pytest_plugins = ["async_support"]  # the async_backend fixture

MODES = ("standard", "competition", "dense")


async def board_with(client, players=PLAYERS, name="lb", **options):
    board = AsyncLeaderboard(client, name, **options)
    for member, score in players:
        await board.add(member, score)
    return board


def view(board, ranking):
    """Another AsyncLeaderboard object on the same board's data."""
    return AsyncLeaderboard(board.client, board.name, reverse=board.reverse, ranking=ranking)


def members(entries):
    return [entry.member for entry in entries]


async def keys(client):
    return sorted(key.decode() for key in await client.keys("*"))


# -- rankings -----------------------------------------------------------------------------
# PLAYERS in arrival order: ties at 50 (b before d) and 20 (c before e).
ORDER = {True: ["a", "b", "d", "c", "e", "f"], False: ["f", "c", "e", "b", "d", "a"]}
SCORES = {"a": 70.0, "b": 50.0, "c": 20.0, "d": 50.0, "e": 20.0, "f": 10.0}
RANKS = {  # rank of each member of ORDER, per (reverse, mode)
    (True, "standard"): [1, 2, 3, 4, 5, 6],
    (True, "competition"): [1, 2, 2, 4, 4, 6],
    (True, "dense"): [1, 2, 2, 3, 3, 4],
    (False, "standard"): [1, 2, 3, 4, 5, 6],
    (False, "competition"): [1, 2, 2, 4, 4, 6],
    (False, "dense"): [1, 2, 2, 3, 3, 4],
}


@pytest.mark.asyncio
@pytest.mark.parametrize("reverse", [True, False])
async def test_rankings_in_every_mode(async_backend, reverse):
    board = await board_with(async_backend.client, reverse=reverse)
    order = ORDER[reverse]
    for mode in MODES:
        ranked = view(board, mode)
        expected = [Entry(member, SCORES[member], rank)
                    for member, rank in zip(order, RANKS[reverse, mode])]
        assert await ranked.top(10) == expected, mode
        assert await ranked.top(2) == expected[:2]
        assert await ranked.page(2, 2) == expected[2:4]
        assert await ranked.page(4, 2) == []
        assert await ranked.around(order[3], 1) == expected[2:5]
        assert await ranked.around(order[0], 1) == expected[:3]  # shifted at the edge
        assert await ranked.around(order[5], 2) == expected[1:]
        assert [await ranked.rank(member) for member in order] == RANKS[reverse, mode]
        assert await ranked.entries([order[4], "nobody", order[0]]) == [expected[4], None,
                                                                      expected[0]]
    assert [await board.score(member) for member in "af"] == [70.0, 10.0]
    assert await board.count() == 6
    # "of the 5 others, how many score strictly worse"
    assert [await board.percentile(member) for member in order] == [100.0, 60.0, 60.0, 20.0,
                                                                     20.0, 0.0]


@pytest.mark.asyncio
async def test_absent_members_and_an_empty_board(async_backend):
    board = AsyncLeaderboard(async_backend.client, "lb")
    assert await board.count() == 0
    assert await board.top(5) == [] and await board.page(1, 5) == []
    assert await board.around("x", 2) == []
    assert await board.score("x") is None and await board.rank("x") is None
    assert await board.percentile("x") is None
    assert await board.entries(["x"]) == [None] and await board.entries([]) == []
    assert await view(board, "dense").top(3) == []


# -- writes -----------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_writes(async_backend):
    board = AsyncLeaderboard(async_backend.client, "lb")
    assert await board.add("a", 1) is True
    assert await board.add("a", 2) is False
    assert await board.add_many({"b": 3, "c": 3, "a": 2}) == 2
    assert await board.add_many({}) == 0
    assert members(await board.top(3)) == ["b", "c", "a"]
    assert await board.incr("a", 1.5) == 3.5
    assert await board.incr("new") == 1.0
    assert await board.set_if_better("a", 1) is False
    assert await board.set_if_better("a", 4) is True
    assert await board.add("b", 3) is False  # the same score: b keeps its arrival before c
    assert members(await board.top(3)) == ["a", "b", "c"]
    assert await board.remove("b") is True
    assert await board.remove("b") is False
    assert await board.count() == 3
    assert await board.incr("c", 0) == 3.0


@pytest.mark.asyncio
async def test_refused_writes_change_nothing(async_backend):
    board = await board_with(async_backend.client, [("a", 1.7e308), ("b", 1)])
    low = AsyncLeaderboard(async_backend.client, "lb", reverse=False)
    with pytest.raises(ValueError, match="ranks high scores first; this AsyncLeaderboard"):
        await low.add("z", 1)
    with pytest.raises(ValueError, match="ranks high scores first"):
        await low.incr("a", 1)
    with pytest.raises(ValueError, match="ranks high scores first"):
        await low.set_if_better("b", 0)
    with pytest.raises(ValueError, match="overflow"):
        await board.incr("a", 1.7e308)
    for bad in (float("nan"), float("inf"), 2 ** 53 + 1):
        with pytest.raises(ValueError):
            await board.add("c", bad)
    with pytest.raises(TypeError):
        await board.add(b"bytes", 1)
    with pytest.raises(TypeError):
        await board.incr("a", "1")
    for bad in ((0, 4), (1, 0)):
        with pytest.raises(ValueError):
            await board.page(*bad)
    with pytest.raises(ValueError):
        await board.top(-1)
    assert await board.top(5) == [Entry("a", 1.7e308, 1), Entry("b", 1.0, 2)]


@pytest.mark.asyncio
async def test_concurrent_increments_are_atomic(async_backend):
    clients = [async_backend.new_client() for _ in range(3)] + [async_backend.client]

    async def work(client):
        mine = AsyncLeaderboard(client, "lb")
        for _ in range(40):
            await mine.incr("shared", 1)
            await mine.incr("other", 2)
            await asyncio.sleep(0)  # minikv never suspends: interleave the tasks

    await asyncio.gather(*(work(client) for client in clients for _ in range(2)))
    board = AsyncLeaderboard(async_backend.client, "lb")
    assert await board.score("shared") == 320.0
    assert await board.score("other") == 640.0
    assert await view(board, "dense").rank("shared") == 2


# -- member data, seasons, merging -------------------------------------------------------------
@pytest.mark.asyncio
async def test_member_data(async_backend):
    client = async_backend.client
    board = await board_with(client)
    data = board.member_data
    assert type(data) is AsyncMemberData
    assert await data.set("a", {"name": "Ada", "level": 7, "ratio": 0.5}) is True
    assert await data.set("a", {"level": 8}) is True
    assert await data.get("a") == {"name": "Ada", "level": "8", "ratio": "0.5"}
    assert await data.set("nobody", {"name": "x"}) is False
    assert "lb:data:nobody" not in await keys(client)
    await data.set("b", {"name": "Bob"})
    assert await data.get_many(["a", "b", "c"]) == [
        {"name": "Ada", "level": "8", "ratio": "0.5"}, {"name": "Bob"}, {}]
    assert await data.get_many([]) == []
    assert await data.delete("a", "ratio", "missing") == 1
    assert await data.delete("b") == 1
    assert await data.get("b") == {}
    await board.remove("a")  # the data goes with the member
    assert await data.get("a") == {}
    assert "lb:data:a" not in await keys(client)
    with pytest.raises(TypeError):
        await data.set("c", {"x": None})


@pytest.mark.asyncio
async def test_expire_at_ends_the_whole_board(async_backend):
    client = async_backend.client
    board = await board_with(client)
    await board.member_data.set("a", {"name": "Ada"})
    seconds, micros = await client.time()
    await board.expire_at(seconds + micros / 1e6 + 0.3)
    assert await keys(client) == ["lb:data:a", "lb:members", "lb:meta", "lb:rank", "lb:scores"]
    await board.member_data.set("b", {"name": "Bob"})  # created later: the same deadline
    assert 0 < await client.pttl("lb:data:b") <= 300
    await async_backend.advance(0.4)
    assert await board.count() == 0
    assert await keys(client) == []


@pytest.mark.asyncio
async def test_merge_into(async_backend):
    client = async_backend.client
    week1 = await board_with(client, [("a", 10), ("b", 5)], name="week1")
    week2 = await board_with(client, [("b", 5), ("c", 7), ("a", 1)], name="week2")
    total = await board_with(client, [("old", 11), ("a", 100)], name="total")
    assert await week1.merge_into(total, week2) == 4
    assert await total.top(10) == [Entry("a", 111.0, 1), Entry("old", 11.0, 2),
                                   Entry("b", 10.0, 3), Entry("c", 7.0, 4)]
    assert await week1.merge_into("best", "week2", aggregate="max") == 3
    assert await AsyncLeaderboard(client, "best").top(3) == [
        Entry("a", 10.0, 1), Entry("c", 7.0, 2), Entry("b", 5.0, 3)]
    with pytest.raises(ValueError):
        await week1.merge_into("dest", aggregate="avg")
    with pytest.raises(ValueError, match="ranks high scores first"):
        await week1.merge_into(AsyncLeaderboard(client, "total", reverse=False))


# -- the same board as the sync Leaderboard -------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("mode", MODES)
async def test_sync_and_async_boards_are_one_board(async_backend, mode):
    twin = sync_twin(async_backend.client)
    board = await board_with(async_backend.client, ranking=mode)
    sync_board = Leaderboard(twin, "lb", ranking=mode)
    sync_board.incr("f", 45)  # f reaches 55
    await board.set_if_better("c", 55)  # c reaches 55 after f
    assert sync_board.top(10) == await board.top(10)
    assert sync_board.around("d", 2) == await board.around("d", 2)
    assert sync_board.entries("abcdef") == await board.entries("abcdef")
    assert sync_board.percentile("e") == await board.percentile("e")
    await board.member_data.set("a", {"k": "v"})
    assert sync_board.member_data.get("a") == {"k": "v"}
    twin.close()


@pytest.mark.asyncio
async def test_decoding_clients_give_the_same_results(async_backend):
    await board_with(async_backend.client)
    board = AsyncLeaderboard(async_backend.new_client(decode_responses=True), "lb")
    assert await board.top(2) == [Entry("a", 70.0, 1), Entry("b", 50.0, 2)]
    assert await view(board, "dense").around("c", 1) == [
        Entry("d", 50.0, 2), Entry("c", 20.0, 3), Entry("e", 20.0, 3)]
    assert await board.entries(["e", "x"]) == [Entry("e", 20.0, 5), None]
    assert await board.incr("f", 0.5) == 10.5
    await board.member_data.set("a", {"k": "v"})
    assert await board.member_data.get_many(["a"]) == [{"k": "v"}]


@pytest.mark.asyncio
async def test_a_redis_asyncio_call_is_one_round_trip(redis_port, monkeypatch):
    client = redis.asyncio.Redis(port=redis_port)
    await client.flushall()
    board = AsyncLeaderboard(client, "lb")
    dense = AsyncLeaderboard(client, "lb", ranking="dense")
    every_operation = [
        lambda: board.add("a", 1), lambda: board.add_many({"b": 2, "c": 3}),
        lambda: board.incr("a", 5), lambda: board.set_if_better("b", 10),
        lambda: board.score("a"), lambda: board.rank("a"), lambda: dense.rank("a"),
        lambda: board.entries(["a", "b", "x"]), lambda: board.top(2),
        lambda: dense.page(1, 2), lambda: board.around("b", 1), lambda: board.percentile("a"),
        lambda: board.count(), lambda: board.member_data.set("a", {"x": 1}),
        lambda: board.member_data.get("a"), lambda: board.member_data.get_many(["a", "b"]),
        lambda: board.member_data.delete("a", "x"), lambda: board.merge_into("other"),
        lambda: board.remove("c"), lambda: board.expire_at(2_000_000_000),
    ]
    for operation in every_operation:  # load every script once
        await operation()
    trips = RoundTrips(client, monkeypatch)
    for operation in every_operation:
        await operation()
        calls = trips.take()
        assert len(calls) == 1, calls
    await client.aclose()


@pytest.mark.asyncio
async def test_repr_and_default_client():
    board = AsyncLeaderboard(name="cup", reverse=False, ranking="dense")
    assert repr(board) == "AsyncLeaderboard('cup', reverse=False, ranking='dense')"
    assert type(board.client) is minikv.asyncio.Redis
    await board.add("x", 2)
    assert await board.top(1) == [Entry("x", 2.0, 1)]
    await board.client.aclose()


def test_every_method_is_a_coroutine_with_the_sync_signature():
    for sync_class, async_class in ((Leaderboard, AsyncLeaderboard),
                                    (MemberData, AsyncMemberData)):
        public = [name for name, _ in inspect.getmembers(sync_class, inspect.isfunction)
                  if not name.startswith("_")]
        assert public
        for name in public:
            method = getattr(async_class, name)
            assert inspect.iscoroutinefunction(method), name
            assert inspect.signature(method) == inspect.signature(getattr(sync_class, name))
    assert (inspect.signature(AsyncLeaderboard.__init__)
            == inspect.signature(Leaderboard.__init__))


# -- against the brute-force model, on minikv.asyncio -------------------------------------------
async def check_against_model(ops, reverse):
    client = minikv.asyncio.Redis()
    model = Model(reverse)
    boards = {mode: AsyncLeaderboard(client, "m", reverse=reverse, ranking=mode)
              for mode in MODES}
    board = boards["standard"]
    for operation, member, value in ops:
        model.apply(operation, member, value)
        if operation == "add":
            await board.add(member, value)
        elif operation == "incr":
            assert await board.incr(member, value) == model.scores[member]
        elif operation == "better":
            await board.set_if_better(member, value)
        else:
            await board.remove(member)
    order = model.order()
    assert await board.count() == len(order)
    for mode, ranked in boards.items():
        expected = [Entry(m, model.scores[m], model.rank(m, mode)) for m in order]
        assert await ranked.top(len(MEMBERS)) == expected
        assert await ranked.entries(MEMBERS) == [
            Entry(m, model.scores[m], model.rank(m, mode)) if m in model.scores else None
            for m in MEMBERS]
        assert await ranked.page(2, 2) == expected[2:4]
        for position, member in enumerate(order):
            start = max(0, min(position - 1, len(order) - 3))
            assert await ranked.around(member, 1) == expected[start:start + 3]
    for member in MEMBERS:
        expected = model.percentile(member) if member in model.scores else None
        assert await board.percentile(member) == expected
    await client.aclose()


@settings(max_examples=40)
@given(ops=operations, reverse=st.booleans())
def test_rankings_match_a_brute_force_model(ops, reverse):
    asyncio.run(check_against_model(ops, reverse))
