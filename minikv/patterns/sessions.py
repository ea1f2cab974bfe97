"""Server-side web sessions: ``SessionStore``, on minikv or a real Redis.

A session is a small dict kept in the store under an unguessable id (256
bits from ``secrets``, URL-safe base64: 43 characters); the browser only
holds the id. Every operation is one atomic step — one Lua script (one
round trip) on a real Redis, one native function under the store lock on
minikv (patterns/_atomic.py) — so concurrent requests never half-see or
half-apply each other's changes.

Data layout (``prefix`` defaults to ``"session:"``)::

    <prefix><sid>          HASH, with the key's TTL = the session's life
        d:<name>           one field per session key, its value as JSON
        m:created          creation time, ms since the epoch (server clock)
        m:user             the user id, when the session is linked to one
    <prefix>user:<uid>     SET of the sids linked to user <uid>

One hash field per session key is what makes ``update`` and
``delete_field`` safe under concurrency: a write touches only its own
fields (HSET/HDEL), so two requests changing different keys of one
session both keep their change — no read-modify-write of the whole dict.
The ``d:``/``m:`` prefixes keep data and metadata apart whatever the
session's key names are. ``m:created`` marks a hash as a session (a key
without it is not one, whoever wrote it) and keeps the hash alive while
the session holds no data. ``user:`` cannot collide with a sid key (a sid
never contains ``:``).

Expiry. The session hash carries the TTL. With ``sliding=True`` every
``get``, write and ``regenerate`` pushes the expiry back to ``ttl``
seconds from now; with ``sliding=False`` it is fixed at creation. With
``absolute_ttl`` no refresh goes past ``m:created + absolute_ttl`` (read
with this store's ``absolute_ttl``), so a session that is used all the
time still ends. Times come from the server (``TIME`` inside the script,
the store's clock on minikv), never from the client.

The per-user set. It lets ``sessions_of``/``destroy_all`` ("log out
everywhere") work without scanning. It holds sids of sessions that may
have expired since: ``sessions_of`` prunes them all, ``create`` (for that
user) checks a random sample of PRUNE_SAMPLE, so its cost stays O(1)
however many sessions the user has, and the set's own TTL is kept at least as long as its
longest-lived session (extended on create and on every refresh), so a
user who never comes back leaves nothing behind. The scripts derive the
set's key from ``m:user``: all of a user's keys must live on one server
(no Redis Cluster).

Ids. A store only acts on ids it issued: an id that is not 43 URL-safe
base64 characters is rejected before the store is touched, and every
write checks that the session exists first, so a forged or expired id is
never brought to life (no session fixation through a chosen id).
``regenerate`` moves a session to a fresh id in one step, the old id dead
at once — call it at login and on every privilege change. It keeps
``m:created``: a new id does not restart the absolute deadline.

Values are JSON (what a session should hold: small, plain data); reading
one never runs code, unlike pickle.

asyncio. ``AsyncSessionStore`` is the same store over an asyncio client
(``minikv.asyncio.Redis``, ``redis.asyncio.Redis``), every method a
coroutine: the same steps, layout and answers, so both kinds of store
share sessions. The two classes are shells over ``_SessionStoreCore`` (the
keys, ARGV and checks of each operation) and this module's decoders: each
method is one step (or PTTL) between them, called or awaited.
"""
import json
import re
import secrets
from collections.abc import Mapping

from minikv.patterns._atomic import LUA_KEEP_ALIVE, LUA_NOW_MS, AtomicStep, keep_alive
from minikv.patterns._io import check_client_kind, new_embedded_client

__all__ = ["AsyncSessionStore", "SessionStore", "encode_value", "valid_sid"]

# secrets.token_urlsafe(32): 32 random bytes, base64url without padding.
_SID_BYTES = 32
_SID_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

_DATA = "d:"
_CREATED = "m:created"
_USER = "m:user"
_USER_INDEX = "user:"


def valid_sid(sid):
    """Whether ``sid`` has the shape of an id this module issues."""
    return sid.__class__ is str and _SID_PATTERN.fullmatch(sid) is not None


# One encoder for every value (json.dumps with options builds one per call).
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode_value(value):
    """A session value as stored: compact JSON text."""
    return _encoder.encode(value)


def _text(raw):
    return raw.decode() if raw.__class__ is bytes else raw


def _decode_hash(flat):
    """A HGETALL-shaped flat reply -> the session dict (metadata dropped).

    The values are parsed as one JSON array — one ``json.loads`` instead
    of one per field, the bulk of a ``get`` on the embedded engine. Each
    value is one JSON text written by ``encode_value``; the length check
    catches a hash edited by hand into something else.
    """
    names = []
    texts = []
    for i in range(0, len(flat), 2):
        field = _text(flat[i])
        if field.startswith(_DATA):
            names.append(field[2:])
            texts.append(_text(flat[i + 1]))
    values = json.loads("[" + ",".join(texts) + "]")
    if len(values) != len(names):
        raise ValueError("a session hash holds a value that is not one JSON text")
    return dict(zip(names, values))


def _field_args(fields):
    """{name: value} -> ["d:name", json, ...] (TypeError before any I/O)."""
    args = []
    for name, value in fields.items():
        if name.__class__ is not str:
            raise TypeError(f"session keys are str, not {type(name).__name__}")
        args.append(_DATA + name)
        args.append(encode_value(value))
    return args


# ---------------------------------------------------------------------------
# The atomic steps. Each Lua script and its native twin take the same KEYS
# and ARGV and return the same reply. Shared ARGV head for the steps that
# refresh a session: ttl ms, absolute ttl ms (0 = none), sliding (1/0), prefix.
# A session exists iff its hash has m:created; the steps that write check
# that first (HMGET m:created m:user), so an unknown id is never created.

# How many of a user's sids ``create`` checks (at random) for dead ones:
# O(1) per create however many sessions the user has; ``sessions_of``
# prunes them all.
PRUNE_SAMPLE = 8

# keep_alive(user set, life): a user's set lives at least as long as each
# of its sessions.
_LUA_HELPERS = LUA_NOW_MS + LUA_KEEP_ALIVE + """
-- ms the session may still live: ttl, capped by its absolute deadline
local function lifetime(created, now)
  local life = tonumber(ARGV[1])
  local absolute = tonumber(ARGV[2])
  if absolute > 0 then
    local left = tonumber(created) + absolute - now
    if left < life then life = left end
  end
  return life
end
-- the sliding refresh of an existing session; false if it is over (deleted)
local function refresh(key, created, user)
  local life = lifetime(created, now_ms())
  if life <= 0 then
    redis.call('DEL', key)
    return false
  end
  redis.call('PEXPIRE', key, life)
  if user then keep_alive(ARGV[4] .. 'user:' .. user, life) end
  return true
end
"""


def _lifetime(context, created, args):
    life = int(args[0])
    absolute = int(args[1])
    if absolute:
        left = int(created) + absolute - context.now_ms
        if left < life:
            life = left
    return life


def _refresh(context, key, created, user, args):
    life = _lifetime(context, created, args)
    if life <= 0:
        context.call("DEL", key)
        return False
    context.call("PEXPIRE", key, life)
    if user is not None:
        keep_alive(context.call, args[3] + _USER_INDEX + _text(user), life)
    return True


# CREATE: KEYS = session [, user set]; ARGV = head, sid, user id, sample
# size, field/value pairs. Returns 1.
_CREATE_LUA = _LUA_HELPERS + """
local key = KEYS[1]
local now = now_ms()
local life = lifetime(now, now)
local fields = {'m:created', now}
if KEYS[2] then
  fields[3] = 'm:user'
  fields[4] = ARGV[6]
end
for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIRE', key, life)
if KEYS[2] then
  local index = KEYS[2]
  for _, other in ipairs(redis.call('SRANDMEMBER', index, ARGV[7])) do
    if redis.call('EXISTS', ARGV[4] .. other) == 0 then redis.call('SREM', index, other) end
  end
  redis.call('SADD', index, ARGV[5])
  keep_alive(index, life)
end
return 1
"""


def _create_native(context, keys, args):
    key = keys[0]
    now = context.now_ms
    life = _lifetime(context, now, args)
    fields = [_CREATED, now]
    if len(keys) > 1:
        fields += [_USER, args[5]]
    fields += args[7:]
    context.call("HSET", key, *fields)
    context.call("PEXPIRE", key, life)
    if len(keys) > 1:
        index = keys[1]
        prefix = args[3]
        for other in context.call("SRANDMEMBER", index, args[6]):
            if not context.call("EXISTS", prefix + _text(other)):
                context.call("SREM", index, other)
        context.call("SADD", index, args[4])
        keep_alive(context.call, index, life)
    return 1


# GET: KEYS = session; ARGV = head. The hash as HGETALL gives it, or nil.
_GET_LUA = _LUA_HELPERS + """
local all = redis.call('HGETALL', KEYS[1])
local created, user
for i = 1, #all, 2 do
  if all[i] == 'm:created' then created = all[i + 1]
  elseif all[i] == 'm:user' then user = all[i + 1] end
end
if not created then return false end
if ARGV[3] == '1' and not refresh(KEYS[1], created, user) then return false end
return all
"""


def _get_native(context, keys, args):
    flat = context.call("HGETALL", keys[0])
    meta = dict(zip(flat[::2], flat[1::2]))
    created = meta.get(b"m:created")
    if created is None:
        return None
    if args[2] == "1" and not _refresh(context, keys[0], created, meta.get(b"m:user"), args):
        return None
    return flat


# APPLY: KEYS = session; ARGV = head, n, n field/value pairs, names to delete.
# -1 if the session does not exist (nothing written), else fields deleted.
_APPLY_LUA = _LUA_HELPERS + """
local key = KEYS[1]
local meta = redis.call('HMGET', key, 'm:created', 'm:user')
if not meta[1] then return -1 end
if ARGV[3] == '1' and not refresh(key, meta[1], meta[2]) then return -1 end
local pairs_end = 5 + 2 * tonumber(ARGV[5])
if pairs_end > 5 then redis.call('HSET', key, unpack(ARGV, 6, pairs_end)) end
if #ARGV > pairs_end then return redis.call('HDEL', key, unpack(ARGV, pairs_end + 1)) end
return 0
"""


def _apply_native(context, keys, args):
    key = keys[0]
    created, user = context.call("HMGET", key, _CREATED, _USER)
    if created is None:
        return -1
    if args[2] == "1" and not _refresh(context, key, created, user, args):
        return -1
    pairs_end = 5 + 2 * int(args[4])
    if pairs_end > 5:
        context.call("HSET", key, *args[5:pairs_end])
    if len(args) > pairs_end:
        return context.call("HDEL", key, *args[pairs_end:])
    return 0


# REPLACE: KEYS = session; ARGV = head, field/value pairs. 1, or 0 if unknown.
_REPLACE_LUA = _LUA_HELPERS + """
local key = KEYS[1]
local meta = redis.call('HMGET', key, 'm:created', 'm:user')
if not meta[1] then return 0 end
if ARGV[3] == '1' and not refresh(key, meta[1], meta[2]) then return 0 end
local stale = {}
for _, field in ipairs(redis.call('HKEYS', key)) do
  if string.sub(field, 1, 2) == 'd:' then stale[#stale + 1] = field end
end
if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
if #ARGV > 4 then redis.call('HSET', key, unpack(ARGV, 5)) end
return 1
"""


def _replace_native(context, keys, args):
    key = keys[0]
    created, user = context.call("HMGET", key, _CREATED, _USER)
    if created is None:
        return 0
    if args[2] == "1" and not _refresh(context, key, created, user, args):
        return 0
    stale = [field for field in context.call("HKEYS", key) if field.startswith(b"d:")]
    if stale:
        context.call("HDEL", key, *stale)
    if len(args) > 4:
        context.call("HSET", key, *args[4:])
    return 1


# DESTROY: KEYS = session; ARGV = prefix, sid. Sessions deleted (0 or 1).
_DESTROY_LUA = """
local user = redis.call('HGET', KEYS[1], 'm:user')
local deleted = redis.call('DEL', KEYS[1])
if user then redis.call('SREM', ARGV[1] .. 'user:' .. user, ARGV[2]) end
return deleted
"""


def _destroy_native(context, keys, args):
    user = context.call("HGET", keys[0], _USER)
    deleted = context.call("DEL", keys[0])
    if user is not None:
        context.call("SREM", args[0] + _USER_INDEX + _text(user), args[1])
    return deleted


# REGENERATE: KEYS = old, new; ARGV = head, old sid, new sid. 1, or 0 if
# unknown. RENAME carries the data, the TTL and m:created over.
_REGENERATE_LUA = _LUA_HELPERS + """
local meta = redis.call('HMGET', KEYS[1], 'm:created', 'm:user')
if not meta[1] then return 0 end
if ARGV[3] == '1' and not refresh(KEYS[1], meta[1], meta[2]) then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
if meta[2] then
  local index = ARGV[4] .. 'user:' .. meta[2]
  redis.call('SREM', index, ARGV[5])
  redis.call('SADD', index, ARGV[6])
end
return 1
"""


def _regenerate_native(context, keys, args):
    old, new = keys
    created, user = context.call("HMGET", old, _CREATED, _USER)
    if created is None:
        return 0
    if args[2] == "1" and not _refresh(context, old, created, user, args):
        return 0
    context.call("RENAME", old, new)
    if user is not None:
        index = args[3] + _USER_INDEX + _text(user)
        context.call("SREM", index, args[4])
        context.call("SADD", index, args[5])
    return 1


# SESSIONS_OF: KEYS = user set; ARGV = prefix. The live sids; dead ones pruned.
_SESSIONS_OF_LUA = """
local live = {}
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. sid) == 1 then
    live[#live + 1] = sid
  else
    redis.call('SREM', KEYS[1], sid)
  end
end
return live
"""


def _sessions_of_native(context, keys, args):
    index = keys[0]
    live = []
    for sid in context.call("SMEMBERS", index):
        if context.call("EXISTS", args[0] + _text(sid)):
            live.append(sid)
        else:
            context.call("SREM", index, sid)
    return live


# DESTROY_ALL: KEYS = user set; ARGV = prefix. Sessions deleted.
_DESTROY_ALL_LUA = """
local deleted = 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  deleted = deleted + redis.call('DEL', ARGV[1] .. sid)
end
redis.call('DEL', KEYS[1])
return deleted
"""


def _destroy_all_native(context, keys, args):
    deleted = 0
    for sid in context.call("SMEMBERS", keys[0]):
        deleted += context.call("DEL", args[0] + _text(sid))
    context.call("DEL", keys[0])
    return deleted


_CREATE = AtomicStep(_CREATE_LUA, _create_native)
_GET = AtomicStep(_GET_LUA, _get_native)
_APPLY = AtomicStep(_APPLY_LUA, _apply_native)
_REPLACE = AtomicStep(_REPLACE_LUA, _replace_native)
_DESTROY = AtomicStep(_DESTROY_LUA, _destroy_native)
_REGENERATE = AtomicStep(_REGENERATE_LUA, _regenerate_native)
_SESSIONS_OF = AtomicStep(_SESSIONS_OF_LUA, _sessions_of_native)
_DESTROY_ALL = AtomicStep(_DESTROY_ALL_LUA, _destroy_all_native)


def _milliseconds(seconds, what):
    if seconds.__class__ is bool or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} is a number of seconds, not {type(seconds).__name__}")
    ms = int(seconds * 1000)
    if ms < 1:
        raise ValueError(f"{what} must be at least 0.001 seconds, got {seconds!r}")
    return ms


class _SessionStoreCore:
    """What ``SessionStore`` and ``AsyncSessionStore`` share: the options,
    the keys, and each operation's request (keys, ARGV, checks made before
    any I/O) and reply decoding. Each class's method is the shell between
    them: one step (or one PTTL), plain in ``SessionStore``, awaited in
    ``AsyncSessionStore``; an id that cannot be one of ours is answered
    without touching the store."""

    def __init__(self, client=None, *, prefix="session:", ttl=1800, sliding=True,
                 absolute_ttl=None):
        if client is None:
            client = new_embedded_client(self._async_client)
        else:
            check_client_kind(client, self._async_client, type(self).__name__,
                              "SessionStore" if self._async_client else "AsyncSessionStore")
        if prefix.__class__ is not str:
            raise TypeError(f"prefix is a str, not {type(prefix).__name__}")
        self.client = client
        self.prefix = prefix
        self.session_ttl = ttl  # (``ttl`` is the method)
        self.sliding = bool(sliding)
        self.absolute_ttl = absolute_ttl
        ttl_ms = _milliseconds(ttl, "ttl")
        absolute_ms = 0 if absolute_ttl is None else _milliseconds(absolute_ttl, "absolute_ttl")
        # The ARGV head every refreshing step starts with (see the scripts).
        self._head = [str(ttl_ms), str(absolute_ms), "1" if self.sliding else "0", prefix]

    def __repr__(self):
        return (f"{type(self).__name__}(prefix={self.prefix!r}, ttl={self.session_ttl!r}, "
                f"sliding={self.sliding!r}, absolute_ttl={self.absolute_ttl!r})")

    def _key(self, sid):
        return self.prefix + sid

    def _keys(self, sid):
        return [self.prefix + sid]

    def _index(self, user_id):
        return [self.prefix + _USER_INDEX + str(user_id)]

    def _create_request(self, data, user_id):
        """(new sid, KEYS, ARGV) of a CREATE."""
        if data is None:
            data = {}
        elif not isinstance(data, Mapping):
            raise TypeError(f"session data is a mapping, not {type(data).__name__}")
        fields = _field_args(data)
        sid = secrets.token_urlsafe(_SID_BYTES)
        keys = [self._key(sid)]
        if user_id is not None:
            keys += self._index(user_id)
        args = [*self._head, sid, "" if user_id is None else str(user_id), str(PRUNE_SAMPLE),
                *fields]
        return sid, keys, args

    def _apply_args(self, fields, removed):
        pairs = _field_args(fields)
        names = [_DATA + name for name in removed]
        return [*self._head, str(len(pairs) // 2), *pairs, *names]

    def _replace_args(self, data):
        return [*self._head, *_field_args(data)]

    def _regenerate_request(self, sid):
        """(new sid, KEYS, ARGV) of a REGENERATE."""
        new_sid = secrets.token_urlsafe(_SID_BYTES)
        return new_sid, [self._key(sid), self._key(new_sid)], [*self._head, sid, new_sid]


class SessionStore(_SessionStoreCore):
    """Server-side sessions with unguessable ids, sliding or fixed expiry.

    ``client`` is a ``minikv.Redis`` or a ``redis.Redis`` (default: a new
    embedded ``minikv.Redis()``). ``ttl`` and ``absolute_ttl`` are seconds
    (floats allowed, millisecond precision). Every method is one atomic
    step: one round trip on a real Redis.

    >>> store = SessionStore(ttl=1800, absolute_ttl=8 * 3600)
    >>> sid = store.create({"cart": []}, user_id=42)
    >>> len(sid)
    43
    >>> store.update(sid, theme="dark", lang="en")
    True
    >>> store.get(sid)
    {'cart': [], 'theme': 'dark', 'lang': 'en'}
    >>> store.delete_field(sid, "lang")
    True
    >>> new_sid = store.regenerate(sid)       # at login: a fresh id
    >>> store.get(sid) is None                # the old one is dead
    True
    >>> store.get(new_sid)
    {'cart': [], 'theme': 'dark'}
    >>> store.sessions_of(42) == {new_sid}
    True
    >>> store.update("forged-or-unknown", theme="x")   # never adopted
    False
    >>> store.destroy_all(42)
    1
    >>> store.get(new_sid) is None
    True
    """

    _async_client = False

    def create(self, data=None, user_id=None):
        """A new session holding ``data``, linked to ``user_id`` if given;
        its id (43 URL-safe characters, 256 random bits)."""
        sid, keys, args = self._create_request(data, user_id)
        _CREATE(self.client, keys, args)
        return sid

    def get(self, sid):
        """The session's data as a dict, or None (unknown, expired or
        malformed id). With ``sliding`` this also renews its lifetime."""
        if not valid_sid(sid):
            return None
        return _session_data(_GET(self.client, self._keys(sid), self._head))

    def apply(self, sid, fields=None, removed=()):
        """Set ``fields`` ({name: value}) and delete the names in
        ``removed``, in one atomic step touching only those fields. False
        (and nothing written) if the session does not exist."""
        return self._apply(sid, fields or {}, removed) >= 0

    def _apply(self, sid, fields, removed):
        """APPLY's reply: -1 if no such session, else the fields deleted."""
        if not valid_sid(sid):
            return -1
        return _APPLY(self.client, self._keys(sid), self._apply_args(fields, removed))

    def update(self, sid, /, **fields):
        """Set these fields (others untouched); False if no such session."""
        return self._apply(sid, fields, ()) >= 0

    def delete_field(self, sid, name):
        """Remove one field; True if it was there (False also for no session)."""
        return self._apply(sid, {}, (name,)) > 0

    def replace(self, sid, data):
        """Make ``data`` the session's whole content; False if no such session."""
        _check_mapping(data)
        if not valid_sid(sid):
            return False
        return _REPLACE(self.client, self._keys(sid), self._replace_args(data)) == 1

    def destroy(self, sid):
        """End the session; True if it existed."""
        if not valid_sid(sid):
            return False
        return _DESTROY(self.client, self._keys(sid), [self.prefix, sid]) == 1

    def regenerate(self, sid):
        """Move the session (data, user link, deadline) to a fresh id and
        kill the old one, atomically; the new id, or None if no session."""
        if not valid_sid(sid):
            return None
        new_sid, keys, args = self._regenerate_request(sid)
        return new_sid if _REGENERATE(self.client, keys, args) == 1 else None

    def sessions_of(self, user_id):
        """The ids of the user's live sessions (a set); O(sessions of the
        user), pruning the dead ones from the index."""
        return _sid_set(_SESSIONS_OF(self.client, self._index(user_id), [self.prefix]))

    def destroy_all(self, user_id):
        """End every session of the user ("log out everywhere"); how many
        were live."""
        return _DESTROY_ALL(self.client, self._index(user_id), [self.prefix])

    def ttl(self, sid):
        """Seconds the session has left (float, ms precision), or None."""
        if not valid_sid(sid):
            return None
        return _seconds_left(self.client.pttl(self._key(sid)))


class AsyncSessionStore(_SessionStoreCore):
    """``SessionStore`` for asyncio: the same constructor, data layout,
    steps and answers, every method a coroutine.

    ``client`` is a ``minikv.asyncio.Redis`` or a ``redis.asyncio.Redis``
    (default: a new embedded ``minikv.asyncio.Redis()``). A
    ``SessionStore`` and an ``AsyncSessionStore`` with one prefix on one
    store or server see the same sessions.

    >>> import asyncio
    >>> async def main():
    ...     store = AsyncSessionStore(ttl=1800)
    ...     sid = await store.create({"cart": []}, user_id=42)
    ...     await store.update(sid, theme="dark")
    ...     new_sid = await store.regenerate(sid)
    ...     return await store.get(sid), await store.get(new_sid), await store.destroy_all(42)
    >>> asyncio.run(main())
    (None, {'cart': [], 'theme': 'dark'}, 1)
    """

    _async_client = True

    async def create(self, data=None, user_id=None):
        """As ``SessionStore.create``."""
        sid, keys, args = self._create_request(data, user_id)
        await _CREATE.run_async(self.client, keys, args)
        return sid

    async def get(self, sid):
        """As ``SessionStore.get``."""
        if not valid_sid(sid):
            return None
        return _session_data(await _GET.run_async(self.client, self._keys(sid), self._head))

    async def apply(self, sid, fields=None, removed=()):
        """As ``SessionStore.apply``."""
        return await self._apply(sid, fields or {}, removed) >= 0

    async def _apply(self, sid, fields, removed):
        if not valid_sid(sid):
            return -1
        return await _APPLY.run_async(self.client, self._keys(sid),
                                      self._apply_args(fields, removed))

    async def update(self, sid, /, **fields):
        """As ``SessionStore.update``."""
        return await self._apply(sid, fields, ()) >= 0

    async def delete_field(self, sid, name):
        """As ``SessionStore.delete_field``."""
        return await self._apply(sid, {}, (name,)) > 0

    async def replace(self, sid, data):
        """As ``SessionStore.replace``."""
        _check_mapping(data)
        if not valid_sid(sid):
            return False
        return await _REPLACE.run_async(self.client, self._keys(sid),
                                        self._replace_args(data)) == 1

    async def destroy(self, sid):
        """As ``SessionStore.destroy``."""
        if not valid_sid(sid):
            return False
        return await _DESTROY.run_async(self.client, self._keys(sid), [self.prefix, sid]) == 1

    async def regenerate(self, sid):
        """As ``SessionStore.regenerate``."""
        if not valid_sid(sid):
            return None
        new_sid, keys, args = self._regenerate_request(sid)
        return new_sid if await _REGENERATE.run_async(self.client, keys, args) == 1 else None

    async def sessions_of(self, user_id):
        """As ``SessionStore.sessions_of``."""
        return _sid_set(await _SESSIONS_OF.run_async(self.client, self._index(user_id),
                                                     [self.prefix]))

    async def destroy_all(self, user_id):
        """As ``SessionStore.destroy_all``."""
        return await _DESTROY_ALL.run_async(self.client, self._index(user_id), [self.prefix])

    async def ttl(self, sid):
        """As ``SessionStore.ttl``."""
        if not valid_sid(sid):
            return None
        return _seconds_left(await self.client.pttl(self._key(sid)))


# -- replies and checks ----------------------------------------------------------------
def _session_data(flat):
    """GET's reply: the session dict, or None."""
    return _decode_hash(flat) if flat else None


def _sid_set(live):
    return {_text(sid) for sid in live}


def _seconds_left(ms):
    return None if ms < 0 else ms / 1000


def _check_mapping(data):
    if not isinstance(data, Mapping):
        raise TypeError(f"session data is a mapping, not {type(data).__name__}")
