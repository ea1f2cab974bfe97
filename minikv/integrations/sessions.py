"""Cookie sessions for web apps: ASGI and WSGI middleware over a session store.

The browser holds only the session id, in a cookie (``HttpOnly``,
``SameSite=Lax``, ``Path=/``, ``Secure`` when configured — turn it on in
production, behind HTTPS); the data stays in the store
(minikv/patterns/sessions.py). The cookie is a browser-session cookie
(no ``Max-Age``): the store's TTL decides how long a session lives.

Per request:

- Load: the id from the cookie; a malformed id is ignored without touching
  the store, an unknown or expired one yields a fresh empty session (the
  store never adopts it). One store round trip at most.
- The handler gets a ``Session`` — a dict with ``sid``, ``regenerate()``
  and ``destroy()`` — as ``scope["session"]`` (ASGI; Starlette's
  ``request.session`` reads it) or ``environ["minikv.session"]`` (WSGI).
- Save, when the response starts: nothing unless something changed.
  Changes are found by comparing each value's JSON with its JSON as
  loaded, so in-place changes (``session["cart"].append(x)``) count too,
  and only the changed and removed fields are written (one atomic step:
  concurrent requests changing other fields keep their changes). A new
  session is created only when the handler stores something; an emptied
  or destroyed session is deleted and its cookie cleared; ``regenerate()``
  moves the session to a fresh id (do it at login) and resends the cookie.
  If the session expired while the request ran, its changes are dropped
  and the cookie cleared: a write never revives an expired session.

The ASGI middleware serves ``http`` requests (other scope types pass
through untouched) and takes either kind of store:

- an ``AsyncSessionStore`` (on ``minikv.asyncio.Redis`` or
  ``redis.asyncio.Redis``): its coroutines are awaited on the event loop —
  no thread, and the loop never blocks (an embedded step takes µs; a
  real Redis round trip is awaited on its socket). The choice for an
  asyncio app talking to a real Redis;
- a ``SessionStore`` (sync): on the embedded engine it is called directly
  (µs, the loop is not held up); on a real Redis each load and save runs
  in a worker thread (``asyncio.to_thread``) so the loop goes on during the
  round trip — which needs an asyncio event loop and costs a thread hop.

The WSGI middleware takes a ``SessionStore``. ``SessionCookie`` holds the
load and save logic once, as coroutines that await each store answer that
is awaitable: over a sync store nothing in them suspends, so ``load`` and
``save`` run them inline (``run_inline``, patterns/_io.py); over an async
store ``aload`` and ``asave`` await them.
"""
import inspect

from minikv.patterns._atomic import is_embedded
from minikv.patterns._io import call_sync, run_inline
from minikv.patterns.sessions import AsyncSessionStore, SessionStore, encode_value, valid_sid

__all__ = ["Session", "SessionCookie", "ASGISessionMiddleware", "WSGISessionMiddleware"]


class Session(dict):
    """A request's session: a dict, saved when the response starts.

    ``sid`` is its id: the one it was loaded with, None for a new session
    until it is saved, the new one after a regenerate is saved.
    """

    def __init__(self, sid=None, data=None):
        super().__init__(data or ())
        self.sid = sid
        # JSON of every value as loaded: what "changed" is measured against.
        self._loaded = {name: encode_value(value) for name, value in self.items()}
        self._regenerate = False
        self._destroy = False
        self._stale_cookie = False  # the request's cookie named no live session

    def regenerate(self):
        """Give the session a fresh id when saved (session-fixation defence)."""
        self._regenerate = True

    def destroy(self):
        """Empty the session; saving deletes it and clears the cookie."""
        self.clear()
        self._destroy = True

    def changes(self):
        """(fields set or changed {name: value}, names removed) since loading."""
        loaded = self._loaded
        changed = {name: value for name, value in self.items()
                   if loaded.get(name) != encode_value(value)}
        removed = [name for name in loaded if name not in self]
        return changed, removed


class SessionCookie:
    """Loading and saving a session through a cookie, framework-neutral.

    ``load(cookie_header)`` -> Session; ``save(session)`` -> the
    ``Set-Cookie`` value to send, or None. Both middlewares use this. With
    an ``AsyncSessionStore``, await ``aload``/``asave`` instead.

    >>> cookies = SessionCookie(SessionStore(), cookie_name="sid")
    >>> session = cookies.load("")                  # a request without our cookie
    >>> session["user"] = "alice"
    >>> header = cookies.save(session)              # the session is created
    >>> header == f"sid={session.sid}; Path=/; HttpOnly; SameSite=Lax"
    True
    >>> again = cookies.load(header.split(";")[0])  # the next request
    >>> again
    {'user': 'alice'}
    >>> cookies.save(again) is None                 # unchanged: nothing written
    True
    >>> again.destroy()
    >>> cookies.save(again)
    'sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax'
    """

    def __init__(self, store=None, *, cookie_name="session", secure=False, path="/",
                 domain=None):
        self.store = store if store is not None else SessionStore()
        self.cookie_name = cookie_name
        attributes = f"; Path={path}"
        if domain is not None:
            attributes += f"; Domain={domain}"
        attributes += "; HttpOnly; SameSite=Lax"
        if secure:
            attributes += "; Secure"
        self._attributes = attributes
        self._clear = (f"{cookie_name}=; Max-Age=0; "
                       f"Expires=Thu, 01 Jan 1970 00:00:00 GMT{attributes}")

    @property
    def embedded(self):
        """A sync store on the embedded engine (called without a thread)."""
        return is_embedded(self.store.client)

    @property
    def asynchronous(self):
        """An ``AsyncSessionStore``: use ``aload``/``asave``."""
        return isinstance(self.store, AsyncSessionStore)

    def sid_from(self, cookie_header):
        """The first value of our cookie in a ``Cookie`` header, or None."""
        name = self.cookie_name
        for part in cookie_header.split(";"):
            key, sep, value = part.partition("=")
            if sep and key.strip() == name:
                return value.strip()
        return None

    def load(self, cookie_header):
        """The request's ``Session`` (a sync store)."""
        self._check_sync("load")
        return run_inline(self._load(cookie_header))

    def save(self, session):
        """Write the session's changes; the Set-Cookie value, or None.
        ``session.sid`` is the session's id afterwards (None if none).
        (A sync store.)"""
        self._check_sync("save")
        return run_inline(self._save(session))

    async def aload(self, cookie_header):
        """``load`` for an ``AsyncSessionStore``."""
        return await self._load(cookie_header)

    async def asave(self, session):
        """``save`` for an ``AsyncSessionStore``."""
        return await self._save(session)

    def _check_sync(self, method):
        if self.asynchronous:
            raise TypeError(f"an AsyncSessionStore is awaited: use a{method}()")

    async def _load(self, cookie_header):
        sid = self.sid_from(cookie_header) if cookie_header else None
        session = None
        if valid_sid(sid):
            data = await _answer(self.store.get(sid))
            if data is not None:
                session = Session(sid, data)
        if session is None:
            session = Session()
            session._stale_cookie = sid is not None
        return session

    async def _save(self, session):
        store = self.store
        sid = session.sid
        if sid is None:
            if session:
                session.sid = await _answer(store.create(dict(session)))
                return self._cookie(session.sid)
            # Nothing to keep: a stale cookie is cleared, no session made.
            return self._clear if session._stale_cookie else None
        if session._destroy or (not session and session._loaded):
            await _answer(store.destroy(sid))
            session.sid = None
            return self._clear
        cookie = None
        if session._regenerate:
            sid = session.sid = await _answer(store.regenerate(sid))
            if sid is None:
                return self._clear
            cookie = self._cookie(sid)
        changed, removed = session.changes()
        if (changed or removed) and not await _answer(store.apply(sid, changed, removed)):
            session.sid = None
            return self._clear
        return cookie

    def _cookie(self, sid):
        return f"{self.cookie_name}={sid}{self._attributes}"


async def _answer(reply):
    """A store method's answer: awaited for an ``AsyncSessionStore``, as
    returned for a ``SessionStore`` (then nothing suspends: ``run_inline``)."""
    if inspect.isawaitable(reply):
        return await reply
    return reply


class ASGISessionMiddleware:
    """ASGI middleware: ``scope["session"]`` for every http request.

    ``ASGISessionMiddleware(app, store, cookie_name="session", secure=False,
    path="/", domain=None)``; with Starlette:
    ``Middleware(ASGISessionMiddleware, store=store, secure=True)``.
    ``store`` is an ``AsyncSessionStore`` (awaited on the loop) or a
    ``SessionStore`` (called directly when embedded, in a worker thread on
    a real Redis); see the module docstring. Default: a new embedded
    ``SessionStore()``.
    """

    def __init__(self, app, store=None, **cookie_options):
        self.app = app
        self.cookies = SessionCookie(store, **cookie_options)

    async def _load(self, cookie_header):
        cookies = self.cookies
        if cookies.asynchronous:
            return await cookies.aload(cookie_header)
        return await call_sync(cookies.embedded, cookies.load, cookie_header)

    async def _save(self, session):
        cookies = self.cookies
        if cookies.asynchronous:
            return await cookies.asave(session)
        return await call_sync(cookies.embedded, cookies.save, session)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = b"; ".join(value for name, value in scope["headers"] if name == b"cookie")
        session = await self._load(header.decode("latin-1"))
        scope["session"] = session

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                set_cookie = await self._save(session)
                if set_cookie is not None:
                    headers = list(message.get("headers", ()))
                    headers.append((b"set-cookie", set_cookie.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class WSGISessionMiddleware:
    """WSGI middleware: ``environ["minikv.session"]`` for every request.

    ``WSGISessionMiddleware(app, store, cookie_name="session", secure=False,
    path="/", domain=None)``, ``store`` a ``SessionStore``. The session is
    saved when the app calls ``start_response`` (not when it reports an
    error with ``exc_info``).
    """

    environ_key = "minikv.session"

    def __init__(self, app, store=None, **cookie_options):
        self.app = app
        self.cookies = SessionCookie(store, **cookie_options)
        if self.cookies.asynchronous:
            raise TypeError("WSGI is synchronous: give WSGISessionMiddleware a SessionStore, "
                            "not an AsyncSessionStore")

    def __call__(self, environ, start_response):
        session = self.cookies.load(environ.get("HTTP_COOKIE", ""))
        environ[self.environ_key] = session

        def start_with_cookie(status, headers, exc_info=None):
            if exc_info is None:
                set_cookie = self.cookies.save(session)
                if set_cookie is not None:
                    headers = [*headers, ("Set-Cookie", set_cookie)]
            return start_response(status, headers, exc_info)

        return self.app(environ, start_with_cookie)
