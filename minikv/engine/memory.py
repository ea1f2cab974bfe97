"""What keys cost in memory: the estimate, MEMORY USAGE, used_memory.

One per-key formula, used by MEMORY USAGE and by the incremental
accounting that eviction decides on (engine/eviction.py): with maxmemory
set, INFO's ``used_memory`` is the sum of every key's MEMORY USAGE (with the
default samples). Sizes are CPython's own (``sys.getsizeof``, 64-bit build)
wherever the object is at hand, and constants for what is not. A key costs:

- ``DICT_SLOT_BYTES`` for its slot in its db's dict, and
  ``sys.getsizeof(key)``, its bytes object, exact;
- the value:
  - a string (``bytes``, or ``bytearray`` after APPEND/SETRANGE):
    ``getsizeof``, exact (a bytearray's spare capacity included);
  - a hash, set or list: ``getsizeof`` of the container (its table or
    blocks, exact, O(1)) plus its length times the mean size of its
    elements (a hash element is a field and its value), the mean taken
    over up to ``samples`` elements spread evenly over the collection;
  - a sorted set: the same over its member -> score dict, plus
    ``ZSET_MEMBER_BYTES`` per member for its score (a float object) and its
    entry in the ordered index (a (score, member) tuple and a list slot);
  - a stream: the same over its live entries, an entry being its ID int,
    its field/value list with the strings in it, and its two slots in its
    node's lists (engine/streams.py); deleted entries still in a node and
    the nodes themselves are not counted;
- ``TTL_BYTES`` if it has a TTL: what the pure backend's expiry dict
  spends on it, a slot and the int holding the time (the compiled
  backend's expiry table spends ~30 bytes; the estimate is the same on
  both, so that both backends report and evict alike);
- while maxmemory is set, what the access tracking keeps for it
  (``tracking``: slots in the tracker's dicts, its size and access ints;
  see engine/eviction.py) — eviction's bookkeeping is memory the limit must
  pay for too.

A dict slot is an amortised figure. CPython gives a dict of n keys a table
of 1.5n to 3n slots while it only grows, and of 3n to 6n once keys flow
through it (it never shrinks on delete; deleted entries are reclaimed when
the table is rebuilt, at three times the live keys), at about 20 bytes per
slot (a 24-byte entry in two slots of three, a 4-byte index): 30 to 60 bytes
per key for a dict that was only filled, 60 to 120 for one that keys flow
through, as a store under eviction is. ``DICT_SLOT_BYTES`` is 88, between
the two ends of the second range. Counting the tables as they are instead
would make the total jump by megabytes at each rebuild, and a capped cache
drop half its keys each time; a per-key share keeps eviction smooth. The
price is accuracy: against tracemalloc, the estimate for a capped store of
string keys under eviction came to 0.80 to 1.18 times the real size for
values of 10 to 1000 bytes (where n falls between powers of two decides),
and for a store that was only ever filled to about 1.35 times
(benchmarks/eviction_soak.py prints the comparison).

Each key's objects are counted as if it owned them alone (a value object
stored under two keys is counted twice). Not counted: the interpreter, the
client objects, empty dicts, pub/sub buffers, Lua, the random-pick pool of a
Set (SPOP/SRANDMEMBER) and the eviction samplers' snapshot lists (8 bytes
per key under the sampled policies). ``samples`` follows MEMORY USAGE: 5 by
default (Redis's default), 0 for all elements (exact up to the constants).
Spreading the samples walks the collection once, so sizing a collection is
O(its length) at C speed; the incremental accounting re-samples a
collection only after as many changes as it had elements
(engine/eviction.py), which makes it O(1) amortised.

``used_memory`` (INFO memory): with maxmemory set, the running total the
accounting keeps, O(1). Without it there is nothing to keep smooth and no
running total: INFO walks the keyspace, O(keys), and counts every key's
objects (and, on the pure backend, expiry int) as above but the tables as
they are (``getsizeof``, exact) instead of per-key shares — the most
accurate figure for a store that is not being evicted from.
"""
from itertools import islice
from sys import getsizeof

from minikv.engine.args import int_arg
from minikv.engine.commands import command
from minikv.engine.errors import SYNTAX, CommandError
from minikv.engine.streams import Stream
from minikv.engine.values import Hash, List, Set, ZSet

__all__ = ["DEFAULT_SAMPLES", "DICT_SLOT_BYTES", "INT_BYTES", "ORDERED_SLOT_BYTES", "TTL_BYTES",
           "ZSET_MEMBER_BYTES", "collection_mean", "is_collection", "key_bytes", "object_bytes",
           "used_memory"]

DEFAULT_SAMPLES = 5  # Redis's OBJ_COMPUTE_SIZE_DEF_SAMPLES
DICT_SLOT_BYTES = 88  # a key's share of a dict's table: see the docstring
# An OrderedDict slot: the dict's, its 32-byte node and its share of the
# array of node pointers (8 bytes per table slot).
ORDERED_SLOT_BYTES = DICT_SLOT_BYTES + 32 + 24
INT_BYTES = 32  # an int object of up to 60 bits: times, sizes
TTL_BYTES = DICT_SLOT_BYTES + INT_BYTES
ZSET_MEMBER_BYTES = 88  # a 24-byte float, a 56-byte tuple, an 8-byte list slot
STREAM_ENTRY_SLOTS_BYTES = 16  # a stream entry's slots in its node's two lists

_COLLECTIONS = frozenset((Hash, List, Set, ZSet, Stream))


def _spread(elements, length, samples):
    """Up to ``samples`` of ``length`` elements, evenly spaced (all if 0)."""
    if samples == 0 or samples >= length:
        return elements
    step = length // samples
    return islice(elements, 0, step * samples, step)


def _mean(sizes):
    total = count = 0
    for size in sizes:
        total += size
        count += 1
    return total / count if count else 0.0


def collection_mean(value, samples):
    """Mean bytes per element of a collection value (0.0 when empty)."""
    length = len(value)
    cls = value.__class__
    if cls is Hash:
        return _mean(getsizeof(field) + getsizeof(item)
                     for field, item in _spread(iter(value.items()), length, samples))
    if cls is ZSet:
        return _mean(getsizeof(member)
                     for member in _spread(iter(value.scores), length, samples))
    if cls is Stream:
        return _mean(getsizeof(entry_id) + getsizeof(fields) + sum(map(getsizeof, fields))
                     + STREAM_ENTRY_SLOTS_BYTES
                     for entry_id, fields in _spread(iter(value), length, samples))
    return _mean(getsizeof(element) for element in _spread(iter(value), length, samples))


def is_collection(value):
    return value.__class__ in _COLLECTIONS


def object_bytes(key, value, samples=DEFAULT_SAMPLES, mean=None):
    """The key's and the value's objects, without any dict slot.

    A collection's mean element size is sampled from ``samples`` elements
    unless ``mean`` gives it (the accounting's cached one). O(1) for a
    string or with ``mean``, else O(len)."""
    size = getsizeof(key) + getsizeof(value)
    cls = value.__class__
    if cls in _COLLECTIONS:
        if cls is ZSet:
            size += getsizeof(value.scores) + len(value) * ZSET_MEMBER_BYTES
        if mean is None:
            mean = collection_mean(value, samples)
        size += round(len(value) * mean)
    return size


def key_bytes(key, value, has_ttl, samples=DEFAULT_SAMPLES, tracking=0, mean=None):
    """The estimated size of one key, as the module docstring defines it:
    its objects, its dict slots, and ``tracking``, what the access tracking
    keeps for it (0 when maxmemory is off)."""
    size = DICT_SLOT_BYTES + object_bytes(key, value, samples, mean) + tracking
    if has_ttl:
        size += TTL_BYTES
    return size


def _expiry_index_bytes(expires):
    """A db's TTL index: the compiled backend's ``ExpiryTable`` holds the
    times inline (its ``getsizeof`` counts them); the pure backend's is a
    dict of int objects."""
    size = getsizeof(expires)
    if expires.__class__ is dict:
        size += INT_BYTES * len(expires)
    return size


def used_memory(store):
    """INFO's used_memory: the accounting's running total while maxmemory
    is set (O(1) after settling the last command's writes); else a walk
    over all keys that measures the dicts as they are (O(keys))."""
    limit = store.memory
    if limit is not None:
        limit.settle()
        return limit.used
    total = 0
    for ks in store.dbs:
        data, expires = ks.data, ks.expires
        total += getsizeof(data) + _expiry_index_bytes(expires)
        for key, value in data.items():
            total += object_bytes(key, value)
    return total


# MEMORY USAGE key [SAMPLES count]
@command("memory|usage", -3, "readonly")
def cmd_memory_usage(session, args):
    samples = DEFAULT_SAMPLES
    options = iter(args[1:])
    for option in options:
        count = next(options, None)
        if option.lower() != b"samples" or count is None:
            raise CommandError(SYNTAX)
        samples = int_arg(count)
        if samples < 0:
            raise CommandError(SYNTAX)
    ks = session.ks
    key = args[0]
    # As in Redis, a key whose TTL passed but that was not reclaimed yet
    # still has a size: MEMORY USAGE neither expires nor touches keys.
    value = ks.data.get(key)
    if value is None:
        return None
    tracker = ks.memory
    tracking = 0 if tracker is None else tracker.tracking_bytes(value)
    return key_bytes(key, value, key in ks.expires, samples, tracking)


_MEMORY_HELP = [
    b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"USAGE <key> [SAMPLES <count>]",
    b"    Return memory in bytes used by <key> and its value. Nested values are",
    b"    sampled up to <count> times (default: 5, 0 means sample all).",
    b"HELP",
    b"    Prints this help.",
]


# MEMORY HELP
@command("memory|help", 2, "loading stale")
def cmd_memory_help(session, args):
    return list(_MEMORY_HELP)
