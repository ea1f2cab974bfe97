"""The session middleware through real framework test clients: Starlette's
TestClient (ASGI, over httpx) and Werkzeug's test Client (WSGI), each on
both store backends. The same handlers run in both apps."""
import doctest
import json
import secrets

import pytest
from round_trips import RoundTrips
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import Client

from minikv.integrations import sessions as middleware_module
from minikv.integrations.sessions import ASGISessionMiddleware, WSGISessionMiddleware
from minikv.patterns import SessionStore

SID_LENGTH = 43


# Handlers: (session, store) -> None; every route answers the session's content.
def read(session, store):
    pass


def incr(session, store):
    session["n"] = session.get("n", 0) + 1


def append(session, store):
    session.setdefault("items", []).append(len(session["items"]) if "items" in session else 0)


def remove_n(session, store):
    del session["n"]


def clear(session, store):
    session.clear()


def destroy(session, store):
    session.destroy()


def login(session, store):
    session.regenerate()
    session["user"] = "alice"


def write_beside_another_writer(session, store):
    store.update(session.sid, other="from elsewhere")  # lands while we run
    session["n"] = 100


def write_after_expiry(session, store):
    store.destroy(session.sid)
    session["n"] = -1


HANDLERS = {"/read": read, "/incr": incr, "/append": append, "/remove-n": remove_n,
            "/clear": clear, "/destroy": destroy, "/login": login,
            "/beside": write_beside_another_writer, "/after-expiry": write_after_expiry}


class Web:
    """One framework's app and test client, driven the same way."""

    def __init__(self, framework, store, **cookie_options):
        self.framework = framework
        if framework == "asgi":
            self.client = TestClient(_starlette_app(store, cookie_options))
        else:
            self.client = Client(_wsgi_app(store, cookie_options))

    def post(self, path):
        """(session content as the handler left it, Set-Cookie headers)."""
        response = self.client.post(path)
        assert response.status_code == 200
        if self.framework == "asgi":
            return response.json(), response.headers.get_list("set-cookie")
        return json.loads(response.get_data()), response.headers.getlist("Set-Cookie")

    def set_cookie(self, name, value):
        """Put a cookie in the client's jar, as if a server had set it."""
        if self.framework == "asgi":
            self.client.cookies.set(name, value, domain="testserver.local")
        else:
            self.client.set_cookie(name, value)

    def cookie(self, name="session"):
        """The cookie's value in the client's jar, or None."""
        if self.framework == "asgi":
            return self.client.cookies.get(name)
        cookie = self.client.get_cookie(name)
        return None if cookie is None else cookie.value

    def close(self):
        if self.framework == "asgi":
            self.client.close()


def _starlette_app(store, cookie_options):
    def endpoint(handler):
        async def run(request):
            handler(request.session, store)
            return JSONResponse(dict(request.session))
        return run

    routes = [Route(path, endpoint(handler), methods=["POST"]) for path, handler in HANDLERS.items()]
    return Starlette(routes=routes,
                     middleware=[Middleware(ASGISessionMiddleware, store=store, **cookie_options)])


def _wsgi_app(store, cookie_options):
    def app(environ, start_response):
        HANDLERS[environ["PATH_INFO"]](environ["minikv.session"], store)
        body = json.dumps(dict(environ["minikv.session"])).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return WSGISessionMiddleware(app, store, **cookie_options)


@pytest.fixture(params=["asgi", "wsgi"])
def framework(request):
    return request.param


@pytest.fixture
def store(backend):
    return SessionStore(backend.client)


@pytest.fixture
def web(framework, store):
    client = Web(framework, store)
    yield client
    client.close()


def session_keys(backend):
    return sorted(key for key in backend.client.keys("session:*") if b":user:" not in key)


def test_docstring_example_runs():
    result = doctest.testmod(middleware_module)
    assert result.attempted > 0
    assert result.failed == 0


def test_a_session_survives_requests(web, store):
    assert web.post("/incr") == ({"n": 1}, [f"session={web.cookie()}; Path=/; HttpOnly; SameSite=Lax"])
    sid = web.cookie()
    assert len(sid) == SID_LENGTH
    assert web.post("/incr") == ({"n": 2}, [])  # same id: no new cookie
    assert web.post("/read") == ({"n": 2}, [])
    assert store.get(sid) == {"n": 2}


def test_nothing_stored_means_no_session_no_cookie_no_store_call(web, backend, monkeypatch):
    trips = RoundTrips(backend.client, monkeypatch)
    assert web.post("/read") == ({}, [])
    assert web.post("/destroy") == ({}, [])
    assert trips.calls == []
    assert backend.client.keys("*") == []


def test_an_unchanged_session_is_not_written(web, backend, monkeypatch):
    web.post("/append")
    key = f"session:{web.cookie()}".encode()
    before = backend.client.hgetall(key)
    trips = RoundTrips(backend.client, monkeypatch)
    assert web.post("/read") == ({"items": [0]}, [])
    assert len(trips.take()) == 1  # the load (with its sliding refresh)
    assert backend.client.hgetall(key) == before


def test_in_place_changes_are_saved(web, store):
    web.post("/append")
    assert web.post("/append") == ({"items": [0, 1]}, [])
    assert store.get(web.cookie()) == {"items": [0, 1]}


def test_a_change_writes_only_its_fields(web, store, backend, monkeypatch):
    web.post("/incr")
    sid = web.cookie()
    trips = RoundTrips(backend.client, monkeypatch)
    assert web.post("/beside") == ({"n": 100}, [])
    assert len(trips.take()) == 3  # load, the other writer, our save
    assert store.get(sid) == {"n": 100, "other": "from elsewhere"}
    assert web.post("/remove-n") == ({"other": "from elsewhere"}, [])
    assert store.get(sid) == {"other": "from elsewhere"}


@pytest.mark.parametrize("path", ["/clear", "/destroy"])
def test_emptying_the_session_deletes_it_and_clears_the_cookie(web, backend, path):
    web.post("/incr")
    assert web.post(path) == ({}, [
        "session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax"])
    assert web.cookie() is None
    assert backend.client.keys("*") == []
    assert web.post("/read") == ({}, [])


def test_regenerate_sends_a_new_id_and_kills_the_old(web, store):
    web.post("/incr")
    old = web.cookie()
    data, cookies = web.post("/login")
    new = web.cookie()
    assert data == {"n": 1, "user": "alice"}
    assert cookies == [f"session={new}; Path=/; HttpOnly; SameSite=Lax"]
    assert new != old
    assert store.get(old) is None
    assert store.get(new) == {"n": 1, "user": "alice"}


def test_a_bogus_cookie_gives_a_fresh_session_and_no_write(framework, store, backend, monkeypatch):
    web = Web(framework, store)
    clear_cookie = "session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax"
    trips = RoundTrips(backend.client, monkeypatch)
    web.set_cookie("session", "not-an-id")
    assert web.post("/read") == ({}, [clear_cookie])
    assert trips.take() == []  # malformed: the store is not even asked
    forged = secrets.token_urlsafe(32)
    web.set_cookie("session", forged)
    assert web.post("/read") == ({}, [clear_cookie])
    assert len(trips.take()) == 1  # one lookup, nothing written
    assert backend.client.keys("*") == []
    web.set_cookie("session", forged)
    data, cookies = web.post("/incr")
    assert data == {"n": 1}
    assert len(cookies) == 1 and forged not in cookies[0]  # never adopted
    assert store.get(forged) is None
    assert len(session_keys(backend)) == 1
    web.close()


def test_a_session_that_expires_mid_request_is_not_revived(web, backend):
    web.post("/incr")
    data, cookies = web.post("/after-expiry")
    assert data == {"n": -1}
    assert cookies[0].startswith("session=; Max-Age=0;")
    assert backend.client.keys("*") == []


def test_cookie_options(framework, store):
    web = Web(framework, store, cookie_name="sid", secure=True, domain="example.com", path="/app")
    data, cookies = web.post("/incr")
    assert len(cookies) == 1
    name_value, *attributes = cookies[0].split("; ")
    name, value = name_value.split("=")
    assert name == "sid" and store.get(value) == {"n": 1}
    assert attributes == ["Path=/app", "Domain=example.com", "HttpOnly", "SameSite=Lax", "Secure"]
    web.close()


def test_the_cookie_is_found_among_others(framework, store):
    sid = store.create({"n": 5})
    web = Web(framework, store, cookie_name="sid")
    for name, value in [("theme", "dark"), ("sidx", "1"), ("sid", sid), ("lang", "en")]:
        web.set_cookie(name, value)
    assert web.post("/read") == ({"n": 5}, [])
    assert web.post("/incr") == ({"n": 6}, [])
    web.close()
