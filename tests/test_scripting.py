"""Lua scripting, differential against Redis 7.0.

The ``r`` tests run on minikv and on the private redis-server with literal
expectations. redis-py 8 talks RESP3 to a real server, which changes how
tables such as {double=...} or {map=...} come back; those, and the long
tail of library behaviour (cjson, bit, argument errors), are compared side
by side against a RESP2 connection (``SIDE_BY_SIDE``), the protocol minikv
answers in. The rest is what a real server cannot show: SCRIPT KILL from
another thread, atomicity under threads, the error without lupa, the
sandbox, and that a dropped store is freed.
"""
import gc
import hashlib
import math
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import pytest
from helpers import check_lock_ttl_steps, kind, raises, snapshot
from hypothesis import given
from hypothesis import strategies as st
from redis.exceptions import LockNotOwnedError, NoScriptError, ResponseError

import minikv
from minikv.clock import ManualClock


def sha(script):
    return hashlib.sha1(script.encode()).hexdigest()


@pytest.fixture
def lua(r):
    """``r`` with an empty script cache and a fresh Lua state (cjson settings
    and the like live in the server's Lua state, not in its keyspace)."""
    r.script_flush()
    return r


def other_client(r, client_factory):
    """A second connection to the same data as ``r`` (make it before writing:
    a new connection to the real server flushes it)."""
    if kind(r) == "minikv":
        return client_factory("minikv", store=r.store)
    return client_factory("redis")


def wait_for_script(client, wrote=False):
    """Until a script runs on ``client``'s store (it holds the store lock) and,
    with ``wrote``, has called a write command."""
    deadline = time.monotonic() + 10

    def running():
        scripts = client.store.scripts
        run = scripts.bridge.run if scripts is not None else None
        return run is not None and (run.dirty or not wrote)

    while not running():
        assert time.monotonic() < deadline, "the script did not start"
        time.sleep(0.001)


# -- Lua -> reply ------------------------------------------------------------
def test_lua_values_become_replies(r):
    assert r.eval("return 1", 0) == 1
    assert r.eval("return 3.99", 0) == 3  # numbers truncate toward zero
    assert r.eval("return -3.99", 0) == -3
    assert r.eval("return 'hello'", 0) == b"hello"
    assert r.eval("return true", 0) == 1
    assert r.eval("return false", 0) is None
    assert r.eval("return nil", 0) is None
    assert r.eval("return {1, 2, 3, 'x'}", 0) == [1, 2, 3, b"x"]
    assert r.eval("return {1, 2, nil, 4}", 0) == [1, 2]  # an array stops at nil
    assert r.eval("return {1, false, 3}", 0) == [1, None, 3]  # false is a nil item
    assert r.eval("return {1, {2, {3, 'four'}}}", 0) == [1, [2, [3, b"four"]]]
    assert r.eval("return {}", 0) == []
    assert r.eval("return {a = 1}", 0) == []  # no array part
    assert r.eval("return 1, 2", 0) == 1  # only the first value
    assert r.eval("return function() end", 0) is None


def test_numbers_out_of_integer_range(r):
    # C's (long long) cast: NaN, infinities and out-of-range give INT64_MIN.
    for script in ("return 1e20", "return -1e20", "return 0/0", "return 1/0", "return 2^63"):
        assert r.eval(script, 0) == -9223372036854775808
    assert r.eval("return -2^63", 0) == -9223372036854775808
    assert r.eval("return 2^62", 0) == 4611686018427387904
    assert r.eval("return 9007199254740993", 0) == 9007199254740992  # a double


def test_status_and_error_tables(r):
    assert r.eval("return {ok = 'fine'}", 0) == b"fine"
    assert r.eval("return redis.status_reply('PONG')", 0) == b"PONG"
    assert r.eval("return {ok = 'a\\r\\nb'}", 0) == b"a  b"  # one line
    with raises(ResponseError, "bad thing"):
        r.eval("return {err = 'bad thing'}", 0)
    with raises(ResponseError, "MYCODE bad thing"):
        r.eval("return {err = 'MYCODE bad thing'}", 0)
    # error_reply prefixes '-' and takes the first word as the code
    with raises(ResponseError, "My Error"):
        r.eval("return redis.error_reply('My Error')", 0)
    with raises(ResponseError, "oops"):
        r.eval("return redis.error_reply('oops')", 0)
    with raises(ResponseError, "wrong number or type of arguments"):
        r.eval("return redis.error_reply(5)", 0)
    with raises(ResponseError, "wrong number or type of arguments"):
        r.eval("return redis.status_reply()", 0)
    # a table whose err/ok is not a string is an (empty) array
    assert r.eval("return {err = 5}", 0) == []
    assert r.eval("return {ok = 5, 7}", 0) == [7]


def test_errors_inside_arrays_are_items(r):
    reply = r.eval("return {1, {err = 'ERR x'}, redis.error_reply('NOSCRIPT y'), 'z'}", 0)
    assert reply[0] == 1 and reply[3] == b"z"
    assert type(reply[1]).__name__ == "ResponseError" and str(reply[1]) == "x"
    assert isinstance(reply[2], NoScriptError) and str(reply[2]) == "y"


def test_keys_and_argv(r):
    assert r.eval("return {KEYS[1], KEYS[2], ARGV[1], #KEYS, #ARGV}", 2, "a", "b", "c") == \
        [b"a", b"b", b"c", 2, 1]
    assert r.eval("return {KEYS, ARGV}", 1, "k", 1.5, 10) == [[b"k"], [b"1.5", b"10"]]
    assert r.eval("KEYS[1] = 'changed' return KEYS[1]", 1, "k") == b"changed"  # writable


def test_decode_responses(rd):
    assert rd.eval("return {'a', {ok = 'b'}, 1}", 0) == ["a", "b", 1]
    rd.set("k", "v")
    assert rd.eval("return redis.call('get', KEYS[1])", 1, "k") == "v"


# -- redis.call / redis.pcall -------------------------------------------------
def test_redis_call_replies_as_lua_values(r):
    r.rpush("l", "a", "b")
    assert r.eval("return type(redis.call('get', 'missing'))", 0) == b"boolean"
    assert r.eval("return tostring(redis.call('get', 'missing'))", 0) == b"false"
    assert r.eval("return type(redis.call('incr', 'n'))", 0) == b"number"
    assert r.eval("return type(redis.call('lrange', 'l', 0, -1))", 0) == b"table"
    assert r.eval("return redis.call('lrange', 'l', 0, -1)", 0) == [b"a", b"b"]
    # status replies are {ok=...} tables, bulk strings are strings
    assert r.eval("return type(redis.call('set', 'a', 'b'))", 0) == b"table"
    assert r.eval("return redis.call('set', 'a', 'b').ok", 0) == b"OK"
    assert r.eval("return redis.call('type', 'l').ok", 0) == b"list"
    assert r.eval("return redis.call('ping').ok", 0) == b"PONG"
    assert r.eval("return type(redis.call('ping', 'hi'))", 0) == b"string"
    assert r.eval("return redis.call('object', 'help')[1].ok", 0) == \
        b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    r.set("a", "OK")
    assert r.eval("return type(redis.call('get', 'a'))", 0) == b"string"
    assert r.eval("return type(redis.call('set', 'a', 'x', 'GET'))", 0) == b"string"
    assert r.eval("return redis.call('GeT', 'a')", 0) == b"x"  # any case


def test_numbers_as_command_arguments(r):
    script = "redis.call('set', KEYS[1], tonumber(ARGV[1])) return redis.call('get', KEYS[1])"
    assert r.eval(script, 1, "k", "0.1") == b"0.10000000000000001"  # "%.17g"
    assert r.eval(script, 1, "k", "100") == b"100"
    assert r.eval(script, 1, "k", "1e20") == b"1e+20"
    assert r.eval(script, 1, "k", "3.14159265358979") == b"3.14159265358979"
    assert r.eval("redis.call('set', 'k', 1/0) return redis.call('get', 'k')", 0) == b"inf"
    assert r.eval("redis.call('set', 'k', 0/0) return redis.call('get', 'k')", 0) == b"-nan"


def test_command_errors_raise_into_the_script(lua):
    r = lua
    r.set("s", "text")
    script = "return redis.call('incr', 's')"
    with raises(ResponseError, "value is not an integer or out of range script: "
                               f"{sha(script)}, on @user_script:1."):
        r.eval(script, 0)
    script = "local x = 1\nredis.call('lpush', 's', 'v')"
    with raises(ResponseError, "WRONGTYPE Operation against a key holding the wrong kind of "
                               f"value script: {sha(script)}, on @user_script:2."):
        r.eval(script, 0)
    # redis.pcall hands the error back as a table, a script may return it
    with raises(ResponseError, "value is not an integer or out of range"):
        r.eval("return redis.pcall('incr', 's')", 0)
    assert r.eval("local e = redis.pcall('incr', 's') return {type(e), e.err}", 0) == \
        [b"table", b"ERR value is not an integer or out of range"]
    # Lua's own pcall returns the message of what redis.call threw
    assert r.eval("local ok, e = pcall(redis.call, 'incr', 's') return {tostring(ok), e}", 0) \
        == [b"false", b"ERR value is not an integer or out of range"]


def test_refused_calls(lua):
    r = lua
    cases = [
        ("return redis.call('nosuch')", "Unknown Redis command called from script"),
        ("return redis.call('get')", "Wrong number of args calling Redis command from script"),
        ("return redis.call()", "Please specify at least one argument for this redis lib call"),
        ("return redis.call('set', 'k', {})",
         "Lua redis lib command arguments must be strings or integers"),
        ("return redis.call('set', 'k', nil)",
         "Lua redis lib command arguments must be strings or integers"),
        ("return redis.call('config', 'nosuch')", "Unknown Redis command called from script"),
        ("return redis.call('config')", "Wrong number of args calling Redis command from script"),
    ]
    for script, message in cases:
        with raises(ResponseError, f"{message} script: {sha(script)}, on @user_script:1."):
            r.eval(script, 0)
        with raises(ResponseError, message):
            r.eval(script.replace("redis.call", "redis.pcall"), 0)


@pytest.mark.parametrize("command", [
    "'multi'", "'exec'", "'watch', 'k'", "'eval', 'return 1', 0", "'script', 'load', 'x'",
    "'subscribe', 'c'", "'blpop', 'l', 0", "'brpoplpush', 'a', 'b', 0", "'bzpopmin', 'z', 0",
    "'config', 'get', 'hz'",
])
def test_commands_not_allowed_from_scripts(lua, command):
    script = f"return redis.call({command})"
    with raises(ResponseError, "This Redis command is not allowed from script script: "
                               f"{sha(script)}, on @user_script:1."):
        lua.eval(script, 0)


def test_blocking_commands_do_not_block_in_scripts(r):
    assert r.eval("return redis.call('blmpop', 0, 1, 'nolist', 'LEFT')", 0) is None
    assert r.eval("return redis.call('bzmpop', 0, 1, 'nozset', 'MIN')", 0) is None
    r.rpush("l", "a")
    assert r.eval("return redis.call('blmpop', 0, 1, 'l', 'LEFT')", 0) == [b"l", [b"a"]]


def test_select_in_a_script_stays_in_the_script(r):
    script = "redis.call('select', 5) redis.call('set', 'k', 'v') return redis.call('get', 'k')"
    assert r.eval(script, 0) == b"v"
    assert r.get("k") is None  # the caller is still on db 0
    r.execute_command("SELECT", 5)
    assert r.get("k") == b"v"
    assert r.eval("return redis.call('get', 'k')", 0) == b"v"  # scripts start on the caller's db
    r.execute_command("SELECT", 0)


def test_writes_are_visible_and_errors_do_not_roll_back(lua):
    r = lua
    script = ("redis.call('set', 'a', '1') redis.call('incr', 'a') "
              "return redis.call('incr', 'b', 'x')")
    with raises(ResponseError, "Wrong number of args calling Redis command from script script: "
                               f"{sha(script)}, on @user_script:1."):
        r.eval(script, 0)
    assert r.get("a") == b"2"  # no rollback: what ran stays


# -- errors raised by scripts ----------------------------------------------------
def test_script_errors(lua):
    r = lua
    script = "error('boom')"
    with raises(ResponseError, f"user_script:1: boom script: {sha(script)}, on @user_script:1."):
        r.eval(script, 0)
    script = "local x = 1\nerror({err = 'MY own'})"
    with raises(ResponseError, f"MY own script: {sha(script)}, on @user_script:2."):
        r.eval(script, 0)
    script = "error('a\\nb', 0)"
    with raises(ResponseError, f"a b script: {sha(script)}, on @user_script:1."):
        r.eval(script, 0)
    script = "return nosuchvariable"
    with raises(ResponseError, "user_script:1: Script attempted to access nonexistent global "
                               f"variable 'nosuchvariable' script: {sha(script)}, "
                               "on @user_script:1."):
        r.eval(script, 0)
    script = "x = 5"
    with raises(ResponseError, "user_script:1: Attempt to modify a readonly table script: "
                               f"{sha(script)}, on @user_script:1."):
        r.eval(script, 0)
    script = "string.upper = nil"
    with raises(ResponseError, "user_script:1: Attempt to modify a readonly table script: "
                               f"{sha(script)}, on @user_script:1."):
        r.eval(script, 0)
    # a tail call to a library function keeps the script's line, as in Redis
    script = "local a = 1\nreturn redis.call('nosuch')"
    with raises(ResponseError, "Unknown Redis command called from script script: "
                               f"{sha(script)}, on @user_script:2."):
        r.eval(script, 0)


def test_compile_errors(lua):
    with raises(ResponseError, "Error compiling script (new function): user_script:1: "
                               "'=' expected near '1'"):
        lua.eval("retur 1", 0)
    with raises(ResponseError, "Error compiling script (new function): user_script:1: "
                               "unexpected symbol near '<eof>'"):
        lua.script_load("return 1 +")


# -- EVAL, EVALSHA and their arguments -----------------------------------------
def test_numkeys(r):
    with raises(ResponseError, "Number of keys can't be greater than number of args"):
        r.eval("return 1", 2, "a")
    with raises(ResponseError, "Number of keys can't be negative"):
        r.eval("return 1", -1, "a")
    with raises(ResponseError, "value is not an integer or out of range"):
        r.eval("return 1", "1.5")
    with raises(ResponseError, "wrong number of arguments for 'eval' command"):
        r.execute_command("EVAL", "return 1")


def test_evalsha_and_the_script_cache(lua):
    r = lua
    script = "return 'cached'"
    digest = sha(script)
    with raises(NoScriptError, "No matching script. Please use EVAL."):
        r.evalsha(digest, 0)
    with raises(NoScriptError, "No matching script. Please use EVAL."):
        r.evalsha("abc", "not a number")  # a short sha is NOSCRIPT before numkeys
    with raises(ResponseError, "Number of keys can't be greater than number of args"):
        r.evalsha(digest, 1)
    assert r.script_exists(digest) == [False]
    assert r.eval(script, 0) == b"cached"  # EVAL caches the script
    assert r.script_exists(digest, digest.upper(), "nope") == [True, True, False]
    assert r.evalsha(digest.upper(), 0) == b"cached"
    assert r.script_load("return 2") == sha("return 2")
    assert r.script_flush() is True
    assert r.script_exists(digest) == [False]
    r.script_load(script)
    assert r.script_flush("ASYNC") is True
    assert r.script_exists(digest) == [False]
    with raises(NoScriptError, "No matching script. Please use EVAL."):
        r.evalsha_ro(digest, 0)


def test_script_subcommand_errors(r):
    with raises(ResponseError, "SCRIPT FLUSH only support SYNC|ASYNC option"):
        r.execute_command("SCRIPT", "FLUSH", "LATER")
    with raises(ResponseError, "wrong number of arguments for 'script|load' command"):
        r.execute_command("SCRIPT", "LOAD")
    with raises(ResponseError, "wrong number of arguments for 'script|exists' command"):
        r.execute_command("SCRIPT", "EXISTS")
    with raises(ResponseError, "unknown subcommand 'NOSUCH'. Try SCRIPT HELP."):
        r.execute_command("SCRIPT", "NOSUCH")
    with raises(ResponseError, "NOTBUSY No scripts in execution right now."):
        r.script_kill()
    assert r.execute_command("SCRIPT", "DEBUG", "NO") == b"OK"
    with raises(ResponseError, "Use SCRIPT DEBUG YES/SYNC/NO"):
        r.execute_command("SCRIPT", "DEBUG", "MAYBE")
    assert r.execute_command("SCRIPT", "HELP")[:2] == [
        b"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        b"DEBUG (YES|SYNC|NO)"]


def test_read_only_scripts(lua):
    r = lua
    r.set("k", "v")
    assert r.eval_ro("return redis.call('get', KEYS[1])", 1, "k") == b"v"
    for command in ("'set', 'k', 'x'", "'del', 'k'", "'publish', 'ch', 'm'", "'spop', 's'"):
        script = f"return redis.call({command})"
        with raises(ResponseError, "Write commands are not allowed from read-only scripts. "
                                   f"script: {sha(script)}, on @user_script:1."):
            r.eval_ro(script, 0)
    digest = r.script_load("return redis.call('get', 'k')")
    assert r.evalsha_ro(digest, 0) == b"v"
    assert r.get("k") == b"v"


def test_shebang_flags(lua):
    r = lua
    script = "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')"
    with raises(ResponseError, "Write commands are not allowed from read-only scripts. "
                               f"script: {sha(script)}, on @user_script:2."):
        r.eval(script, 0)
    assert r.eval("#!lua flags=no-writes,allow-oom\nreturn redis.call('get', 'k')", 0) is None
    with raises(ResponseError, "Can not execute a script with write flag using *_ro command."):
        r.eval_ro("#!lua\nreturn 1", 0)
    assert r.eval_ro("#!lua flags=no-writes\nreturn 2", 0) == 2
    assert r.eval("#!lua\nreturn redis.call('set', 'k', 'v')", 0) == b"OK"
    for script, message in [
        ("#!lua flags=bogus\nreturn 1", "Unexpected flag in script shebang: bogus"),
        ("#!lua name=x\nreturn 1", "Unknown lua shebang option: name=x"),
        ("#!python\nreturn 1", "Unexpected engine in script shebang: #!python"),
        ("#!lua", "Invalid script shebang"),
        ("#!lua \"flags=no-writes\nreturn 1", "Invalid engine in script shebang"),
    ]:
        with raises(ResponseError, message):
            r.eval(script, 0)
    script = "#!lua\n\nerror('x')"  # the shebang line still counts
    with raises(ResponseError, f"user_script:3: x script: {sha(script)}, on @user_script:3."):
        r.eval(script, 0)


# -- the Lua environment -------------------------------------------------------------
def test_globals_are_redis_s(r):
    names = r.eval("local t = {} for k in pairs(_G) do t[#t + 1] = k end "
                   "table.sort(t) return t", 0)
    # minikv has no cmsgpack and struct libraries (documented gap)
    missing = {b"cmsgpack", b"struct"} if kind(r) == "redis" else set()
    assert set(names) == missing | {
        b"ARGV", b"KEYS", b"_G", b"_VERSION", b"__redis__err__handler", b"assert", b"bit",
        b"cjson", b"collectgarbage", b"coroutine", b"error", b"gcinfo", b"getmetatable",
        b"ipairs", b"load", b"loadstring", b"math", b"next", b"pairs", b"pcall", b"rawequal",
        b"rawget", b"rawset", b"redis", b"select", b"setmetatable", b"string", b"table",
        b"tonumber", b"tostring", b"type", b"unpack", b"xpcall"}
    assert r.eval("local t = {} for k in pairs(redis) do t[#t + 1] = k end "
                  "table.sort(t) return t", 0) == [
        b"LOG_DEBUG", b"LOG_NOTICE", b"LOG_VERBOSE", b"LOG_WARNING", b"REDIS_VERSION",
        b"REDIS_VERSION_NUM", b"REPL_ALL", b"REPL_AOF", b"REPL_NONE", b"REPL_REPLICA",
        b"REPL_SLAVE", b"acl_check_cmd", b"breakpoint", b"call", b"debug", b"error_reply",
        b"log", b"pcall", b"replicate_commands", b"set_repl", b"setresp", b"sha1hex",
        b"status_reply"]
    assert r.eval("return {type(redis.call), type(cjson.encode), type(bit.band), "
                  "type(math.random), type(redis.log)}", 0) == [b"function"] * 5
    assert r.eval("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", 0) == \
        [b"7.0.15", 458767]


def test_redis_helpers(r):
    assert r.eval("return redis.sha1hex('')", 0) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert r.eval("return redis.sha1hex(1)", 0) == hashlib.sha1(b"1").hexdigest().encode()
    assert r.eval("return redis.replicate_commands()", 0) == 1
    assert r.eval("return redis.set_repl(redis.REPL_ALL)", 0) is None
    assert r.eval("return redis.breakpoint()", 0) is None
    assert r.eval("return redis.acl_check_cmd('get', 'k')", 0) == 1
    assert r.eval("return redis.log(redis.LOG_DEBUG, 'quiet')", 0) is None
    assert r.eval("return redis.setresp(2)", 0) is None
    for script, message in [
        ("return redis.sha1hex()", "wrong number of arguments"),
        ("redis.log(1)", "redis.log() requires two arguments or more."),
        ("redis.log(9, 'x')", "Invalid debug level."),
        ("redis.log('x', 'y')", "First argument must be a number (log level)."),
        ("redis.setresp(4)", "RESP version must be 2 or 3."),
        ("redis.set_repl(99)",
         "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."),
        ("redis.acl_check_cmd('nosuch')", "Invalid command passed to redis.acl_check_cmd()"),
    ]:
        with raises(ResponseError, f"{message} script: {sha(script)}, on @user_script:1."):
            r.eval(script, 0)


def test_seeded_math_random_matches_redis(r):
    # Redis's rand48: the same seed gives the same sequence as a real server.
    assert r.eval("math.randomseed(42) return {math.random(1000000), math.random(1000000), "
                  "math.random(5, 10), math.random(100)}", 0) == [744526, 342702, 5, 43]
    script = "return math.random(0)"
    with raises(ResponseError, "user_script:1: bad argument #1 to 'random' (interval is "
                               f"empty) script: {sha(script)}, on @user_script:1."):
        r.eval(script, 0)


def test_cjson_and_bit(lua):
    r = lua
    assert r.eval("return cjson.encode({1, 2, {a = 'x'}, true, cjson.null})", 0) == \
        b'[1,2,{"a":"x"},true,null]'
    assert r.eval("return cjson.encode(cjson.decode(ARGV[1]))", 0,
                  '{"a":[1,2.5,"\\u00e9"],"b":null}') in (
        b'{"a":[1,2.5,"\xc3\xa9"],"b":null}', b'{"b":null,"a":[1,2.5,"\xc3\xa9"]}')
    assert r.eval("return cjson.decode('[1,2,{\"a\":null}]')[3].a == cjson.null", 0) == 1
    script = "return cjson.decode('[1,2')"
    with raises(ResponseError, "user_script:1: Expected comma or array end but found T_END at "
                               f"character 5 script: {sha(script)}, on @user_script:1."):
        r.eval(script, 0)
    assert r.eval("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), "
                  "bit.lshift(1, 31), bit.tohex(255)}", 0) == [15, 7, 6, -2147483648, b"000000ff"]


# -- scripts are atomic; clients blocked on keys are served after them --------------
def test_blocked_clients_are_served_after_the_script(r, client_factory):
    waiter = other_client(r, client_factory)
    got = []
    thread = threading.Thread(target=lambda: got.append(waiter.blpop("l", 10)))
    thread.start()
    deadline = time.monotonic() + 10
    while r.execute_command("INFO", "clients")["blocked_clients"] != 1:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    # pushed and popped within one script: the waiter never sees it
    assert r.eval("redis.call('lpush', 'l', 'x') return redis.call('lpop', 'l')", 0) == b"x"
    assert r.eval("redis.call('lpush', 'l', 'y') redis.call('lpush', 'l', 'z') "
                  "return redis.call('llen', 'l')", 0) == 2
    thread.join(10)
    assert got == [(b"l", b"z")]
    assert r.lrange("l", 0, -1) == [b"y"]


def test_concurrent_read_modify_write_scripts_lose_no_update():
    client = minikv.Redis()
    increment = client.register_script(
        "local v = tonumber(redis.call('get', KEYS[1]) or '0') "
        "redis.call('set', KEYS[1], v + 1) return v + 1")

    def work():
        for _ in range(500):
            increment(keys=["counter"])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.get("counter") == b"2000"


def test_expiry_time_is_frozen_during_a_script(clock):
    """A key alive when the script starts stays alive to its end, as Redis's
    script time snapshot has it, while TIME moves on (and so does PTTL,
    which Redis 7.0 computes from the current time: 0 here)."""
    client = minikv.Redis(clock=clock)
    client.set("k", "v", px=500)
    start = int(clock.time())
    script = ("local t = tonumber(ARGV[1]) "
              "while tonumber(redis.call('time')[1]) < t do end "
              "return {redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}")
    result = []
    thread = threading.Thread(target=lambda: result.append(
        client.eval(script, 1, "k", start + 2)), daemon=True)
    thread.start()
    wait_for_script(client)
    clock.advance(2)
    thread.join(10)
    assert result == [[b"v", 0]]
    assert client.get("k") is None


# -- SCRIPT KILL ----------------------------------------------------------------------
@pytest.mark.parametrize("script, line", [
    ("local i = 0\nwhile true do i = i + 1 end", 2),
    ("redis.call('get', 'k')\nwhile true do pcall(function() while true do end end) end", 2),
])
def test_script_kill_stops_a_script_that_has_not_written(script, line):
    client = minikv.Redis()
    outcome = []

    def run():
        try:
            client.eval(script, 0)
        except ResponseError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=run, daemon=True)  # never outlives a failure
    thread.start()
    wait_for_script(client)
    assert client.script_kill() is True
    thread.join(10)
    assert outcome == [f"Script killed by user with SCRIPT KILL... script: {sha(script)}, "
                       f"on @user_script:{line}."]
    assert client.eval("return 1", 0) == 1  # the store is usable again


def test_script_kill_refuses_a_script_that_wrote(clock):
    client = minikv.Redis(clock=clock)
    script = ("redis.call('set', 'w', '1') "
              "while tonumber(redis.call('time')[1]) < tonumber(ARGV[1]) do end return 'done'")
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(
        client.eval(script, 0, int(clock.time()) + 5)), daemon=True)
    thread.start()
    try:
        # Only once the SET ran: a kill that lands before it stops the script.
        wait_for_script(client, wrote=True)
        with raises(ResponseError, "UNKILLABLE Sorry the script already executed write "
                                   "commands against the dataset. You can either wait the "
                                   "script termination or kill the server in a hard way "
                                   "using the SHUTDOWN NOSAVE command."):
            client.script_kill()
    finally:
        clock.advance(5)  # lets the script finish, whatever happened above
        thread.join(10)
    assert outcome == [b"done"]


class _KillDuringTime(ManualClock):
    """A clock whose next read runs SCRIPT KILL: a kill that lands between
    a script's read and its first write, deterministically."""

    def __init__(self, client_ref):
        super().__init__(start=1_700_000_000)
        self.client_ref = client_ref
        self.kill_replies = []

    def us(self):
        if not self.kill_replies and self.client_ref:
            self.kill_replies.append(self.client_ref[0].script_kill())
        return super().us()


def test_script_kill_that_answered_ok_stops_the_next_write():
    client_ref = []
    clock = _KillDuringTime(client_ref)
    client = minikv.Redis(clock=clock)
    client_ref.append(client)
    script = "redis.call('time')\nredis.call('set', 'w', '1')\nreturn 'done'"
    with raises(ResponseError, f"Script killed by user with SCRIPT KILL... script: "
                               f"{sha(script)}, on @user_script:2."):
        client.eval(script, 0)
    assert clock.kill_replies == [True]
    assert client.exists("w") == 0  # after the kill's OK, nothing was written


def test_script_kill_in_a_pipeline_is_queued():
    pipe = minikv.Redis().pipeline(transaction=False)
    pipe.script_kill()
    assert len(pipe) == 1
    with raises(ResponseError, "Command # 1 (SCRIPT KILL) of pipeline caused error: "
                               "NOTBUSY No scripts in execution right now."):
        pipe.execute()


# -- register_script and libraries built on it -----------------------------------------
def test_register_script(lua):
    r = lua
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by.sha == sha("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["n"], args=[5]) == 5  # loaded on NOSCRIPT, then run
    assert r.script_exists(incr_by.sha) == [True]
    assert incr_by(keys=["n"], args=[2]) == 7
    r.script_flush()
    assert incr_by(keys=["n"], args=[1]) == 8  # reloaded after the flush
    no_args = r.register_script(b"return 'bytes script'")
    assert no_args() == b"bytes script"


def test_register_script_in_a_pipeline(lua):
    r = lua
    script = r.register_script("return redis.call('incr', KEYS[1])")
    pipe = r.pipeline()
    script(keys=["a"], client=pipe)
    script(keys=["a"], client=pipe)
    pipe.get("a")
    assert pipe.execute() == [1, 2, b"2"]


def test_redis_py_lock_runs_on_scripts(lua, client_factory, monkeypatch):
    import redis.lock

    r = lua
    rival_client = other_client(r, client_factory)
    # Lock caches its scripts on the class: register them on this client.
    for name in ("lua_release", "lua_extend", "lua_reacquire"):
        monkeypatch.setattr(redis.lock.Lock, name, None)
    lock = r.lock("resource", timeout=10)
    assert lock.acquire(blocking=False) is True
    assert lock.owned() and lock.locked()
    check_lock_ttl_steps(lock, r)
    rival = redis.lock.Lock(rival_client, "resource", timeout=10)
    assert rival.acquire(blocking=False) is False
    lock.release()
    assert r.get("resource") is None
    assert rival.acquire(blocking=False) is True
    assert lock.acquire(blocking=False) is False
    # the key is taken over behind the lock's back: every operation notices
    r.set("resource", "someone else")
    with pytest.raises(LockNotOwnedError):
        rival.extend(5)
    with pytest.raises(LockNotOwnedError):
        rival.reacquire()
    with pytest.raises(LockNotOwnedError):
        rival.release()
    with r.lock("ctx", timeout=5) as held:
        assert held.owned()
    assert r.get("ctx") is None
    named = r.lock("named", timeout=5)
    assert named.acquire(token="mytoken") is True  # encoded with get_encoder()
    assert r.get("named") == b"mytoken" and named.owned()


def test_get_encoder(r, rd):
    assert r.get_encoder().encode("é") == "é".encode()
    assert r.get_encoder().encode(1.5) == b"1.5"
    assert r.get_encoder().decode(b"x") == b"x"
    assert rd.get_encoder().decode(b"x") == "x"
    assert r.get_encoder().decode(b"x", force=True) == "x"


def test_eval_in_a_transaction(r):
    pipe = r.pipeline()
    pipe.set("k", "1").eval("return redis.call('incr', KEYS[1])", 1, "k").get("k")
    assert pipe.execute() == [True, 2, b"2"]
    assert snapshot(r) == {0: {b"k": ("string", b"2", False)}}


# -- RESP2 side by side ----------------------------------------------------------------
SIDE_BY_SIDE = [
    # conversions RESP3 would reshape
    "return {double = 3.5}", "return {double = 0.1}", "return {double = 0/0}",
    "return {double = 1/0}", "return {double = -1/0}", "return {double = 1e300}",
    "return {double = '3'}", "return {big_number = '123'}", "return {big_number = '12\\n3'}",
    "return {map = {a = 1}}", "return {set = {a = true}}",
    "return {verbatim_string = {format = 'txt', string = 'hello'}}",
    "return {1, {ok = 'fine'}, {2, {3}}}", "return cjson.null", "return {1, cjson.null, 2}",
    "return coroutine.create(function() end)",
    # pcall, xpcall, error values
    "local e = redis.pcall('nosuch') local t = {} for k, v in pairs(e) do "
    "t[#t + 1] = k .. '=' .. tostring(v) end table.sort(t) return t",
    "return {pcall(error, {err = 'zz'})}", "return {pcall(error, {1})}",
    "return {xpcall(function() error({err = 'zz'}) end, function(e) return type(e) end)}",
    "return {xpcall(function() redis.call('nosuch') end, function(e) return e.err end)}",
    "local ok, e = pcall(function() local x = nil; return x.y end) "
    "return {tostring(ok), type(e), tostring(e)}",
    "local ok, e = pcall(error) return {tostring(ok), tostring(e)}",
    "return {select('#', pcall(function() return 1, nil, 3 end))}",
    "local ok, e = coroutine.resume(coroutine.create(function() redis.call('nosuch') end)) "
    "return {tostring(ok), e.err}",
    "local co = coroutine.wrap(function() redis.call('set', 'co', '1') "
    "coroutine.yield(redis.call('get', 'co')) end) return co()",
    "error(true)", "error()", "error(5)", "error({err = 'tbl'})", "error('a\\r\\nb', 0)",
    "local function f() error('deep') end\nlocal x = 1\nf()",
    # the sandbox
    "rawset(_G, 'x', 1)", "setmetatable(_G, nil)", "return type(getmetatable(_G))",
    "return getmetatable('').__index == string", "getmetatable('').__index.upper = nil",
    "return rawget(_G, 'redis') == redis", "return type(newproxy)", "return type(getfenv)",
    "return type(print)", "return type(debug)", "return type(os)", "return type(require)",
    "return loadstring('return 1')()", "return loadstring('x = 1')()",
    "return {loadstring('return 1 +')}",
    "local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e}",
    "local s = string.dump(function() return 1 end) local done = false "
    "local f, e = load(function() if done then return nil end done = true return s end) "
    "return {tostring(f), tostring(e)}",
    "local f = loadstring(\"error('x')\", '@custom') return f()",
    "local t = {} for k in pairs(string) do t[#t + 1] = k end table.sort(t) return t",
    "local n = 0 for k in next, math do n = n + 1 end return n",
    "local t = setmetatable({}, {__index = string}) return t.upper('x')",
    # math.random
    "math.randomseed(42) return {math.random(1000000), math.random(1000000), "
    "tostring(math.random()), math.random(5, 10)}",
    "math.randomseed(7) return math.random(1, 2, 3)", "return math.random(5, 1)",
    "return math.random('x')", "math.randomseed(-5) return math.random(100)",
    "math.randomseed('12') return math.random(100)", "return math.randomseed()",
    # cjson
    "local t = {} for k, v in pairs(cjson) do t[#t + 1] = k .. '=' .. type(v) end "
    "table.sort(t) return t",
    "return {cjson._VERSION, cjson._NAME, tostring(cjson.null), type(cjson.null)}",
    "return cjson.encode({})", "return cjson.encode({[1] = 1, [2] = 2, [4] = 4})",
    "return cjson.encode({[1] = 1, [20] = 2})", "return cjson.encode({[1] = 1, [10] = 2})",
    "return cjson.encode({1, nil, 3})", "return cjson.encode(0.1)", "return cjson.encode(1/3)",
    "return cjson.encode(1e15)", "return cjson.encode(123456789012345678)",
    "return cjson.encode(1/0)", "return cjson.encode(0/0)",
    "return cjson.encode('a\"b\\\\c/d\\n\\1\\127\\128\\t\\r\\b\\f')",
    "return cjson.encode(nil)", "return cjson.encode()", "return cjson.encode(1, 2)",
    "return cjson.encode(function() end)", "return cjson.encode({[true] = 1})",
    "return cjson.encode({[1.5] = 1, [-1] = 2, [0] = 3})",
    "local t = {} local c = t for i = 1, 1000 do c[1] = {} c = c[1] end return cjson.encode(t)",
    "return cjson.encode({a = 1, b = 2, c = 3, d = 4, e = 5})",
    "return cjson.encode({[1] = 'a', x = 'y'})", "return cjson.encode({'\\0'})",
    "return cjson.encode(string)", "return cjson.encode({1, 2, [4] = 4})",
    "return {cjson.encode_max_depth(), cjson.decode_max_depth(), "
    "cjson.encode_number_precision(), cjson.encode_keep_buffer()}",
    "return {cjson.encode_sparse_array()}",
    "return {cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}",
    "cjson.encode_sparse_array(true) return cjson.encode({[1] = 1, [20] = 2})",
    "local c = cjson.new() c.encode_sparse_array(true) "
    "return {c.encode({[1] = 1, [20] = 2}), pcall(cjson.encode, {[1] = 1, [20] = 2})}",
    "cjson.encode_number_precision(3) return cjson.encode(math.pi)",
    "return cjson.encode_number_precision(15)", "return cjson.encode_max_depth(0)",
    "return cjson.encode_invalid_numbers('bogus')", "return cjson.encode_keep_buffer(1, 2)",
    "cjson.encode_invalid_numbers('null') return cjson.encode({1/0, 0/0})",
    "cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0, 0/0})",
    "cjson.decode_invalid_numbers(false) return cjson.decode('[NaN]')",
    "cjson.decode_invalid_numbers(false) return cjson.decode('[0x10]')",
    "cjson.decode_max_depth(2) return cjson.decode('[[[1]]]')",
    "return cjson.decode('')", "return cjson.decode('{\"a\" 1}')", "return cjson.decode('[1] x')",
    "return cjson.decode('\"abc')", "return cjson.decode('\"a\\\\qb\"')",
    "return cjson.decode('\"\\\\ud800\"')", "return cjson.decode('[0x10, 010, +1, -0]')",
    "return cjson.encode(cjson.decode('[Infinity]'))", "return tostring(cjson.decode('NaN'))",
    "return tostring(cjson.decode('-Infinity'))", "return cjson.decode('nul')",
    "return cjson.decode('truex')", "return cjson.decode(5)", "return cjson.decode({})",
    "return cjson.decode()", "return cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\"')",
    "return cjson.decode(string.rep('[', 1001))", "return cjson.decode('[1e]')",
    "return cjson.decode('[-]')", "return cjson.decode('[.5]')",
    "return tostring(cjson.decode('[1.5e3, -2.5E-1]')[2])",
    "return cjson.encode(cjson.decode('{\"b\":1,\"a\":2,\"c\":[true,false,null]}'))",
    "return cjson.decode('[\"a\\0b\"]')", "return #cjson.decode('\"a\\\\u0000b\"')",
    "return {pcall(cjson.decode, 'x')}", "return {pcall(function() return cjson.decode('x') end)}",
    "return cjson.decode('\"\\\\t\\\\n\\\\/\\\\\\\\\\\\\"\\\\b\\\\f\\\\r\"')",
    "return cjson.decode('1e400')", "return tostring(cjson.decode('-1e400'))",
    "return cjson.decode('0x1p4')", "return cjson.decode('{\"a\":1,}')",
    "return cjson.decode('[1,]')", "return cjson.decode('{1:2}')",
    "return cjson.decode('\"\\\\u12\"')", "return cjson.decode('\"\\\\udc00\\\\ud800\"')",
    "return cjson.decode('\"\\\\ud800\\\\u0041\"')",
    "return cjson.encode(cjson.decode('[]'))", "return cjson.encode({['a/b'] = 'x\"y'})",
    "return cjson.decode('\\0\\0')", "return cjson.decode('  {\"a\":[1,{\"b\":\"c\"}]}  ').a[2].b",
    # bit
    "return {bit.tobit(0xffffffff), bit.tobit(2^32 + 1), bit.tobit(1.5), bit.tobit(2.5), "
    "bit.tobit(-1.5), bit.tobit(1e20), bit.tobit(1/0)}",
    "return {bit.bnot(0), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), "
    "bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.lshift(1, 33)}",
    "return {bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.tohex(255, 10), "
    "bit.tohex(0x1234, 0)}",
    "return bit.band('3', '1')", "return bit.band()", "return bit.band('x')",
    "return bit.lshift(1)", "return bit.band(1, 2, nil)", "return bit.tohex(1, nil)",
    "local t = {} for k in pairs(bit) do t[#t + 1] = k end table.sort(t) return t",
    # redis.call argument formatting and errors
    "redis.call('set', 'f', 2^53 + 1) return redis.call('get', 'f')",
    "redis.call('set', 'f', -1/0) return redis.call('get', 'f')",
    "return redis.call('set', 'k', true)", "return redis.pcall('set', 'k', {})",
    "return redis.call('select', 99)", "return redis.call('select', 'x')",
    "return redis.call('hset', 'k')", "return redis.call('object', 'nosub', 'x')",
    "return redis.call('zadd', 'z', 'nan', 'a')", "return redis.call('lpos', 'l', 'a', 'rank', 0)",
    "return redis.call('pubsub', 'help')[1].ok", "return redis.call('publish', 'ch', 'm')",
    "return #redis.call('time')", "return redis.call('echo', 'hi').ok",
    "return redis.sha1hex({})", "return redis.sha1hex(nil)",
]


@pytest.fixture(scope="module")
def resp2_redis(redis_port):
    import redis

    client = redis.Redis(port=redis_port, protocol=2)
    yield client
    client.close()


def _outcome(client, *command):
    def plain(value):
        if isinstance(value, list):
            return [plain(item) for item in value]
        if isinstance(value, Exception):
            return (type(value).__name__, str(value))
        return value
    try:
        return plain(client.execute_command(*command))
    except ResponseError as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("script", SIDE_BY_SIDE)
def test_side_by_side_with_redis(resp2_redis, script):
    resp2_redis.flushall()
    resp2_redis.script_flush()
    expected = _outcome(resp2_redis, "EVAL", script, 0)
    with minikv.Redis() as client:
        assert _outcome(client, "EVAL", script, 0) == expected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 53, 2 ** 53) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12)


def _is_negative_zero(value):
    return isinstance(value, float) and value == 0 and math.copysign(1, value) < 0


# A top-level -0 is the documented exception (engine/scripting.py): lupa hands
# a Python callable such as cjson.encode an integral number as an int, so it
# arrives as 0. Inside a table it stays in Lua and keeps its sign.
@given(value=json_values.filter(lambda value: not _is_negative_zero(value)))
def test_cjson_round_trips_as_redis(resp2_redis, value):
    import json

    document = json.dumps(value)
    resp2_redis.script_flush()
    script = ("local v = cjson.decode(ARGV[1]) "
              "return {cjson.encode(v), cjson.encode(cjson.decode(cjson.encode(v)))}")
    expected = _outcome(resp2_redis, "EVAL", script, 0, document)
    with minikv.Redis() as client:
        assert _outcome(client, "EVAL", script, 0, document) == expected


@pytest.mark.parametrize("document", ["[-0.0]", '{"a": -0.0, "b": [0.0, -0]}'])
def test_cjson_keeps_a_negative_zero_inside_a_table(resp2_redis, document):
    script = "return cjson.encode(cjson.decode(ARGV[1]))"
    expected = _outcome(resp2_redis, "EVAL", script, 0, document)
    with minikv.Redis() as client:
        assert _outcome(client, "EVAL", script, 0, document) == expected


@given(data=st.binary(max_size=40))
def test_cjson_encodes_any_bytes_as_redis(resp2_redis, data):
    script = "return {cjson.encode(ARGV[1]), cjson.decode(cjson.encode(ARGV[1])) == ARGV[1]}"
    expected = _outcome(resp2_redis, "EVAL", script, 0, data)
    with minikv.Redis() as client:
        assert _outcome(client, "EVAL", script, 0, data) == expected


def test_resp3_inside_scripts_is_refused():
    client = minikv.Redis()
    script = "redis.setresp(3)"
    with raises(ResponseError, "minikv does not support RESP3 replies inside scripts "
                               f"(redis.setresp(3)) script: {sha(script)}, on @user_script:1."):
        client.eval(script, 0)


# -- what only minikv can show ---------------------------------------------------------
def test_redis_log_goes_to_python_logging(caplog):
    client = minikv.Redis()
    with caplog.at_level("DEBUG", logger="minikv.lua"):
        client.eval("redis.log(redis.LOG_WARNING, 'disk', 42, {}, 'full') "
                    "redis.log(redis.LOG_NOTICE, 'note')", 0)
    assert [(record.levelname, record.getMessage()) for record in caplog.records] == [
        ("WARNING", "disk 42 full"), ("INFO", "note")]


def test_the_sandbox_does_not_reach_python():
    client = minikv.Redis()
    for name in ("python", "os", "io", "require", "package", "dofile", "debug"):
        with pytest.raises(ResponseError, match=f"nonexistent global variable '{name}'"):
            client.eval(f"return {name}", 0)
    with pytest.raises(ResponseError, match="Python objects are not accessible"):
        client.eval("return redis.call.__class__", 0)


def test_without_lupa_the_commands_name_the_extra():
    program = textwrap.dedent("""
        import sys
        sys.modules["lupa"] = None
        import minikv
        from redis.exceptions import ResponseError
        client = minikv.Redis()
        for call in (lambda: client.eval("return 1", 0), lambda: client.evalsha("a" * 40, 0),
                     lambda: client.script_load("return 1"), lambda: client.script_exists("a"),
                     lambda: client.script_flush(), lambda: client.script_kill(),
                     lambda: client.register_script("return 1")()):
            try:
                call()
            except ResponseError as exc:
                print(exc)
        print(client.set("still", "works"))
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=True)
    message = ("Lua scripting needs the optional 'lupa' package, which is not installed: "
               "pip install 'minikv[lua]'")
    assert done.stdout.splitlines() == [message] * 7 + ["True"]


def test_a_dropped_client_frees_its_store_at_once():
    """Scripts keep no reference to the store between runs, errors included
    (they cross Lua as Python exceptions, whose tracebacks lead to it)."""
    def use():
        client = minikv.Redis()
        client.eval("return redis.call('set', 'k', 'v')", 0)
        client.eval("return {pcall(redis.call, 'nosuch'), pcall(cjson.decode, 'x')}", 0)
        with pytest.raises(ResponseError):
            client.eval("return redis.call('nosuch')", 0)
        client.register_script("return 1")()
        return weakref.ref(client.store)

    gc.disable()
    try:
        store = use()
        assert store() is None
    finally:
        gc.enable()
