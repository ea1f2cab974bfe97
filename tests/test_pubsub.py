"""Pub/sub message shapes, ordering, counts and PUBSUB introspection.

The ``r``/``rd`` tests run the same body on minikv and on redis-py against
the private redis-server (redis-py's default connection), so every literal
message dict below is what redis-py yields from real Redis. On the real
server messages arrive over a socket, so ``drain`` waits a moment for the
last one; on minikv they are queued by the time ``publish`` returns and
``drain`` does not wait. Redis lists the channels of an "unsubscribe from
everything" and of PUBSUB CHANNELS in hash-table order, so those are
compared without order. Thread behaviour, overflow and garbage collection
are in test_pubsub_threads.py.
"""
import pytest
from helpers import kind, raises
from redis.exceptions import ConnectionError, PubSubError, ResponseError

try:
    from redis.typing import Subscription
except ImportError:  # redis-py before 8 has no Subscription objects
    Subscription = None

import minikv


def drain(p, **kwargs):
    """Every message ``p`` has pending, in order (stops at the first None:
    use ``read`` where ignored confirmations also come back as None)."""
    timeout = 0 if kind(p) == "minikv" else 0.25
    messages = []
    while True:
        message = p.get_message(timeout=timeout, **kwargs)
        if message is None:
            return messages
        messages.append(message)


def read(p, replies, **kwargs):
    """The messages among the next ``replies`` replies (ignored ones are None)."""
    timeout = 0 if kind(p) == "minikv" else 1
    messages = [p.get_message(timeout=timeout, **kwargs) for _ in range(replies)]
    return [message for message in messages if message is not None]


@pytest.fixture
def pubsub(request):
    """``pubsub(client, **kwargs)``: a PubSub closed at teardown (the real
    server must not keep the test's subscriptions)."""
    def build(client, **kwargs):
        p = client.pubsub(**kwargs)
        request.addfinalizer(p.close)
        return p
    return build


def msg(type_, channel, data, pattern=None):
    return {"type": type_, "pattern": pattern, "channel": channel, "data": data}


# -- messages --------------------------------------------------------------------
def test_subscribe_confirmations_and_messages(r, pubsub):
    p = pubsub(r)
    p.subscribe("a", "b", "a")
    p.psubscribe("a*")
    assert r.publish("a", "hello") == 2
    assert r.publish("abc", 1) == 1
    assert r.publish("b", 1.5) == 1
    assert r.publish("zzz", "nobody") == 0
    assert drain(p) == [
        msg("subscribe", b"a", 1),
        msg("subscribe", b"b", 2),
        msg("psubscribe", b"a*", 3),
        msg("message", b"a", b"hello"),
        msg("pmessage", b"a", b"hello", b"a*"),
        msg("pmessage", b"abc", b"1", b"a*"),
        msg("message", b"b", b"1.5"),
    ]
    assert p.subscribed is True
    assert p.channels == {b"a": None, b"b": None}
    assert p.patterns == {b"a*": None}


def test_decode_responses_messages(rd, pubsub):
    p = pubsub(rd)
    p.subscribe("chan")
    p.psubscribe("ch*")
    assert rd.publish("chan", "héllo") == 2
    assert drain(p) == [
        msg("subscribe", "chan", 1),
        msg("psubscribe", "ch*", 2),
        msg("message", "chan", "héllo"),
        msg("pmessage", "chan", "héllo", "ch*"),
    ]
    assert p.channels == {"chan": None}
    assert p.patterns == {"ch*": None}


def test_binary_channel_and_data(r, pubsub):
    p = pubsub(r)
    p.subscribe(b"\xff\x00ch")
    assert r.publish(b"\xff\x00ch", b"\x00\x01\xfe") == 1
    assert drain(p) == [msg("subscribe", b"\xff\x00ch", 1),
                        msg("message", b"\xff\x00ch", b"\x00\x01\xfe")]


def test_receivers_count_every_delivery(r, pubsub):
    """A subscriber reached by its channel and by two patterns counts three
    times and gets three messages; a pattern subscribed twice counts once."""
    p, q = pubsub(r), pubsub(r)
    p.subscribe("news.tech")
    p.psubscribe("news.*", "*.tech", "news.*")
    q.psubscribe("news.*")
    drain(p)
    drain(q)
    assert r.publish("news.tech", "x") == 4
    assert r.publish("news.art", "y") == 2
    received = drain(p)
    assert received[0] == msg("message", b"news.tech", b"x")
    assert sorted((m["pattern"], m["channel"]) for m in received[1:]) == [
        (b"*.tech", b"news.tech"), (b"news.*", b"news.art"), (b"news.*", b"news.tech")]
    assert drain(q) == [msg("pmessage", b"news.tech", b"x", b"news.*"),
                        msg("pmessage", b"news.art", b"y", b"news.*")]


def test_repeated_subscription_is_confirmed_and_counted_once(r, pubsub):
    """redis-py collapses repeated names; sent raw, each is confirmed."""
    p = pubsub(r)
    p.execute_command("SUBSCRIBE", "a", "a")
    p.execute_command("PSUBSCRIBE", "a*", "a*")
    p.subscribe("a")
    assert r.publish("a", "once") == 2
    assert drain(p) == [msg("subscribe", b"a", 1), msg("subscribe", b"a", 1),
                        msg("psubscribe", b"a*", 2), msg("psubscribe", b"a*", 2),
                        msg("subscribe", b"a", 2), msg("message", b"a", b"once"),
                        msg("pmessage", b"a", b"once", b"a*")]


def test_publish_order_is_kept(r, pubsub):
    p = pubsub(r, ignore_subscribe_messages=True)
    p.subscribe("seq")
    for i in range(200):
        r.publish("seq", i)
    assert [m["data"] for m in read(p, 201)] == [str(i).encode() for i in range(200)]
    assert drain(p) == []


@pytest.mark.parametrize("channel, patterns", [
    ("hello", [b"h[ae]llo", b"h?llo"]),
    ("hallo", [b"h[ae]llo", b"h?llo"]),
    ("hxllo", [b"h?llo"]),
    ("h*", [b"h\\*"]),
    ("hx", []),
    ("xb", [b"[^a]b"]),
    ("ab", []),
    ("a[", []),
    ("Hello", []),
    ("b", [b"[a-c]"]),
    ("d", []),
])
def test_glob_patterns(r, pubsub, channel, patterns):
    p = pubsub(r)
    p.psubscribe("h[ae]llo", "h?llo", "h\\*", "[^a]b", "a[", "[a-c]")
    drain(p)
    assert r.publish(channel, "m") == len(patterns)
    assert sorted(m["pattern"] for m in drain(p)) == sorted(patterns)


def test_empty_channel_matches_only_the_empty_pattern(r, pubsub):
    p = pubsub(r)
    p.psubscribe("*")
    p.subscribe("")
    assert r.publish("", "e") == 1
    assert r.pubsub_channels() == []  # "*" does not match "" in Redis
    assert r.pubsub_numsub("") == [(b"", 1)]
    assert drain(p) == [msg("psubscribe", b"*", 1), msg("subscribe", b"", 2),
                        msg("message", b"", b"e")]


# -- unsubscribing -----------------------------------------------------------------
def test_unsubscribe_updates_state_when_confirmed(r, pubsub):
    """As in redis-py, an unsubscribed channel leaves ``channels`` when its
    confirmation is read, and ``subscribed`` turns False with the last one."""
    p = pubsub(r)
    p.subscribe("a", "b")
    drain(p)
    p.unsubscribe("a")
    assert p.channels == {b"a": None, b"b": None}
    assert drain(p) == [msg("unsubscribe", b"a", 1)]
    assert p.channels == {b"b": None}
    assert r.publish("a", "gone") == 0
    p.unsubscribe("nosuch")
    assert drain(p) == [msg("unsubscribe", b"nosuch", 1)]
    assert p.subscribed is True
    p.unsubscribe()
    assert drain(p) == [msg("unsubscribe", b"b", 0)]
    assert p.subscribed is False
    assert p.channels == {}


def test_unsubscribe_everything(r, pubsub):
    p = pubsub(r)
    p.subscribe("c1", "c2", "c3")
    p.psubscribe("p1", "p2")
    drain(p)
    p.unsubscribe()
    p.punsubscribe()
    received = drain(p)
    assert sorted(m["channel"] for m in received[:3]) == [b"c1", b"c2", b"c3"]
    assert [m["data"] for m in received[:3]] == [4, 3, 2]
    assert {m["type"] for m in received[:3]} == {"unsubscribe"}
    assert received[3:] == [msg("punsubscribe", b"p1", 1), msg("punsubscribe", b"p2", 0)]
    assert p.subscribed is False
    assert r.pubsub_numpat() == 0


def test_unsubscribe_with_nothing_subscribed_replies_a_nil_channel(r, pubsub):
    """The replies wait (unread) until the next subscription, as on a socket."""
    p = pubsub(r)
    p.unsubscribe()
    p.punsubscribe()
    p.sunsubscribe()
    assert p.get_message() is None
    p.subscribe("x")
    assert drain(p) == [msg("unsubscribe", None, 0), msg("punsubscribe", None, 0),
                        msg("sunsubscribe", None, 0), msg("subscribe", b"x", 1)]


def test_ignore_subscribe_messages(r, pubsub):
    p = pubsub(r, ignore_subscribe_messages=True)
    p.subscribe("a")
    r.publish("a", "1")
    p.unsubscribe("a")
    assert read(p, 3) == [msg("message", b"a", b"1")]
    assert p.subscribed is False
    q = pubsub(r)
    q.subscribe("b")
    r.publish("b", "2")
    assert read(q, 2, ignore_subscribe_messages=True) == [msg("message", b"b", b"2")]


# -- handlers ------------------------------------------------------------------
def test_handlers_replace_returned_messages(r, pubsub):
    p = pubsub(r)
    seen = []
    p.subscribe("plain", handled=seen.append)
    p.psubscribe(**{"h*": seen.append})
    assert p.channels == {b"plain": None, b"handled": seen.append}
    r.publish("handled", "1")
    r.publish("plain", "2")
    assert read(p, 6) == [
        msg("subscribe", b"plain", 1), msg("subscribe", b"handled", 2),
        msg("psubscribe", b"h*", 3), msg("message", b"plain", b"2"),
    ]
    assert seen == [msg("message", b"handled", b"1"),
                    msg("pmessage", b"handled", b"1", b"h*")]


@pytest.mark.skipif(Subscription is None, reason="redis-py without Subscription objects")
def test_subscription_objects(r, pubsub):
    p = pubsub(r)
    seen = []
    p.subscribe(Subscription(b"\xffbinary", seen.append), Subscription("plain"))
    p.psubscribe(Subscription("p*", seen.append))
    assert p.channels == {b"\xffbinary": seen.append, b"plain": None}
    r.publish(b"\xffbinary", "1")
    assert read(p, 4) == [msg("subscribe", b"\xffbinary", 1), msg("subscribe", b"plain", 2),
                          msg("psubscribe", b"p*", 3)]
    assert seen == [msg("message", b"\xffbinary", b"1")]


def test_handlers_with_decode_responses(rd, pubsub):
    p = pubsub(rd)
    seen = []
    p.subscribe(**{"k": seen.append})
    rd.publish("k", "v")
    assert read(p, 2) == [msg("subscribe", "k", 1)]
    assert seen == [msg("message", "k", "v")]


# -- reading -------------------------------------------------------------------
def test_nothing_to_read_before_subscribing(r, pubsub):
    p = pubsub(r)
    assert p.subscribed is False
    assert p.get_message() is None
    assert p.get_message(timeout=0.01) is None
    assert list(p.listen()) == []


def test_listen_until_unsubscribed(r, pubsub):
    p = pubsub(r)
    p.subscribe("l")
    r.publish("l", "one")
    r.publish("l", "two")
    p.unsubscribe("l")
    assert list(p.listen()) == [msg("subscribe", b"l", 1), msg("message", b"l", b"one"),
                                msg("message", b"l", b"two"), msg("unsubscribe", b"l", 0)]


def test_ping(r, pubsub):
    """A PING sent before any subscription is read after the next one."""
    p = pubsub(r)
    assert p.ping() is None
    assert p.get_message() is None
    p.subscribe("c")
    p.ping("hi")
    assert drain(p) == [msg("pong", None, b"", None), msg("subscribe", b"c", 1),
                        msg("pong", None, b"hi", None)]


def test_health_check_pong_is_swallowed(r, pubsub):
    p = pubsub(r)
    p.subscribe("c")
    p.ping("redis-py-health-check")
    p.ping("after")
    received = []
    for _ in range(3):
        received.append(p.get_message(timeout=0 if kind(p) == "minikv" else 1))
    assert received == [msg("subscribe", b"c", 1), None, msg("pong", None, b"after", None)]


def test_error_reply_is_raised_when_read(r, pubsub):
    p = pubsub(r)
    p.subscribe()  # sets ``subscribed`` like redis-py, then the error arrives
    with raises(ResponseError, "wrong number of arguments for 'subscribe' command"):
        p.get_message(timeout=0 if kind(p) == "minikv" else 1)


def test_close_and_context_manager(r, pubsub):
    with r.pubsub() as p:
        p.subscribe("a")
        p.psubscribe("b*")
        drain(p)
        assert r.pubsub_numsub("a") == [(b"a", 1)]
    assert p.subscribed is False
    assert p.channels == {} and p.patterns == {}
    assert r.pubsub_numsub("a") == [(b"a", 0)]
    assert r.pubsub_numpat() == 0
    assert r.publish("a", "x") == 0
    # a closed PubSub can subscribe again
    p.subscribe("again")
    assert drain(p) == [msg("subscribe", b"again", 1)]
    p.close()


# -- sharded pub/sub ---------------------------------------------------------------
def test_sharded_channels(r, pubsub):
    p = pubsub(r)
    p.subscribe("a")
    p.psubscribe("*")
    p.ssubscribe("a", "s1")
    assert r.spublish("a", "m2") == 1
    assert r.publish("s1", "m3") == 1  # the pattern, not the shard channel
    p.sunsubscribe("a")
    p.unsubscribe("a")
    assert drain(p) == [
        msg("subscribe", b"a", 1), msg("psubscribe", b"*", 2),
        msg("ssubscribe", b"a", 1), msg("ssubscribe", b"s1", 2),
        msg("smessage", b"a", b"m2"), msg("pmessage", b"s1", b"m3", b"*"),
        msg("sunsubscribe", b"a", 1), msg("unsubscribe", b"a", 1),
    ]
    assert p.shard_channels == {b"s1": None}
    seen = []
    p.ssubscribe(s2=seen.append)
    r.spublish("s2", "h")
    assert read(p, 2) == [msg("ssubscribe", b"s2", 2)]
    assert seen == [msg("smessage", b"s2", b"h")]


def test_spublish_without_subscribers(r):
    assert r.spublish("nobody", "x") == 0


# -- PUBSUB introspection ------------------------------------------------------------
def test_pubsub_introspection(r, pubsub):
    p, q = pubsub(r), pubsub(r)
    p.subscribe("news", "sport")
    q.subscribe("news")
    p.psubscribe("n*", "s*")
    q.psubscribe("n*")
    p.ssubscribe("shard1")
    q.ssubscribe("shard1", "shard2")
    drain(p)
    drain(q)
    assert sorted(r.pubsub_channels()) == [b"news", b"sport"]
    assert r.pubsub_channels("n*") == [b"news"]
    assert r.pubsub_numsub("news", "sport", "none") == [(b"news", 2), (b"sport", 1),
                                                        (b"none", 0)]
    assert r.pubsub_numsub() == []
    assert r.pubsub_numpat() == 2  # distinct patterns
    assert sorted(r.pubsub_shardchannels()) == [b"shard1", b"shard2"]
    assert r.pubsub_shardchannels("*2") == [b"shard2"]
    assert r.pubsub_shardnumsub("shard1", "shard2", "x") == [(b"shard1", 2), (b"shard2", 1),
                                                            (b"x", 0)]
    q.close()
    assert r.pubsub_numsub("news") == [(b"news", 1)]
    assert r.pubsub_shardchannels() == [b"shard1"]


def test_pubsub_introspection_decoded(rd, pubsub):
    p = pubsub(rd)
    p.subscribe("é")
    drain(p)
    assert rd.pubsub_channels() == ["é"]
    assert rd.pubsub_numsub("é") == [("é", 1)]


@pytest.mark.parametrize("args, error", [
    (["PUBSUB"], "wrong number of arguments for 'pubsub' command"),
    (["PUBSUB", "CHANNELS", "a", "b"],
     "unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."),
    (["PUBSUB", "shardChannels", "a", "b"],
     "unknown subcommand or wrong number of arguments for 'shardChannels'. Try PUBSUB HELP."),
    (["PUBSUB", "NUMPAT", "x"], "wrong number of arguments for 'pubsub|numpat' command"),
    (["PUBSUB", "Foo"], "unknown subcommand 'Foo'. Try PUBSUB HELP."),
    (["PUBSUB", "HELP", "x"], "wrong number of arguments for 'pubsub|help' command"),
    (["PUBLISH", "a"], "wrong number of arguments for 'publish' command"),
    (["PUBLISH", "a", "b", "c"], "wrong number of arguments for 'publish' command"),
    (["SPUBLISH", "a"], "wrong number of arguments for 'spublish' command"),
])
def test_pubsub_errors(r, args, error):
    with raises(ResponseError, error):
        r.execute_command(*args)


def test_pubsub_help(r):
    lines = r.execute_command("PUBSUB", "HELP")
    assert lines[0] == b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    assert len(lines) == 14


def test_run_in_thread_needs_handlers(r, pubsub):
    p = pubsub(r)
    p.subscribe("bare")
    with raises(PubSubError, "Channel: 'b'bare'' has no handler registered"):
        p.run_in_thread()
    q = pubsub(r)
    q.psubscribe("pat*")
    with raises(PubSubError, "Pattern: 'b'pat*'' has no handler registered"):
        q.run_in_thread()
    s = pubsub(r)
    s.ssubscribe("sh")
    with raises(PubSubError, "Shard Channel: 'b'sh'' has no handler registered"):
        s.run_in_thread()


def test_run_in_thread_delivers_to_handlers(r, pubsub):
    import threading

    p = pubsub(r)
    seen, done = [], threading.Event()

    def handler(message):
        seen.append(message["data"])
        if len(seen) == 3:
            done.set()

    p.subscribe(work=handler)
    worker = p.run_in_thread(daemon=True)
    for i in range(3):
        r.publish("work", i)
    assert done.wait(10)
    worker.stop()
    worker.join(10)
    assert not worker.is_alive()
    assert seen == [b"0", b"1", b"2"]
    assert p.subscribed is False  # the worker closed it


# -- minikv only ---------------------------------------------------------------
def test_ping_with_decode_responses():
    """redis-py's RESP3 path mangles a decoded PONG into {'type': 'P', ...};
    minikv yields the message redis-py means (and yields on RESP2)."""
    rd = minikv.Redis(decode_responses=True)
    p = rd.pubsub()
    p.subscribe("c")
    p.ping()
    p.ping("hi")
    assert drain(p) == [msg("subscribe", "c", 1), msg("pong", None, "", None),
                        msg("pong", None, "hi", None)]
    p.close()


def test_subscribe_needs_a_pubsub_object():
    r = minikv.Redis()
    with raises(ResponseError, "SUBSCRIBE is only available on a PubSub object "
                               "(client.pubsub()) in minikv"):
        r.execute_command("SUBSCRIBE", "x")


def test_pubsub_on_a_shared_store():
    publisher = minikv.Redis()
    other = minikv.Redis(store=publisher.store, db=3)
    p = other.pubsub()
    p.subscribe("x")
    assert publisher.publish("x", "across clients and dbs") == 1
    assert drain(p)[1] == msg("message", b"x", b"across clients and dbs")
    assert minikv.Redis().publish("x", "another store") == 0
    p.close()


def test_output_buffer_limit_argument():
    r = minikv.Redis()
    assert r.pubsub().output_buffer_limit == 32 * 1024 * 1024
    assert r.pubsub(output_buffer_limit=0).output_buffer_limit == 0
    with pytest.raises(ValueError, match="output_buffer_limit must be >= 0"):
        r.pubsub(output_buffer_limit=-1)


def test_overflow_disconnects_and_next_operation_reconnects():
    r = minikv.Redis()
    p = r.pubsub(output_buffer_limit=1000)
    p.subscribe("slow")
    p.psubscribe("sl*")
    assert [m["type"] for m in drain(p)] == ["subscribe", "psubscribe"]
    # a publish queues a message of 135 bytes and a pmessage of 145 (their
    # RESP2 sizes): the 4th publish takes the inbox over 1000 bytes
    counts = [r.publish("slow", "x" * 100) for _ in range(6)]
    assert counts == [2, 2, 2, 2, 0, 0]
    assert r.pubsub_numsub("slow") == [(b"slow", 0)]
    with raises(ConnectionError, "Connection closed by server: the subscriber exceeded its "
                                 "output buffer limit of 1000 bytes (client-output-buffer-limit "
                                 "pubsub); unread messages were discarded"):
        p.get_message()
    # as redis-py does after a dropped connection: reconnect and re-subscribe
    assert drain(p) == [msg("subscribe", b"slow", 1), msg("psubscribe", b"sl*", 2)]
    assert r.publish("slow", "back") == 2
    assert [m["data"] for m in drain(p)] == [b"back", b"back"]
    p.close()


def test_overflow_error_survives_a_command_sent_before_reading():
    r = minikv.Redis()
    p = r.pubsub(output_buffer_limit=200, ignore_subscribe_messages=True)
    p.subscribe("a")
    r.publish("a", "x" * 300)
    p.subscribe("b")  # reconnects (re-subscribing to a) and subscribes to b
    with pytest.raises(ConnectionError, match="output buffer limit of 200 bytes"):
        p.get_message()
    assert r.publish("b", "ok") == 1
    assert read(p, 3) == [msg("message", b"b", b"ok")]
    p.close()


def test_keeping_up_never_overflows():
    r = minikv.Redis()
    p = r.pubsub(output_buffer_limit=500, ignore_subscribe_messages=True)
    p.subscribe("steady")
    assert p.get_message() is None  # the ignored confirmation
    for i in range(1000):
        assert r.publish("steady", "y" * 100) == 1
        assert p.get_message()["data"] == b"y" * 100
    p.close()


def test_bus_publish_api_for_the_engine():
    """Keyspace notifications publish from inside commands: bytes in, the
    receiver count out, with the store lock held."""
    r = minikv.Redis()
    p = r.pubsub()
    p.psubscribe("__key*__:*")
    bus = r.store.pubsub
    assert bus.listening()
    with r.store.lock:
        assert bus.publish(b"__keyspace@0__:k", b"set") == 1
    assert drain(p)[1] == msg("pmessage", b"__keyspace@0__:k", b"set", b"__key*__:*")
    p.close()
    assert not bus.listening()
    assert bus.stats() == (0, 0, 0)
