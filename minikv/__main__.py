"""``python -m minikv``: a one-screen tour of the embedded Redis.

Every call is printed with its result as it runs. Time is a ManualClock,
so the TTL part shows a key expiring without sleeping; the whole tour takes
a few milliseconds.
"""
import minikv


def call(client, method, *args, name="r", **kwargs):
    """Run ``client.method(*args, **kwargs)`` and print it with its result."""
    shown = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    result = getattr(client, method)(*args, **kwargs)
    print(f"  {name}.{method}({shown}) -> {result!r}")
    return result


def heading(text):
    print(f"\n# {text}")


def main():
    print(f"minikv {minikv.__version__}: Redis's data model and redis-py's API, in this process "
          f"(backend: {minikv.BACKEND})")
    clock = minikv.ManualClock(start=1_700_000_000)
    print("  clock = minikv.ManualClock(start=1_700_000_000)")
    print("  r = minikv.Redis(clock=clock, decode_responses=True)")
    with minikv.Redis(clock=clock, decode_responses=True) as r:
        heading("strings with a TTL, on a clock that moves only when told")
        call(r, "set", "greeting", "hello", ex=10)
        call(r, "get", "greeting")
        call(r, "ttl", "greeting")
        clock.advance(11)
        print("  clock.advance(11)")
        call(r, "get", "greeting")
        call(r, "exists", "greeting")

        heading("counters")
        call(r, "incr", "page:views")
        call(r, "incrby", "page:views", 10)
        call(r, "decr", "page:views")
        call(r, "incrbyfloat", "ratio", 0.1)

        heading("a hash as a session record with a 30-minute TTL")
        call(r, "hset", "session:42", mapping={"user": "ada", "cart_items": 0})
        call(r, "expire", "session:42", 1800)
        call(r, "hincrby", "session:42", "cart_items", 2)
        call(r, "hgetall", "session:42")
        clock.advance(1801)
        print("  clock.advance(1801)")
        call(r, "hgetall", "session:42")

        heading("SCAN: iterate keys by pattern, a page at a time")
        for i in range(5):
            r.set(f"user:{i}", f"name-{i}")
        print("  r.set('user:0', 'name-0') ... r.set('user:4', 'name-4')")
        cursor = call(r, "scan", 0, match="user:*", count=3)[0]
        while cursor:
            cursor = call(r, "scan", cursor, match="user:*", count=3)[0]
        print(f"  sorted(r.scan_iter(match='user:*')) -> {sorted(r.scan_iter(match='user:*'))!r}")

        heading("clients can share a store (and pick their own db)")
        other = minikv.Redis(store=r.store, db=1, decode_responses=True)
        print("  other = minikv.Redis(store=r.store, db=1, decode_responses=True)")
        call(other, "set", "in-db-1", "yes", name="other")
        call(r, "dbsize")
        call(other, "dbsize", name="other")

        heading("INFO, parsed as redis-py parses it")
        call(r, "info", "keyspace")
        info = r.info("server")
        print(f"  r.info('server')['minikv_backend'] -> {info['minikv_backend']!r}")


if __name__ == "__main__":
    main()
