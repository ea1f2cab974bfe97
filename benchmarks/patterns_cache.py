"""Cache latency: embedded minikv vs cachetools and a real redis-server, one run.

    python benchmarks/patterns_cache.py [--quick]

Columns, µs per operation (best of the repeats, timed as
benchmarks/compare.py times a cell):

- ``minikv[<backend>]``: ``Cache(minikv.Redis())`` with the backend that
  loads here (``minikv.BACKEND``; compiled when built);
- ``minikv[pure]``: the same in a ``MINIKV_PURE=1`` subprocess (left out
  when the backend above already is pure);
- ``redis-py``: ``Cache(redis.Redis(...))`` on a private redis-server
  started on a free port; ``trips`` is how many requests one call sends
  (counted on the client's ``execute_command``).

The anchor is a ``cachetools.TTLCache`` holding the same bytes value under
the same str key: its lookup as ``ttl_cache[key]`` (the fast one: no
``Mapping.get`` layer) and as ``ttl_cache.get(key)``. The target: a
``Cache.get`` hit of a bytes value on the compiled backend within 2x of the
``ttl_cache[key]`` lookup.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from compare import machine_info, start_redis_server, stop_process, time_statement

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

TARGET_RATIO = 2
KEY = "user:1000:avatar"
VALUE = bytes(range(64))
RECORD = {"id": 1000, "name": "Ada", "roles": ["admin", "dev"], "active": True}

# (row name, statement); the namespace holds ``cache`` and the values above
OPERATIONS = [
    ("get hit (bytes)", "cache.get(KEY)"),
    ("get hit (dict, JSON)", "cache.get('record')"),
    ("get miss", "cache.get('absent')"),
    ("get_or_set hit", "cache.get_or_set(KEY, COMPUTE)"),
    ("set (bytes, ttl=60)", "cache.set('written', VALUE, ttl=60)"),
    ("set + 2 tags", "cache.set('tagged', VALUE, ttl=60, tags=TAGS)"),
    ("incr", "cache.incr('counter')"),
]
HIT_ROW = OPERATIONS[0][0]


def namespace_for(cache):
    cache.set(KEY, VALUE)
    cache.set("record", RECORD)
    return {"cache": cache, "KEY": KEY, "VALUE": VALUE, "TAGS": ["avatars", "user:1000"],
            "COMPUTE": lambda: VALUE}


def measure(client, settings):
    from minikv.patterns import Cache

    client.flushall()
    namespace = namespace_for(Cache(client))
    results = {name: time_statement(statement, namespace, *settings)
               for name, statement in OPERATIONS}
    client.flushall()
    return results


def round_trips(client):
    """Requests per call of each operation on a redis-py client."""
    from minikv.patterns import Cache

    client.flushall()
    namespace = namespace_for(Cache(client))
    trips = {}
    for name, statement in OPERATIONS:
        exec(statement, namespace)  # a first EVALSHA also loads its script
        sent = []
        execute = client.execute_command
        client.execute_command = lambda *args, **options: sent.append(args[0]) or execute(
            *args, **options)
        try:
            exec(statement, namespace)
        finally:
            del client.execute_command
        trips[name] = len(sent)
    client.flushall()
    return trips


def measure_minikv(settings):
    import minikv

    client = minikv.Redis()
    try:
        return minikv.BACKEND, measure(client, settings)
    finally:
        client.close()


def measure_ttl_cache(settings):
    from cachetools import TTLCache

    ttl_cache = TTLCache(maxsize=10_000, ttl=600)
    ttl_cache[KEY] = VALUE
    namespace = {"ttl_cache": ttl_cache, "KEY": KEY}
    return {"ttl_cache[key]": time_statement("ttl_cache[KEY]", namespace, *settings),
            "ttl_cache.get(key)": time_statement("ttl_cache.get(KEY)", namespace, *settings)}


def measure_pure_in_subprocess(args):
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "--repeats", str(args.repeats), "--cell-seconds", str(args.cell_seconds)]
    done = subprocess.run(command, env=dict(os.environ, MINIKV_PURE="1"),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"MINIKV_PURE=1 worker failed:\n{done.stderr}")
    return json.loads(done.stdout)


def measure_redis(settings, binary):
    import redis

    process, port = start_redis_server(binary)
    client = redis.Redis(port=port)
    try:
        return measure(client, settings), round_trips(client)
    finally:
        client.close()
        stop_process(process)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats of ~0.1 s per cell instead of 5 of ~0.2 s")
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cell-seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.cell_seconds is None:
        args.cell_seconds = 0.1 if args.quick else 0.2
    return args


def main(argv=None):
    args = parse_args(argv)
    settings = (int(args.cell_seconds * 1e9 / args.repeats), args.repeats)
    if args.worker:
        print(json.dumps(measure_minikv(settings)[1]))
        return
    # The anchor and the embedded cache are timed back to back, in this process.
    anchor = measure_ttl_cache(settings)
    backend, embedded = measure_minikv(settings)
    columns = {f"minikv[{backend}]": embedded}
    if backend != "pure":
        columns["minikv[pure]"] = measure_pure_in_subprocess(args)
    binary = shutil.which("redis-server")
    trips = None
    if binary is not None:
        columns["redis-py"], trips = measure_redis(settings, binary)
    print(" ".join(f"{key}={value}" for key, value in machine_info().items()))
    header = f"{'Cache op (µs/op)':<24}" + "".join(f"{name:>16}" for name in columns)
    if trips is not None:
        header += f"{'redis trips':>13}"
    print(header)
    for name, _ in OPERATIONS:
        line = f"{name:<24}" + "".join(f"{column[name]:>16.3f}" for column in columns.values())
        if trips is not None:
            line += f"{trips[name]:>13}"
        print(line)
    for name, value in anchor.items():
        print(f"{'TTLCache ' + name:<24}{value:>16.3f}")
    if binary is None:
        print("redis-py column left out: no redis-server on PATH")
    ratio = embedded[HIT_ROW] / anchor["ttl_cache[key]"]
    print(f"Cache.get hit (bytes, minikv[{backend}]) / TTLCache[key] = {ratio:.2f}x "
          f"(vs TTLCache.get(key): {embedded[HIT_ROW] / anchor['ttl_cache.get(key)']:.2f}x); "
          f"target <= {TARGET_RATIO}x: {'MET' if ratio <= TARGET_RATIO else 'NOT MET'}")


if __name__ == "__main__":
    main()
