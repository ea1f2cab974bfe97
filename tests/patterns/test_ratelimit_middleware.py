"""The rate-limit middleware through real framework test clients: Starlette's
TestClient (ASGI, over httpx) and Werkzeug's test Client (WSGI), each on
both store backends. Both apps serve the same routes."""
import doctest

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from werkzeug.test import Client

from minikv.integrations import ratelimit as middleware_module
from minikv.integrations.ratelimit import ASGIRateLimitMiddleware, WSGIRateLimitMiddleware
from minikv.patterns import RateLimiter

LONG = 1000  # seconds: nothing rolls over while a test runs on the real Redis
WSGI_ADDRESS = "10.1.2.3"


class Web:
    """One framework's app and test client, driven the same way."""

    def __init__(self, framework, limiter, **options):
        self.framework = framework
        self.served = []  # the paths the application itself answered
        if framework == "asgi":
            self.client = TestClient(_starlette_app(self.served, limiter, options))
        else:
            self.client = Client(_wsgi_app(self.served, limiter, options))

    def get(self, path="/", **headers):
        """(status, body, headers as a dict of lower-case names)."""
        if self.framework == "asgi":
            response = self.client.get(path, headers=headers)
            return (response.status_code, response.content,
                    {name.lower(): value for name, value in response.headers.items()})
        # Werkzeug sets no REMOTE_ADDR unless told: a server would.
        response = self.client.get(path, headers=headers,
                                   environ_base={"REMOTE_ADDR": WSGI_ADDRESS})
        return (response.status_code, response.get_data(),
                {name.lower(): value for name, value in response.headers.items()})

    def close(self):
        if self.framework == "asgi":
            self.client.close()


def _by_user(request):
    """A key function reading a header (ASGI scope or WSGI environ)."""
    if "headers" in request:
        return dict(request["headers"]).get(b"x-user", b"").decode() or None
    return request.get("HTTP_X_USER") or None


def _path(request):
    return request.get("path") or request.get("PATH_INFO")


def _cost(request):
    return 2 if _path(request) == "/heavy" else 1


def _not_health(request):
    """The default key (the client's address) except for /health, exempt."""
    if _path(request) == "/health":
        return None
    if "headers" in request:
        return request["client"][0]
    return request["REMOTE_ADDR"]


def _starlette_app(served, limiter, options):
    async def endpoint(request):
        served.append(request.url.path)
        return PlainTextResponse("ok", headers={"X-App": "yes"})

    routes = [Route(path, endpoint) for path in ("/", "/heavy", "/health")]
    return Starlette(routes=routes,
                     middleware=[Middleware(ASGIRateLimitMiddleware, limiter=limiter, **options)])


def _wsgi_app(served, limiter, options):
    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-App", "yes")])
        return [b"ok"]
    return WSGIRateLimitMiddleware(app, limiter, **options)


@pytest.fixture(params=["asgi", "wsgi"])
def framework(request):
    return request.param


@pytest.fixture
def make_web(framework):
    webs = []

    def make(limiter, **options):
        web = Web(framework, limiter, **options)
        webs.append(web)
        return web
    yield make
    for web in webs:
        web.close()


def client_address(framework):
    return "testclient" if framework == "asgi" else WSGI_ADDRESS


def test_headers_on_every_response_and_429(backend, framework, make_web):
    limiter = RateLimiter(backend.client, limit=3, period=LONG, algorithm="fixed_window")
    web = make_web(limiter)
    for remaining in (2, 1, 0):
        status, body, headers = web.get()
        assert (status, body, headers["x-app"]) == (200, b"ok", "yes")
        assert headers["ratelimit-limit"] == "3"
        assert headers["ratelimit-remaining"] == str(remaining)
        assert "retry-after" not in headers
        reset = int(headers["ratelimit-reset"])
        assert reset == LONG if backend.embedded else 1 <= reset <= LONG
    status, body, headers = web.get()
    assert (status, body) == (429, b"Too Many Requests")
    assert "x-app" not in headers
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert (headers["ratelimit-limit"], headers["ratelimit-remaining"]) == ("3", "0")
    retry = int(headers["retry-after"])
    assert retry == LONG if backend.embedded else 1 <= retry <= LONG
    assert web.served == ["/"] * 3  # the denied request never reached the app
    # The default key is the client's address.
    assert backend.client.exists(limiter.storage_key(client_address(framework))) == 1


def test_seconds_round_up_and_retry_after_is_at_least_one(backend, make_web):
    # One request per 250 ms, a burst of 2: every wait is under a second.
    limiter = RateLimiter(backend.client, limit=2, period=0.5, algorithm="gcra")
    web = make_web(limiter)
    assert web.get()[2]["ratelimit-reset"] == "1"  # 0.25 s, rounded up
    web.get()
    status, _, headers = web.get()
    assert (status, headers["retry-after"], headers["ratelimit-reset"]) == (429, "1", "1")


def test_key_and_cost_functions(backend, make_web):
    limiter = RateLimiter(backend.client, limit=3, period=LONG, algorithm="sliding_log")
    web = make_web(limiter, key=_by_user, cost=_cost)
    assert web.get("/heavy", **{"X-User": "alice"})[2]["ratelimit-remaining"] == "1"
    assert web.get("/", **{"X-User": "alice"})[2]["ratelimit-remaining"] == "0"
    assert web.get("/", **{"X-User": "alice"})[0] == 429
    assert web.get("/heavy", **{"X-User": "bob"})[:2] == (200, b"ok")  # another budget
    # No user: the key function exempts the request.
    status, _, headers = web.get("/")
    assert status == 200 and "ratelimit-limit" not in headers
    assert sorted(backend.client.keys("*")) == [limiter.storage_key("alice"),
                                                limiter.storage_key("bob")]


def test_exempt_paths_are_neither_counted_nor_labelled(backend, framework, make_web):
    limiter = RateLimiter(backend.client, limit=1, period=LONG, algorithm="token_bucket")
    web = make_web(limiter, key=_not_health)
    for _ in range(3):
        status, _, headers = web.get("/health")
        assert status == 200 and "ratelimit-remaining" not in headers
    assert web.get("/")[2]["ratelimit-remaining"] == "0"
    assert web.get("/")[0] == 429
    assert web.get("/health")[0] == 200


def test_several_limits(backend, make_web):
    per_second = RateLimiter(backend.client, limit=2, period=LONG, algorithm="sliding_window")
    per_hour = RateLimiter(backend.client, limit=5, period=LONG * 2, algorithm="fixed_window")
    web = make_web(RateLimiter.all_of(per_second, per_hour))
    headers = web.get()[2]
    assert (headers["ratelimit-limit"], headers["ratelimit-remaining"]) == ("2", "1")
    web.get()
    assert web.get()[0] == 429
    assert per_hour.peek(client_address(web.framework)).remaining == 3


def test_asgi_lifespan_passes_through(backend):
    limiter = RateLimiter(backend.client, limit=1, period=LONG)
    with TestClient(_starlette_app([], limiter, {})) as client:  # runs the lifespan
        assert client.get("/").status_code == 200
        assert client.get("/").status_code == 429


def test_docstrings_run():
    assert doctest.testmod(middleware_module).failed == 0
