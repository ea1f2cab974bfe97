"""Every command is atomic under concurrent use from many threads."""
import random
import threading

import minikv


def run_threads(count, target):
    errors = []

    def guarded(index):
        try:
            target(index)
        except BaseException as exc:  # surfaced below with the thread index
            errors.append((index, exc))

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_incr_is_atomic_across_threads():
    r = minikv.Redis()

    def work(_):
        for _ in range(10_000):
            r.incr("counter")

    run_threads(8, work)
    assert r.get("counter") == b"80000"


def test_incr_is_atomic_across_clients_sharing_a_store():
    shared = minikv.Redis()
    clients = [minikv.Redis(store=shared.store) for _ in range(8)]

    def work(index):
        client = clients[index]
        for _ in range(5_000):
            client.incrby("counter", 2)
            client.hincrby("h", "f", 1)

    run_threads(8, work)
    assert shared.get("counter") == b"80000"
    assert shared.hget("h", "f") == b"40000"


def test_mixed_commands_on_shared_keys_never_corrupt():
    clock = minikv.ManualClock()
    r = minikv.Redis(clock=clock)
    keys = [f"k{i}" for i in range(16)]

    def work(index):
        rng = random.Random(index)
        for step in range(4_000):
            key = rng.choice(keys)
            op = rng.randrange(7)
            if op == 0:
                r.set(key, step, ex=rng.randint(1, 3))
            elif op == 1:
                r.get(key)
            elif op == 2:
                r.delete(key)
            elif op == 3:
                r.expire(key, rng.randint(1, 3))
            elif op == 4:
                r.set(key, step)
            elif op == 5:
                r.ttl(key)
            else:
                clock.advance(0.01)

    run_threads(8, work)
    store = r.store
    with store.lock:
        store.dbs[0]._check()
    for key in keys:
        value = r.get(key)
        assert value is None or value.isdigit()
    r.close()
