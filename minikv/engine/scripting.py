"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis 7.0's
eval.c, script.c and script_lua.c).

Lua comes from the optional ``lupa`` package (``pip install minikv[lua]``),
whose Lua 5.1 runtime is the Lua version Redis embeds. It is imported on the
first scripting command; without it every command here answers
``LUA_NOT_INSTALLED``, an error naming the extra.

The pieces:

- ``Scripts`` (``store.scripts``, created on first use): one Lua state per
  store, set up by engine/scripting_lua.py to look like Redis's, and the
  script cache (sha1 hex -> compiled function and shebang flags). SCRIPT
  FLUSH replaces both, as Redis's scriptingReset does. math.random's rand48
  state belongs to the store and survives a flush, as the server's does.
- A run. EVAL is an ordinary command, so it runs with the store lock held
  from the first instruction of the script to its reply: scripts are atomic
  and no other thread's command interleaves. Inside, redis.call runs
  command handlers directly on a session of its own (Redis's Lua client):
  it starts on the caller's db, so SELECT in a script selects for the rest
  of the script only (7.0); blocking commands answer at once
  (``deny_blocking``); the keyspaces read one frozen time for expiry
  (Redis's script time snapshot). Clients blocked on keys the script filled
  are served once, after the script, by ``commands.dispatch``.
- What redis.call refuses, in Redis's order and words: unknown commands and
  wrong arity (the script-specific texts), commands flagged ``noscript``
  (MULTI, EXEC, WATCH, SUBSCRIBE, BLPOP, EVAL, SCRIPT, CONFIG...), and in a
  read-only run (EVAL_RO, EVALSHA_RO, ``#!lua flags=no-writes``) the
  commands flagged ``write`` and PUBLISH/SPUBLISH/PFCOUNT (may-replicate).
  7.0 replicates effects, so the old "random command then write" rule is gone.
- Conversions, as Redis does them. To Lua: integer -> number, bulk ->
  string, nil -> false, array -> table, status -> {ok=...}, error ->
  {err=...} (raised by redis.call, returned by redis.pcall). The engine
  answers status and bulk strings alike as bytes, so ``STATUS_REPLIES``
  names the commands whose reply is a status. From Lua: string -> bulk,
  number -> integer (C's truncating cast; NaN and out-of-range give
  INT64_MIN), true -> 1, false/nil -> nil, tables in luaReplyToRedisReply's
  order: err, ok, double, big_number, verbatim_string, map, set, else an
  array up to the first nil. An error inside an array becomes an error item
  (``ArrayWithErrors``), as redis-py reads it.
- Errors out of a script read as Redis 7.0 words them: "<error> script:
  <sha>, on @user_script:<line>." (see scripting_lua.py for how the source
  and line are found).
- SCRIPT KILL. Like Redis, a count hook (every 100,000 Lua instructions)
  asks whether the script was killed; ``kill_running_script`` (called
  without the store lock, from another thread) marks it, unless it already
  wrote (UNKILLABLE). A killed script fails on every following line, so
  pcall cannot keep it alive, and its first write, if the kill came just
  before it, fails too: after an OK from SCRIPT KILL nothing is written.
  Nothing stops a script by itself: like Redis, a script that never ends
  runs until SCRIPT KILL; meanwhile other threads' commands wait for the
  store lock (Redis answers them BUSY instead).

Not supported, each with a clear error: RESP3 inside scripts
(redis.setresp(3)), the Lua debugger (SCRIPT DEBUG YES/SYNC), and the
cmsgpack and struct libraries (absent globals). Known small differences:
a negative zero passed to a library function implemented in Python
(redis.call, cjson, bit) arrives as 0, because lupa turns integral numbers
into Python ints; tostring() of those functions shows a Python repr; the
caveats of the Lua-side emulation are listed in scripting_lua.py.

maxmemory (engine/eviction.py), as Redis 7.0: a script with a shebang and
neither no-writes nor allow-oom is refused with the OOM error when the store
is out of memory as it starts; in any other script a denyoom redis.call is
refused with the OOM error if the store was out of memory when the script
started and the script has not written yet (never for allow-oom).
"""
import hashlib
import logging
import math
import struct
import threading

from minikv.engine.commands import COMMANDS, command
from minikv.engine.errors import (
    LUA_NOT_INSTALLED, NOSCRIPT, NOT_INTEGER, NUMKEYS_NEGATIVE, NUMKEYS_TOO_MANY, OOM,
    SCRIPT_DEBUG_MODE, SCRIPT_FLUSH_MODE, SCRIPT_NOT_BUSY, SCRIPT_UNKILLABLE,
    SCRIPT_WRITE_FLAG_RO, ArrayWithErrors, CommandError,
)
from minikv.engine.eviction import script_write_refused
from minikv.engine.numbers import INT64_MIN, parse_int
from minikv.engine.scripting_lua import CHUNK_NAME, ENVIRONMENT
from minikv.engine.server import REDIS_VERSION
from minikv.engine.session import Session
from minikv.engine.transactions import frozen_expiry_clock

__all__ = ["Scripts", "STATUS_REPLIES", "kill_running_script", "script_sha"]

log = logging.getLogger("minikv.lua")

OK = b"OK"

# Redis 7.0's commands flagged noscript (COMMAND INFO). The table's own
# "noscript" flags are checked too; this list keeps the rule right for
# commands registered without it.
NOSCRIPT_COMMANDS = frozenset("""
    auth bgrewriteaof bgsave blmove blpop brpop brpoplpush bzpopmax bzpopmin debug discard
    eval eval_ro evalsha evalsha_ro exec failover fcall fcall_ro hello monitor multi psubscribe
    psync punsubscribe quit replconf replicaof reset role save shutdown slaveof ssubscribe
    subscribe sunsubscribe sync unsubscribe unwatch wait watch
    acl|cat acl|deluser acl|dryrun acl|genpass acl|getuser acl|list acl|load acl|log acl|save
    acl|setuser acl|users acl|whoami client|caching client|getname client|getredir client|id
    client|info client|kill client|list client|no-evict client|pause client|reply
    client|setname client|tracking client|trackinginfo client|unblock client|unpause
    cluster|reset config|get config|resetstat config|rewrite config|set function|delete
    function|dump function|flush function|kill function|list function|load function|restore
    function|stats latency|doctor latency|graph latency|histogram latency|history
    latency|latest latency|reset module|list module|load module|loadex module|unload
    script|debug script|exists script|flush script|kill script|load
""".split())

# Not "write" but refused in read-only scripts (Redis's CMD_MAY_REPLICATE).
MAY_REPLICATE_COMMANDS = frozenset(("publish", "spublish", "pfcount"))


def _set_without_get(args):
    return not any(arg.lower() == b"get" for arg in args[2:])


def _always(args):
    return True


# Commands whose bytes reply is a status ("+OK"), not a bulk string: a
# script sees it as {ok=...}. Keyed by the table's command name; the value
# tells from the arguments (name included) whether this call's reply is one.
# Every "<container> HELP" reply is an array of status lines (``_is_status``).
STATUS_REPLIES = {
    "set": _set_without_get,
    "ping": lambda args: len(args) == 1,
    **{name: _always for name in (
        "mset setex psetex rename hmset lset ltrim flushdb flushall select swapdb type "
        "restore pfmerge migrate readonly readwrite asking xsetid xgroup|create "
        "xgroup|setid slowlog|reset memory|purge").split()},
}

# Redis 7.0's commands with subcommands, each with a HELP: a handler may
# parse its subcommands itself rather than register them.
CONTAINER_COMMANDS = frozenset("""
    acl client cluster command config function latency memory module object pubsub script
    slowlog xgroup xinfo
""".split())

SCRIPT_FLAGS = frozenset((b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster",
                          b"allow-cross-slot-keys"))

REDIS_VERSION_NUM = sum(int(part) << shift
                        for part, shift in zip(REDIS_VERSION.split("."), (16, 8, 0)))

_OUTSIDE_SCRIPT = "redis.call/pcall can only be called inside a script invocation"

_LOG_LEVELS = (logging.DEBUG, logging.DEBUG, logging.INFO, logging.WARNING)

_UNPACK_CHUNK = 4000  # Lua's C stack takes ~8000 values; unpack arrays in parts
_INT64_LIMIT = 9223372036854775808.0


def _lupa():
    try:
        import lupa.lua51 as lua51
    except ImportError:
        raise CommandError(LUA_NOT_INSTALLED) from None
    return lua51


def script_sha(body):
    """The script's name in the cache: sha1 hex of its bytes, lowercase."""
    return hashlib.sha1(body).hexdigest().encode()


def _one_line(text):
    """Redis sends error and status replies on one line."""
    return text.replace("\r", " ").replace("\n", " ")


def _text(data):
    return data.decode("utf-8", "replace")


class Rand48:
    """Redis's rand48 (rand.c), the generator behind math.random.

    The 48-bit state starts as drand48's default; ``seed`` is srand48.
    ``random()`` is redis_math_random's r: lrand48() % (2**31 - 1) scaled
    into [0, 1).
    """

    __slots__ = ("state",)

    MAX = 0x7FFFFFFF

    def __init__(self):
        self.state = 0x1234ABCD330E

    def seed(self, value):
        self.state = ((value & 0xFFFFFFFF) << 16) | 0x330E

    def random(self):
        self.state = (0x5DEECE66D * self.state + 0xB) & 0xFFFFFFFFFFFF
        return ((self.state >> 17) % self.MAX) / self.MAX


def _tobit(number):
    """LuaBitOp's normalisation: the low 32 bits of number + 2**52 + 2**51,
    read as a signed integer (rounds half to even, wraps modulo 2**32)."""
    biased = struct.unpack("<q", struct.pack("<d", float(number) + 6755399441055744.0))[0]
    return _signed(biased)


def _signed(bits):
    bits &= 0xFFFFFFFF
    return bits - 0x100000000 if bits & 0x80000000 else bits


def _c_int(number):
    """luaL_checkint: C's (int) of the (long long) of a double."""
    return _signed(_truncate(float(number)))


def _number_text(number, digits):
    """C's "%.<digits>g" of a Lua number, as Redis formats one ("-nan" for
    the NaN 0/0 gives on x86-64)."""
    number = float(number)
    if number != number:
        return b"-nan" if math.copysign(1.0, number) < 0 else b"nan"
    return b"%.*g" % (digits, number)


def _bit(operation, numbers):
    """bit.* (LuaBitOp 1.0.2) on already checked numbers."""
    x = _tobit(numbers[0])
    if operation == "tobit":
        return x
    if operation == "bnot":
        return _signed(~x)
    if operation == "bswap":
        return _signed(int.from_bytes((x & 0xFFFFFFFF).to_bytes(4, "little"), "big"))
    if operation in ("band", "bor", "bxor"):
        for number in numbers[1:]:
            y = _tobit(number)
            x = x & y if operation == "band" else x | y if operation == "bor" else x ^ y
        return _signed(x)
    if operation == "tohex":
        width = _tobit(numbers[1]) if len(numbers) > 1 else 8
        digits = "0123456789abcdef"
        if width < 0:
            width = -width
            digits = digits.upper()
        u = x & 0xFFFFFFFF
        out = []
        for _ in range(min(width, 8)):
            out.append(digits[u & 15])
            u >>= 4
        return "".join(reversed(out)).encode()
    shift = _tobit(numbers[1]) & 31
    u = x & 0xFFFFFFFF
    if operation == "lshift":
        return _signed(u << shift)
    if operation == "rshift":
        return _signed(u >> shift)
    if operation == "arshift":
        return _signed(x >> shift)
    if operation == "rol":
        return _signed((u << shift) | (u >> (32 - shift)))
    return _signed((u >> shift) | (u << (32 - shift)))  # ror


# The arguments each bit function reads: (required, at most).
_BIT_ARGUMENTS = {"tobit": (1, 1), "bnot": (1, 1), "bswap": (1, 1), "band": (1, math.inf),
                  "bor": (1, math.inf), "bxor": (1, math.inf), "lshift": (2, 2),
                  "rshift": (2, 2), "arshift": (2, 2), "rol": (2, 2), "ror": (2, 2),
                  "tohex": (1, 2)}


class _Denied(AttributeError):
    """What indexing one of our Python callables from Lua raises."""


_DENIED = b"Python objects are not accessible from scripts"


def _deny_attributes(obj, name, is_setting):
    """lupa's attribute filter: scripts never reach into Python objects (in
    Redis, indexing these C functions is a Lua error too)."""
    raise _Denied(_DENIED.decode())


def _resolve(argv):
    """Redis's lookupCommand for a script: the Command, or None when unknown
    (a container's unknown subcommand included). Arity is checked apart."""
    cmd = COMMANDS.get(argv[0].lower())
    if cmd is None or cmd.subcommands is None or len(argv) == 1:
        return cmd
    return cmd.subcommands.get(argv[1].lower())


def _arity_ok(cmd, argc):
    arity = cmd.arity
    return not ((arity > 0 and argc != arity) or argc < -arity)


def _noscript(cmd):
    return "noscript" in cmd.flags or cmd.name in NOSCRIPT_COMMANDS


def _is_status(cmd, argv):
    """Whether this call's bytes replies are status replies: the commands in
    STATUS_REPLIES, and every "<container> HELP" (whether the container is
    registered with subcommands or parses them itself)."""
    check = STATUS_REPLIES.get(cmd.name)
    if check is not None:
        return check(argv)
    if cmd.name.endswith("|help"):
        return True
    return cmd.name in CONTAINER_COMMANDS and argv[1].lower() == b"help"


def _error_fields(buffer, from_command):
    """luaPushErrorBuff: "-CODE message" or "message" (code ERR) as the
    fields of an error table. Errors met running a command are marked not
    to be counted twice in the error stats, as Redis marks them."""
    if buffer[:1] == b"-":
        code, space, message = buffer[1:].partition(b" ")
        if not space:
            code, message = b"ERR", buffer[1:]
    else:
        code, message = b"ERR", buffer
    fields = {b"err": code + b" " + message.strip(b"\r\n")}
    if from_command:
        fields[b"ignore_error_stats_update"] = True
    return fields


def _arguments_error(argv):
    """luaArgsToRedisArgv: strings pass, numbers become C's "%.17g" (in
    place), anything else (or no argument at all) is an error."""
    if not argv:
        return _NO_ARGUMENTS_FIELDS
    for i, arg in enumerate(argv):
        cls = arg.__class__
        if cls is bytes:
            continue
        if cls is int or cls is float:
            argv[i] = _number_text(arg, 17)
            continue
        return _BAD_ARGUMENT_FIELDS
    return None


# The error tables of the refusals above (tables are built from them, never
# changed).
_NO_ARGUMENTS_FIELDS = _error_fields(
    b"Please specify at least one argument for this redis lib call", False)
_BAD_ARGUMENT_FIELDS = _error_fields(
    b"Lua redis lib command arguments must be strings or integers", False)
_UNKNOWN_FIELDS = _error_fields(b"Unknown Redis command called from script", True)
_ARITY_FIELDS = _error_fields(b"Wrong number of args calling Redis command from script", True)
_NOT_ALLOWED_FIELDS = _error_fields(b"This Redis command is not allowed from script", True)
_WRITE_IN_READ_ONLY_FIELDS = _error_fields(
    b"Write commands are not allowed from read-only scripts.", True)
_OOM_FIELDS = _error_fields(b"-" + OOM.encode(), True)
_ACL_UNKNOWN_FIELDS = _error_fields(b"Invalid command passed to redis.acl_check_cmd()", False)
_KILLED_FIELDS = _error_fields(b"Script killed by user with SCRIPT KILL...", False)


class _Raise(Exception):
    """A Lua error thrown by one of our Python callables. Lua carries it as
    a Python object; ``py.unwrap`` turns it back into ``payload``: the
    message (bytes) or the fields of an error table (dict). It holds no Lua
    object, so nothing it keeps alive leads back to the Lua state."""

    def __init__(self, payload):
        Exception.__init__(self, payload)
        self.payload = payload


class Script:
    """A cached script: its body, shebang flags (None without a shebang:
    Redis's compatibility mode) and compiled Lua function."""

    __slots__ = ("body", "flags", "function")

    def __init__(self, body, flags, function):
        self.body = body
        self.flags = flags
        self.function = function


class _Run:
    """One script execution: what the Python callables need while it lasts.

    It references the Lua state's helpers only for the run's duration, so
    that between runs nothing reachable from inside Lua leads back to the
    Lua state or the store (such a cycle, through Lua, could never be
    collected).
    """

    __slots__ = ("session", "read_only", "allow_oom", "dirty", "killed", "kill_lock",
                 "table_from", "lua_type", "position", "tonumber", "cjson", "leaf", "error_info")

    def __init__(self, session, read_only, scripts, allow_oom=False):
        self.session = session
        self.read_only = read_only
        self.allow_oom = allow_oom
        self.dirty = False  # a write command was called: SCRIPT KILL refuses
        self.killed = False
        self.kill_lock = scripts.bridge.kill_lock
        self.table_from = scripts.lua.table_from
        self.lua_type = scripts.lua_type
        # luaL_where(1) for the running Python callable, as bytes.
        self.position = scripts.entry_where
        self.tonumber = scripts.entry_tonumber
        self.cjson = scripts.entry_cjson
        self.leaf = scripts.entry_leaf
        self.error_info = scripts.entry_error_info

    def typename(self, value):
        cls = value.__class__
        if value is None:
            return "nil"
        if cls is bool:
            return "boolean"
        if cls is bytes:
            return "string"
        if cls is int or cls is float:
            return "number"
        return self.lua_type(value) or "userdata"

    def number(self, fname, args, n):
        """luaL_checknumber of argument ``n``: a number, or a _Raise."""
        if n <= len(args):
            value = args[n - 1]
            cls = value.__class__
            if cls is int or cls is float:
                return value
            if cls is bytes:
                number = self.tonumber(value)
                if number is not None:
                    return number
            got = self.typename(value)
        else:
            got = "no value"
        return self.argument_error(n, fname, f"number expected, got {got}")

    def argument_error(self, n, fname, message):
        return _Raise(self.position() + f"bad argument #{n} to '{fname}' ({message})".encode())

    def to_lua(self, reply, status):
        """An engine reply as redis.call hands it to the script."""
        cls = reply.__class__
        if cls is bytes:
            return self.table_from({b"ok": reply}) if status else reply
        if cls is int:
            return reply
        if reply is None:
            return False
        if isinstance(reply, (list, tuple)):
            return self.table_from([self.to_lua(item, status) for item in reply])
        if cls is bytearray:
            return self.to_lua(bytes(reply), status)
        if cls is bool:
            return int(reply)
        raise TypeError(f"unexpected reply type from a command handler: {cls.__name__}")

    # -- what the Python callables do ---------------------------------------
    def command(self, arguments, raising):
        """redis.call / redis.pcall: the reply as Lua sees it, or the error
        (a _Raise for redis.call, an error table for redis.pcall)."""
        argv = list(arguments)
        fields = _arguments_error(argv)
        if fields is None:
            cmd = _resolve(argv)
            fields = self.refusal(cmd, argv)
            if fields is None and "write" in cmd.flags and not self.dirty:
                fields = self.first_write()
            if fields is None:
                try:
                    reply = cmd.handler(self.session, argv[2:] if "|" in cmd.name else argv[1:])
                except CommandError as exc:
                    fields = _error_fields(b"-" + exc.text.encode(), True)
                else:
                    return self.to_lua(reply, _is_status(cmd, argv))
        return _Raise(fields) if raising else self.table_from(fields)

    def first_write(self):
        """Mark the run dirty (SCRIPT KILL refuses from now on), or, when a
        kill won the race, the kill error: once SCRIPT KILL answered OK the
        script must not write, as in Redis, whose kill lands between two
        commands. The lock makes SCRIPT KILL's check-and-mark and this one
        exclusive."""
        with self.kill_lock:
            if self.killed:
                return _KILLED_FIELDS
            self.dirty = True
        return None

    def refusal(self, cmd, argv):
        """The error fields for a command redis.call does not run (unknown,
        wrong arity, noscript, a write in a read-only script), or None."""
        if cmd is None:
            return _UNKNOWN_FIELDS
        if not _arity_ok(cmd, len(argv)):
            return _ARITY_FIELDS
        if _noscript(cmd):
            return _NOT_ALLOWED_FIELDS
        if self.read_only and ("write" in cmd.flags or cmd.name in MAY_REPLICATE_COMMANDS):
            return _WRITE_IN_READ_ONLY_FIELDS
        if not self.allow_oom and script_write_refused(self.session.store, cmd, self.dirty):
            return _OOM_FIELDS
        return None

    def acl_check(self, arguments):
        argv = list(arguments)
        fields = _arguments_error(argv)
        if fields is None:
            if _resolve(argv) is not None:
                return True  # no ACLs in-process: the default user may run anything
            fields = _ACL_UNKNOWN_FIELDS
        return _Raise(fields)

    def sha1hex(self, args):
        if len(args) != 1:
            return _Raise(_error_fields(b"wrong number of arguments", False))
        value = args[0]
        cls = value.__class__
        if cls is int or cls is float:
            value = _number_text(value, 14)
        elif cls is not bytes:
            value = b""  # lua_tolstring gives NULL: the digest of nothing
        return hashlib.sha1(value).hexdigest().encode()

    def random(self, r, args):
        """redis_math_random with ``r`` already drawn."""
        if not args:
            return r
        if len(args) > 2:
            return _Raise(self.position() + b"wrong number of arguments")
        low = 1
        if len(args) == 2:
            low = self.number("random", args, 1)
            if low.__class__ is _Raise:
                return low
            low = _c_int(low)
        high = self.number("random", args, len(args))
        if high.__class__ is _Raise:
            return high
        high = _c_int(high)
        if not low <= high:
            return self.argument_error(len(args), "random", "interval is empty")
        return math.floor(r * (high - low + 1)) + low

    def bit(self, name, args):
        least, most = _BIT_ARGUMENTS[name]
        numbers = []
        for n in range(1, max(least, min(len(args), most)) + 1):
            number = self.number(name, args, n)
            if number.__class__ is _Raise:
                return number
            numbers.append(number)
        return _bit(name, numbers)

    def call_leaf(self, function_id, args):
        """A Lua-written library function run as a C function: its results
        (a tuple, which Lua receives as that many values) or its error, a
        message at the caller's position or an error table."""
        results = self.leaf(function_id, *args)
        if results.__class__ is not tuple:
            results = (results,)
        if results[0]:
            return results[1:]
        return self.failure(results[1])

    def failure(self, error):
        """A _Raise for an error a Lua helper returned: a message (thrown
        bare) gets the caller's position; an error table keeps its err."""
        if error.__class__ is bytes:
            return _Raise(self.position() + error)
        return _Raise(_error_fields(b"-" + self.error_info(error)[0], False))

    def cjson_call(self, operation, instance, args):
        if len(args) != 1:
            return self.argument_error(1, operation, "expected 1 argument")
        value = args[0]
        if operation == "decode":
            cls = value.__class__
            if cls is int or cls is float:
                value = _number_text(value, 14)
            elif cls is not bytes:
                got = self.typename(value)
                return self.argument_error(1, "decode", f"string expected, got {got}")
        ok, result = self.cjson(operation.encode(), instance, value)
        if ok:
            return result
        return self.failure(result)


class _Forget(Exception):
    """Raised through Lua after a run to clear lupa's record of the last
    exception a Python callable raised (see ``Scripts.forget_raised``)."""


class _Bridge:
    """The Python side of the Lua environment: the callables Lua is given.

    ``run`` is the execution in progress (None between runs); ``rand`` is
    the store's math.random generator; ``failure`` keeps a Python exception
    that escaped one of the callables (a bug, or KeyboardInterrupt) so that
    the run re-raises it; ``raised`` tells that a callable raised a Lua error
    during the run.
    """

    __slots__ = ("run", "rand", "failure", "raised", "kill_lock")

    def __init__(self):
        self.kill_lock = threading.Lock()
        self.run = None
        self.rand = Rand48()
        self.failure = None
        self.raised = False

    def callables(self):
        bridge = self

        def _raising(function):
            """A callable for Lua: a _Raise result becomes a Lua error."""
            def callable_for_lua(*args):
                result = function(args)
                if result.__class__ is _Raise:
                    bridge.raised = True
                    try:
                        raise result
                    finally:
                        result = None  # no exception <-> frame cycle
                return result
            return callable_for_lua

        def current():
            run = bridge.run
            if run is None:
                raise RuntimeError(_OUTSIDE_SCRIPT)
            return run

        def call(*argv):
            # redis.call, the hot path: _raising written out.
            run = bridge.run
            if run is None:
                raise RuntimeError(_OUTSIDE_SCRIPT)
            result = run.command(argv, True)
            if result.__class__ is _Raise:
                bridge.raised = True
                try:
                    raise result
                finally:
                    result = None
            return result

        def pcall(*argv):
            run = bridge.run
            if run is None:
                raise RuntimeError(_OUTSIDE_SCRIPT)
            return run.command(argv, False)

        @_raising
        def acl_check_cmd(args):
            return current().acl_check(args)

        @_raising
        def sha1hex(args):
            return current().sha1hex(args)

        @_raising
        def random(args):
            return current().random(bridge.rand.random(), args)

        @_raising
        def randomseed(args):
            seed = current().number("randomseed", args, 1)
            if seed.__class__ is _Raise:
                return seed
            bridge.rand.seed(_c_int(seed))
            return None

        def bit_function(name):
            return _raising(lambda args: current().bit(name, args))

        def leaf(function_id):
            return _raising(lambda args: current().call_leaf(function_id, args))

        def cjson_functions(instance):
            encode = _raising(lambda args: current().cjson_call("encode", instance, args))
            decode = _raising(lambda args: current().cjson_call("decode", instance, args))
            return encode, decode

        def unwrap(error):
            if isinstance(error, _Raise):
                payload = error.payload
                if payload.__class__ is bytes:
                    return payload
                return current().table_from(payload)
            if isinstance(error, _Denied):
                return _DENIED
            if isinstance(error, BaseException):
                bridge.failure = error
            return error

        def interrupted():
            # Never true of a run that wrote: killed and dirty exclude each
            # other (_Run.first_write), so no script stops half-way.
            run = bridge.run
            return run is not None and run.killed

        def forget():
            raise _Forget()

        def log_message(level, message):
            log.log(_LOG_LEVELS[level], "%s", _text(message))

        return {b"call": call, b"pcall": pcall, b"acl_check_cmd": acl_check_cmd,
                b"sha1hex": sha1hex, b"random": random, b"randomseed": randomseed,
                b"bit": {name.encode(): bit_function(name) for name in _BIT_ARGUMENTS},
                b"cjson_functions": cjson_functions, b"leaf": leaf, b"unwrap": unwrap,
                b"interrupted": interrupted, b"forget": forget, b"log": log_message,
                b"version": REDIS_VERSION.encode(), b"version_num": REDIS_VERSION_NUM}


class Scripts:
    """A store's Lua state and script cache (``store.scripts``)."""

    __slots__ = ("lua", "lua_type", "cache", "bridge", "entry_compile", "entry_run",
                 "entry_classify", "entry_unpack", "entry_error_info", "entry_where",
                 "entry_tonumber", "entry_cjson", "entry_leaf", "entry_forget")

    def __init__(self):
        self.bridge = _Bridge()
        self.reset()

    def reset(self):
        """A fresh Lua state and an empty cache (SCRIPT FLUSH)."""
        lua51 = _lupa()
        self.lua_type = lua51.lua_type
        lua = lua51.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False,
                               register_builtins=False, attribute_filter=_deny_attributes)
        chunk = lua.globals().loadstring(ENVIRONMENT.encode(), CHUNK_NAME)
        if chunk.__class__ is tuple:
            raise RuntimeError(f"minikv's Lua environment does not compile: {chunk[1]!r}")
        callables = self.bridge.callables()
        callables[b"bit"] = lua.table_from(callables[b"bit"])
        entry = chunk(lua.table_from(callables))
        self.lua = lua
        self.cache = {}
        self.entry_compile = entry[b"compile"]
        self.entry_run = entry[b"run"]
        self.entry_classify = entry[b"classify"]
        self.entry_unpack = entry[b"unpack"]
        self.entry_error_info = entry[b"error_info"]
        self.entry_where = entry[b"where"]
        self.entry_tonumber = entry[b"tonumber"]
        self.entry_cjson = entry[b"cjson"]
        self.entry_leaf = entry[b"leaf"]
        self.entry_forget = entry[b"forget"]

    # -- the cache ---------------------------------------------------------
    def load(self, body):
        """(sha, Script) for ``body``, compiling and caching it if new.

        Raises Redis's shebang and compilation errors. O(len(body)).
        """
        sha = script_sha(body)
        script = self.cache.get(sha)
        if script is not None:
            return sha, script
        flags, shebang_length = _shebang(body)
        # The shebang line is skipped but its newline kept: line numbers stay.
        function = self.entry_compile(body[shebang_length:])
        if function.__class__ is tuple:
            raise CommandError(_one_line(
                "ERR Error compiling script (new function): " + _text(function[1])))
        script = self.cache[sha] = Script(body, flags, function)
        return sha, script

    # -- a run ---------------------------------------------------------------
    def run(self, session, sha, script, keys, argv, read_only):
        """Execute ``script`` for ``session`` (store lock held); its reply."""
        flags = script.flags
        allow_oom = False
        if flags is not None:
            if read_only and b"no-writes" not in flags:
                raise CommandError(SCRIPT_WRITE_FLAG_RO)
            read_only = read_only or b"no-writes" in flags
            allow_oom = b"allow-oom" in flags
            limit = session.store.memory
            if not (read_only or allow_oom) and limit is not None and limit.oom_at_start:
                raise CommandError(OOM)
        store = session.store
        script_session = Session(store, session.db, register=False)
        script_session.deny_blocking = True
        table_from = self.lua.table_from
        bridge = self.bridge
        bridge.run = _Run(script_session, read_only, self, allow_oom)
        bridge.failure = None
        try:
            with frozen_expiry_clock(store):
                ok, result = self.entry_run(script.function, table_from(keys), table_from(argv))
            failure = bridge.failure
            if failure is not None:
                raise failure
            if not ok:
                raise CommandError(self._error_text(result, sha))
            reply, failed = self._reply(result)
        finally:
            bridge.run = None
            bridge.failure = None
            if bridge.raised:
                bridge.raised = False
                self.forget_raised()
        if failed:
            raise reply
        return reply

    def forget_raised(self):
        """Drop every reference the Lua state keeps to exceptions our
        callables raised: lupa's record of the last one (cleared by raising
        one more through Lua, which lupa re-raises here) and the error values
        Lua still holds (a full Lua collection). Their tracebacks lead to the
        caller's frames, so without this a dropped client would keep its
        store alive until Python's cycle collector ran."""
        try:
            self.entry_forget()
        except _Forget:
            pass
        self.lua.gccollect()

    def _error_text(self, error, sha):
        """The error reply of a failed script (luaCallFunction)."""
        if self.lua_type(error) != "table":
            # Only when the error handler itself failed.
            detail = _text(error) if error.__class__ is bytes else "execution failure"
            return _one_line(f"ERR Error running script {_text(sha)}, {detail[:100]}\n")
        message, source, line = self.entry_error_info(error)
        if message is None:
            # Redis 7.0 crashes on an error table without an err field.
            message = b"ERR Error running script: error table has no 'err' field"
        text = _text(message)
        if source is not None and line is not None:
            text += f" script: {_text(sha)}, on {_text(source)}:{_text(line)}."
        return _one_line(text)

    def _reply(self, value):
        """(reply, False), or (CommandError, True) for an error reply: the
        value a script returned, converted as luaReplyToRedisReply does."""
        cls = value.__class__
        if cls is bytes:
            return value, False
        if cls is bool:
            return (1 if value else None), False
        if cls is int:
            return value, False
        if cls is float:
            return _truncate(value), False
        if value is None or self.lua_type(value) != "table":
            return None, False
        kind, *rest = self.entry_classify(value)
        if kind == b"err":
            return CommandError(_one_line(_text(rest[0]))), True
        if kind == b"ok" or kind == b"big_number":
            return _one_line(_text(rest[0])).encode(), False
        if kind == b"double" or kind == b"verbatim_string":
            return rest[0], False
        count, items = rest
        reply = []
        has_errors = False
        unpack = self.entry_unpack
        for start in range(1, count + 1, _UNPACK_CHUNK):
            stop = min(start + _UNPACK_CHUNK - 1, count)
            chunk = unpack(items, start, stop)
            if stop == start:
                chunk = (chunk,)
            for item in chunk:
                converted, failed = self._reply(item)
                if failed or converted.__class__ is ArrayWithErrors:
                    has_errors = True
                reply.append(converted)
        return (ArrayWithErrors(reply) if has_errors else reply), False


def _truncate(number):
    """C's (long long) of a double on x86-64: NaN and out-of-range values
    give INT64_MIN."""
    if -_INT64_LIMIT <= number < _INT64_LIMIT:
        return int(number)
    return INT64_MIN


def _split_args(line):
    """Redis's sdssplitargs: words, "double quoted" (with \\n, \\xHH...
    escapes) or 'single quoted'; None when the quotes do not close."""
    words = []
    i, n = 0, len(line)
    escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
               ord("a"): b"\a"}
    hexdigits = b"0123456789abcdefABCDEF"
    while True:
        while i < n and line[i] in b" \t\n\r\v\f":
            i += 1
        if i >= n:
            return words
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    return None
                c = line[i]
                if (c == 92 and i + 3 < n and line[i + 1] == ord("x")
                        and line[i + 2] in hexdigits and line[i + 3] in hexdigits):
                    current.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif c == 92 and i + 1 < n:
                    i += 1
                    current += escapes.get(line[i], bytes((line[i],)))
                elif c == 34:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
                        return None
                    in_double = False
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_single:
                if i >= n:
                    return None
                c = line[i]
                if c == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    current.append(39)
                elif c == 39:
                    if i + 1 < n and line[i + 1] not in b" \t\n\r\v\f":
                        return None
                    in_single = False
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n or line[i] in b" \t\n\r\v\f":
                    break
                c = line[i]
                if c == 34:
                    in_double = True
                elif c == 39:
                    in_single = True
                else:
                    current.append(c)
            i += 1
        words.append(bytes(current))


def _shebang(body):
    """(flags, length of the shebang line) as evalExtractShebangFlags reads
    them; flags is None without a shebang (compatibility mode)."""
    if not body.startswith(b"#!"):
        return None, 0
    end = body.find(b"\n")
    if end < 0:
        raise CommandError("ERR Invalid script shebang")
    parts = _split_args(body[:end])
    if not parts:
        raise CommandError("ERR Invalid engine in script shebang")
    if parts[0] != b"#!lua":
        raise CommandError(f"ERR Unexpected engine in script shebang: {_text(parts[0])}")
    flags = set()
    for part in parts[1:]:
        if not part.startswith(b"flags="):
            raise CommandError(f"ERR Unknown lua shebang option: {_text(part)}")
        listed = part[len(b"flags="):]
        for flag in (listed.split(b",") if listed else ()):
            if flag not in SCRIPT_FLAGS:
                raise CommandError(f"ERR Unexpected flag in script shebang: {_text(flag)}")
            flags.add(flag)
    return frozenset(flags), end


def _scripts(store):
    scripts = store.scripts
    if scripts is None:
        scripts = store.scripts = Scripts()
    return scripts


def kill_running_script(store):
    """SCRIPT KILL. Safe without the store lock (that is how another thread
    reaches a running script): it only reads the run and sets its flag."""
    scripts = store.scripts
    run = scripts.bridge.run if scripts is not None else None
    if run is None:
        if scripts is None:
            _lupa()
        raise CommandError(SCRIPT_NOT_BUSY)
    with run.kill_lock:
        if run.dirty:
            raise CommandError(SCRIPT_UNKILLABLE)
        run.killed = True
    return OK


# -- EVAL and friends ---------------------------------------------------------
def _eval(session, args, by_sha, read_only):
    scripts = _scripts(session.store)
    if by_sha and len(args[0]) != 40:
        raise CommandError(NOSCRIPT)
    numkeys = parse_int(args[1])
    if numkeys is None:
        raise CommandError(NOT_INTEGER)
    if numkeys > len(args) - 2:
        raise CommandError(NUMKEYS_TOO_MANY)
    if numkeys < 0:
        raise CommandError(NUMKEYS_NEGATIVE)
    if by_sha:
        sha = args[0].lower()
        script = scripts.cache.get(sha)
        if script is None:
            raise CommandError(NOSCRIPT)
    else:
        sha, script = scripts.load(args[0])
    keys = args[2:2 + numkeys]
    return scripts.run(session, sha, script, keys, args[2 + numkeys:], read_only)


# EVAL script numkeys [key ...] [arg ...]
@command("eval", -3, "noscript stale skip_monitor no_mandatory_keys movablekeys")
def cmd_eval(session, args):
    return _eval(session, args, by_sha=False, read_only=False)


# EVALSHA sha1 numkeys [key ...] [arg ...]
@command("evalsha", -3, "noscript stale skip_monitor no_mandatory_keys movablekeys")
def cmd_evalsha(session, args):
    return _eval(session, args, by_sha=True, read_only=False)


# EVAL_RO script numkeys [key ...] [arg ...]
@command("eval_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys")
def cmd_eval_ro(session, args):
    return _eval(session, args, by_sha=False, read_only=True)


# EVALSHA_RO sha1 numkeys [key ...] [arg ...]
@command("evalsha_ro", -3, "readonly noscript stale skip_monitor no_mandatory_keys movablekeys")
def cmd_evalsha_ro(session, args):
    return _eval(session, args, by_sha=True, read_only=True)


# -- SCRIPT -------------------------------------------------------------------
# SCRIPT LOAD script
@command("script|load", 3, "noscript stale")
def cmd_script_load(session, args):
    sha, _ = _scripts(session.store).load(args[0])
    return sha


# SCRIPT EXISTS sha1 [sha1 ...]
@command("script|exists", -3, "noscript stale")
def cmd_script_exists(session, args):
    cache = _scripts(session.store).cache
    return [1 if sha.lower() in cache else 0 for sha in args]


# SCRIPT FLUSH [ASYNC|SYNC]
@command("script|flush", -2, "noscript")
def cmd_script_flush(session, args):
    scripts = _scripts(session.store)
    if len(args) > 1 or (args and args[0].lower() not in (b"sync", b"async")):
        raise CommandError(SCRIPT_FLUSH_MODE)
    scripts.reset()
    return OK


# SCRIPT KILL
@command("script|kill", 2, "noscript allow_busy")
def cmd_script_kill(session, args):
    return kill_running_script(session.store)


# SCRIPT DEBUG YES|SYNC|NO
@command("script|debug", 3, "noscript")
def cmd_script_debug(session, args):
    _scripts(session.store)
    mode = args[0].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise CommandError("ERR minikv does not provide the Lua debugger (SCRIPT DEBUG YES|SYNC)")
    raise CommandError(SCRIPT_DEBUG_MODE)


_SCRIPT_HELP = [
    b"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"DEBUG (YES|SYNC|NO)",
    b"    Set the debug mode for subsequent scripts executed.",
    b"EXISTS <sha1> [<sha1> ...]",
    b"    Return information about the existence of the scripts in the script cache.",
    b"FLUSH [ASYNC|SYNC]",
    b"    Flush the Lua scripts cache. Very dangerous on replicas.",
    b"    When called without the optional mode argument, the behavior is determined by the",
    b"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    b"    * ASYNC: Asynchronously flush the scripts cache.",
    b"    * SYNC: Synchronously flush the scripts cache.",
    b"KILL",
    b"    Kill the currently executing Lua script.",
    b"LOAD <script>",
    b"    Load a script into the scripts cache without executing it.",
    b"HELP",
    b"    Prints this help.",
]


# SCRIPT HELP
@command("script|help", 2, "loading stale")
def cmd_script_help(session, args):
    return list(_SCRIPT_HELP)

