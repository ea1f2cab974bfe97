"""Hypothesis state machine for sets: random command sequences sent to
minikv and to real Redis, every reply compared.

Deterministic commands are compared reply for reply (error class and text
included; unordered replies as sets or sorted lists). The random ones are
compared by their properties: SRANDMEMBER by sizes, membership and
distinctness; SPOP likewise, and then — since the two sides popped
different members — each side is checked on its own (what it popped is
gone, its encoding is what Redis's rules give for what it kept) and both are
rebuilt with the same members, so the runs stay comparable.

A rule changes set-max-intset-entries on both sides, so encodings are
compared under small limits too; the real server's default is restored at
the end.
"""
import redis
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from helpers import command_outcome

import minikv
from minikv.engine.numbers import parse_int

SET_KEYS = ["s1", "s2", "s3"]
ALL_KEYS = SET_KEYS + ["str", "missing"]
KEYS = st.sampled_from(ALL_KEYS)
MEMBERS = st.sampled_from(["0", "1", "2", "3", "-7", "42", "9223372036854775807",
                           "x", "y", "", "01", "-0", "9223372036854775808", "long" * 12])
MEMBER_LISTS = st.lists(MEMBERS, min_size=1, max_size=10)
COUNTS = st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "8", "10", "20", "-1", "-4", "abc",
                          "-9223372036854775808", "9223372036854775807"])
LIMITS = [0, 1, 3, 512]
DEFAULT_LIMIT = 512


class SetMachine(RuleBasedStateMachine):
    port = None

    def __init__(self):
        super().__init__()
        self.mini = minikv.Redis()
        # RESP2 on the wire: raw execute_command replies have the shapes
        # minikv models.
        self.real = redis.Redis(port=self.port, protocol=2)
        self.real.flushall()
        self.real.config_set("set-max-intset-entries", DEFAULT_LIMIT)
        self.limit = DEFAULT_LIMIT
        for client in (self.mini, self.real):
            client.set("str", "a string")

    def teardown(self):
        try:
            self.same_contents()
        finally:
            self.real.config_set("set-max-intset-entries", DEFAULT_LIMIT)
            self.mini.close()
            self.real.close()

    def same(self, command, *args):
        mini = command_outcome(self.mini, command, args)
        real = command_outcome(self.real, command, args)
        assert mini == real, (command, args, mini, real)

    def expected_encoding(self, members):
        if len(members) <= self.limit and all(parse_int(m) is not None for m in members):
            return b"intset"
        return b"hashtable"

    # -- writes ----------------------------------------------------------
    @rule(key=KEYS, members=MEMBER_LISTS)
    def sadd(self, key, members):
        self.same("SADD", key, *members)

    @rule(key=KEYS, members=MEMBER_LISTS)
    def srem(self, key, members):
        self.same("SREM", key, *members)

    @rule(source=KEYS, destination=KEYS, member=MEMBERS)
    def smove(self, source, destination, member):
        self.same("SMOVE", source, destination, member)

    @rule(command=st.sampled_from(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
          destination=KEYS, keys=st.lists(KEYS, min_size=1, max_size=3))
    def store(self, command, destination, keys):
        self.same(command, destination, *keys)

    @rule(key=st.sampled_from(SET_KEYS), seconds=st.sampled_from([100, 300]))
    def expire(self, key, seconds):
        self.same("EXPIRE", key, seconds)

    @rule(key=st.sampled_from(SET_KEYS))
    def delete(self, key):
        self.same("DEL", key)

    @rule(limit=st.sampled_from(LIMITS))
    def set_intset_limit(self, limit):
        self.same("CONFIG", "SET", "set-max-intset-entries", limit)
        self.limit = limit

    # -- reads -----------------------------------------------------------
    @rule(command=st.sampled_from(["SCARD", "TYPE", "SMEMBERS"]), key=KEYS)
    def whole(self, command, key):
        self.same(command, key)

    @rule(key=KEYS)
    def encoding(self, key):
        self.same("OBJECT", "ENCODING", key)

    @rule(key=KEYS, members=MEMBER_LISTS)
    def membership(self, key, members):
        self.same("SISMEMBER", key, members[0])
        self.same("SMISMEMBER", key, *members)

    @rule(command=st.sampled_from(["SINTER", "SUNION", "SDIFF"]),
          keys=st.lists(KEYS, min_size=1, max_size=3))
    def algebra(self, command, keys):
        self.same(command, *keys)

    @rule(keys=st.lists(KEYS, min_size=1, max_size=3),
          numkeys_delta=st.sampled_from([0, 0, 0, 1, -1]),
          options=st.sampled_from([[], ["LIMIT", "0"], ["LIMIT", "1"], ["LIMIT", "2"],
                                   ["LIMIT", "-1"], ["LIMIT"], ["limit", "1", "LIMIT", "3"]]))
    def sintercard(self, keys, numkeys_delta, options):
        self.same("SINTERCARD", len(keys) + numkeys_delta, *keys, *options)

    @rule(key=KEYS, match=st.sampled_from([None, "*", "x*", "?", "-*", "[0-3]"]),
          count=st.sampled_from([None, 1, 3, 100]))
    def sscan(self, key, match, count):
        """An intset's single page is compared exactly (Redis lists it in
        numeric order), a hashtable's first page when it holds the whole set
        (as sorted lists), and a whole iteration always (as sets)."""
        options = []
        if match is not None:
            options += ["MATCH", match]
        if count is not None:
            options += ["COUNT", count]
        mini = command_outcome(self.mini, "SSCAN", [key, "0", *options])
        real = command_outcome(self.real, "SSCAN", [key, "0", *options])
        if mini[0] == "error" or real[0] == "error":
            assert mini == real, (key, options, mini, real)
            return
        if self.real.object("encoding", key) in (None, b"intset"):
            assert mini == real, (key, options, mini, real)
        elif self.real.scard(key) < (count or 10):
            assert (mini[1][0], sorted(mini[1][1])) == (real[1][0], sorted(real[1][1]))
        scanned = [set(client.sscan_iter(key, match=match, count=count))
                   for client in (self.mini, self.real)]
        assert scanned[0] == scanned[1], (key, match, count, scanned)

    @rule(key=KEYS, count=st.one_of(st.none(), COUNTS))
    def srandmember(self, key, count):
        args = [key] if count is None else [key, count]
        mini = command_outcome(self.mini, "SRANDMEMBER", args)
        real = command_outcome(self.real, "SRANDMEMBER", args)
        assert mini[0] == real[0], (args, mini, real)
        if mini[0] == "error":
            assert mini == real
            return
        members = self.real.smembers(key) if self.real.type(key) == b"set" else set()
        if count is None:
            assert (mini[1] is None) == (real[1] is None)
            assert mini[1] is None or (mini[1] in members and real[1] in members)
            return
        assert len(mini[1]) == len(real[1]), (args, mini, real)
        for reply in (mini[1], real[1]):
            assert set(reply) <= members
            if int(count) > 0:
                assert len(set(reply)) == len(reply)

    @rule(key=KEYS, count=st.one_of(st.none(), COUNTS))
    def spop(self, key, count):
        args = [key] if count is None else [key, count]
        before = {side: client.smembers(key) if client.type(key) == b"set" else None
                  for side, client in (("mini", self.mini), ("real", self.real))}
        mini = command_outcome(self.mini, "SPOP", args)
        real = command_outcome(self.real, "SPOP", args)
        assert mini[0] == real[0], (args, mini, real)
        if mini[0] == "error":
            assert mini == real
            return
        assert before["mini"] == before["real"]
        original = before["real"] or set()
        popped = {}
        for side, reply in (("mini", mini[1]), ("real", real[1])):
            if count is None:
                popped[side] = set() if reply is None else {reply}
            else:
                assert len(reply) == len(set(reply)) == min(int(count), len(original))
                popped[side] = set(reply)
            assert popped[side] <= original
        assert len(popped["mini"]) == len(popped["real"])
        if popped["mini"] == popped["real"]:
            return
        # Most of the set popped: Redis moved the few survivors to a new set,
        # whose encoding depends on which ones each side kept. Otherwise the
        # pops removed members one by one and the encoding stayed.
        kept_by_redis_copy = count is not None and \
            (len(original) - int(count)) * 5 <= int(count)
        for client, side in ((self.mini, "mini"), (self.real, "real")):
            kept = original - popped[side]
            assert client.smembers(key) == kept
            if kept_by_redis_copy:
                assert client.object("encoding", key) == self.expected_encoding(kept), side
        if not kept_by_redis_copy:
            assert self.mini.object("encoding", key) == self.real.object("encoding", key)
        self.rebuild(key, sorted(original - popped["mini"]))

    def rebuild(self, key, members):
        """Give ``key`` the same members (and TTL) on both sides, from scratch."""
        ttl = self.real.pttl(key)
        for client in (self.mini, self.real):
            client.delete(key)
            if members:
                client.sadd(key, *members)
                if ttl > 0:
                    client.pexpire(key, ttl)

    # -- invariants ------------------------------------------------------
    @invariant()
    def same_keys(self):
        assert sorted(self.mini.keys("*")) == sorted(self.real.keys("*"))

    @invariant()
    def same_contents(self):
        for key in ALL_KEYS:
            value_type = self.real.type(key)
            assert self.mini.type(key) == value_type, key
            if value_type == b"set":
                assert self.mini.smembers(key) == self.real.smembers(key), key
                assert self.mini.object("encoding", key) == \
                    self.real.object("encoding", key), key
            assert (self.mini.ttl(key) > 0) == (self.real.ttl(key) > 0), key


def test_set_state_machine(redis_port):
    SetMachine.port = redis_port
    run_state_machine_as_test(SetMachine)
