"""Keyspace notifications, differential against real redis-server 7.0.

Each scenario runs the same commands on minikv and on real Redis, with a
subscriber on each side psubscribed to ``__key*__:*``, and compares every
reply and the full ordered list of (channel, data) events each command
published. After every command a marker is published (from a second
connection) on a channel the subscriber also listens to: when the marker
arrives, every event of that command has arrived (Redis delivers a
connection's messages in order), so nothing waits on timing. Setup commands
run with notifications off. Blocking calls served later run in threads on
connections of their own, started once the server shows the previous one
blocked.

Expired events need time to pass without Redis's own active cycle getting
there first: those scenarios run against a redis-server of this module's
own with DEBUG enabled (active expiry switched off), and minikv on the
manual clock with its expiry thread stopped. The thread's own events are
checked on minikv alone.
"""
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis
from redis.exceptions import ResponseError

import minikv
from minikv.engine.notify import Notifier

MARKER = b"notifications-test-marker"
JOIN_SECONDS = 10


class Side:
    """One implementation: a client, a subscriber that sees every keyspace
    event, and ``connect()`` for more connections to the same data."""

    def __init__(self, client, connect, flags):
        self.client = client
        self.connect = connect
        # The marker goes out on a connection of its own, so that it can be
        # sent while ``client`` is inside MULTI.
        self.marker = connect()
        self.pubsub = client.pubsub()
        self.pubsub.psubscribe("__key*__:*")
        self.pubsub.subscribe(MARKER)
        confirmations = [self.next_message()["type"] for _ in range(2)]
        assert confirmations == ["psubscribe", "subscribe"]
        self.calls = []
        self.set_flags(flags)

    def set_flags(self, flags):
        self.client.config_set("notify-keyspace-events", flags)
        self.events()

    def next_message(self):
        message = self.pubsub.get_message(timeout=JOIN_SECONDS)
        assert message is not None, "no message came"
        return message

    def events(self):
        """Every event published since the last call, in order."""
        self.marker.publish(MARKER, "")
        events = []
        while True:
            message = self.next_message()
            if message["channel"] == MARKER:
                return events
            events.append((message["channel"], message["data"]))

    def run(self, line):
        """Run one command line; (reply or error text, events)."""
        try:
            reply = comparable(self.client.execute_command(*shlex.split(line)))
        except ResponseError as exc:
            reply = f"error: {exc}"
        return reply, self.events()

    def call(self, method, *args, **kwargs):
        """Call a redis-py method (minikv's fast paths); (reply, events)."""
        try:
            reply = getattr(self.client, method)(*args, **kwargs)
        except ResponseError as exc:
            reply = f"error: {exc}"
        return reply, self.events()

    def block(self, line):
        """Start ``line`` (a blocking command) on a connection of its own
        and return once the server shows it blocked."""
        blocked = self.client.info("clients")["blocked_clients"]
        call = Call(self.connect(), line)
        call.start()
        self.calls.append(call)
        deadline = time.monotonic() + JOIN_SECONDS
        while self.client.info("clients")["blocked_clients"] == blocked:
            assert time.monotonic() < deadline, f"{line} did not block"
            time.sleep(0.002)

    def blocked_replies(self):
        """The blocked calls' replies, in the order they were started."""
        return [call.outcome() for call in self.calls]

    def close(self):
        self.pubsub.close()
        self.marker.close()
        for call in self.calls:
            call.client.close()


def comparable(reply):
    """EXEC's replies hold exception instances: compare their text."""
    if isinstance(reply, Exception):
        return f"error: {reply}"
    if isinstance(reply, list):
        return [comparable(item) for item in reply]
    return reply


class Call(threading.Thread):
    def __init__(self, client, line):
        super().__init__(daemon=True)
        self.client, self.line = client, line
        self.reply = None

    def run(self):
        self.reply = self.client.execute_command(*shlex.split(self.line))

    def outcome(self):
        self.join(JOIN_SECONDS)
        assert not self.is_alive(), f"{self.line} is still blocked"
        return self.reply


@pytest.fixture
def sides(real_redis):
    """Factory: ``sides(flags)`` -> (minikv side, redis side)."""
    made = []
    port = real_redis.connection_pool.connection_kwargs["port"]

    def build(flags="AKE"):
        ours = minikv.Redis()
        pair = (Side(ours, lambda: minikv.Redis(store=ours.store), flags),
                Side(real_redis, lambda: redis.Redis(port=port), flags))
        made.extend(pair)
        return pair

    yield build
    for side in made:
        side.close()
    for side in made[::2]:
        side.client.close()  # minikv's: stops its store's expiry thread
    real_redis.config_set("notify-keyspace-events", "")


def differential(sides, setup, commands, flags="AKEnm", blocked=()):
    """Run ``setup`` quietly, start the ``blocked`` calls, then run
    ``commands`` with ``flags`` and compare replies and events.

    A command written "~CMD ..." has a random reply: only its events count.
    """
    ours, theirs = sides("")
    for line in setup:
        assert ours.run(line)[0] == theirs.run(line)[0], line
    for side in (ours, theirs):
        side.set_flags(flags)
        for line in blocked:
            side.block(line)
    for line in commands:
        random_reply = line.startswith("~")
        line = line.lstrip("~")
        expected = theirs.run(line)
        got = ours.run(line)
        if random_reply:
            expected, got = expected[1], got[1]
        assert got == expected, line
    assert ours.blocked_replies() == theirs.blocked_replies()


# name -> (setup, commands). Commands are written upper-case: redis-py picks
# its reply callbacks by the name as given.
SCENARIOS = {
    # -- strings ---------------------------------------------------------
    # A key stored already expired is last: the active cycle may expire it
    # at any moment after (minikv's cycle starts as soon as a TTL appears,
    # Redis's at its next tick), which no later command's events may see.
    "set": ([], ["SET a 1", "SET a 2", "SET a 3 NX", "SET a 4 XX", "SET b 1 XX",
                 "SET b 1 NX", "SET b 2 GET", "SET c 1 EX 100", "SET c 2 KEEPTTL",
                 "SET c 3 PX 100000 GET", "SET e 1 PXAT 99999999999999",
                 "SET a 1 EX 0", "SET a x NX GET", "SET d 1 EXAT 1"]),
    "set over another type": (["RPUSH l a", "HSET h f v"], ["SET l v", "SET h v GET"]),
    "setnx setex psetex": ([], ["SETNX a 1", "SETNX a 2", "SETEX b 100 v", "SETEX b 100 w",
                                "PSETEX c 100000 v", "SETEX d 0 v", "PSETEX d -1 v"]),
    "mset msetnx": (["SET a 0"], ["MSET a 1 b 2 a 3", "MSETNX c 1 a 2", "MSETNX c 1 d 2",
                                 "MSET x"]),
    "getset getdel getex": (["SET a 1", "SET b 2", "SET c 3", "RPUSH l x"],
                            ["GETSET a 2", "GETSET n 1", "GETDEL a", "GETDEL a", "GETDEL l",
                             "GETEX b EX 100", "GETEX b PERSIST", "GETEX b PERSIST",
                             "GETEX b", "GETEX c PX 0", "GETEX missing EX 10",
                             "GETEX b EXAT 1"]),
    "counters": (["SET s text"], ["INCR n", "INCR n", "DECR n", "INCRBY n 5", "DECRBY n 2",
                                  "INCR s", "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 1",
                                  "INCRBYFLOAT s 1", "INCRBY n x"]),
    "append setrange": ([], ["APPEND a xy", "APPEND a z", "SETRANGE b 2 xy", "SETRANGE b 0 q",
                             "SETRANGE b 0 ''", "SETRANGE c 5 ''", "SETRANGE b -1 x"]),
    "string reads": (["SET a 1", "RPUSH l x"],
                     ["GET a", "GET nope", "GET l", "MGET a nope l other", "STRLEN nope",
                      "STRLEN a", "GETRANGE nope 0 1", "SUBSTR a 0 1", "LCS a nope"]),
    # -- generic key commands ----------------------------------------------
    "del unlink": (["SET a 1", "SET b 2", "RPUSH l x"],
                   ["DEL a nope b a", "UNLINK l nope", "DEL nope"]),
    "exists touch type": (["SET a 1"], ["EXISTS a nope a", "TOUCH a nope", "TYPE nope",
                                        "TYPE a"]),
    "expire family": (["SET a 1", "SET b 1", "SET c 1", "SET d 1"],
                      ["EXPIRE a 100", "EXPIRE a 50 NX", "EXPIRE a 200 GT", "EXPIRE a 10 LT",
                       "PEXPIRE b 100000", "EXPIREAT c 99999999999", "PEXPIREAT d 99999999999999",
                       "EXPIRE nope 10", "EXPIRE a 0", "PEXPIRE b -5", "EXPIREAT c 1",
                       "PEXPIREAT d 1", "EXPIRE a x"]),
    "ttl reads": (["SET a 1 PXAT 99999999999999"], ["TTL a", "TTL nope", "PTTL nope", "EXPIRETIME nope",
                                       "PEXPIRETIME a"]),
    "persist": (["SET a 1 EX 100", "SET b 1"], ["PERSIST a", "PERSIST a", "PERSIST b",
                                                 "PERSIST nope"]),
    "rename": (["SET a 1", "SET b 2", "SET c 3 EX 100", "SET d 4"],
               ["RENAME a x", "RENAME b x", "RENAME c x", "RENAME nope y", "RENAME x x",
                "RENAMENX x d", "RENAMENX x e", "RENAMENX e e", "RENAMENX nope f"]),
    "copy": (["SET a 1", "RPUSH l x y", "SET t 1 EX 100"],
             ["COPY a b", "COPY a b", "COPY a b REPLACE", "COPY l b REPLACE", "COPY nope z",
              "COPY a a", "COPY a a DB 1", "COPY t u DB 2", "COPY a b DB 1 REPLACE"]),
    "move": (["SET a 1", "SET b 2", "SET c 3 EX 100"],
             ["MOVE a 1", "MOVE a 1", "MOVE nope 1", "MOVE b 0", "SELECT 1", "SET b x",
              "SELECT 0", "MOVE b 1", "MOVE c 2"]),
    "object randomkey scan keys dbsize": (["SET a 1"],
             ["OBJECT ENCODING nope", "OBJECT REFCOUNT nope", "OBJECT FREQ nope",
              "OBJECT IDLETIME nope", "RANDOMKEY", "SCAN 0", "SCAN 0 TYPE string",
              "KEYS *", "DBSIZE"]),
    "select and other dbs": ([], ["SELECT 3", "SET a 1", "DEL a", "SELECT 15", "INCR n",
                                  "SELECT 0"]),
    "swapdb flushdb flushall": (["SET a 1", "SELECT 1", "SET b 1", "SELECT 0"],
                                ["SWAPDB 0 1", "FLUSHDB", "SET c 1", "FLUSHALL",
                                 "FLUSHALL", "FLUSHDB"]),
    # -- hashes ------------------------------------------------------------
    "hset hmset hsetnx": (["SET s x"], ["HSET h f 1", "HSET h f 2 g 3", "HMSET h f 1",
                                       "HSETNX h f 1", "HSETNX h n 1", "HSETNX h2 f 1",
                                       "HSET s f 1", "HSET h f"]),
    "hdel": (["HSET h a 1 b 2 c 3"], ["HDEL h a", "HDEL h nope", "HDEL h b c", "HDEL h a",
                                      "HDEL nope a"]),
    "hincrby hincrbyfloat": (["HSET h s text"],
                             ["HINCRBY h n 1", "HINCRBY h n 1", "HINCRBY new n 5",
                              "HINCRBY h s 1", "HINCRBYFLOAT h f 1.5", "HINCRBYFLOAT h2 f 1",
                              "HINCRBYFLOAT h s 1", "HINCRBY h n x"]),
    "hash reads": (["HSET h f v"],
                   ["HGET nope f", "HGET h nope", "HMGET nope a b", "HGETALL nope", "HKEYS nope",
                    "HVALS nope", "HLEN nope", "HEXISTS nope f", "HSTRLEN nope f",
                    "HRANDFIELD nope", "HSCAN nope 0", "HGETALL h"]),
    # -- lists -------------------------------------------------------------
    "push": (["SET s x"], ["LPUSH l a b", "RPUSH l c", "LPUSHX l d", "RPUSHX l e",
                           "LPUSHX nope a", "RPUSHX nope a", "LPUSH s a", "RPUSH r a"]),
    "pop": (["RPUSH l a b c d e", "RPUSH m a"],
            ["LPOP l", "RPOP l", "LPOP l 2", "RPOP l 5", "LPOP l", "LPOP m 0", "RPOP m 0",
             "LPOP nope", "RPOP nope 2", "LPOP m 1"]),
    "list edits": (["RPUSH l a b c a b c"],
                   ["LSET l 0 x", "LSET l 99 x", "LSET nope 0 x", "LINSERT l BEFORE b y",
                    "LINSERT l AFTER nope y", "LINSERT nope AFTER a y", "LREM l 1 a",
                    "LREM l 0 nope", "LREM l 0 c", "LTRIM l 0 1", "LTRIM l 0 -1",
                    "LTRIM l 5 1"]),
    "lrem to empty": (["RPUSH l a a"], ["LREM l 0 a"]),
    "lmove rpoplpush": (["RPUSH a 1 2 3", "RPUSH b x", "SET s x"],
                        ["LMOVE a b LEFT RIGHT", "LMOVE a b RIGHT LEFT", "RPOPLPUSH a c",
                         "LMOVE nope b LEFT LEFT", "LMOVE b b LEFT RIGHT",
                         "LMOVE c c RIGHT RIGHT", "RPOPLPUSH c s", "LMOVE c b LEFT LEFT"]),
    "lmpop": (["RPUSH a 1 2 3", "RPUSH b x"],
              ["LMPOP 2 nope a LEFT COUNT 2", "LMPOP 2 nope a RIGHT COUNT 5",
               "LMPOP 1 nope LEFT", "LMPOP 1 b RIGHT"]),
    "list reads": (["RPUSH l a"], ["LRANGE nope 0 -1", "LLEN nope", "LINDEX nope 0",
                                   "LPOS nope a", "LINDEX l 5"]),
    "blocking list commands, not blocking": (
        ["RPUSH a 1 2", "RPUSH b x"],
        ["BLPOP nope a 0", "BRPOP a 0", "BLMOVE b c LEFT RIGHT 0",
         "BRPOPLPUSH c d 0", "BLMPOP 0 2 nope d LEFT COUNT 3", "BLPOP nope 0.01"]),
    # -- sets --------------------------------------------------------------
    "sadd srem": (["SET s x"], ["SADD t a b", "SADD t a", "SADD t c", "SREM t nope",
                                "SREM t a", "SREM t b c", "SREM nope a", "SADD s a"]),
    "spop": (["SADD t a b c d"], ["SPOP nope", "SPOP t 0", "~SPOP t 2", "~SPOP t 5",
                                  "SADD u a", "SPOP u", "SPOP nope 3"]),
    "smove": (["SADD a x y", "SADD b z", "SET s x"],
              ["SMOVE a b x", "SMOVE a b nope", "SMOVE a c y", "SMOVE nope a x",
               "SMOVE b b z", "SMOVE b s z", "SMOVE b c z"]),
    "set stores": (["SADD a 1 2 3", "SADD b 2 3 4", "SET d x"],
                   ["SINTERSTORE d a b", "SUNIONSTORE d a b", "SDIFFSTORE d a b",
                    "SDIFFSTORE d a a", "SDIFFSTORE e a a", "SINTERSTORE d nope a",
                    "SUNIONSTORE e nope", "SINTERSTORE e a b"]),
    "set reads": (["SADD a 1"], ["SMEMBERS nope", "SISMEMBER nope 1", "SMISMEMBER nope 1",
                                 "SCARD nope", "SRANDMEMBER nope", "SINTER a nope",
                                 "SUNION nope a", "SDIFF nope a", "SINTERCARD 2 a nope",
                                 "SSCAN nope 0"]),
    # -- sorted sets -------------------------------------------------------
    "zadd zincrby": (["SET s x"], ["ZADD z 1 a 2 b", "ZADD z 1 a", "ZADD z 5 a", "ZADD z NX 1 a",
                                   "ZADD z XX 1 c", "ZADD z INCR 1 a", "ZADD z XX INCR 1 c",
                                   "ZINCRBY z 1 a", "ZINCRBY y 1 a", "ZADD z GT CH 0 a",
                                   "ZADD s 1 a", "ZADD z NX XX 1 a", "ZINCRBY z 0 a",
                                   "ZADD z INCR 0 a", "ZADD z LT 0 a 9 b 3 n",
                                   "ZADD z GT CH 0 a 9 b", "ZADD z CH 9 b 9 n"]),
    "zrem zremrange": (["ZADD z 1 a 2 b 3 c 4 d 5 e 6 f", "ZADD y 1 a"],
                       ["ZREM z nope", "ZREM z a", "ZREM z b c", "ZREMRANGEBYRANK z 5 6",
                        "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYSCORE z 100 200",
                        "ZREMRANGEBYSCORE z 5 5", "ZREMRANGEBYLEX z [x [z",
                        "ZREMRANGEBYLEX z - +", "ZREM y a", "ZREM nope a",
                        "ZREMRANGEBYRANK nope 0 1", "ZREMRANGEBYSCORE nope 0 1"]),
    "zpop": (["ZADD z 1 a 2 b 3 c 4 d", "ZADD y 1 a"],
             ["ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 0", "ZPOPMIN nope", "ZPOPMAX z 5",
              "ZPOPMIN y 1", "ZMPOP 2 nope y MIN"]),
    "zmpop bzpop": (["ZADD z 1 a 2 b 3 c", "ZADD y 1 a"],
                    ["ZMPOP 1 z MAX COUNT 2", "ZMPOP 2 nope z MIN COUNT 5", "BZPOPMIN y 0",
                     "BZPOPMAX nope 0.01", "BZMPOP 0.01 1 nope MIN", "ZADD z 1 a",
                     "BZPOPMAX z 0"]),
    "zset stores": (["ZADD a 1 x 2 y", "ZADD b 2 y 3 z", "SET d v"],
                    ["ZUNIONSTORE d 2 a b", "ZINTERSTORE d 2 a b", "ZDIFFSTORE d 2 a b",
                     "ZDIFFSTORE d 2 a a", "ZDIFFSTORE e 1 nope", "ZRANGESTORE d a 0 -1",
                     "ZRANGESTORE d a 5 6", "ZRANGESTORE f a 5 6", "ZINTERSTORE d 2 nope a"]),
    "zset reads": (["ZADD a 1 x"], ["ZRANGE nope 0 -1", "ZCARD nope", "ZSCORE nope x",
                                    "ZMSCORE nope x", "ZRANK nope x", "ZREVRANK nope x",
                                    "ZCOUNT nope 0 1", "ZLEXCOUNT nope - +",
                                    "ZRANGEBYSCORE nope 0 1", "ZREVRANGEBYLEX nope + -",
                                    "ZRANDMEMBER nope", "ZSCAN nope 0", "ZUNION 2 a nope",
                                    "ZINTER 2 nope a", "ZDIFF 2 nope a", "ZINTERCARD 2 a nope"]),
    # -- transactions and scripts: each command sends its own events -------
    "multi exec": (["SET s x"], ["MULTI", "SET a 1", "INCR a", "LPUSH s x", "RPUSH l x",
                                 "EXEC", "MULTI", "SET b 1", "DISCARD", "GET b"]),
    "eval": ([], ["EVAL \"redis.call('set', KEYS[1], 'v'); redis.call('get', 'nope'); "
                  "return redis.call('del', KEYS[1])\" 1 k",
                  "EVAL \"redis.call('hset', KEYS[1], 'f', 1); "
                  "return redis.pcall('incr', KEYS[1])\" 1 h"]),
    # -- SORT --------------------------------------------------------------
    "sort": (["RPUSH l 3 1 2", "SET w_1 9", "HSET h_2 f 1", "SET d x"],
             ["SORT l", "SORT l STORE d", "SORT l STORE e", "SORT nope STORE d",
              "SORT nope STORE nope2", "SORT l BY w_* GET h_*->f STORE f", "SORT_RO nope",
              "SORT nope"]),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_events_per_command_match_redis(sides, name):
    differential(sides, *SCENARIOS[name])


# name -> (setup, commands, blocking calls started first, in order).
SERVED_LATER = {
    "blpop": ([], ["LPUSH l a b"], ["BLPOP l 0"]),
    "blpop empties the list": ([], ["LPUSH l a"], ["BLPOP l 0"]),
    "two waiters": ([], ["RPUSH l a b c"], ["BLPOP l 0", "BRPOP l 0"]),
    "blmove": ([], ["RPUSH l a"], ["BLMOVE l d LEFT RIGHT 0"]),
    "brpoplpush onto an existing list": (["RPUSH d x"], ["RPUSH l a b"],
                                         ["BRPOPLPUSH l d 0"]),
    "blmpop": ([], ["RPUSH l a b"], ["BLMPOP 0 1 l RIGHT COUNT 5"]),
    "served after exec": ([], ["MULTI", "LPUSH l a", "LPUSH l b", "EXEC"], ["BLPOP l 0"]),
    "served from a renamed key": (["RPUSH x a"], ["RENAME x l"], ["BLMOVE l d LEFT RIGHT 0"]),
    "bzpopmin": ([], ["ZADD z 1 a 2 b"], ["BZPOPMIN z 0"]),
    "bzmpop": ([], ["ZADD z 1 a 2 b"], ["BZMPOP 0 1 z MAX COUNT 5"]),
}


@pytest.mark.parametrize("name", list(SERVED_LATER))
def test_events_of_blocked_clients_served_later_match_redis(sides, name):
    setup, commands, blocked = SERVED_LATER[name]
    differential(sides, setup, commands, blocked=blocked)


# The client methods minikv runs on fast paths, bypassing the command table.
METHOD_CALLS = [
    ("set", ("a", "1"), {}), ("set", ("a", "2"), {}), ("set", ("b", "1"), {"ex": 100}),
    ("set", ("b", "2"), {"ex": 100}), ("get", ("a",), {}), ("get", ("nope",), {}),
    ("incr", ("n",), {}), ("incrby", ("n", 5), {}), ("incr", ("a",), {}),
    ("exists", ("a",), {}), ("exists", ("nope",), {}), ("ttl", ("nope",), {}),
    ("expire", ("a", 100), {}), ("expire", ("a", -1), {}), ("expire", ("nope", 1), {}),
    ("delete", ("b", "nope"), {}), ("delete", ("nope",), {}),
    ("hset", ("h", "f", "v"), {}), ("hset", ("h", "f", "w"), {}), ("hget", ("nope", "f"), {}),
    ("hget", ("h", "nope"), {}),
    ("lpush", ("l", "x"), {}), ("rpush", ("l", "y"), {}), ("llen", ("nope",), {}),
    ("lpop", ("l",), {}), ("rpop", ("l",), {}), ("lpop", ("l",), {}),
    ("sadd", ("s", "m"), {}), ("sadd", ("s", "m"), {}), ("sismember", ("nope", "m"), {}),
    ("srem", ("s", "nope"), {}), ("srem", ("s", "m"), {}),
    ("zadd", ("z", {"m": 1}), {}), ("zadd", ("z", {"m": 2}), {}), ("zincrby", ("z", 1, "m"), {}),
    ("zscore", ("nope", "m"), {}), ("zrank", ("nope", "m"), {}), ("zcard", ("nope",), {}),
    ("zrem", ("z", "m"), {}),
]


def test_fast_path_methods_send_the_events_redis_sends(sides):
    ours, theirs = sides("AKEnm")
    for method, args, kwargs in METHOD_CALLS:
        expected = theirs.call(method, *args, **kwargs)
        assert ours.call(method, *args, **kwargs) == expected, (method, args, kwargs)


def test_pipelines_and_transactions_send_each_commands_events(sides):
    ours, theirs = sides("AKE")
    for side in (ours, theirs):
        side.client.set("counter", 1)
        side.events()
    for transaction in (True, False):
        outcomes = []
        for side in (ours, theirs):
            pipe = side.client.pipeline(transaction=transaction)
            pipe.set("a", 1).incr("counter").rpush("l", "x").delete("a").hset("h", "f", "v")
            outcomes.append((pipe.execute(), side.events()))
        assert outcomes[0] == outcomes[1]
        assert [data for _, data in outcomes[0][1][::2]] == \
            [b"set", b"incrby", b"rpush", b"del", b"hset"]


# -- which events each flag lets through ----------------------------------------
# One command of each class, with what every event looks like under AKEnm.
MIXED = ["SET s 1", "EXPIRE s 100", "RPUSH l a", "SADD t a", "HSET h f v", "ZADD z 1 a",
         "GET nope", "DEL s l t h z"]
FLAG_SETS = ["", "K", "E", "KE", "A", "AK", "AE", "KA", "Kg", "E$", "Kl", "Es", "Kh", "Ez",
             "Kx", "Ke", "Kt", "Km", "En", "Kd", "g$lshzxetdK", "KEnm", "Knm", "Em", "E$lshz",
             "KEA", "AKEnm"]


@pytest.mark.parametrize("flags", FLAG_SETS)
def test_flags_select_channels_and_classes_as_redis(sides, flags):
    differential(sides, [], MIXED, flags=flags)


def test_config_get_renders_the_flags_as_redis(sides):
    ours, theirs = sides("")
    for flags in FLAG_SETS + ["AKEm", "nA", "$$", "xe"]:
        ours.client.config_set("notify-keyspace-events", flags)
        theirs.client.config_set("notify-keyspace-events", flags)
        assert ours.client.config_get("notify-keyspace-events") == \
            theirs.client.config_get("notify-keyspace-events")
    for side in (ours, theirs):
        with pytest.raises(ResponseError) as caught:
            side.client.config_set("notify-keyspace-events", "KEq")
        side.error = str(caught.value)
    assert ours.error == theirs.error


def test_events_go_through_every_kind_of_subscription(sides):
    """Channel subscribers and pattern subscribers, each as Redis counts them."""
    ours, theirs = sides("KEg$")
    outcomes = []
    for side in (ours, theirs):
        listener = side.client.pubsub()
        listener.subscribe("__keyspace@0__:k", "__keyevent@0__:del", "listener-marker")
        listener.psubscribe("__keyevent@0__:*")
        confirmations = [listener.get_message(timeout=JOIN_SECONDS)["type"] for _ in range(4)]
        assert confirmations == ["subscribe"] * 3 + ["psubscribe"]
        side.run("SET k 1")
        side.run("DEL k")
        side.marker.publish("listener-marker", "")
        messages = []
        while True:
            message = listener.get_message(timeout=JOIN_SECONDS)
            if message["channel"] == b"listener-marker" and message["type"] == "message":
                break
            messages.append(message)
        listener.close()
        outcomes.append(messages)
    assert outcomes[0] == outcomes[1]
    assert [m["type"] for m in outcomes[0]].count("pmessage") == 2


def test_no_notifier_exists_while_events_are_off():
    """The hot paths' single check: ``ks.notify`` stays None unless some
    class and K or E are configured (Redis would send nothing anyway)."""
    r = minikv.Redis()
    dbs = r.store.dbs
    for flags, active in [("", False), ("K", False), ("E", False), ("KE", False),
                          ("g", False), ("A", False), ("Kg", True), ("Em", True),
                          ("En", True), ("", False)]:
        r.config_set("notify-keyspace-events", flags)
        assert all((ks.notify is not None) == active for ks in dbs), flags
        if active:
            assert [ks.notify.keyspace_prefix for ks in dbs[:3]] == \
                [b"__keyspace@0__:", b"__keyspace@1__:", b"__keyspace@2__:"]
            assert isinstance(dbs[0].notify, Notifier)
    r.close()


def test_nothing_is_formatted_or_published_without_subscribers():
    class RecordingBus:
        def __init__(self, bus):
            self.bus, self.published = bus, []

        def listening(self):
            return self.bus.listening()

        def publish(self, channel, message):
            self.published.append(channel)
            return self.bus.publish(channel, message)

    r = minikv.Redis()
    r.config_set("notify-keyspace-events", "AKE")
    ks = r.store.dbs[0]
    recording = ks.notify.bus = RecordingBus(ks.notify.bus)
    r.set("k", "v")
    assert recording.published == []
    p = r.pubsub()
    p.subscribe("unrelated")
    r.set("k", "w")
    assert recording.published == [b"__keyspace@0__:k", b"__keyevent@0__:set"]
    p.close()
    r.close()


# -- expired events: lazy and active expiry ---------------------------------------
@pytest.fixture(scope="module")
def debug_redis_port():
    """A redis-server of this module's own, with DEBUG enabled so that the
    tests can switch its active expiry off (DEBUG SET-ACTIVE-EXPIRE 0) and
    see what lazy expiry alone sends."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("MINIKV_REQUIRE_REDIS") == "1":
            pytest.fail("redis-server is not on PATH")
        pytest.skip("redis-server is not on PATH")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--enable-debug-command", "yes", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the debug redis-server did not start")
            time.sleep(0.05)
    client.close()
    yield port
    proc.terminate()
    proc.wait(5)


class ExpirySides:
    """minikv on the manual clock and the debug server, active expiry off on
    both until a test runs it; ``pass_time()`` lets every PX 1 key expire."""

    def __init__(self, port, clock):
        self.clock = clock
        theirs = redis.Redis(port=port)
        theirs.flushall()
        theirs.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        ours = minikv.Redis(clock=clock)
        self.ours = Side(ours, lambda: minikv.Redis(store=ours.store), "")
        self.theirs = Side(theirs, lambda: redis.Redis(port=port), "")
        self.both = (self.ours, self.theirs)

    def pass_time(self):
        # Stopping minikv's expiry thread disarms the keyspaces: a TTL set
        # later would start it again (the commands run after this set none).
        self.ours.client.store.close()
        self.clock.advance(0.01)
        time.sleep(0.01)

    def close(self):
        for side in self.both:
            side.close()
        self.theirs.client.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        self.theirs.client.config_set("notify-keyspace-events", "")
        self.theirs.client.flushall()
        self.ours.client.close()


@pytest.fixture
def expiry_sides(debug_redis_port, clock):
    made = ExpirySides(debug_redis_port, clock)
    yield made
    made.close()


# name -> (setup, commands). Keys with PX 1 have expired when the commands run.
LAZY_EXPIRY = {
    "reads": (["SET k 1 PX 1", "HSET h f v", "PEXPIRE h 1", "RPUSH l a", "PEXPIRE l 1",
               "SADD t a", "PEXPIRE t 1", "ZADD z 1 a", "PEXPIRE z 1"],
              ["GET k", "GET k", "HGET h f", "LRANGE l 0 -1", "SMEMBERS t", "ZSCORE z a"]),
    "generic reads": (["SET a 1 PX 1", "SET b 1 PX 1", "SET c 1 PX 1", "SET d 1 PX 1",
                       "SET e 1 PX 1", "SET keep 1"],
                      ["EXISTS a", "TTL b", "TYPE c", "OBJECT ENCODING d", "KEYS *", "DBSIZE",
                       "SCAN 0", "DBSIZE"]),
    "writes over an expired key": (
        ["SET a 1 PX 1", "SET b 1 PX 1", "SET c 1 PX 1", "SET d 1 PX 1", "SET e 1 PX 1",
         "SET f 1 PX 1", "SET g 1 PX 1", "SET h 1 PX 1", "SET i 1 PX 1", "SET j 1 PX 1"],
        ["SET a 2", "SETNX b 1", "SET c 1 NX", "SET d 5 GET", "MSET e 1", "APPEND f x",
         "INCR g", "HSET h f v", "LPUSH i a", "SADD j a"]),
    "writes finding nothing": (
        ["SET a 1 PX 1", "SET b 1 PX 1", "SET c 1 PX 1", "SET d 1 PX 1", "SET e 1 PX 1",
         "RPUSH l x", "PEXPIRE l 1"],
        ["DEL a", "EXPIRE b 100", "PERSIST c", "GETDEL d", "RENAME e z", "LPOP l"]),
    "scan with a type filter": (["SET a 1 PX 1", "SET b 1"], ["SCAN 0 TYPE string"]),
    "renaming, copying, moving": (
        ["SET a 1 PX 1", "SET b 1 PX 1", "SET c 1 PX 1", "SET d 1 PX 1", "SET s v"],
        ["RENAME s a", "COPY a b", "COPY s c", "MOVE d 1", "SUNIONSTORE e nope"]),
    "other databases": (["SELECT 5", "SET k 1 PX 1", "SELECT 0"],
                        ["SELECT 5", "GET k", "SELECT 0"]),
}


@pytest.mark.parametrize("name", list(LAZY_EXPIRY))
def test_lazy_expiry_events_match_redis(expiry_sides, name):
    setup, commands = LAZY_EXPIRY[name]
    ours, theirs = expiry_sides.both
    for line in setup:
        assert ours.run(line)[0] == theirs.run(line)[0], line
    expiry_sides.pass_time()
    for side in expiry_sides.both:
        side.set_flags("AKEnm")
    for line in commands:
        expected = theirs.run(line)
        assert ours.run(line) == expected, line


@pytest.mark.parametrize("flags", ["Kx", "Ex", "KEg", "AKE", "KEm"])
def test_expired_events_are_class_x(expiry_sides, flags):
    ours, theirs = expiry_sides.both
    for side in expiry_sides.both:
        side.run("SET k 1 PX 1")
    expiry_sides.pass_time()
    for side in expiry_sides.both:
        side.set_flags(flags)
    assert ours.run("GET k") == theirs.run("GET k")


def test_active_expiry_events_match_redis(expiry_sides):
    """Redis's cycle visits keys in hash-table order: compared as a multiset."""
    ours, theirs = expiry_sides.both
    for side in expiry_sides.both:
        for line in ["SET a 1 PX 1", "SET b 1 PX 1", "SELECT 3", "SET c 1 PX 1", "SET d 1",
                     "SELECT 0"]:
            side.run(line)
    expiry_sides.pass_time()
    for side in expiry_sides.both:
        side.set_flags("AKEnm")
    ours.client.store.active_expire_cycle()
    theirs.client.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
    deadline = time.monotonic() + JOIN_SECONDS
    while theirs.client.info("keyspace") != {"db3": {"keys": 1, "expires": 0, "avg_ttl": 0}}:
        assert time.monotonic() < deadline, "redis did not expire the keys"
        time.sleep(0.01)
    events = ours.events()
    assert sorted(events) == sorted(theirs.events())
    assert sorted(events) == [
        (b"__keyevent@0__:expired", b"a"), (b"__keyevent@0__:expired", b"b"),
        (b"__keyevent@3__:expired", b"c"), (b"__keyspace@0__:a", b"expired"),
        (b"__keyspace@0__:b", b"expired"), (b"__keyspace@3__:c", b"expired")]
    # Each key's two events come together, keyspace first.
    assert [channel[:10] for channel, _ in events] == [b"__keyspace", b"__keyevent"] * 3


def test_the_expiry_thread_sends_expired_events(mr, clock):
    """No command involved: the background cycle finds the key and the
    subscriber hears about it."""
    mr.config_set("notify-keyspace-events", "Ex")
    p = mr.pubsub()
    p.subscribe("__keyevent@0__:expired")
    assert p.get_message(timeout=0)["type"] == "subscribe"
    mr.set("k", "v", px=100)
    clock.advance(0.2)
    store = mr.store
    for _ in range(100):
        if not store.dbs[0].data:
            break
        seen = store.expire_cycles
        store.expirer.wake()
        assert store.wait_for_expire_cycle(after=seen, timeout=5)
    assert p.get_message(timeout=5) == {"type": "message", "pattern": None,
                                        "channel": b"__keyevent@0__:expired", "data": b"k"}
    assert p.get_message(timeout=0) is None
    p.close()


# -- evicted events ---------------------------------------------------------------
@pytest.mark.parametrize("flags, sent", [("Ee", True), ("KEA", True), ("KEg$", False)])
def test_eviction_sends_evicted_events_of_class_e(flags, sent):
    """Which keys an LRU eviction picks is sampled in Redis, so this runs on
    minikv alone: every key that leaves is announced, and only under 'e'."""
    r = minikv.Redis()
    for i in range(20):
        r.set(f"k{i}", "x" * 100)
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.config_set("notify-keyspace-events", flags)
    p = r.pubsub()
    p.psubscribe("__keyevent@0__:evicted")
    assert p.get_message(timeout=0)["type"] == "psubscribe"
    r.config_set("maxmemory", r.info("memory")["used_memory"] // 2)
    r.set("trigger", "y")
    evicted = []
    while (message := p.get_message(timeout=0)) is not None:
        evicted.append(message["data"])
    gone = {f"k{i}".encode() for i in range(20)} - set(r.keys())
    if sent:
        assert gone and sorted(evicted) == sorted(gone)
    else:
        assert gone and evicted == []
    p.close()
    r.close()
