"""Hypothesis state machine for sorted sets: random command sequences sent to
minikv and to real Redis, every reply compared.

Deterministic commands are compared reply for reply (error class and text
included). ZRANDMEMBER is compared by its properties (sizes, membership,
distinctness; the whole set when the count covers it); ZSCAN by a whole
iteration, and a listpack's single page exactly. Scores come from a list of
awkward spellings (hex, exponents, infinities, NaN, out of range, -0, an
exclusive "(" where it does not belong), members from a few short and long
ones, bounds from every form Redis accepts and some it refuses.

A rule changes zset-max-listpack-entries/-value on both sides, so encodings
and the listpack-only behaviours (the lexicographic walk, -0 stored as 0)
are compared under small limits too; the real server's defaults are
restored at the end. After every step the sorted sets themselves are
compared: members, scores printed by Redis, encoding and TTL presence.
"""
import redis
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from helpers import command_outcome

import minikv

ZSET_KEYS = ["z1", "z2", "z3"]
ALL_KEYS = ZSET_KEYS + ["dst", "set", "str", "missing"]
# Mostly the sorted sets, so that they grow and the queries find something.
KEYS = st.sampled_from(ZSET_KEYS * 3 + ["set", "str", "missing"])
# The STORE forms mostly write a key of their own, so they do not keep
# emptying the sets the other rules work on.
DESTINATIONS = st.sampled_from(["dst"] * 4 + ALL_KEYS)
MEMBERS = st.sampled_from(["a", "b", "c", "ab", "", "B", "\x00", "é", "m" * 70, "10", "9"])
GOOD_SCORES = ["0", "1", "-1", "2.5", "-0", "0.1", "1e20", "inf", "-inf", "+inf", "0x10",
               "1e-320", "3", "3.0", "10", "1.5e3", "-2.25"]
BAD_SCORES = ["1e400", "nan", "abc", "", " 1", "(1"]
SCORES = st.sampled_from(GOOD_SCORES * 4 + BAD_SCORES)
SCORE_BOUNDS = st.sampled_from(["-inf", "+inf", "inf", "0", "(0", "1", "(1", "2.5", "(2.5",
                                "-1", "(-inf", "(+inf", "(", "", " 2", "-0", "(-0", "10",
                                "(3"] * 2 + ["nan", "x", "1e400", "1 "])
LEX_BOUNDS = st.sampled_from(["-", "+", "[a", "(a", "[b", "(b", "[", "(", "[ab", "(B", "[m",
                              "[\x00", "[9", "(10"] * 2 + ["a", "", "+x"])
INDEXES = st.sampled_from(["0", "1", "2", "-1", "-2", "-100", "100", "3"] * 2
                          + ["x", "9223372036854775807"])
LIMITS = st.sampled_from([[], [], ["LIMIT", "0", "1"], ["LIMIT", "1", "2"], ["LIMIT", "0", "-1"],
                          ["LIMIT", "-1", "2"], ["LIMIT", "2", "0"], ["LIMIT", "x", "1"],
                          ["LIMIT", "1"]])
COUNTS = st.sampled_from(["0", "1", "2", "3", "10", "-1", "-5", "abc",
                          "-9223372036854775808", "4611686018427387904"])
ENTRY_LIMITS = [0, 1, 3, 128]
VALUE_LIMITS = [1, 64]


class SortedSetMachine(RuleBasedStateMachine):
    port = None

    def __init__(self):
        super().__init__()
        self.mini = minikv.Redis()
        # RESP2 on the wire: raw execute_command replies have the shapes
        # minikv models.
        self.real = redis.Redis(port=self.port, protocol=2)
        self.real.flushall()
        self.restore_limits()
        for client in (self.mini, self.real):
            client.set("str", "a string")
            client.sadd("set", "a", "b", "1")
            client.zadd("z1", {"a": 1, "b": 2, "c": 2, "ab": -1.5, "é": 10})
            client.zadd("z2", {"a": 0, "b": 0, "ab": 0, "B": 0, "": 0, "m" * 70: 0})

    def restore_limits(self):
        self.real.config_set("zset-max-listpack-entries", 128)
        self.real.config_set("zset-max-listpack-value", 64)

    def teardown(self):
        self.restore_limits()
        self.same_contents()
        self.mini.close()
        self.real.close()

    def lex_defined(self, key, low, high):
        """False when Redis's answer to a lex range on ``key`` depends on its
        skip list's random shape: a skiplist whose members, in score order,
        do not pass the minimum in one run and the maximum in another (only
        possible with different scores). A listpack is walked, which is
        always defined."""
        if self.real.object("encoding", key) != b"skiplist":
            return True
        if any(bound[:1] not in ("[", "(", "-", "+") for bound in (low, high)):
            return True  # an error reply

        def passes(member, bound, below):
            if bound in ("-", "+"):
                return (bound == "+") == below  # all pass, or none
            limit, open_ = bound[1:].encode(), bound[0] == "("
            if below:
                return member < limit if open_ else member <= limit
            return member > limit if open_ else member >= limit

        members = [member for member, _ in self.real.zrange(key, 0, -1, withscores=True)]
        above = [passes(member, low, False) for member in members]
        below = [passes(member, high, True) for member in members]
        return above == sorted(above) and below == sorted(below, reverse=True)

    def same(self, command, *args, **options):
        mini = command_outcome(self.mini, command, args, **options)
        real = command_outcome(self.real, command, args, **options)
        assert mini == real, (command, args, mini, real)
        return real

    # -- writes ----------------------------------------------------------
    @rule(key=st.sampled_from(ZSET_KEYS),
          pairs=st.lists(st.tuples(st.sampled_from(GOOD_SCORES), MEMBERS), min_size=1,
                         max_size=6))
    def populate(self, key, pairs):
        self.same("ZADD", key, *[item for pair in pairs for item in pair])

    @rule(key=KEYS, flags=st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH", "INCR"]),
                                   max_size=2, unique=True),
          pairs=st.lists(st.tuples(SCORES, MEMBERS), min_size=1, max_size=4),
          odd=st.sampled_from([False, False, False, True]))
    def zadd(self, key, flags, pairs, odd):
        args = [key, *flags] + [item for pair in pairs for item in pair]
        if odd:
            args.append("dangling")
        # as_score: a RESP2 redis-py reads ZADD INCR's reply as a float only then.
        self.same("ZADD", *args, **({"as_score": True} if "INCR" in flags else {}))

    @rule(key=KEYS, increment=st.one_of(SCORES, st.sampled_from(["NX", "incr"])),
          member=MEMBERS)
    def zincrby(self, key, increment, member):
        self.same("ZINCRBY", key, increment, member)

    @rule(key=KEYS, members=st.lists(MEMBERS, min_size=1, max_size=3))
    def zrem(self, key, members):
        self.same("ZREM", key, *members)

    @rule(command=st.sampled_from(["ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZREMRANGEBYRANK"]),
          key=KEYS, data=st.data())
    def zremrange(self, command, key, data):
        bounds = {"ZREMRANGEBYSCORE": SCORE_BOUNDS, "ZREMRANGEBYLEX": LEX_BOUNDS,
                  "ZREMRANGEBYRANK": INDEXES}[command]
        low, high = data.draw(bounds), data.draw(bounds)
        if command == "ZREMRANGEBYLEX" and not self.lex_defined(key, low, high):
            return
        self.same(command, key, low, high)

    @rule(command=st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), key=KEYS,
          count=st.one_of(st.none(), COUNTS))
    def zpop(self, command, key, count):
        self.same(command, key, *([] if count is None else [count]))

    @rule(command=st.sampled_from(["BZPOPMIN", "BZPOPMAX"]),
          keys=st.lists(KEYS, min_size=1, max_size=3))
    def bzpop(self, command, keys):
        if all(self.real.type(key) != b"zset" for key in keys):
            keys = keys + ["z1"]  # never wait on the real server for nothing
            if self.real.type("z1") != b"zset":
                return
        self.same(command, *keys, "0")

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3),
          numkeys_delta=st.sampled_from([0, 0, 0, 1, -1]),
          where=st.sampled_from(["MIN", "MAX", "max", "LEFT"]),
          count=st.sampled_from([[], ["COUNT", "1"], ["COUNT", "2"], ["COUNT", "10"],
                                 ["COUNT", "0"], ["COUNT"], ["COUNT", "1", "COUNT", "1"]]))
    def zmpop(self, keys, numkeys_delta, where, count):
        self.same("ZMPOP", len(keys) + numkeys_delta, *keys, where, *count)

    @rule(destination=DESTINATIONS, source=KEYS, data=st.data(),
          by=st.sampled_from([[], ["BYSCORE"], ["BYLEX"]]),
          rev=st.booleans(), limit=LIMITS)
    def zrangestore(self, destination, source, data, by, rev, limit):
        bounds = {(): INDEXES, ("BYSCORE",): SCORE_BOUNDS, ("BYLEX",): LEX_BOUNDS}[tuple(by)]
        low, high = data.draw(bounds), data.draw(bounds)
        if by == ["BYLEX"] and not self.lex_defined(source, *((high, low) if rev else (low, high))):
            return
        self.same("ZRANGESTORE", destination, source, low, high,
                  *by, *(["REV"] if rev else []), *limit)

    @rule(command=st.sampled_from(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]),
          destination=DESTINATIONS, keys=st.lists(KEYS, min_size=1, max_size=3),
          data=st.data())
    def store_operation(self, command, destination, keys, data):
        options = data.draw(self.operation_options(len(keys), command != "ZDIFFSTORE"))
        self.same(command, destination, len(keys), *keys, *options)

    @rule(key=st.sampled_from(ZSET_KEYS), seconds=st.sampled_from([100, 300]))
    def expire(self, key, seconds):
        self.same("EXPIRE", key, seconds)

    @rule(key=st.sampled_from(ZSET_KEYS))
    def delete(self, key):
        self.same("DEL", key)

    @rule(source=st.sampled_from(ZSET_KEYS), destination=KEYS)
    def copy(self, source, destination):
        self.same("COPY", source, destination, "REPLACE")

    @rule(entries=st.sampled_from(ENTRY_LIMITS), value=st.sampled_from(VALUE_LIMITS))
    def set_listpack_limits(self, entries, value):
        self.same("CONFIG", "SET", "zset-max-listpack-entries", entries,
                  "zset-max-listpack-value", value)

    # -- reads -----------------------------------------------------------
    @rule(command=st.sampled_from(["ZCARD", "TYPE"]), key=KEYS)
    def whole(self, command, key):
        self.same(command, key)

    @rule(command=st.sampled_from(["ZSCORE", "ZRANK", "ZREVRANK"]), key=KEYS, member=MEMBERS)
    def member_read(self, command, key, member):
        self.same(command, key, member)

    @rule(key=KEYS, members=st.lists(MEMBERS, min_size=1, max_size=3))
    def zmscore(self, key, members):
        self.same("ZMSCORE", key, *members)

    @rule(key=KEYS, low=SCORE_BOUNDS, high=SCORE_BOUNDS)
    def zcount(self, key, low, high):
        self.same("ZCOUNT", key, low, high)

    @rule(key=KEYS, low=LEX_BOUNDS, high=LEX_BOUNDS)
    def zlexcount(self, key, low, high):
        if self.lex_defined(key, low, high):
            self.same("ZLEXCOUNT", key, low, high)

    @rule(key=KEYS, data=st.data(), by=st.sampled_from([[], ["BYSCORE"], ["BYLEX"]]),
          rev=st.booleans(), limit=LIMITS, withscores=st.booleans())
    def zrange(self, key, data, by, rev, limit, withscores):
        bounds = {(): INDEXES, ("BYSCORE",): SCORE_BOUNDS, ("BYLEX",): LEX_BOUNDS}[tuple(by)]
        low, high = data.draw(bounds), data.draw(bounds)
        if by == ["BYLEX"] and not self.lex_defined(key, *((high, low) if rev else (low, high))):
            return
        self.same("ZRANGE", key, low, high, *by,
                  *(["REV"] if rev else []), *limit, *(["WITHSCORES"] if withscores else []))

    @rule(command=st.sampled_from(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX",
                                   "ZREVRANGEBYLEX", "ZREVRANGE"]),
          key=KEYS, data=st.data(), limit=LIMITS, withscores=st.booleans())
    def range_commands(self, command, key, data, limit, withscores):
        bounds = LEX_BOUNDS if "LEX" in command else \
            INDEXES if command == "ZREVRANGE" else SCORE_BOUNDS
        first, second = data.draw(bounds), data.draw(bounds)
        if command == "ZRANGEBYLEX" and not self.lex_defined(key, first, second) \
                or command == "ZREVRANGEBYLEX" and not self.lex_defined(key, second, first):
            return
        self.same(command, key, first, second, *(["WITHSCORES"] if withscores else []), *limit)

    def operation_options(self, numkeys, weighted):
        weights = st.lists(st.sampled_from(["1", "2", "-1", "0", "0.5", "inf", "nan", "x"]),
                           min_size=numkeys, max_size=numkeys)
        option = st.sampled_from(["WEIGHTS", "AGGREGATE"] if weighted else ["WEIGHTS"])
        aggregate = st.sampled_from(["SUM", "MIN", "max", "avg"])
        return st.lists(st.one_of(
            st.tuples(st.just("WEIGHTS"), weights).map(lambda t: [t[0], *t[1]]),
            st.tuples(st.just("AGGREGATE"), aggregate).map(list),
            option.map(lambda word: [word])), max_size=2).map(
                lambda parts: [item for part in parts for item in part])

    @rule(command=st.sampled_from(["ZUNION", "ZINTER", "ZDIFF"]),
          keys=st.lists(KEYS, min_size=1, max_size=3),
          numkeys_delta=st.sampled_from([0, 0, 0, 1, -1]), data=st.data(),
          withscores=st.booleans())
    def operation(self, command, keys, numkeys_delta, data, withscores):
        options = data.draw(self.operation_options(len(keys), command != "ZDIFF"))
        self.same(command, len(keys) + numkeys_delta, *keys, *options,
                  *(["WITHSCORES"] if withscores else []))

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3),
          numkeys_delta=st.sampled_from([0, 0, 0, 1, -1]),
          options=st.sampled_from([[], ["LIMIT", "0"], ["LIMIT", "1"], ["LIMIT", "2"],
                                   ["LIMIT", "-1"], ["LIMIT"], ["WITHSCORES"]]))
    def zintercard(self, keys, numkeys_delta, options):
        self.same("ZINTERCARD", len(keys) + numkeys_delta, *keys, *options)

    @rule(key=KEYS)
    def encoding(self, key):
        self.same("OBJECT", "ENCODING", key)

    @rule(key=KEYS, count=st.one_of(st.none(), COUNTS), withscores=st.booleans())
    def zrandmember(self, key, count, withscores):
        args = [key] if count is None else [key, count]
        if withscores:
            args.append("WITHSCORES")
        mini = command_outcome(self.mini, "ZRANDMEMBER", args)
        real = command_outcome(self.real, "ZRANDMEMBER", args)
        assert mini[0] == real[0], (args, mini, real)
        if mini[0] == "error" or count is None and withscores:
            assert mini == real, (args, mini, real)
            return
        pairs = dict(self.real.zrange(key, 0, -1, withscores=True)) \
            if self.real.type(key) == b"zset" else {}
        if count is None:
            assert (mini[1] is None) == (real[1] is None)
            assert mini[1] is None or (mini[1] in pairs and real[1] in pairs)
            return
        if int(count) >= len(pairs):
            assert mini == real, (args, mini, real)  # the whole set, from the top
            return
        assert len(mini[1]) == len(real[1]), (args, mini, real)
        for reply in (mini[1], real[1]):
            members = reply[::2] if withscores else reply
            assert set(members) <= set(pairs)
            if withscores:
                assert all(float(score) == pairs[member]
                           for member, score in zip(reply[::2], reply[1::2]))
            if int(count) > 0:
                assert len(set(members)) == len(members)

    @rule(key=KEYS, match=st.sampled_from([None, "*", "a*", "?", "[ab]"]),
          count=st.sampled_from([None, 1, 3, 100, 0]))
    def zscan(self, key, match, count):
        options = []
        if match is not None:
            options += ["MATCH", match]
        if count is not None:
            options += ["COUNT", count]
        mini = command_outcome(self.mini, "ZSCAN", [key, "0", *options])
        real = command_outcome(self.real, "ZSCAN", [key, "0", *options])
        if mini[0] == "error" or real[0] == "error" \
                or self.real.object("encoding", key) in (None, b"listpack"):
            assert mini == real, (key, options, mini, real)
            return
        scanned = [dict(client.zscan_iter(key, match=match, count=count))
                   for client in (self.mini, self.real)]
        assert scanned[0] == scanned[1], (key, match, count, scanned)

    # -- invariants ------------------------------------------------------
    @invariant()
    def same_keys(self):
        assert sorted(self.mini.keys("*")) == sorted(self.real.keys("*"))

    @invariant()
    def same_contents(self):
        for key in ALL_KEYS:
            value_type = self.real.type(key)
            assert self.mini.type(key) == value_type, key
            if value_type == b"zset":
                raw = ("ZRANGE", key, 0, -1, "WITHSCORES")
                assert self.mini.execute_command(*raw) == self.real.execute_command(*raw), key
                assert self.mini.object("encoding", key) == \
                    self.real.object("encoding", key), key
                self.mini.store.dbs[0].lookup(key.encode()).index._check()
            assert (self.mini.ttl(key) > 0) == (self.real.ttl(key) > 0), key


def test_sorted_set_state_machine(redis_port):
    SortedSetMachine.port = redis_port
    run_state_machine_as_test(SortedSetMachine)
