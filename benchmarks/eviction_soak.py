"""maxmemory soak: a long write stream into a capped store, and what it costs.

    python benchmarks/eviction_soak.py [--writes N] [--cap BYTES] [--policy P|all]
                                       [--value-size N] [--quick] [--json PATH]

For each policy (allkeys-lru by default; ``--policy all`` runs the eight):

1. Soak: ``--writes`` SETs of distinct keys (``key:<i>``, values of
   ``--value-size`` bytes) into ``minikv.Redis(maxmemory=cap, ...)``, with a
   hot set of 100 keys read every 5,000 writes (for the volatile policies
   the stream's keys get a TTL, the hot keys none). After every write the
   accounted memory must be at or under the cap. At the end, for
   allkeys-lru, the hot keys must all be there and the surviving keys must
   be exactly the most recent writes; for allkeys-lfu the hot keys must all
   be there. A failed check exits with status 1. (noeviction is skipped:
   it refuses writes past the cap instead.)
2. Cost: up to 200,000 more writes (with a TTL for the volatile policies) timed
   against an uncapped store (maxmemory 0) in alternating slices of 20,000,
   the best slice of each kept: the per-write cost with and without the cap
   (the capped store evicts on nearly every write once full), and the cost
   of a GET hit on each store (time.perf_counter_ns over a whole slice, GC
   off).
3. Honesty of the estimate (allkeys-lru only, skipped by ``--quick``):
   under ``tracemalloc``, a fresh capped store takes distinct keys and
   values until it holds its cap, then as many again (so its dicts have
   seen keys flow through, as a cache's do); the bytes Python allocated for
   it are compared with INFO's used_memory.

Numbers are for this machine and this run; the table prints the backend
(``MINIKV_PURE=1`` selects the pure-Python one).
"""
import argparse
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import harness  # noqa: F401  (first: it puts the working tree on sys.path)
import minikv
from minikv.engine.config import MAXMEMORY_POLICIES

HOT_KEYS = 100
HOT_EVERY = 5_000
SLICE = 20_000


def soak(policy, writes, cap, value):
    """Run the stream; returns (result dict, failures list)."""
    client = minikv.Redis(maxmemory=cap, maxmemory_policy=policy)
    limit = client.store.memory
    volatile = policy.startswith("volatile-")
    hot = [f"hot:{i}" for i in range(HOT_KEYS)]
    for key in hot:
        client.set(key, value)
    failures = []
    peak = 0
    started = time.perf_counter()
    for i in range(writes):
        if volatile:
            client.set(f"key:{i}", value, ex=3600)
        else:
            client.set(f"key:{i}", value)
        if limit.used > peak:
            peak = limit.used
        if i % HOT_EVERY == 0:
            for key in hot:
                client.get(key)
    elapsed = time.perf_counter() - started
    if peak > cap:
        failures.append(f"{policy}: accounted memory reached {peak} > cap {cap}")
    kept = client.dbsize()
    stats = client.info("stats")
    hot_kept = client.exists(*hot)
    if policy in ("allkeys-lru", "allkeys-lfu") and hot_kept != HOT_KEYS:
        failures.append(f"{policy}: only {hot_kept} of {HOT_KEYS} hot keys survived")
    if policy == "allkeys-lru":
        recent = kept - hot_kept
        newest = [f"key:{i}" for i in range(writes - recent, writes)]
        if client.exists(*newest) != recent or client.exists(f"key:{writes - recent - 1}"):
            failures.append(f"{policy}: the survivors are not the {recent} most recent writes")
    client.close()
    return {"policy": policy, "writes": writes, "seconds": round(elapsed, 2),
            "peak_used": peak, "cap": cap, "keys_kept": kept,
            "evicted_keys": stats["evicted_keys"], "hot_kept": hot_kept}, failures


def _timed_slice(client, start, value, ttl):
    gc.disable()
    try:
        began = time.perf_counter_ns()
        for i in range(start, start + SLICE):
            client.set(f"key:{i}", value, ex=ttl)
        wrote = time.perf_counter_ns() - began
        client.set("hot", value)  # a random policy may have evicted it
        began = time.perf_counter_ns()
        for i in range(start, start + SLICE):
            client.get("hot")
        read = time.perf_counter_ns() - began
    finally:
        gc.enable()
    return wrote / SLICE, read / SLICE


def cost(policy, writes, cap, value):
    """Best-slice ns per SET and per GET hit, capped and uncapped."""
    capped = minikv.Redis(maxmemory=cap, maxmemory_policy=policy)
    free = minikv.Redis()
    best = {"capped": [float("inf")] * 2, "uncapped": [float("inf")] * 2}
    ttl = 3600 if policy.startswith("volatile-") else None
    for i in range(0, writes, SLICE):
        for name, client in (("capped", capped), ("uncapped", free)):
            figures = _timed_slice(client, i, value, ttl)
            best[name] = [min(a, b) for a, b in zip(best[name], figures)]
    capped.close()
    free.close()
    (set_capped, get_capped), (set_free, get_free) = best["capped"], best["uncapped"]
    return {"set_ns_capped": round(set_capped), "set_ns_uncapped": round(set_free),
            "get_ns_capped": round(get_capped), "get_ns_uncapped": round(get_free)}


def estimate_honesty(cap, value_size, writes):
    """Traced bytes of a capped store after ``writes`` distinct keys and
    values went through it, against its used_memory."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    client = minikv.Redis(maxmemory=cap, maxmemory_policy="allkeys-lru")
    for i in range(writes):
        client.set(b"key:%d" % i, b"%0*d" % (value_size, i))
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    used = client.info("memory")["used_memory"]
    client.close()
    return {"used_memory": used, "traced_bytes": traced,
            "used_over_traced": round(used / traced, 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=1_000_000)
    parser.add_argument("--cap", type=int, default=10 * 1024 * 1024, help="bytes (10 MB)")
    parser.add_argument("--policy", default="allkeys-lru",
                        help="a maxmemory-policy, or 'all'")
    parser.add_argument("--value-size", type=int, default=100)
    parser.add_argument("--quick", action="store_true",
                        help="200,000 writes, no tracemalloc pass")
    parser.add_argument("--json", metavar="PATH")
    options = parser.parse_args()
    writes = 200_000 if options.quick else options.writes
    policies = MAXMEMORY_POLICIES if options.policy == "all" else (options.policy,)
    value = "v" * options.value_size
    print(f"minikv.BACKEND = {minikv.BACKEND} | Python {platform.python_version()} | "
          f"{platform.platform()} | {os.cpu_count()} CPUs")
    print(f"{writes:,} writes of {options.value_size}-byte values, cap {options.cap:,} bytes\n")
    results, failures = [], []
    for policy in policies:
        if policy == "noeviction":
            continue  # nothing to soak: writes past the cap are refused
        result, failed = soak(policy, writes, options.cap, value)
        result.update(cost(policy, min(writes, 10 * SLICE), options.cap, value))
        results.append(result)
        failures += failed
        print(f"{policy:16} {result['seconds']:7.2f} s  peak {result['peak_used']:>10,} "
              f"<= {options.cap:,}  kept {result['keys_kept']:>7,}  "
              f"evicted {result['evicted_keys']:>9,}  hot kept {result['hot_kept']:>3}  | "
              f"SET {result['set_ns_capped']:>5} ns capped, "
              f"{result['set_ns_uncapped']:>5} ns not; "
              f"GET {result['get_ns_capped']:>4} ns capped, {result['get_ns_uncapped']:>4} ns not")
    honesty = None
    if not options.quick and "allkeys-lru" in policies:
        filled = options.cap // (options.value_size + 300)
        honesty = estimate_honesty(options.cap, options.value_size, 2 * filled)
        print(f"\nestimate vs tracemalloc (capped store, keys flowing through): used_memory "
              f"{honesty['used_memory']:,}, traced {honesty['traced_bytes']:,} bytes "
              f"(ratio {honesty['used_over_traced']})")
    if options.json:
        Path(options.json).write_text(json.dumps({"backend": minikv.BACKEND, "runs": results,
                                                  "estimate": honesty}, indent=2))
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
