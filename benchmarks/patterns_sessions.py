"""SessionStore latency, embedded minikv vs a real redis-server, in one run.

    python benchmarks/patterns_sessions.py [--quick]

Columns, µs per operation (best of the repeats, as benchmarks/compare.py
times a cell):

- ``minikv[<backend>]``: ``SessionStore(minikv.Redis())`` with the backend
  that loads here (``minikv.BACKEND``; compiled when built);
- ``minikv[pure]``: the same in a ``MINIKV_PURE=1`` subprocess (left out
  when the backend above already is pure);
- ``redis-py``: ``SessionStore(redis.Redis(...))`` on a private
  redis-server started on a free port (one EVALSHA round trip per call).

The session read and updated holds 5 small fields; ``create`` stores 2
fields (and, in the "user" row, links the session to a user whose set
holds one other session). ``get`` runs with ``sliding=True`` (HGETALL +
PEXPIRE in one step) and with ``sliding=False`` (the step only reads).
"""
import json
import shutil

import harness

SESSION = {"user": 42, "cart": [1, 2, 3], "theme": "dark", "lang": "en", "csrf": "x" * 32}

# (row name, statement, store settings)
OPERATIONS = [
    ("create", "store.create(NEW)", {}),
    ("create (user)", "store.create(NEW, user_id=7)", {}),
    ("get (sliding)", "store.get(sid)", {}),
    ("get (fixed)", "store.get(sid)", {"sliding": False}),
    ("update 1 field", "store.update(sid, theme='light')", {}),
    ("ttl", "store.ttl(sid)", {}),
]


def measure(client, settings):
    from minikv.patterns import SessionStore

    results = {}
    for name, statement, options in OPERATIONS:
        client.flushall()
        store = SessionStore(client, **options)
        store.create(user_id=7)
        namespace = {"store": store, "sid": store.create(SESSION),
                     "NEW": {"user": 42, "cart": []}}
        results[name] = harness.time_statement(statement, namespace, *settings)
    client.flushall()
    return results


def measure_minikv(settings):
    return harness.on_minikv(measure, settings)


def parse_args(argv):
    return harness.parse_with_defaults(harness.bench_parser(__doc__), argv,
                                       harness.CELL_DEFAULTS)


def main(argv=None):
    args = parse_args(argv)
    settings = harness.cell_settings(args)
    if args.worker:
        print(json.dumps(measure_minikv(settings)[1]))
        return
    backend, columns = harness.minikv_columns(__file__, lambda: measure_minikv(settings),
                                              harness.forward(args, "repeats", "cell_seconds"))
    embedded = columns[f"minikv[{backend}]"]
    binary = shutil.which("redis-server")
    extras = []
    if binary is not None:
        redis_py = columns["redis-py"] = harness.on_redis_py(binary, measure, settings)
        extras.append(("redis-py / " + next(iter(columns)), 28,
                       lambda name: f"{redis_py[name] / embedded[name]:.1f}x"))
    print(harness.machine_line())
    harness.print_fixed_table("SessionStore op (µs/op)", 24, columns,
                              [name for name, _, _ in OPERATIONS], 16,
                              lambda name, value: f"{value:.2f}", extras)
    if binary is None:
        print("redis-py column left out: no redis-server on PATH")


if __name__ == "__main__":
    main()
