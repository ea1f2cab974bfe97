"""Server and connection commands (server.c, db.c, config.c).

PING, ECHO, TIME, DBSIZE, SELECT, SWAPDB, FLUSHDB, FLUSHALL, INFO and
CONFIG GET/SET/RESETSTAT. TIME and INFO's server time read the store's
clock, so a ``ManualClock`` controls them like every expiry.

INFO reports only what minikv measures or knows. Its text has Redis's
layout ("# Section" headers, "field:value" lines, CRLF, a blank line between
sections) so redis-py's parser turns it into the same dict shapes. The
sections are server, clients, memory, stats and keyspace; a section minikv
does not produce is skipped, as Redis skips unknown section names.
``connected_clients`` counts the live clients (sessions) of the store,
``blocked_clients`` the calls waiting in BLPOP and friends. There
is no total_commands_processed: the client's fast paths bypass the command
table and nothing counts them, and a made-up number would be worse than none.

``used_memory`` is engine/memory.py's estimate of what the keys occupy
(with maxmemory set, the sum of their MEMORY USAGE, kept incrementally and
enforced by engine/eviction.py; without, a walk that measures the dicts as
they are), and ``evicted_keys`` counts the keys eviction removed.
``avg_ttl`` is the exact mean remaining TTL of the live keys that have one
(Redis estimates it by sampling in its expiry cycle, so its figure lags); it
walks the keyspace, so INFO costs O(keys) — and so does used_memory while
maxmemory is 0, when no running total is kept.
"""
import os
import platform
import struct
import time

from minikv.backend import BACKEND
from minikv.engine.blocking import signal_database
from minikv.engine.commands import command
from minikv.engine.transactions import touch_all_watched_keys
from minikv.engine.errors import (
    DB_INDEX, INT_RANGE, INVALID_FIRST_DB_INDEX, INVALID_SECOND_DB_INDEX, NOT_INTEGER, SYNTAX,
    CommandError, wrong_arity,
)
from minikv.engine.eviction import configure as configure_memory
from minikv.engine.memory import used_memory
from minikv.engine.notify import configure as configure_notifications
from minikv.engine.numbers import parse_int

REDIS_VERSION = "7.0.15"
OK = b"OK"
PONG = b"PONG"
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


# PING [message]
@command("ping", -1, "fast")
def cmd_ping(session, args):
    if len(args) > 1:
        raise CommandError(wrong_arity("ping"))
    return args[0] if args else PONG


# ECHO message
@command("echo", 2, "fast")
def cmd_echo(session, args):
    return args[0]


def clock_micros(store):
    """The store clock as (seconds, microseconds), TIME's reply."""
    return divmod(store.clock.us(), 1_000_000)


# TIME
@command("time", 1, "fast")
def cmd_time(session, args):
    seconds, micros = clock_micros(session.store)
    return [str(seconds).encode(), str(micros).encode()]


# DBSIZE
@command("dbsize", 1, "readonly fast")
def cmd_dbsize(session, args):
    # Like Redis's dictSize: keys past their TTL count until they are reclaimed.
    return len(session.ks)


def _int32_arg(data, error):
    """Redis's getIntFromObjectOrReply: int64 parse, then an int range check."""
    value = parse_int(data)
    if value is None:
        raise CommandError(error or NOT_INTEGER)
    if not INT32_MIN <= value <= INT32_MAX:
        raise CommandError(error or INT_RANGE)
    return value


# SELECT index
@command("select", 2, "loading stale fast")
def cmd_select(session, args):
    session.select(_int32_arg(args[0], None))
    return OK


# SWAPDB index1 index2
@command("swapdb", 3, "write fast")
def cmd_swapdb(session, args):
    first = _int32_arg(args[0], INVALID_FIRST_DB_INDEX)
    second = _int32_arg(args[1], INVALID_SECOND_DB_INDEX)
    dbs = session.store.dbs
    if not (0 <= first < len(dbs) and 0 <= second < len(dbs)):
        raise CommandError(DB_INDEX)
    if first != second:
        # Contents move, the Keyspace objects stay: every session keeps its index,
        # and so do blocked clients, who may now find their keys (Redis 7.0),
        # and WATCHes, which see the keys change in both dbs.
        touch_all_watched_keys(dbs[first], dbs[second])
        touch_all_watched_keys(dbs[second], dbs[first])
        dbs[first].swap(dbs[second])
        signal_database(session.store, first)
        signal_database(session.store, second)
    return OK


def _flush_mode(args):
    """FLUSHDB/FLUSHALL's optional ASYNC|SYNC. Both free memory at once here."""
    if len(args) > 1 or (args and args[0].upper() not in (b"ASYNC", b"SYNC")):
        raise CommandError(SYNTAX)


# FLUSHDB [ASYNC|SYNC]
@command("flushdb", -1, "write")
def cmd_flushdb(session, args):
    _flush_mode(args)
    touch_all_watched_keys(session.ks)
    session.ks.clear()
    return OK


# FLUSHALL [ASYNC|SYNC]
@command("flushall", -1, "write")
def cmd_flushall(session, args):
    _flush_mode(args)
    session.store.flushall()
    return OK


# CONFIG GET parameter [parameter ...]
@command("config|get", -3, "admin noscript loading stale")
def cmd_config_get(session, args):
    return session.store.config.get(args)


# CONFIG SET parameter value [parameter value ...]
@command("config|set", -4, "admin noscript loading stale")
def cmd_config_set(session, args):
    store = session.store
    store.config.set(args)
    configure_notifications(store)
    configure_memory(store)
    return OK


# CONFIG RESETSTAT
@command("config|resetstat", 2, "admin noscript loading stale")
def cmd_config_resetstat(session, args):
    reset_stats(session.store)
    return OK


def reset_stats(store):
    """Zero the counters INFO stats reports, as CONFIG RESETSTAT does."""
    for name in store.stats:
        store.stats[name] = 0
    for ks in store.dbs:
        ks.hits = ks.misses = ks.expired = 0


# -- INFO --------------------------------------------------------------------
def bytes_to_human(n):
    """Redis's bytesToHuman: 1023B, 1.00K, 1.11M, ... and bytes again past P."""
    for exponent, unit in enumerate("KMGTP", start=1):
        if n < 1024 ** exponent:
            break
        if n < 1024 ** (exponent + 1):
            return f"{n / 1024 ** exponent:.2f}{unit}"
    return f"{n}B"


def _average_ttl(ks, now):
    """Mean remaining TTL in ms of the keys that have one and are live; 0 if none."""
    pending = [when for when in ks.expires.values() if when > now]
    if not pending:
        return 0
    return (sum(pending) - now * len(pending)) // len(pending)


def _server_section(store):
    seconds, micros = clock_micros(store)
    uptime = int(time.monotonic() - store.started)
    uname = platform.uname()
    return [
        ("redis_version", REDIS_VERSION),
        ("redis_mode", "standalone"),
        ("os", f"{uname.system} {uname.release} {uname.machine}"),
        ("arch_bits", struct.calcsize("P") * 8),
        ("process_id", os.getpid()),
        ("run_id", store.run_id),
        ("server_time_usec", seconds * 1_000_000 + micros),
        ("uptime_in_seconds", uptime),
        ("uptime_in_days", uptime // 86400),
        # The active-expiry thread runs this many cycles a second (CONFIG SET hz).
        ("hz", store.config["hz"]),
        ("configured_hz", store.config["hz"]),
        ("minikv_backend", BACKEND),
    ]


def _clients_section(store):
    return [("connected_clients", len(store.sessions)), ("blocked_clients", len(store.blocked))]


def _memory_section(store):
    used = used_memory(store)
    maxmemory = store.config["maxmemory"]
    return [
        ("used_memory", used),
        ("used_memory_human", bytes_to_human(used)),
        ("maxmemory", maxmemory),
        ("maxmemory_human", bytes_to_human(maxmemory)),
        ("maxmemory_policy", store.config["maxmemory-policy"]),
    ]


def _stats_section(store):
    return [
        ("expired_keys", store.stats["expired_keys"]),
        ("evicted_keys", store.stats["evicted_keys"]),
        ("keyspace_hits", sum(ks.hits for ks in store.dbs)),
        ("keyspace_misses", sum(ks.misses for ks in store.dbs)),
    ]


def _keyspace_section(store):
    now = store.clock.ms()
    return [(f"db{index}", f"keys={len(ks)},expires={len(ks.expires)},"
                           f"avg_ttl={_average_ttl(ks, now)}")
            for index, ks in enumerate(store.dbs) if len(ks)]


# Sections in Redis's order: (name INFO accepts, header, builder).
SECTIONS = (
    ("server", "Server", _server_section),
    ("clients", "Clients", _clients_section),
    ("memory", "Memory", _memory_section),
    ("stats", "Stats", _stats_section),
    ("keyspace", "Keyspace", _keyspace_section),
)
_ALL_SECTIONS = frozenset(name for name, _, _ in SECTIONS)
_SECTION_GROUPS = {b"default": _ALL_SECTIONS, b"all": _ALL_SECTIONS, b"everything": _ALL_SECTIONS}


def info_text(store, wanted):
    """INFO's reply for the section names in ``wanted`` (lower-case str)."""
    blocks = []
    for name, header, build in SECTIONS:
        if name in wanted:
            lines = [f"# {header}\r\n"]
            lines += [f"{field}:{value}\r\n" for field, value in build(store)]
            blocks.append("".join(lines))
    return "\r\n".join(blocks).encode()


# INFO [section [section ...]]
@command("info", -1, "loading stale")
def cmd_info(session, args):
    wanted = set()
    for arg in args or [b"default"]:
        lowered = arg.lower()
        wanted |= _SECTION_GROUPS.get(lowered) or {lowered.decode(errors="replace")}
    return info_text(session.store, wanted)
