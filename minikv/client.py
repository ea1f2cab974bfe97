"""``minikv.Redis``: redis-py's client API over an in-process store.

Arguments are encoded exactly as redis-py encodes them, the command runs in
the engine under the store lock, and the raw reply goes through the same
decoding and callbacks redis-py applies on a RESP2 connection — so return
shapes and exception classes match a real ``redis.Redis``. There is no
socket and no RESP encoding on the way.

A client is one connection: a raw ``execute_command("MULTI")`` puts it in
MULTI, where every method answers "QUEUED" until EXEC or DISCARD (its class
switches to a queueing variant meanwhile, see minikv/pipeline.py). For
batches and transactions use ``pipeline()`` and ``transaction()``.
"""
import time
import warnings

from minikv.api.callbacks import RESPONSE_CALLBACKS
from minikv.api.clients import ClientCommands
from minikv.api.hashes import HashCommands
from minikv.api.keys import KeyCommands
from minikv.api.lists import ListCommands
from minikv.api.pubsub import PubSubCommands
from minikv.api.scripting import ScriptingCommands
from minikv.api.server import ServerCommands
from minikv.api.sets import SetCommands
from minikv.api.sort import SortCommands
from minikv.api.sorted_sets import SortedSetCommands
from minikv.api.streams import StreamCommands
from minikv.api.strings import StringCommands
from minikv.backend import FastPaths
from minikv.engine.atomic import AtomicContext, run_atomically
from minikv.engine.blocking import Waiter
from minikv.engine.commands import dispatch
from minikv.engine.errors import ArrayWithErrors, CommandError
from minikv.engine.eviction import configure as configure_memory
from minikv.engine.session import Session
from minikv.engine.store import Store
from minikv.exceptions import DataError, WatchError, error_from_reply

__all__ = ["Redis", "StrictRedis", "EMPTY_RESPONSE", "NEVER_DECODE"]

# execute_command options with the same meaning as in redis-py
EMPTY_RESPONSE = "EMPTY_RESPONSE"
NEVER_DECODE = "NEVER_DECODE"

# Connection settings redis-py accepts; meaningless in-process, accepted so
# that code written for redis.Redis(...) constructs a minikv.Redis unchanged.
_IGNORED_CONNECTION_KWARGS = frozenset("""
    host port password socket_timeout socket_connect_timeout socket_read_size
    socket_keepalive socket_keepalive_options connection_pool unix_socket_path
    retry_on_timeout retry retry_on_error ssl ssl_keyfile ssl_certfile
    ssl_cert_reqs ssl_include_verify_flags ssl_exclude_verify_flags ssl_ca_certs
    ssl_ca_path ssl_ca_data ssl_check_hostname ssl_password ssl_validate_ocsp
    ssl_validate_ocsp_stapled ssl_ocsp_context ssl_ocsp_expected_cert
    ssl_min_version ssl_ciphers max_connections single_connection_client
    health_check_interval client_name lib_name lib_version driver_info username
    redis_connect_func credential_provider protocol legacy_responses cache
    cache_config event_dispatcher maint_notifications_config
    oss_cluster_maint_notifications_handler
""".split())


def make_encoder(encoding, errors):
    """An encode(value) -> bytes with redis-py's rules and DataError messages."""

    def encode(value):
        cls = value.__class__
        if cls is bytes:
            return value
        if cls is str:
            return value.encode(encoding, errors)
        if cls is int or cls is float:
            return repr(value).encode()
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, bool):
            raise DataError("Invalid input of type: 'bool'. Convert to a "
                            "bytes, string, int or float first.")
        if isinstance(value, (int, float)):
            return repr(value).encode()
        if isinstance(value, str):
            return value.encode(encoding, errors)
        raise DataError(f"Invalid input of type: '{type(value).__name__}'. "
                        f"Convert to a bytes, string, int or float first.")

    return encode


def make_decoder(encoding, errors):
    """Decode bulk replies (recursively in arrays) as redis-py's parser does."""

    def decode(reply):
        cls = reply.__class__
        if cls is bytes:
            return reply.decode(encoding, errors)
        if cls is list:
            return [decode(item) for item in reply]
        return reply

    return decode


class Redis(FastPaths, StringCommands, KeyCommands, HashCommands, ListCommands, SetCommands,
            SortedSetCommands, StreamCommands, SortCommands, ServerCommands, ClientCommands,
            PubSubCommands, ScriptingCommands):
    """An embedded Redis with redis-py's API.

    >>> r = Redis()
    >>> r.set("greeting", "hello")
    True
    >>> r.get("greeting")
    b'hello'

    Each instance owns a fresh private store unless ``store=`` names one to
    share (``Redis(store=other.store)``). ``clock=`` injects a clock (see
    ``minikv.ManualClock``) for a new store. ``db`` selects one of 16
    databases. Connection arguments of redis-py are accepted and ignored.

    ``maxmemory=`` (bytes as an int, or a string with a unit as CONFIG SET
    takes it, e.g. ``"10mb"``) and ``maxmemory_policy=`` (e.g.
    ``"allkeys-lru"``) set those parameters of a new store, as
    ``CONFIG SET`` would; an invalid value raises ValueError with Redis's
    message. See engine/eviction.py for what the limit does.
    """

    def __init__(self, host="localhost", port=6379, db=0, password=None, *,
                 encoding="utf-8", encoding_errors="strict", decode_responses=False,
                 store=None, clock=None, maxmemory=None, maxmemory_policy=None,
                 **connection_kwargs):
        unknown = set(connection_kwargs) - _IGNORED_CONNECTION_KWARGS
        if unknown:
            raise TypeError(f"Redis() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        if store is None:
            store = Store(clock=clock)
            self._owns_store = True
            _configure_memory(store, maxmemory, maxmemory_policy)
        else:
            if clock is not None and clock is not store.clock:
                raise ValueError("clock= conflicts with the shared store's clock")
            if maxmemory is not None or maxmemory_policy is not None:
                raise ValueError("maxmemory= and maxmemory_policy= configure a new store; "
                                 "use CONFIG SET on a shared one")
            self._owns_store = False
        self.store = store
        self._lock = store.lock
        try:
            self._session = Session(store, int(db))
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        self._encode = make_encoder(encoding, encoding_errors)
        self._decode_reply = make_decoder(encoding, encoding_errors)
        self._decode = decode_responses
        self._encoding = encoding
        self._encoding_errors = encoding_errors
        self.response_callbacks = dict(RESPONSE_CALLBACKS)
        self._atomic_context = None

    @classmethod
    def from_url(cls, url, **kwargs):
        """Accept a redis:// URL; only its db (path or ?db=) matters in-process."""
        from urllib.parse import parse_qs, urlparse
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        if "db" in query:
            kwargs.setdefault("db", int(query["db"][0]))
        elif parsed.path.strip("/"):
            kwargs.setdefault("db", int(parsed.path.strip("/")))
        if "decode_responses" in query:
            kwargs.setdefault("decode_responses", query["decode_responses"][0].lower()
                              in ("1", "true", "yes", "y", "on"))
        return cls(**kwargs)

    def __repr__(self):
        return f"<minikv.Redis db={self._session.db} store={id(self.store):#x}>"

    # -- lifecycle -------------------------------------------------------
    def close(self):
        """Release the client; a private store stops its background thread."""
        if self._owns_store:
            self.store.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def set_response_callback(self, command, callback):
        self.response_callbacks[command] = callback

    # -- pipelines and transactions ----------------------------------------
    def pipeline(self, transaction=True, shard_hint=None):
        """A ``minikv.pipeline.Pipeline``: queue commands, run them with
        ``execute()``; atomically (MULTI/EXEC) unless ``transaction=False``."""
        from minikv.pipeline import Pipeline  # pipeline.py builds on this module
        return Pipeline(self, transaction, shard_hint)

    def transaction(self, func, *watches, **kwargs):
        """Call ``func(pipe)`` and execute the pipeline, WATCHing ``watches``;
        start over on WatchError. Returns the EXEC replies, or ``func``'s
        value with ``value_from_callable=True``. ``watch_delay`` seconds are
        slept before each retry."""
        shard_hint = kwargs.pop("shard_hint", None)
        value_from_callable = kwargs.pop("value_from_callable", False)
        watch_delay = kwargs.pop("watch_delay", None)
        with self.pipeline(True, shard_hint) as pipe:
            while True:
                try:
                    if watches:
                        pipe.watch(*watches)
                    func_value = func(pipe)
                    exec_value = pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        time.sleep(watch_delay)
                    continue

    def run_atomically(self, fn, *args):
        """``fn(context, *args)`` with no other command running meanwhile,
        as EVAL runs a script, but in Python: ``context.call(*argv)`` runs
        a command and returns its raw reply. What the pattern classes use
        for their one-step operations (see engine/atomic.py). A Redis error
        escaping ``fn`` is raised as redis-py's exception class."""
        context = self._atomic_context
        if context is None:
            context = self._atomic_context = AtomicContext(self.store, self._session.db)
        else:
            context.use_db(self._session.db)
        try:
            return run_atomically(context, fn, args)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def watch(self, *names):
        """As in redis-py, WATCH belongs to pipelines: this only warns."""
        warnings.warn(DeprecationWarning("Call WATCH from a Pipeline object"))

    def unwatch(self):
        """As in redis-py, UNWATCH belongs to pipelines: this only warns."""
        warnings.warn(DeprecationWarning("Call UNWATCH from a Pipeline object"))

    # -- generic command path ---------------------------------------------
    def execute_command(self, *args, **options):
        """Run any command by name, e.g. ``execute_command("SET", "k", "v")``."""
        argv = self._argv(args)
        session = self._session
        try:
            with self._lock:
                reply = dispatch(session, argv)
        except CommandError as exc:
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise error_from_reply(exc.text) from None
        if reply.__class__ is Waiter:  # only on a session that defers its waits
            return self._blocked(argv, reply, args[0], options)
        if session.multi is not None:
            self._follow_multi()
        return self._finish(args[0], reply, options)

    def _blocked(self, argv, waiter, command_name, options):
        """What ``execute_command`` returns for a command that blocked on a
        session that defers its waits (``defer_blocking``, see
        engine/blocking.py): minikv.asyncio's loop-side clients return an
        awaitable there. A plain client's session waits in place, so its
        commands never return a ``Waiter``."""
        raise AssertionError("a plain client's session does not defer blocked calls")

    def _argv(self, args):
        """The command line as bytes, encoded as redis-py encodes it
        ("CONFIG GET" as a name is two words)."""
        command_name = args[0]
        if command_name.__class__ is str and " " in command_name:
            argv = [part.encode() for part in command_name.split()]
            argv += map(self._encode, args[1:])
            return argv
        return list(map(self._encode, args))

    def _follow_multi(self):
        """The session entered MULTI: from now on every method queues."""
        from minikv.pipeline import in_multi_class  # pipeline.py builds on this module
        self.__class__ = in_multi_class(self.__class__)

    def _callback(self, command_name):
        callback = self.response_callbacks.get(command_name)
        if callback is None and isinstance(command_name, str):
            callback = self.response_callbacks.get(command_name.upper())
        return callback

    def _finish(self, command_name, reply, options):
        """Decode and apply the redis-py callback for ``command_name``.

        Error replies inside an array (EXEC's) become exception instances, as
        redis-py's parser makes them.
        """
        if reply.__class__ is ArrayWithErrors:
            reply = _errors_to_exceptions(reply)
        if self._decode and NEVER_DECODE not in options:
            reply = self._decode_reply(reply)
        options.pop(EMPTY_RESPONSE, None)
        options.pop(NEVER_DECODE, None)
        options.pop("keys", None)
        callback = self._callback(command_name)
        if callback is not None:
            return callback(reply, **options)
        return reply


def _configure_memory(store, maxmemory, policy):
    """The constructor's maxmemory settings, applied as CONFIG SET would."""
    settings = []
    if maxmemory is not None:
        settings += [b"maxmemory", maxmemory if isinstance(maxmemory, (str, bytes))
                     else str(maxmemory)]
    if policy is not None:
        settings += [b"maxmemory-policy", policy]
    if settings:
        try:
            store.config.set([item.encode() if isinstance(item, str) else item
                              for item in settings])
        except CommandError as exc:
            raise ValueError(exc.text.split(" ", 1)[1]) from None
        configure_memory(store)


def _errors_to_exceptions(reply):
    converted = []
    for item in reply:
        cls = item.__class__
        if cls is CommandError:
            item = error_from_reply(item.text)
        elif cls is ArrayWithErrors:
            item = _errors_to_exceptions(item)
        converted.append(item)
    return converted


StrictRedis = Redis
