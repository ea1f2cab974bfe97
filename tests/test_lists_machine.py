"""Hypothesis state machine for lists: random command sequences sent to
minikv and to real Redis, every reply compared (value, or exception class
and message), the whole keyspace compared after every step.

Lists, a string (for WRONGTYPE) and a key that is usually missing are in
play. Blocking commands are sent only when they answer at once on both
sides: an argument error, a key that holds data, or a key of the wrong
type. When every key they name is missing they would block (on the real
server for at least the timeout), so those calls are left out; waking
blocked clients is tested in tests/test_blocking.py.
"""
import redis
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from helpers import command_outcome

import minikv

LIST_KEYS = ["l1", "l2", "l3"]
ALL_KEYS = LIST_KEYS + ["str", "missing"]
KEYS = st.sampled_from(ALL_KEYS)
KEY_LISTS = st.lists(KEYS, min_size=1, max_size=3)
ELEMENTS = st.sampled_from(["a", "b", "c", "", "1", "-1", "long" * 16, "ü"])
ELEMENT_LISTS = st.lists(ELEMENTS, min_size=1, max_size=5)
INDEXES = st.one_of(st.integers(-8, 8), st.sampled_from(
    ["-9223372036854775808", "9223372036854775807", "x", "1.5", ""]))
COUNTS = st.sampled_from(["0", "1", "2", "3", "10", "-1", "-3", "x", "9223372036854775807",
                          "-9223372036854775808"])
ENDS = st.sampled_from(["LEFT", "RIGHT", "left", "Right", "up"])
TIMEOUTS = st.sampled_from(["0", "1", "0.5", "x", "-1", "inf", "nan"])
VALID_TIMEOUT = {"0", "1", "0.5"}


def _contents(client):
    state = {}
    for key in sorted(client.keys("*")):
        kind = client.type(key)
        value = client.lrange(key, 0, -1) if kind == b"list" else client.get(key)
        state[key] = (kind, value, client.ttl(key) > 0)
    return state


class ListMachine(RuleBasedStateMachine):
    port = None

    def __init__(self):
        super().__init__()
        self.mini = minikv.Redis()
        # RESP2 on the wire: raw execute_command replies have the shapes
        # minikv models.
        self.real = redis.Redis(port=self.port, protocol=2)
        self.real.flushall()
        for client in (self.mini, self.real):
            client.set("str", "a string")

    def teardown(self):
        self.mini.close()
        self.real.close()

    def same(self, command, *args):
        mini = command_outcome(self.mini, command, args)
        real = command_outcome(self.real, command, args)
        assert mini == real, (command, args, mini, real)

    def all_missing(self, keys):
        return not any(self.mini.exists(key) for key in keys)

    # -- writes ----------------------------------------------------------
    @rule(command=st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), key=KEYS,
          elements=ELEMENT_LISTS)
    def push(self, command, key, elements):
        self.same(command, key, *elements)

    @rule(command=st.sampled_from(["LPOP", "RPOP"]), key=KEYS,
          count=st.one_of(st.none(), COUNTS))
    def pop(self, command, key, count):
        self.same(command, key, *([] if count is None else [count]))

    @rule(key=KEYS, index=INDEXES, element=ELEMENTS)
    def lset(self, key, index, element):
        self.same("LSET", key, index, element)

    @rule(key=KEYS, where=st.sampled_from(["BEFORE", "after", "middle"]), pivot=ELEMENTS,
          element=ELEMENTS)
    def linsert(self, key, where, pivot, element):
        self.same("LINSERT", key, where, pivot, element)

    @rule(key=KEYS, count=st.one_of(st.integers(-3, 3), st.just("x")), element=ELEMENTS)
    def lrem(self, key, count, element):
        self.same("LREM", key, count, element)

    @rule(key=KEYS, start=INDEXES, end=INDEXES)
    def ltrim(self, key, start, end):
        self.same("LTRIM", key, start, end)

    @rule(source=KEYS, destination=KEYS, pop_end=ENDS, push_end=ENDS)
    def lmove(self, source, destination, pop_end, push_end):
        self.same("LMOVE", source, destination, pop_end, push_end)

    @rule(source=KEYS, destination=KEYS)
    def rpoplpush(self, source, destination):
        self.same("RPOPLPUSH", source, destination)

    @rule(keys=KEY_LISTS, numkeys_delta=st.sampled_from([0, 0, 0, 1, -1]), end=ENDS,
          count=st.one_of(st.none(), COUNTS))
    def lmpop(self, keys, numkeys_delta, end, count):
        args = [len(keys) + numkeys_delta, *keys, end]
        if count is not None:
            args += ["COUNT", count]
        self.same("LMPOP", *args)

    @rule(source=KEYS, destination=KEYS, command=st.sampled_from(["RENAME", "COPY"]))
    def rename_or_copy(self, source, destination, command):
        self.same(command, source, destination)

    @rule(key=KEYS)
    def delete(self, key):
        self.same("DEL", key)

    @rule(key=st.sampled_from(LIST_KEYS), seconds=st.sampled_from([100, 300]))
    def expire(self, key, seconds):
        self.same("EXPIRE", key, seconds)

    # -- blocking forms, when they answer at once --------------------------
    @rule(command=st.sampled_from(["BLPOP", "BRPOP"]), keys=KEY_LISTS, timeout=TIMEOUTS)
    def blocking_pop(self, command, keys, timeout):
        if timeout in VALID_TIMEOUT and self.all_missing(keys):
            return
        self.same(command, *keys, timeout)

    @rule(source=KEYS, destination=KEYS, pop_end=ENDS, push_end=ENDS, timeout=TIMEOUTS)
    def blmove(self, source, destination, pop_end, push_end, timeout):
        if timeout in VALID_TIMEOUT and self.all_missing([source]):
            return
        self.same("BLMOVE", source, destination, pop_end, push_end, timeout)

    @rule(source=KEYS, destination=KEYS, timeout=TIMEOUTS)
    def brpoplpush(self, source, destination, timeout):
        if timeout in VALID_TIMEOUT and self.all_missing([source]):
            return
        self.same("BRPOPLPUSH", source, destination, timeout)

    @rule(keys=KEY_LISTS, end=ENDS, count=st.one_of(st.none(), COUNTS), timeout=TIMEOUTS)
    def blmpop(self, keys, end, count, timeout):
        if timeout in VALID_TIMEOUT and self.all_missing(keys):
            return
        args = [timeout, len(keys), *keys, end]
        if count is not None:
            args += ["COUNT", count]
        self.same("BLMPOP", *args)

    # -- reads -----------------------------------------------------------
    @rule(key=KEYS, start=INDEXES, end=INDEXES)
    def lrange(self, key, start, end):
        self.same("LRANGE", key, start, end)

    @rule(key=KEYS, index=INDEXES)
    def lindex(self, key, index):
        self.same("LINDEX", key, index)

    @rule(key=KEYS, command=st.sampled_from(["LLEN", "TYPE", "EXISTS"]))
    def whole(self, command, key):
        self.same(command, key)

    @rule(key=KEYS)
    def encoding(self, key):
        self.same("OBJECT", "ENCODING", key)

    @rule(key=KEYS, element=ELEMENTS,
          options=st.lists(st.tuples(st.sampled_from(["RANK", "COUNT", "MAXLEN", "foo"]),
                                     st.sampled_from(["0", "1", "2", "-1", "-2", "5", "x"])),
                           max_size=3))
    def lpos(self, key, element, options):
        self.same("LPOS", key, element, *[part for option in options for part in option])

    @invariant()
    def same_keyspace(self):
        assert _contents(self.mini) == _contents(self.real)


def test_list_state_machine(redis_port):
    ListMachine.port = redis_port
    run_state_machine_as_test(ListMachine)
