"""Where the time of a hot command goes: cProfile over many calls.

    python benchmarks/profile_hot_paths.py [--calls N] [--top K] [op ...]
    MINIKV_PURE=1 python benchmarks/profile_hot_paths.py get incr

Runs each operation ``--calls`` times on a fresh ``minikv.Redis()`` (the
backend that loads here; ``MINIKV_PURE=1`` for the pure one) under
cProfile and prints, per operation, the functions with the most own time.
cProfile adds a fixed cost to every Python-level call and none to C calls,
so the absolute figures overstate Python-heavy paths; what it is for is the
*shape*: which Python functions a call runs through, and how often. On the
compiled backend a fast path shows as one C method and nothing under it —
that is the point of it.

Keys and values are str, as application code passes them (the encoding is
part of every call's cost).
"""
import argparse
import cProfile
import io
import pstats
import sys

import harness  # noqa: F401  (first: it puts the working tree on sys.path)
import minikv

OPERATIONS = {
    "get": lambda r: r.get("user:1"),
    "set": lambda r: r.set("user:2", "alice"),
    "set_ex": lambda r: r.set("session:1", "alice", ex=60),
    "incr": lambda r: r.incr("counter"),
    "hget": lambda r: r.hget("user:h", "email"),
    "hset": lambda r: r.hset("user:h", "email", "a@example.org"),
    "expire_ttl": lambda r: (r.expire("user:1", 60), r.ttl("user:1")),
    "zincrby": lambda r: r.zincrby("board", 1, "member:500"),
    "zrevrange": lambda r: r.zrevrange("board", 0, 9, withscores=True),
    "lpush_rpop": lambda r: (r.lpush("queue", "job"), r.rpop("queue")),
}


def prepare(r):
    r.set("user:1", "alice")
    r.hset("user:h", "email", "a@example.org")
    r.zadd("board", {f"member:{i}": i for i in range(1000)})


def profile(name, calls, top):
    r = minikv.Redis()
    prepare(r)
    operation = OPERATIONS[name]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        operation(r)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    print(f"== {name} ({calls} calls, backend {minikv.BACKEND})")
    for line in lines[start:]:
        print("  " + line)
    r.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("operations", nargs="*", choices=[[], *OPERATIONS], default=[])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args(argv)
    for name in args.operations or OPERATIONS:
        profile(name, args.calls, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
