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
import json
import shutil

import harness

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
    results = {name: harness.time_statement(statement, namespace, *settings)
               for name, statement in OPERATIONS}
    client.flushall()
    return results


def round_trips(client):
    """Requests per call of each operation on a redis-py client."""
    from minikv.patterns import Cache

    client.flushall()
    namespace = namespace_for(Cache(client))
    trips = {name: harness.requests_per_call(client, statement, namespace)
             for name, statement in OPERATIONS}
    client.flushall()
    return trips


def measure_minikv(settings):
    return harness.on_minikv(measure, settings)


def measure_ttl_cache(settings):
    from cachetools import TTLCache

    ttl_cache = TTLCache(maxsize=10_000, ttl=600)
    ttl_cache[KEY] = VALUE
    namespace = {"ttl_cache": ttl_cache, "KEY": KEY}
    return {"ttl_cache[key]": harness.time_statement("ttl_cache[KEY]", namespace, *settings),
            "ttl_cache.get(key)": harness.time_statement("ttl_cache.get(KEY)", namespace,
                                                         *settings)}


def measure_redis(settings, binary):
    return harness.on_redis_py(
        binary, lambda client: (measure(client, settings), round_trips(client)))


def parse_args(argv):
    return harness.parse_with_defaults(harness.bench_parser(__doc__), argv,
                                       harness.CELL_DEFAULTS)


def main(argv=None):
    args = parse_args(argv)
    settings = harness.cell_settings(args)
    if args.worker:
        print(json.dumps(measure_minikv(settings)[1]))
        return
    # The anchor and the embedded cache are timed back to back, in this process.
    anchor = measure_ttl_cache(settings)
    backend, columns = harness.minikv_columns(__file__, lambda: measure_minikv(settings),
                                              harness.forward(args, "repeats", "cell_seconds"))
    embedded = columns[f"minikv[{backend}]"]
    binary = shutil.which("redis-server")
    extras = []
    if binary is not None:
        columns["redis-py"], trips = measure_redis(settings, binary)
        extras.append(("redis trips", 13, lambda name: str(trips[name])))
    print(harness.machine_line())
    harness.print_fixed_table("Cache op (µs/op)", 24, columns, [name for name, _ in OPERATIONS],
                              16, lambda name, value: f"{value:.3f}", extras)
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
