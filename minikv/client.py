"""``minikv.Redis``: redis-py's client API over an in-process store.

Arguments are encoded exactly as redis-py encodes them, the command runs in
the engine under the store lock, and the raw reply goes through the same
decoding and callbacks redis-py applies on a RESP2 connection — so return
shapes and exception classes match a real ``redis.Redis``. There is no
socket and no RESP encoding on the way.
"""
from minikv.api.callbacks import RESPONSE_CALLBACKS
from minikv.api.hashes import HashCommands
from minikv.api.keys import KeyCommands
from minikv.api.server import ServerCommands
from minikv.api.strings import StringCommands
from minikv.engine.commands import dispatch
from minikv.engine.errors import CommandError
from minikv.engine.session import Session
from minikv.engine.store import Store
from minikv.exceptions import DataError, error_from_reply

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


class Redis(StringCommands, KeyCommands, HashCommands, ServerCommands):
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
    """

    def __init__(self, host="localhost", port=6379, db=0, password=None, *,
                 encoding="utf-8", encoding_errors="strict", decode_responses=False,
                 store=None, clock=None, **connection_kwargs):
        unknown = set(connection_kwargs) - _IGNORED_CONNECTION_KWARGS
        if unknown:
            raise TypeError(f"Redis() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        if store is None:
            store = Store(clock=clock)
            self._owns_store = True
        else:
            if clock is not None and clock is not store.clock:
                raise ValueError("clock= conflicts with the shared store's clock")
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

    # -- generic command path ---------------------------------------------
    def execute_command(self, *args, **options):
        """Run any command by name, e.g. ``execute_command("SET", "k", "v")``."""
        command_name = args[0]
        encode = self._encode
        if isinstance(command_name, str) and " " in command_name:
            head = [part.encode() for part in command_name.split()]
        else:
            head = [encode(command_name)]
        argv = head + [encode(arg) for arg in args[1:]]
        try:
            with self._lock:
                reply = dispatch(self._session, argv)
        except CommandError as exc:
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise error_from_reply(exc.text) from None
        return self._finish(command_name, reply, options)

    def _finish(self, command_name, reply, options):
        """Decode and apply the redis-py callback for ``command_name``."""
        if self._decode and NEVER_DECODE not in options:
            reply = self._decode_reply(reply)
        options.pop(EMPTY_RESPONSE, None)
        options.pop(NEVER_DECODE, None)
        options.pop("keys", None)
        callback = self.response_callbacks.get(command_name)
        if callback is None and isinstance(command_name, str):
            callback = self.response_callbacks.get(command_name.upper())
        if callback is not None:
            return callback(reply, **options)
        return reply


StrictRedis = Redis
