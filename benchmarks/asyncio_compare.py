"""``await r.get()`` on minikv.asyncio next to its alternatives, in one run.

    python benchmarks/asyncio_compare.py [--quick] [--json PATH]

Columns, all measured on this machine in this one run, each inside an event
loop (``asyncio.run``), on a client created in that loop:

- ``floor``: the least an awaited call into a thread-safe in-process store
  can cost — ``await get(k)`` of a coroutine that reads a dict under a
  ``threading.Lock``.
- ``minikv.asyncio[<backend>]``: ``minikv.asyncio.Redis()`` with whichever
  backend loads here; ``minikv.asyncio[pure]``: the same with
  ``MINIKV_PURE=1``, measured by a subprocess of this script (left out when
  the backend above already is the pure one).
- ``fakeredis``: ``fakeredis.FakeAsyncRedis()``.
- ``redis.asyncio``: ``redis.asyncio.Redis`` on a private ``redis-server``
  started on a free port without persistence (benchmarks/compare.py's
  helpers) and stopped at the end; left out without a redis-server on PATH.

Method: each cell runs ``for _ in range(n): await <statement>`` in a
coroutine compiled for it, timed with ``time.perf_counter_ns`` with the
garbage collector off; ``n`` is calibrated so that one repeat takes
``cell-seconds / repeats``; after a warm-up run the best of ``repeats``
runs is reported, in µs per statement. The loop's own cost is in every
column alike. Keys and values are ``str``, as application code passes them.

The target (issue 8): ``await r.get()`` (GET of an existing key) at least
20x faster than ``fakeredis.FakeAsyncRedis`` and than ``redis.asyncio``
against the local redis-server, for each minikv backend measured.
"""
import argparse
import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

# compare.py (same directory) puts the working tree first on sys.path.
from compare import (
    format_ratio, format_us, machine_info, print_table, ratio, start_redis_server, stop_process,
)

TARGET_RATIO = 20
TARGET_OP = "GET (hit)"

STATE = {"K_GET": "user:1000:name", "K_SET": "user:1001:name", "MISSING": "no:such:key",
         "L": "queue:jobs", "V": "alice@example.org"}

# (operation, statement on an async redis-py-style client ``c``, floor statement)
OPERATIONS = [
    ("GET (hit)", "await c.get(K_GET)", "await get(K_GET)"),
    ("GET (miss)", "await c.get(MISSING)", "await get(MISSING)"),
    ("SET", "await c.set(K_SET, V)", "await put(K_SET, V)"),
    # A blocking command that finds its data: it answers at once, inline.
    ("RPUSH+BLPOP (data there)", "await c.rpush(L, V); await c.blpop(L, 1)",
     "await put(L, V); await get(L)"),
]


async def time_statement(statement, namespace, repeat_ns, repeats):
    """Best µs per statement of ``repeats`` runs, each ~``repeat_ns`` long."""
    source = "async def run(n):\n    for _ in range(n):\n" + textwrap.indent(statement, " " * 8)
    scope = dict(namespace)
    exec(compile(source, "<benchmark>", "exec"), scope)
    run = scope["run"]

    async def timed(iterations):
        gc.disable()
        try:
            started = time.perf_counter_ns()
            await run(iterations)
            return time.perf_counter_ns() - started
        finally:
            gc.enable()

    iterations = 1
    while True:  # calibrate on growing runs; they double as warm-up
        elapsed = await timed(iterations)
        if elapsed >= repeat_ns // 10:
            break
        iterations *= 10 if elapsed < repeat_ns // 100 else 2
    iterations = max(1, iterations * repeat_ns // max(elapsed, 1))
    await timed(iterations)  # warm-up at full length
    best = min([await timed(iterations) for _ in range(repeats)])
    return best / iterations / 1000


async def measure_client(client, settings):
    await client.set(STATE["K_GET"], STATE["V"])
    namespace = dict(STATE, c=client)
    return {name: await time_statement(statement, namespace, *settings)
            for name, statement, _ in OPERATIONS}


async def measure_floor(settings):
    lock = threading.Lock()
    data = {STATE["K_GET"]: STATE["V"]}

    async def get(key):
        with lock:
            return data.get(key)

    async def put(key, value):
        with lock:
            data[key] = value

    namespace = dict(STATE, get=get, put=put)
    return {name: await time_statement(floor, namespace, *settings)
            for name, _, floor in OPERATIONS}


async def measure_minikv(settings):
    import minikv
    import minikv.asyncio

    client = minikv.asyncio.Redis()
    try:
        return minikv.BACKEND, await measure_client(client, settings)
    finally:
        await client.aclose()


def measure_pure_in_subprocess(args):
    """This script as a MINIKV_PURE=1 worker; its JSON answer."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               "--repeats", str(args.repeats), "--cell-seconds", str(args.cell_seconds)]
    done = subprocess.run(command, env=dict(os.environ, MINIKV_PURE="1"),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"MINIKV_PURE=1 worker failed:\n{done.stderr}")
    return json.loads(done.stdout)


async def measure_fakeredis(settings):
    import fakeredis

    client = fakeredis.FakeAsyncRedis()
    await client.flushall()
    try:
        return await measure_client(client, settings)
    finally:
        await client.aclose()


async def measure_redis_asyncio(settings, port):
    import redis.asyncio

    client = redis.asyncio.Redis(port=port)
    await client.flushall()
    try:
        return await measure_client(client, settings)
    finally:
        await client.aclose()


def verdict(results, minikv_columns):
    """(met, lines): the target for each measured minikv column."""
    met, lines = True, []
    for column in minikv_columns:
        parts = []
        for competitor in ("fakeredis", "redis.asyncio"):
            if competitor not in results:
                met = False
                parts.append(f"{competitor}: not measured")
                continue
            speedup = ratio(results[competitor][TARGET_OP], results[column][TARGET_OP])
            met = met and speedup >= TARGET_RATIO
            parts.append(f"vs {competitor} {format_ratio(speedup)}")
        lines.append(f"{column}: " + ", ".join(parts))
    return met, lines


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 repeats of ~0.1 s per cell instead of 5 of ~0.2 s")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
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
    gc.collect()
    if args.worker:  # the minikv.asyncio[pure] column, as JSON on stdout
        backend, results = asyncio.run(measure_minikv(settings))
        json.dump({"backend": backend, "results": results}, sys.stdout)
        return 0

    results, remarks = {}, []
    results["floor"] = asyncio.run(measure_floor(settings))
    backend, results[f"minikv.asyncio[{backend}]"] = asyncio.run(measure_minikv(settings))
    minikv_columns = [f"minikv.asyncio[{backend}]"]
    if backend == "pure":
        remarks.append("only the pure backend was measured")
    else:
        worker = measure_pure_in_subprocess(args)
        results["minikv.asyncio[pure]"] = worker["results"]
        minikv_columns.append("minikv.asyncio[pure]")
    results["fakeredis"] = asyncio.run(measure_fakeredis(settings))
    binary = shutil.which("redis-server")
    if binary is None:
        remarks.append("redis-server is not on PATH: no redis.asyncio column")
    else:
        process, port = start_redis_server(binary)
        try:
            results["redis.asyncio"] = asyncio.run(measure_redis_asyncio(settings, port))
        finally:
            stop_process(process)

    info = machine_info()
    print(f"minikv.BACKEND = {backend} | Python {info['python']} ({info['implementation']}) | "
          f"{info['platform']} | {info['cpus']} CPUs")
    print(f"redis-py {info['redis-py']}, fakeredis {info.get('fakeredis', 'missing')}; "
          f"best of {args.repeats} repeats, ~{args.cell_seconds:g} s per cell, GC off while timing")
    for remark in remarks:
        print(f"note: {remark}")
    print()
    columns = list(results)
    print_table("µs/op", columns, [[op] + [format_us(results[column][op]) for column in columns]
                                   for op, _, _ in OPERATIONS])
    print()
    ratios = {f"{other}/{column}": {op: ratio(results[other][op], results[column][op])
                                     for op, _, _ in OPERATIONS}
              for column in minikv_columns for other in ("fakeredis", "redis.asyncio")
              if other in results}
    print_table("ratio", list(ratios), [[op] + [format_ratio(ratios[name][op]) for name in ratios]
                                        for op, _, _ in OPERATIONS])
    met, lines = verdict(results, minikv_columns)
    print()
    print(f"target ({TARGET_OP}: minikv.asyncio >= {TARGET_RATIO}x faster than fakeredis and "
          f"than redis.asyncio): {'MET' if met else 'NOT MET'}")
    for line in lines:
        print(f"  {line}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "results": results,
                                               "target_met": met}, indent=2))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
