"""Broadcast publish -> receive, embedded minikv vs a real redis-server, in one run.

    python benchmarks/patterns_broadcast.py [--quick]

Columns:

- ``minikv[<backend>]``: ``Broadcast(minikv.Redis())`` with the backend that
  loads here (``minikv.BACKEND``; compiled when built);
- ``minikv[pure]``: the same in a ``MINIKV_PURE=1`` subprocess (left out
  when the backend above already is pure);
- ``redis-py``: ``Broadcast(redis.Redis(...))`` on a private redis-server
  started on a free port (each publish is one PUBLISH round trip; the
  subscription reads its own connection).

Rows (the message is a small JSON object, ``{"room": "lobby", "n": i}``):

- throughput: one thread publishes ``--messages`` messages back to back,
  a consumer thread iterates the subscription; messages per second from
  the first publish to the last message received (best of the repeats);
- latency p50/p99: publish one message, stamp its arrival in the consumer,
  wait, repeat. The consumer is given 1 ms to go back to waiting before
  each publish, so this is the wake-up path: publish -> reader thread ->
  buffer -> consumer. Consumers: a thread iterating (``for message in
  sub``), a callback (``on_message``), an asyncio task (``async for``);
- ``raw PubSub`` latency: the client's own ``pubsub().get_message()`` in a
  thread, without Broadcast — the floor Broadcast builds on (it adds a
  reader thread hop, JSON and the buffer);
- ``AsyncBroadcast`` rows: the same throughput and latency measurements on
  the asyncio client of the column (``minikv.asyncio.Redis`` on a store of
  its own / ``redis.asyncio.Redis`` on the same redis-server), everything
  on one event loop: a task iterates the ``AsyncSubscription`` (its reader
  is a task too), the publisher awaits each ``publish``; latency gives the
  consumer the same 1 ms (``asyncio.sleep``) before each publish.
"""
import argparse
import asyncio
import json
import shutil
import threading
import time

import harness

THROUGHPUT = "throughput (msg/s)"
ASYNC_THROUGHPUT = "AsyncBroadcast throughput (msg/s)"
THROUGHPUT_ROWS = (THROUGHPUT, ASYNC_THROUGHPUT)
ROWS = [THROUGHPUT,
        "iterator latency p50 (µs)", "iterator latency p99 (µs)",
        "callback latency p50 (µs)", "callback latency p99 (µs)",
        "async for latency p50 (µs)", "async for latency p99 (µs)",
        "raw PubSub latency p50 (µs)", "raw PubSub latency p99 (µs)",
        ASYNC_THROUGHPUT,
        "AsyncBroadcast latency p50 (µs)", "AsyncBroadcast latency p99 (µs)"]
WAKE_UP_GAP = 0.001  # seconds the consumer gets to block again before the next publish


def percentiles(samples_ns):
    """(p50, p99) in µs."""
    return tuple(value / 1000 for value in harness.p50_p99(samples_ns))


def timed_publishes(publish, samples, stamps, arrived):
    """ns from just before ``publish(n)`` until the consumer stamped the
    arrival (appended to ``stamps``, then set ``arrived``), for n in
    range(samples); the consumer gets WAKE_UP_GAP to block again first."""
    latencies = []
    for n in range(samples):
        time.sleep(WAKE_UP_GAP)
        before = time.perf_counter_ns()
        publish(n)
        if not arrived.wait(10):
            raise RuntimeError("a message did not arrive")
        arrived.clear()
        latencies.append(stamps[-1] - before)
    return latencies


def throughput(hub, messages):
    with hub.subscribe("bench:throughput", max_buffer=messages) as sub:
        done = threading.Event()
        finished = []

        def consume():
            received = 0
            for _ in sub:
                received += 1
                if received == messages:
                    finished.append(time.perf_counter())
                    done.set()
                    return

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        publish = hub.publish
        began = time.perf_counter()
        for n in range(messages):
            publish("bench:throughput", {"room": "lobby", "n": n})
        if not done.wait(60):
            raise RuntimeError("the consumer did not receive every message")
        consumer.join()
    return messages / (finished[0] - began)


def latency_thread_consumer(hub, samples, use_callback):
    stamps, arrived = [], threading.Event()

    def record(message):
        stamps.append(time.perf_counter_ns())
        arrived.set()

    channel = "bench:latency"
    sub = hub.subscribe(channel, on_message=record) if use_callback else hub.subscribe(channel)
    consumer = None
    if not use_callback:
        def consume():
            for message in sub:
                record(message)
        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
    latencies = timed_publishes(lambda n: hub.publish(channel, {"room": "lobby", "n": n}),
                                samples, stamps, arrived)
    sub.close()
    if consumer is not None:
        consumer.join()
    return percentiles(latencies)


def latency_async_consumer(hub, samples):
    async def run():
        channel = "bench:async"
        stamps, arrived = [], threading.Event()
        async with hub.subscribe(channel) as sub:
            async def consume():
                async for _ in sub:
                    stamps.append(time.perf_counter_ns())
                    arrived.set()
                    if len(stamps) == samples:
                        return

            consumer = asyncio.create_task(consume())
            latencies = await asyncio.to_thread(
                timed_publishes, lambda n: hub.publish(channel, {"room": "lobby", "n": n}),
                samples, stamps, arrived)
            await consumer
        return percentiles(latencies)

    return asyncio.run(run())


def latency_raw_pubsub(client, samples):
    channel = "bench:raw"
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    pubsub.ping(b"ready")  # the PONG follows the confirmation: subscribed on the server
    while (message := pubsub.get_message(timeout=10)) is None or message["type"] != "pong":
        pass
    stamps, arrived, stop = [], threading.Event(), threading.Event()

    def consume():
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.05)
            if message is not None and message["type"] == "message":
                stamps.append(time.perf_counter_ns())
                arrived.set()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    payload = json.dumps({"room": "lobby", "n": 0}).encode()
    latencies = timed_publishes(lambda _: client.publish(channel, payload), samples, stamps,
                                arrived)
    stop.set()
    consumer.join()
    pubsub.close()
    return percentiles(latencies)


async def async_throughput(hub, messages):
    async with await hub.subscribe("bench:async-throughput", max_buffer=messages) as sub:
        async def consume():
            received = 0
            async for _ in sub:
                received += 1
                if received == messages:
                    return time.perf_counter()

        consumer = asyncio.create_task(consume())
        publish = hub.publish
        began = time.perf_counter()
        for n in range(messages):
            await publish("bench:async-throughput", {"room": "lobby", "n": n})
        finished = await asyncio.wait_for(consumer, 60)
    return messages / (finished - began)


async def async_latency(hub, samples):
    channel = "bench:async-latency"
    stamps, arrived = [], asyncio.Event()
    async with await hub.subscribe(channel) as sub:
        async def consume():
            async for _ in sub:
                stamps.append(time.perf_counter_ns())
                arrived.set()

        consumer = asyncio.create_task(consume())
        latencies = []
        for n in range(samples):
            await asyncio.sleep(WAKE_UP_GAP)
            arrived.clear()
            before = time.perf_counter_ns()
            await hub.publish(channel, {"room": "lobby", "n": n})
            # asyncio.timeout: wait_for would run the wait in a task of its
            # own, one more loop step ahead of the consumer on every sample.
            async with asyncio.timeout(10):
                await arrived.wait()
            latencies.append(stamps[-1] - before)
    await consumer  # the subscription closed: iteration ended
    return percentiles(latencies)


def measure_async(make_client, args):
    """The AsyncBroadcast rows, on a fresh event loop and a fresh asyncio client."""
    from minikv.patterns import AsyncBroadcast

    async def run():
        hub = AsyncBroadcast(make_client())
        try:
            rate = max([await async_throughput(hub, args.messages) for _ in range(args.repeats)])
            p50, p99 = await async_latency(hub, args.samples)
        finally:
            await hub.close()
            await hub.client.aclose()
        return {ASYNC_THROUGHPUT: rate, "AsyncBroadcast latency p50 (µs)": p50,
                "AsyncBroadcast latency p99 (µs)": p99}

    return asyncio.run(run())


def measure(client, args, make_async_client):
    from minikv.patterns import Broadcast

    hub = Broadcast(client)
    results = {THROUGHPUT: max(throughput(hub, args.messages) for _ in range(args.repeats))}
    for name, (p50, p99) in (
            ("iterator", latency_thread_consumer(hub, args.samples, use_callback=False)),
            ("callback", latency_thread_consumer(hub, args.samples, use_callback=True)),
            ("async for", latency_async_consumer(hub, args.samples)),
            ("raw PubSub", latency_raw_pubsub(client, args.samples))):
        results[f"{name} latency p50 (µs)"] = p50
        results[f"{name} latency p99 (µs)"] = p99
    hub.close()
    results.update(measure_async(make_async_client, args))
    return results


def measure_minikv(args):
    import minikv.asyncio

    return harness.on_minikv(measure, args, minikv.asyncio.Redis)


def measure_redis(args, binary):
    import redis
    import redis.asyncio

    with harness.redis_server(binary) as port, redis.Redis(port=port) as client:
        return measure(client, args, lambda: redis.asyncio.Redis(port=port))


def parse_args(argv):
    parser = harness.bench_parser(
        __doc__, quick_help="fewer messages and samples (about 5 s in all)", cells=False)
    parser.add_argument("--messages", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    return harness.parse_with_defaults(parser, argv, {
        "repeats": (3, 2), "messages": (20_000, 5_000), "samples": (1_000, 300)})


def format_value(row, value):
    if row in THROUGHPUT_ROWS:
        return f"{value:,.0f}"
    return f"{value:.1f}"


def redis_py_factor(row, redis_value, embedded_value):
    """How many times better the embedded column did: higher throughput,
    lower latency."""
    if row in THROUGHPUT_ROWS:
        return embedded_value / redis_value
    return redis_value / embedded_value


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(measure_minikv(args)[1]))
        return
    backend, columns = harness.minikv_columns(
        __file__, lambda: measure_minikv(args),
        harness.forward(args, "repeats", "messages", "samples"))
    embedded = columns[f"minikv[{backend}]"]
    binary = shutil.which("redis-server")
    extras = []
    if binary is not None:
        redis_py = columns["redis-py"] = measure_redis(args, binary)
        extras.append(("redis-py vs " + next(iter(columns)), 30,
                       lambda row: f"{redis_py_factor(row, redis_py[row], embedded[row]):.1f}x"))
    print(harness.machine_line())
    print(f"messages={args.messages} samples={args.samples} repeats={args.repeats}")
    harness.print_fixed_table("Broadcast", 34, columns, ROWS, 16, format_value, extras)
    if binary is None:
        print("redis-py column left out: no redis-server on PATH")


if __name__ == "__main__":
    main()
