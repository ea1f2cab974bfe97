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
  started on a free port without persistence (benchmarks/harness.py) and
  stopped at the end; left out without a redis-server on PATH.

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
import asyncio
import gc
import json
import shutil
import sys
import threading
from pathlib import Path

import harness

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


async def measure_client(client, settings):
    await client.set(STATE["K_GET"], STATE["V"])
    namespace = dict(STATE, c=client)
    return {name: await harness.time_async_statement(statement, namespace, *settings)
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
    return {name: await harness.time_async_statement(floor, namespace, *settings)
            for name, _, floor in OPERATIONS}


async def measure_minikv(settings):
    import minikv
    import minikv.asyncio

    client = minikv.asyncio.Redis()
    try:
        return minikv.BACKEND, await measure_client(client, settings)
    finally:
        await client.aclose()


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
            speedup = harness.ratio(results[competitor][TARGET_OP], results[column][TARGET_OP])
            met = met and speedup >= TARGET_RATIO
            parts.append(f"vs {competitor} {harness.format_ratio(speedup)}")
        lines.append(f"{column}: " + ", ".join(parts))
    return met, lines


def parse_args(argv):
    parser = harness.bench_parser(__doc__)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return harness.parse_with_defaults(parser, argv, harness.CELL_DEFAULTS)


def main(argv=None):
    args = parse_args(argv)
    settings = harness.cell_settings(args)
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
        worker = harness.run_script(
            __file__, ["--worker", *harness.forward(args, "repeats", "cell_seconds")],
            harness.PURE, "MINIKV_PURE=1 worker")
        results["minikv.asyncio[pure]"] = worker["results"]
        minikv_columns.append("minikv.asyncio[pure]")
    results["fakeredis"] = asyncio.run(measure_fakeredis(settings))
    binary = shutil.which("redis-server")
    if binary is None:
        remarks.append("redis-server is not on PATH: no redis.asyncio column")
    else:
        with harness.redis_server(binary) as port:
            results["redis.asyncio"] = asyncio.run(measure_redis_asyncio(settings, port))

    info = harness.machine_info()
    harness.print_run_header(info, backend, args, remarks)
    columns = list(results)
    harness.print_table("µs/op", columns,
                        [[op] + [harness.format_us(results[column][op]) for column in columns]
                         for op, _, _ in OPERATIONS])
    print()
    ratios = {f"{other}/{column}": {op: harness.ratio(results[other][op], results[column][op])
                                     for op, _, _ in OPERATIONS}
              for column in minikv_columns for other in ("fakeredis", "redis.asyncio")
              if other in results}
    harness.print_table("ratio", list(ratios),
                        [[op] + [harness.format_ratio(ratios[name][op]) for name in ratios]
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
