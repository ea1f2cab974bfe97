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
        results[name] = time_statement(statement, namespace, *settings)
    client.flushall()
    return results


def measure_minikv(settings):
    import minikv

    client = minikv.Redis()
    try:
        return minikv.BACKEND, measure(client, settings)
    finally:
        client.close()


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
        return measure(client, settings)
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
    backend, embedded = measure_minikv(settings)
    columns = {f"minikv[{backend}]": embedded}
    if backend != "pure":
        columns["minikv[pure]"] = measure_pure_in_subprocess(args)
    binary = shutil.which("redis-server")
    if binary is not None:
        columns["redis-py"] = measure_redis(settings, binary)
    print(" ".join(f"{key}={value}" for key, value in machine_info().items()))
    header = f"{'SessionStore op (µs/op)':<24}" + "".join(f"{name:>16}" for name in columns)
    if "redis-py" in columns:
        header += f"{'redis-py / ' + next(iter(columns)):>28}"
    print(header)
    for name, _, _ in OPERATIONS:
        line = f"{name:<24}" + "".join(f"{column[name]:>16.2f}" for column in columns.values())
        if "redis-py" in columns:
            line += f"{columns['redis-py'][name] / embedded[name]:>27.1f}x"
        print(line)
    if binary is None:
        print("redis-py column left out: no redis-server on PATH")


if __name__ == "__main__":
    main()
