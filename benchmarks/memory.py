"""Memory per key: minikv next to a plain dict of bytes.

    python benchmarks/memory.py [--keys N] [--quick] [--json PATH]

Stores N string keys (``b"key:00000042"``, 12 bytes) with 14-byte values
(``b"value:00000042"``) in:

- ``dict``: a plain ``dict`` of bytes -> bytes, the reference every ratio is
  taken against;
- ``dict + expiry dict``: the same plus a second dict key -> absolute expiry
  in ms, the least a TTL can cost in CPython (for the "with TTL" rows);
- ``minikv[<backend>]``: ``minikv.Redis().set(key, value)``, and with TTL
  ``set(key, value, ex=3600)``, for the backend that loads here and, when
  that is not the pure one, again with ``MINIKV_PURE=1``.

Keys and values are passed as bytes, so every structure holds the same kind
of objects and the figures include them (~48 bytes each under pymalloc).

Each case is measured twice, each time in a fresh interpreter (a subprocess
of this script; up to one per CPU, at most 4, run at a time):

1. tracemalloc — the primary figure: bytes of Python allocations alive after
   filling minus before, tracing started just before filling. Tracing makes
   every allocation dearer, the short-lived ones inside each command too, so
   this pass is the slow one (minikv's SET with EX most of all).
2. RSS delta — the second opinion: resident memory before and after filling,
   untraced; includes allocator slack and page granularity.

Both are taken after ``gc.collect()`` and exclude the fixed cost of an
empty store (16 empty databases, the client), so they are per-key costs.
Dicts grow in powers of two, so bytes/key steps with N; compare at the same N.
With TTLs the pure backend's active-expiry pass may hold a snapshot list of
the keys with a TTL (8 bytes/key) while it walks them; the figure includes
it when the pass is under way, as a real process would. The compiled
backend keeps the TTLs in a C table (``ExpiryTable`` in minikv/_core.pyx)
and its pass walks that table in place.
"""
import argparse
import gc
import json
import os
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import harness
from harness import resident_bytes

TTL_SECONDS = 3600
PARALLEL_WORKERS = min(os.cpu_count() or 2, 4)  # each traced 1e6 run holds ~0.5 GB


def key_and_value(i):
    return b"key:%08d" % i, b"value:%08d" % i


# -- the structures: make() an empty one, fill(it, n), close(it) ------------
def make_dict():
    return {}


def fill_dict(data, count):
    for i in range(count):
        key, value = key_and_value(i)
        data[key] = value


def make_dict_with_expiry():
    return {}, {}


def fill_dict_with_expiry(pair, count):
    data, expires = pair
    for i in range(count):
        key, value = key_and_value(i)
        data[key] = value
        expires[key] = time.time_ns() // 1_000_000 + TTL_SECONDS * 1000


def make_minikv():
    import minikv
    return minikv.Redis()


def fill_minikv(client, count):
    for i in range(count):
        client.set(*key_and_value(i))


def fill_minikv_with_ttl(client, count):
    for i in range(count):
        key, value = key_and_value(i)
        client.set(key, value, ex=TTL_SECONDS)


def close_minikv(client):
    client.close()


def close_nothing(_):
    pass


CASES = {
    "dict": (make_dict, fill_dict, close_nothing),
    "dict+expiry": (make_dict_with_expiry, fill_dict_with_expiry, close_nothing),
    "minikv": (make_minikv, fill_minikv, close_minikv),
    "minikv+ttl": (make_minikv, fill_minikv_with_ttl, close_minikv),
}


# -- measuring, in the worker -------------------------------------------------
def measure_rss(fill, target, count):
    before = resident_bytes()
    fill(target, count)
    gc.collect()
    after = resident_bytes()
    return None if before is None or after is None else after - before


def measure_traced(fill, target, count):
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fill(target, count)
    gc.collect()
    added = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return added


METHODS = {"tracemalloc": measure_traced, "rss": measure_rss}


def run_worker(case, method, count):
    """Print, as JSON, the bytes ``count`` keys add to a fresh ``case``."""
    make, fill, close = CASES[case]
    backend = None
    if case.startswith("minikv"):
        import minikv
        backend = minikv.BACKEND
    gc.disable()  # nothing here makes cycles; keep collections out of the way
    target = make()
    gc.collect()
    added = METHODS[method](fill, target, count)
    close(target)
    json.dump({"backend": backend, "bytes": added}, sys.stdout)


# -- the parent ---------------------------------------------------------------
# Rough relative run times, to start the longest jobs first so the parallel
# workers finish together (tracing makes every allocation, even a
# short-lived one inside a command, several times dearer).
CASE_COST = {"dict": 1, "dict+expiry": 3, "minikv": 4, "minikv+ttl": 12}
METHOD_COST = {"tracemalloc": 4, "rss": 1}


def spawn(case, method, count, pure):
    return harness.run_script(
        __file__, ["--worker", case, "--method", method, "--keys", str(count)],
        harness.PURE if pure else {}, f"worker {case}/{method} (pure={pure})")


def plan(active_backend):
    """(row label, case, force pure) for every row, in print order."""
    rows = [("dict (bytes -> bytes)", "dict", False),
            ("dict + expiry dict", "dict+expiry", False)]
    backends = [(active_backend, False)]
    if active_backend != "pure":
        backends.append(("pure", True))
    for backend, pure in backends:
        rows.append((f"minikv[{backend}]", "minikv", pure))
        rows.append((f"minikv[{backend}] with TTL", "minikv+ttl", pure))
    return rows


def measure_all(rows, count):
    """{(row index, method): worker answer}, every job in its own process."""
    jobs = [(index, method) for index in range(len(rows)) for method in METHODS]
    jobs.sort(key=lambda job: -CASE_COST[rows[job[0]][1]] * METHOD_COST[job[1]])

    def run(job):
        index, method = job
        _, case, pure = rows[index]
        return job, spawn(case, method, count, pure)

    with ThreadPoolExecutor(PARALLEL_WORKERS) as pool:
        return dict(pool.map(run, jobs))


def per_key(total, count):
    return None if total is None else total / count


def format_number(value, suffix=""):
    return "n/a" if value is None else f"{value:.1f}{suffix}"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=float, help="number of keys (default 1e6; 1e5 with --quick)")
    parser.add_argument("--quick", action="store_true", help="100,000 keys unless --keys is given")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--worker", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--method", choices=sorted(METHODS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker and not args.method:
        parser.error("--worker needs --method")
    if args.keys is None:
        args.keys = 1e5 if args.quick else 1e6
    args.keys = int(args.keys)
    if args.keys < 1:
        parser.error("--keys must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        run_worker(args.worker, args.method, args.keys)
        return 0

    import minikv

    started = time.monotonic()
    rows = plan(minikv.BACKEND)
    answers = measure_all(rows, args.keys)
    elapsed = time.monotonic() - started

    reference = {method: per_key(answers[0, method]["bytes"], args.keys) for method in METHODS}
    table = []
    for index, (label, case, _) in enumerate(rows):
        traced = per_key(answers[index, "tracemalloc"]["bytes"], args.keys)
        rss = per_key(answers[index, "rss"]["bytes"], args.keys)
        table.append({
            "structure": label, "case": case, "backend": answers[index, "rss"]["backend"],
            "tracemalloc_bytes_per_key": traced,
            "tracemalloc_ratio": traced / reference["tracemalloc"],
            "rss_bytes_per_key": rss,
            "rss_ratio": None if rss is None or not reference["rss"] else rss / reference["rss"],
        })

    print(f"{args.keys:,} keys of 12 bytes, values of 14 bytes (bytes objects); "
          f"minikv.BACKEND = {minikv.BACKEND}; Python {sys.version.split()[0]}")
    if minikv.BACKEND == "pure":
        print("note: only the pure backend exists here (compiled core not built or MINIKV_PURE=1)")
    headers = ["structure", "tracemalloc B/key", "x dict", "RSS B/key", "x dict"]
    cells = [[row["structure"], format_number(row["tracemalloc_bytes_per_key"]),
              format_number(row["tracemalloc_ratio"], "x"),
              format_number(row["rss_bytes_per_key"]), format_number(row["rss_ratio"], "x")]
             for row in table]
    harness.print_table(headers[0], headers[1:], cells)
    print(f"({elapsed:.1f} s)")

    if args.json:
        report = {"keys": args.keys, "key_bytes": 12, "value_bytes": 14,
                  "backend": minikv.BACKEND, "python": sys.version.split()[0], "rows": table}
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
