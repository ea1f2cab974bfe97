"""SessionStore on both backends: the embedded engine (manual clock) and a
real redis-server (real time, short periods)."""
import doctest
import secrets
import threading

import pytest
from round_trips import RoundTrips

from helpers import JOIN_SECONDS
from minikv.patterns import SessionStore
from minikv.patterns import sessions as sessions_module

MALFORMED_IDS = ["", "abc", "x" * 42, "x" * 44, "!" * 43, "session:" + "x" * 35,
                 "x" * 42 + "\n", "é" * 43, None, 42, b"x" * 43]


def keys(client):
    return sorted(key.decode() if isinstance(key, bytes) else key for key in client.keys("*"))


def ttl_close(backend, actual, expected):
    """A store's ttl() is exact on the manual clock; on a real server some
    real milliseconds pass between the write and the read."""
    if backend.embedded:
        return actual == expected
    return actual is not None and expected - 0.15 <= actual <= expected


def forged_id():
    """Well formed, never issued by the store."""
    return secrets.token_urlsafe(32)


def test_docstring_example_runs():
    result = doctest.testmod(sessions_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_create_issues_unique_urlsafe_256_bit_ids(backend):
    store = SessionStore(backend.client)
    ids = {store.create() for _ in range(50)}
    assert len(ids) == 50
    for sid in ids:
        assert sessions_module.valid_sid(sid)
        assert len(sid) == 43  # 32 bytes in base64url, no padding


def test_get_returns_the_data_as_created(backend):
    store = SessionStore(backend.client)
    data = {"cart": [1, 2, {"sku": "A-1"}], "name": "Zoë", "n": 3, "price": 2.5,
            "ok": True, "none": None, "": "empty key", "d:x": "prefix-like key"}
    sid = store.create(data)
    assert store.get(sid) == data
    assert store.get(store.create()) == {}


def test_layout_one_hash_field_per_key_plus_metadata(backend):
    store = SessionStore(backend.client, prefix="s:")
    sid = store.create({"a": [1], "b": "x"}, user_id=7)
    stored = backend.client.hgetall("s:" + sid)
    assert stored[b"d:a"] == b"[1]"
    assert stored[b"d:b"] == b'"x"'
    assert stored[b"m:user"] == b"7"
    assert int(stored[b"m:created"]) > 0
    assert len(stored) == 4
    assert keys(backend.client) == sorted(["s:" + sid, "s:user:7"])


def test_unknown_and_malformed_ids(backend, monkeypatch):
    store = SessionStore(backend.client)
    assert store.get(forged_id()) is None
    trips = RoundTrips(backend.client, monkeypatch)
    for sid in MALFORMED_IDS:
        assert store.get(sid) is None
        assert store.update(sid, a=1) is False
        assert store.delete_field(sid, "a") is False
        assert store.replace(sid, {"a": 1}) is False
        assert store.regenerate(sid) is None
        assert store.destroy(sid) is False
        assert store.ttl(sid) is None
    assert trips.calls == []  # rejected before touching the store
    assert keys(backend.client) == []


def test_a_forged_id_is_never_adopted(backend):
    store = SessionStore(backend.client)
    sid = forged_id()
    assert store.update(sid, user="admin") is False
    assert store.apply(sid, {"user": "admin"}, ["x"]) is False
    assert store.delete_field(sid, "user") is False
    assert store.replace(sid, {"user": "admin"}) is False
    assert store.regenerate(sid) is None
    assert store.destroy(sid) is False
    assert store.get(sid) is None
    assert store.ttl(sid) is None
    assert keys(backend.client) == []


def test_a_hash_the_store_did_not_write_is_no_session(backend):
    store = SessionStore(backend.client)
    sid = forged_id()
    backend.client.hset("session:" + sid, "d:user", '"admin"')  # no m:created
    assert store.get(sid) is None
    assert store.update(sid, user="root") is False
    assert store.replace(sid, {}) is False
    assert store.regenerate(sid) is None
    assert backend.client.hgetall("session:" + sid) == {b"d:user": b'"admin"'}


def test_a_hand_edited_value_is_an_error_not_a_misread(backend):
    store = SessionStore(backend.client)
    sid = store.create({"a": 1, "b": 2})
    backend.client.hset("session:" + sid, "d:a", "1,2")  # two JSON texts in one field
    with pytest.raises(ValueError):
        store.get(sid)
    backend.client.hset("session:" + sid, "d:a", "{")
    with pytest.raises(ValueError):
        store.get(sid)


def test_update_changes_only_the_given_fields(backend):
    store = SessionStore(backend.client)
    sid = store.create({"a": 1, "b": 2})
    assert store.update(sid, b=20, c=[3]) is True
    assert store.get(sid) == {"a": 1, "b": 20, "c": [3]}
    assert store.update(sid) is True  # nothing to set: still says it exists
    assert store.update(sid, sid="a field named sid") is True
    assert store.get(sid)["sid"] == "a field named sid"


def test_delete_field_and_apply(backend):
    store = SessionStore(backend.client)
    sid = store.create({"a": 1, "b": 2, "c": 3})
    assert store.delete_field(sid, "a") is True
    assert store.delete_field(sid, "a") is False
    assert store.get(sid) == {"b": 2, "c": 3}
    assert store.apply(sid, {"d": 4}, ["b", "nope"]) is True
    assert store.get(sid) == {"c": 3, "d": 4}
    assert store.delete_field(sid, "c") is True
    assert store.delete_field(sid, "d") is True
    assert store.get(sid) == {}  # an empty session still exists
    assert store.ttl(sid) is not None


def test_replace_swaps_the_data_keeps_the_user_link(backend):
    store = SessionStore(backend.client)
    sid = store.create({"a": 1, "b": 2}, user_id="u")
    assert store.replace(sid, {"c": 3}) is True
    assert store.get(sid) == {"c": 3}
    assert store.replace(sid, {}) is True
    assert store.get(sid) == {}
    assert store.sessions_of("u") == {sid}


def test_destroy(backend):
    store = SessionStore(backend.client)
    sid = store.create({"a": 1}, user_id=1)
    other = store.create({"b": 1}, user_id=1)
    assert store.destroy(sid) is True
    assert store.destroy(sid) is False
    assert store.get(sid) is None
    assert store.sessions_of(1) == {other}
    assert backend.client.smembers("session:user:1") == {other.encode()}


def test_regenerate_moves_everything_and_kills_the_old_id(backend):
    store = SessionStore(backend.client)
    sid = store.create({"cart": ["x"]}, user_id="alice")
    new_sid = store.regenerate(sid)
    assert sessions_module.valid_sid(new_sid) and new_sid != sid
    assert store.get(sid) is None
    assert store.update(sid, cart=[]) is False  # the old id cannot come back
    assert store.get(new_sid) == {"cart": ["x"]}
    assert store.sessions_of("alice") == {new_sid}
    assert backend.client.hget("session:" + new_sid, "m:user") == b"alice"
    assert sorted(keys(backend.client)) == sorted(["session:" + new_sid, "session:user:alice"])
    assert store.regenerate(sid) is None


def test_regenerate_keeps_the_creation_time(backend):
    store = SessionStore(backend.client)
    sid = store.create()
    created = backend.client.hget("session:" + sid, "m:created")
    backend.advance(0.05)
    new_sid = store.regenerate(sid)
    assert backend.client.hget("session:" + new_sid, "m:created") == created


def test_sessions_of_prunes_dead_sessions_and_destroy_all(backend):
    store = SessionStore(backend.client)
    first = store.create(user_id=9)
    second = store.create(user_id=9)
    unrelated = store.create(user_id=10)
    assert store.sessions_of(9) == {first, second}
    backend.client.delete("session:" + first)  # as if it had expired
    assert store.sessions_of(9) == {second}
    assert backend.client.smembers("session:user:9") == {second.encode()}
    assert store.sessions_of("nobody") == set()
    assert store.destroy_all(9) == 1
    assert store.get(second) is None
    assert store.sessions_of(9) == set()
    assert keys(backend.client) == sorted(["session:" + unrelated, "session:user:10"])
    assert store.destroy_all(9) == 0


def test_create_prunes_the_users_dead_sessions(backend):
    store = SessionStore(backend.client)
    old = store.create(user_id=5)
    backend.client.delete("session:" + old)
    new = store.create(user_id=5)
    assert backend.client.smembers("session:user:5") == {new.encode()}


def test_create_checks_a_bounded_sample_of_the_users_sessions(backend):
    store = SessionStore(backend.client)
    dead = [store.create(user_id=5) for _ in range(20)]
    backend.client.delete(*["session:" + sid for sid in dead])
    store.create(user_id=5)
    # PRUNE_SAMPLE distinct members were checked (and removed): O(1) per create
    assert backend.client.scard("session:user:5") == 20 - sessions_module.PRUNE_SAMPLE + 1
    assert len(store.sessions_of(5)) == 1
    assert backend.client.scard("session:user:5") == 1


def test_user_ids_are_text(backend):
    store = SessionStore(backend.client)
    sid = store.create(user_id=12)
    assert store.sessions_of("12") == {sid}
    assert store.sessions_of(12) == {sid}


def test_sliding_expiry(backend):
    store = SessionStore(backend.client, ttl=0.5)
    sid = store.create({"a": 1})
    assert ttl_close(backend, store.ttl(sid), 0.5)
    backend.advance(0.3)
    assert store.get(sid) == {"a": 1}  # renews: 0.5 s from now
    assert ttl_close(backend, store.ttl(sid), 0.5)
    backend.advance(0.3)
    assert store.update(sid, b=2) is True  # alive past the first 0.5 s; renews
    assert ttl_close(backend, store.ttl(sid), 0.5)
    backend.advance(0.55)
    assert store.get(sid) is None
    assert store.ttl(sid) is None
    assert keys(backend.client) == []


def test_fixed_expiry(backend):
    store = SessionStore(backend.client, ttl=0.5, sliding=False)
    sid = store.create({"a": 1})
    backend.advance(0.3)
    assert store.get(sid) == {"a": 1}
    assert store.update(sid, b=2) is True
    assert ttl_close(backend, store.ttl(sid), 0.2)  # neither renewed it
    backend.advance(0.25)
    assert store.get(sid) is None
    assert store.update(sid, b=3) is False
    assert keys(backend.client) == []


def test_absolute_ttl_caps_sliding_refreshes(backend):
    store = SessionStore(backend.client, ttl=0.4, absolute_ttl=0.7)
    sid = store.create({"a": 1})
    assert ttl_close(backend, store.ttl(sid), 0.4)
    backend.advance(0.3)
    assert store.get(sid) == {"a": 1}
    assert ttl_close(backend, store.ttl(sid), 0.4)
    backend.advance(0.3)
    assert store.update(sid, b=2) is True
    assert ttl_close(backend, store.ttl(sid), 0.1)  # capped: 0.7 s after creation
    new_sid = store.regenerate(sid)  # a new id does not restart the clock
    assert ttl_close(backend, store.ttl(new_sid), 0.1)
    backend.advance(0.15)
    assert store.get(new_sid) is None


def test_absolute_ttl_shorter_than_ttl(backend):
    store = SessionStore(backend.client, ttl=1800, absolute_ttl=60, sliding=False)
    sid = store.create()
    assert ttl_close(backend, store.ttl(sid), 60)


def test_a_tightened_absolute_ttl_ends_old_sessions_at_their_next_use(backend):
    sid = SessionStore(backend.client, ttl=60).create({"a": 1}, user_id=3)
    backend.advance(0.3)
    strict = SessionStore(backend.client, ttl=60, absolute_ttl=0.2)
    assert strict.get(sid) is None
    assert backend.client.exists("session:" + sid) == 0
    assert strict.sessions_of(3) == set()


def test_the_user_index_lives_as_long_as_its_sessions(backend):
    store = SessionStore(backend.client, ttl=0.4)
    early = store.create(user_id="u")
    backend.advance(0.2)
    late = store.create(user_id="u")
    index_ms = backend.client.pttl("session:user:u")
    assert index_ms >= backend.client.pttl("session:" + late)
    backend.advance(0.1)
    assert store.get(late) == {}  # a refresh extends the index too
    assert backend.client.pttl("session:user:u") >= backend.client.pttl("session:" + late)
    backend.advance(0.25)
    assert store.sessions_of("u") == {late}
    assert store.get(early) is None
    backend.advance(0.45)
    assert keys(backend.client) == []  # the index went with its last session


def test_two_writers_of_different_fields_lose_nothing(backend):
    store = SessionStore(backend.client)
    other_store = SessionStore(backend.new_client())
    sid = store.create({"seed": 0})
    errors = []

    def writer(target, letter):
        try:
            for i in range(1000):
                target.update(sid, **{f"{letter}{i}": i, letter: i})
        except Exception as exc:  # surfaced by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(store, "a")),
               threading.Thread(target=writer, args=(other_store, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    data = store.get(sid)
    assert len(data) == 2003
    assert data["a"] == data["b"] == 999
    assert all(data[f"a{i}"] == i and data[f"b{i}"] == i for i in range(1000))


def test_every_operation_is_one_round_trip(backend, monkeypatch):
    store = SessionStore(backend.client, absolute_ttl=3600)

    def run_all():
        sid = store.create({"a": 1}, user_id="rt")
        results = [store.get(sid), store.update(sid, b=2), store.delete_field(sid, "b"),
                   store.apply(sid, {"c": 3}, ["a"]), store.replace(sid, {"d": 4}),
                   store.ttl(sid)]
        sid = store.regenerate(sid)
        results += [store.sessions_of("rt"), store.destroy(sid), store.destroy_all("rt")]
        return results

    run_all()  # on redis: the scripts get loaded (SCRIPT LOAD after NOSCRIPT)
    trips = RoundTrips(backend.client, monkeypatch)
    run_all()
    assert len(trips.take()) == 11
    sid = store.create()
    for call in (lambda: store.get(sid), lambda: store.update(sid, x=1),
                 lambda: store.regenerate(sid), lambda: store.destroy_all("rt")):
        trips.take()
        call()
        assert len(trips.take()) == 1


def test_values_and_keys_are_checked_before_any_write(backend):
    store = SessionStore(backend.client)
    with pytest.raises(TypeError):
        store.create({"a": object()})
    with pytest.raises(TypeError):
        store.create({1: "a"})
    with pytest.raises(TypeError):
        store.create(["a"])
    assert keys(backend.client) == []
    sid = store.create({"a": 1})
    with pytest.raises(TypeError):
        store.update(sid, a=1, b={1, 2})
    with pytest.raises(TypeError):
        store.replace(sid, {"a": 2, "b": object()})
    with pytest.raises(TypeError):
        store.replace(sid, "a=2")
    assert store.get(sid) == {"a": 1}


def test_settings_are_validated():
    with pytest.raises(ValueError):
        SessionStore(ttl=0)
    with pytest.raises(ValueError):
        SessionStore(absolute_ttl=-1)
    with pytest.raises(TypeError):
        SessionStore(ttl="1800")
    with pytest.raises(TypeError):
        SessionStore(ttl=True)
    with pytest.raises(TypeError):
        SessionStore(prefix=b"s:")


def test_prefixes_keep_stores_apart(backend):
    shop = SessionStore(backend.client, prefix="shop:")
    admin = SessionStore(backend.client, prefix="admin:")
    sid = shop.create({"a": 1}, user_id=1)
    assert admin.get(sid) is None
    assert admin.sessions_of(1) == set()
    assert admin.destroy_all(1) == 0
    assert shop.get(sid) == {"a": 1}


def test_a_decoding_client_gives_the_same_results(backend):
    store = SessionStore(backend.new_client(decode_responses=True))
    sid = store.create({"a": "ü"}, user_id=1)
    assert store.get(sid) == {"a": "ü"}
    assert store.sessions_of(1) == {sid}
    assert store.delete_field(sid, "a") is True
    assert store.regenerate(sid) is not None


def test_repr():
    store = SessionStore(ttl=60, sliding=False)
    assert repr(store) == "SessionStore(prefix='session:', ttl=60, sliding=False, absolute_ttl=None)"
