"""RateLimiter latency: embedded minikv vs the ``limits`` library and a real redis-server.

    python benchmarks/patterns_ratelimit.py [--quick]

Columns, µs per call (best of the repeats, timed as benchmarks/compare.py
times a cell), all measured in this one run:

- ``minikv[<backend>]``: ``RateLimiter(minikv.Redis(), ...)`` with the
  backend that loads here (``minikv.BACKEND``; compiled when built);
- ``minikv[pure]``: the same in a ``MINIKV_PURE=1`` subprocess (left out
  when the backend above already is pure);
- ``redis-py``: ``RateLimiter(redis.Redis(...), ...)`` on a private
  redis-server started on a free port; ``trips`` is how many requests one
  call sends (counted on the client's ``execute_command``);
- ``limits``: the anchor, the ``limits`` library's in-memory storage
  (``limits.storage.MemoryStorage``) with the strategy closest to each
  algorithm: ``FixedWindowRateLimiter``, ``SlidingWindowCounterRateLimiter``
  (the same weighted two-window counter) and ``MovingWindowRateLimiter``
  (an exact log, like sliding_log); ``ratio`` is the minikv[<backend>]
  column over it.

Every hit is allowed: the limit is far above the number of calls timed
(10**8 per hour for the counters, 10**6 per hour for the logs, whose size
then grows with the calls on both sides alike). One key, a str, as an
application passes it. The target: ``hit`` of fixed_window and
sliding_window on the compiled backend at most 1 µs.
"""
import json
import shutil

import harness

TARGET_US = 1.0
TARGET_ROWS = ("fixed_window hit", "sliding_window hit")
COUNTER_LIMIT = 10 ** 8
LOG_LIMIT = 10 ** 6
HOUR = 3600

# (row, limiter settings, statement, limits strategy or None, limits statement)
OPERATIONS = [
    ("fixed_window hit", ("fixed_window", COUNTER_LIMIT), "limiter.hit('k')",
     "FixedWindowRateLimiter", "strategy.hit(ITEM, 'k')"),
    ("fixed_window peek", ("fixed_window", COUNTER_LIMIT), "limiter.peek('k')",
     "FixedWindowRateLimiter", "strategy.test(ITEM, 'k')"),
    ("sliding_window hit", ("sliding_window", COUNTER_LIMIT), "limiter.hit('k')",
     "SlidingWindowCounterRateLimiter", "strategy.hit(ITEM, 'k')"),
    ("sliding_log hit", ("sliding_log", LOG_LIMIT), "limiter.hit('k')",
     "MovingWindowRateLimiter", "strategy.hit(ITEM, 'k')"),
    ("token_bucket hit", ("token_bucket", COUNTER_LIMIT), "limiter.hit('k')", None, None),
    ("gcra hit", ("gcra", COUNTER_LIMIT), "limiter.hit('k')", None, None),
    ("all_of(fixed, sliding) hit", None, "both.hit('k')", None, None),
]


def namespace_for(client):
    from minikv.patterns import RateLimiter

    client.flushall()
    namespace = {}
    for name, settings, _, _, _ in OPERATIONS:
        if settings is not None:
            algorithm, limit = settings
            namespace[name] = RateLimiter(client, limit=limit, period=HOUR, algorithm=algorithm,
                                          prefix=name + ":")
    namespace["both"] = RateLimiter.all_of(namespace["fixed_window hit"],
                                           namespace["sliding_window hit"])
    return namespace


def measure(client, settings):
    namespace = namespace_for(client)
    results = {}
    for name, _, statement, _, _ in OPERATIONS:
        namespace["limiter"] = namespace.get(name)
        results[name] = harness.time_statement(statement, namespace, *settings)
    client.flushall()
    return results


def round_trips(client):
    """Requests per call of each operation on a redis-py client."""
    namespace = namespace_for(client)
    trips = {}
    for name, _, statement, _, _ in OPERATIONS:
        namespace["limiter"] = namespace.get(name)
        trips[name] = harness.requests_per_call(client, statement, namespace)
    client.flushall()
    return trips


def measure_minikv(settings):
    return harness.on_minikv(measure, settings)


def measure_limits(settings):
    import limits
    from limits import strategies
    from limits.storage import MemoryStorage

    results = {}
    for name, configuration, _, strategy_name, statement in OPERATIONS:
        if strategy_name is None:
            continue
        limit = configuration[1]
        namespace = {"strategy": getattr(strategies, strategy_name)(MemoryStorage()),
                     "ITEM": limits.RateLimitItemPerHour(limit)}
        results[name] = harness.time_statement(statement, namespace, *settings)
    return results


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
    # The anchor and the embedded limiter are timed back to back, in this process.
    anchor = measure_limits(settings)
    backend, columns = harness.minikv_columns(__file__, lambda: measure_minikv(settings),
                                              harness.forward(args, "repeats", "cell_seconds"))
    embedded = columns[f"minikv[{backend}]"]
    binary = shutil.which("redis-server")
    trips = None
    if binary is not None:
        columns["redis-py"], trips = measure_redis(settings, binary)
    columns["limits"] = anchor
    extras = [("ratio", 8,
               lambda name: f"{embedded[name] / anchor[name]:.2f}x" if name in anchor else "")]
    if trips is not None:
        extras.append(("trips", 7, lambda name: str(trips[name])))
    print(harness.machine_line())
    harness.print_fixed_table("RateLimiter (µs/call)", 28, columns,
                              [name for name, *_ in OPERATIONS], 18,
                              lambda name, value: f"{value:.3f}", extras)
    if binary is None:
        print("redis-py column left out: no redis-server on PATH")
    print("ratio: minikv[" + backend + "] / limits (MemoryStorage); "
          "limits has no token bucket or GCRA")
    for name in TARGET_ROWS:
        print(f"{name} on minikv[{backend}]: {embedded[name]:.3f} µs; target <= {TARGET_US} µs: "
              f"{'MET' if embedded[name] <= TARGET_US else 'NOT MET'}")


if __name__ == "__main__":
    main()
