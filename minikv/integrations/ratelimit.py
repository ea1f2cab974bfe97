"""Rate limiting for web apps: ASGI and WSGI middleware over a RateLimiter.

Each request is one ``limiter.hit(key(request), cost(request))`` — a
``RateLimiter`` or a ``RateLimiter.all_of(...)`` (minikv/patterns/
ratelimit.py), so one atomic step, one round trip on a real Redis. The ASGI
middleware also takes an ``AsyncRateLimiter`` (or its ``all_of``): any
limiter whose ``hit`` is a coroutine function is awaited.

- ``key``: who is limited. By default the client's IP address
  (``scope["client"]`` in ASGI, ``REMOTE_ADDR`` in WSGI; ``"unknown"`` when
  the server gives none, so such requests share one budget). Behind a proxy
  pass a function that trusts the proxy's header. A key function that
  returns None exempts the request: no hit, no headers.
- ``cost``: what the request costs, 1 by default; a function of the
  scope/environ otherwise (an int from 1 to the limit).
- Allowed requests reach the application and their response gets
  ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset``
  (the IETF draft's fields: the limit, what is left, whole seconds until
  the budget is full again, rounded up).
- Denied requests never reach it: the answer is ``429 Too Many Requests``
  with the same three headers and ``Retry-After`` in whole seconds,
  rounded up and at least 1 (HTTP has no finer unit, and 0 would invite an
  immediate retry that is bound to fail).

The ASGI middleware limits ``http`` requests (other scope types pass
through). An async limiter is awaited on the server's event loop: over
``redis.asyncio`` that is the non-blocking way to a real Redis, over
``minikv.asyncio`` the hit runs inline. A sync limiter on an embedded store
is called directly (a microsecond); a sync limiter on a real Redis runs in
a worker thread (``asyncio.to_thread``), which needs an asyncio event loop.
A ``redis.asyncio`` client's connections belong to the event loop that
opened them: share one between the app and other code only on one loop.
"""
import inspect
import math

from minikv.patterns._atomic import is_embedded
from minikv.patterns._io import call_sync

__all__ = ["ASGIRateLimitMiddleware", "WSGIRateLimitMiddleware", "rate_limit_headers"]

TOO_MANY_REQUESTS = b"Too Many Requests"


def rate_limit_headers(result):
    """The response headers for a ``RateLimitResult``, as (name, value) str pairs."""
    headers = [("RateLimit-Limit", str(result.limit)),
               ("RateLimit-Remaining", str(result.remaining)),
               ("RateLimit-Reset", str(math.ceil(result.reset_after)))]
    if not result.allowed:
        headers.append(("Retry-After", str(max(1, math.ceil(result.retry_after)))))
    return headers


def _asgi_client_ip(scope):
    client = scope.get("client")
    return client[0] if client else "unknown"


def _wsgi_client_ip(environ):
    return environ.get("REMOTE_ADDR") or "unknown"


class ASGIRateLimitMiddleware:
    """``ASGIRateLimitMiddleware(app, limiter, key=None, cost=None)``;
    ``key(scope)`` and ``cost(scope)`` as in the module docstring.
    ``limiter``: a ``RateLimiter`` or an ``AsyncRateLimiter`` (or either's
    ``all_of``).

    With Starlette: ``Middleware(ASGIRateLimitMiddleware, limiter=...)``.
    """

    def __init__(self, app, limiter, key=None, cost=None):
        self.app = app
        self.limiter = limiter
        self.key = key or _asgi_client_ip
        self.cost = cost
        self._awaited = inspect.iscoroutinefunction(limiter.hit)
        self._inline = not self._awaited and is_embedded(limiter.client)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = self.key(scope)
        if name is None:
            await self.app(scope, receive, send)
            return
        cost = 1 if self.cost is None else self.cost(scope)
        if self._awaited:
            result = await self.limiter.hit(name, cost)
        else:
            result = await call_sync(self._inline, self.limiter.hit, name, cost)
        headers = [(field.lower().encode(), value.encode())
                   for field, value in rate_limit_headers(result)]
        if not result.allowed:
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(TOO_MANY_REQUESTS)).encode()),
                                    *headers]})
            await send({"type": "http.response.body", "body": TOO_MANY_REQUESTS})
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class WSGIRateLimitMiddleware:
    """``WSGIRateLimitMiddleware(app, limiter, key=None, cost=None)``;
    ``key(environ)`` and ``cost(environ)`` as in the module docstring.

    >>> from minikv.patterns import RateLimiter
    >>> def app(environ, start_response):
    ...     start_response("200 OK", [("Content-Type", "text/plain")])
    ...     return [b"hello"]
    >>> limited = WSGIRateLimitMiddleware(app, RateLimiter(limit=1, period=60))
    >>> def start_response(status, headers, exc_info=None):
    ...     print(status, dict(headers)["RateLimit-Remaining"])
    >>> limited({"REMOTE_ADDR": "10.0.0.1"}, start_response)
    200 OK 0
    [b'hello']
    >>> limited({"REMOTE_ADDR": "10.0.0.1"}, start_response)
    429 Too Many Requests 0
    [b'Too Many Requests']
    """

    def __init__(self, app, limiter, key=None, cost=None):
        self.app = app
        self.limiter = limiter
        self.key = key or _wsgi_client_ip
        self.cost = cost

    def __call__(self, environ, start_response):
        name = self.key(environ)
        if name is None:
            return self.app(environ, start_response)
        result = self.limiter.hit(name, 1 if self.cost is None else self.cost(environ))
        headers = rate_limit_headers(result)
        if not result.allowed:
            start_response("429 Too Many Requests",
                           [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(TOO_MANY_REQUESTS))), *headers])
            return [TOO_MANY_REQUESTS]

        def start_with_headers(status, response_headers, exc_info=None):
            return start_response(status, [*response_headers, *headers], exc_info)

        return self.app(environ, start_with_headers)
