"""Lock hand-off latency and uncontended cost, embedded minikv vs redis-server, one run.

    python benchmarks/patterns_lock.py [--quick]

Hand-off latency: a waiter thread is blocked in ``acquire()`` while the
main thread holds the lock; the main thread releases it after a random
hold and the latency is the time from just before ``release()`` to just
after the waiter's ``acquire()`` returned (``perf_counter_ns`` in both
threads). The hold is long enough (0.5–1.5 ms) for the waiter to be blocked
in its BLPOP; for redis-py's own ``Lock``, which polls every ``sleep=0.1``
seconds, the hold is drawn from 1–101 ms so that releases fall anywhere in
its polling period. Median and 99th percentile.

Columns:

- ``minikv[<backend>]``: ``minikv.patterns.Lock`` on ``minikv.Redis()`` with
  the backend that loads here (compiled when built);
- ``minikv[pure]``: the same in a ``MINIKV_PURE=1`` subprocess;
- ``redis-server``: ``minikv.patterns.Lock`` through redis-py on a private
  redis-server (EVALSHA steps, BLPOP wake-ups);
- ``redis-py Lock``: redis-py's ``redis.lock.Lock`` on the same server
  (default ``sleep=0.1`` polling), for comparison.

The "acquire+release" row is the uncontended cost of one
``lock.acquire(); lock.release()`` cycle (µs, best of the repeats).

The "async hand-off" rows are the same hand-off between two tasks of one
event loop (the holder task sleeps with ``asyncio.sleep``, the waiter task
awaits ``acquire()``), same sample counts: ``minikv.patterns.AsyncLock`` on
``minikv.asyncio.Redis()`` in the minikv columns and on
``redis.asyncio.Redis`` in the redis-server column, and redis-py's polling
``redis.asyncio.lock.Lock`` in the last.
"""
import asyncio
import json
import random
import shutil
import threading
import time

import harness

ROWS = ["hand-off p50 (µs)", "hand-off p99 (µs)", "samples", "acquire+release (µs)",
        "async hand-off p50 (µs)", "async hand-off p99 (µs)"]


def handoff_latencies(make_lock, samples, hold_range):
    """Release -> waiter holding it, in µs, ``samples`` times."""
    holder = make_lock()
    waiter = make_lock()
    go = threading.Event()
    handed = threading.Event()
    released_at = [0]
    latencies = []

    def wait_side():
        for _ in range(samples):
            go.wait()
            go.clear()
            waiter.acquire()
            latencies.append((time.perf_counter_ns() - released_at[0]) / 1000)
            waiter.release()
            handed.set()

    thread = threading.Thread(target=wait_side, daemon=True)
    thread.start()
    rng = random.Random(7)
    for _ in range(samples):
        holder.acquire()
        go.set()
        time.sleep(rng.uniform(*hold_range))
        released_at[0] = time.perf_counter_ns()
        holder.release()
        if not handed.wait(30):
            raise RuntimeError("the waiter was never handed the lock")
        handed.clear()
    thread.join()
    return latencies


async def async_handoff_latencies(make_lock, samples, hold_range):
    """``handoff_latencies`` between two tasks of the running loop."""
    holder = make_lock()
    waiter = make_lock()
    go = asyncio.Event()
    handed = asyncio.Event()
    released_at = [0]
    latencies = []

    async def wait_side():
        for _ in range(samples):
            await go.wait()
            go.clear()
            await waiter.acquire()
            latencies.append((time.perf_counter_ns() - released_at[0]) / 1000)
            await waiter.release()
            handed.set()

    task = asyncio.create_task(wait_side())
    rng = random.Random(7)
    for _ in range(samples):
        await holder.acquire()
        go.set()
        await asyncio.sleep(rng.uniform(*hold_range))
        released_at[0] = time.perf_counter_ns()
        await holder.release()
        async with asyncio.timeout(30):  # unlike wait_for (3.11), no task made
            await handed.wait()
        handed.clear()
    await task
    return latencies


def measure_async(make_client, make_lock, samples, hold_range):
    """The async hand-off rows, on a client ``make_client()`` builds in a
    fresh event loop; ``make_lock(client)`` makes each side's lock."""
    async def run():
        client = make_client()
        try:
            await client.flushall()
            latencies = await async_handoff_latencies(lambda: make_lock(client), samples,
                                                      hold_range)
            await client.flushall()
        finally:
            await client.aclose()
        return dict(zip(ROWS[4:6], harness.p50_p99(latencies)))
    return asyncio.run(run())


def summarize(latencies, cycle_us):
    return dict(zip(ROWS, [*harness.p50_p99(latencies), len(latencies), cycle_us]))


def measure(client, make_lock, samples, hold_range, settings):
    client.flushall()
    latencies = handoff_latencies(make_lock, samples, hold_range)
    cycle_lock = make_lock()
    cycle_us = harness.time_statement("lock.acquire(); lock.release()", {"lock": cycle_lock},
                                      *settings)
    client.flushall()
    return summarize(latencies, cycle_us)


def measure_minikv(args, settings):
    import minikv.asyncio
    from minikv.patterns import AsyncLock, Lock

    backend, rows = harness.on_minikv(
        lambda client: measure(client, lambda: Lock(client, "bench-lock", timeout=10),
                               args.samples, (0.0005, 0.0015), settings))
    rows.update(measure_async(minikv.asyncio.Redis,
                              lambda client: AsyncLock(client, "bench-lock", timeout=10),
                              args.samples, (0.0005, 0.0015)))
    return backend, rows


def measure_redis(args, settings, binary):
    import redis
    import redis.asyncio
    from redis.asyncio.lock import Lock as RedisPyAsyncLock
    from redis.lock import Lock as RedisPyLock

    from minikv.patterns import AsyncLock, Lock

    with harness.redis_server(binary) as port, redis.Redis(port=port) as client:
        ours = measure(client, lambda: Lock(client, "bench-lock", timeout=10),
                       args.samples, (0.0005, 0.0015), settings)
        theirs = measure(client, lambda: RedisPyLock(client, "bench-lock", timeout=10),
                         args.polling_samples, (0.001, 0.101), settings)
        ours.update(measure_async(lambda: redis.asyncio.Redis(port=port),
                                  lambda client: AsyncLock(client, "bench-lock", timeout=10),
                                  args.samples, (0.0005, 0.0015)))
        theirs.update(measure_async(lambda: redis.asyncio.Redis(port=port),
                                    lambda client: RedisPyAsyncLock(client, "bench-lock",
                                                                    timeout=10),
                                    args.polling_samples, (0.001, 0.101)))
        return ours, theirs


def cell(row, value):
    if row == "samples":
        return str(value)
    return f"{value:,.1f}"


def parse_args(argv):
    parser = harness.bench_parser(
        __doc__, quick_help="fewer samples (300 / 20) and shorter timing cells")
    parser.add_argument("--samples", type=int, help="hand-offs per column (default 1000)")
    parser.add_argument("--polling-samples", type=int,
                        help="hand-offs for redis-py's polling Lock (default 60)")
    return harness.parse_with_defaults(
        parser, argv, dict(harness.CELL_DEFAULTS, samples=(1000, 300), polling_samples=(60, 20)))


def main(argv=None):
    args = parse_args(argv)
    settings = harness.cell_settings(args)
    if args.worker:
        print(json.dumps(measure_minikv(args, settings)[1]))
        return
    _, columns = harness.minikv_columns(
        __file__, lambda: measure_minikv(args, settings),
        harness.forward(args, "samples", "repeats", "cell_seconds"))
    binary = shutil.which("redis-server")
    if binary is not None:
        columns["redis-server"], columns["redis-py Lock"] = measure_redis(args, settings, binary)
    print(harness.machine_line())
    harness.print_fixed_table("Lock", 22, columns, ROWS, 18, cell)
    if binary is None:
        print("redis-server columns left out: no redis-server on PATH")


if __name__ == "__main__":
    main()
