from helpers import raises
from redis.exceptions import ResponseError


def test_set_get(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None


def test_incr_error(r):
    r.set("k", "v")
    with raises(ResponseError, "value is not an integer or out of range"):
        r.incr("k")
