# The rate limiter's window hot path, compiled: included at the end of _core.pyx.
#
# ``_RateLimitWindow(...).hit``/``peek`` run ``RateLimiter.hit``/``peek``
# (minikv/patterns/ratelimit.py) for the fixed_window and sliding_window
# algorithms on a minikv client; a RateLimiter makes one and keeps it. It is
# private to the core (the core's public names mirror the pure twins'): its
# pure twin is that module's path — ``RateLimiter._decide`` with the
# ``fixed_window``/``sliding_window`` functions — the reference, and this is
# the same computation in C with the same engine calls (GET's
# ``lookup_read``, then SET ... PXAT's ``store_with_expiry``), under
# FastPaths' rules (see _client.pxi):
#
# - It hands over (returns None, and the caller runs the pure path) before
#   it touches anything, when the call is unusual: a key that is not str or
#   bytes, a cost that is not an int in 1..limit, maxmemory set, keyspace
#   notifications on.
# - After the lookup it finishes every outcome itself. A state it does not
#   compute in C — not exactly two (three) runs of 1 to 18 digits, or counts
#   above the limit, which only another writer of the key can leave — is
#   decided by the pure algorithm function on the value already read, and
#   its result built by the pure code too (its numbers may not fit in C), so
#   the rules for odd states (INVALID_STATE included) live in one place and
#   the C arithmetic never leaves int64 (counts <= limit and limit * period
#   <= 2**50 bound every product).
# - Python's floor semantics for // and % (Cython's default, cdivision off)
#   match the pure functions'; reset/retry seconds are ms / 1000.0, the same
#   correctly rounded double as Python's int true division.
# - The result (a ``RateLimitResult``, a tuple subclass) is allocated with
#   its type's ``tp_alloc`` and filled in place, as ``tuple.__new__(cls,
#   items)`` would: the NamedTuple's Python-level ``_make`` would cost more
#   than the whole hit.
cdef extern from *:
    """
    static PyObject *minikv_rl_alloc(PyObject *cls, Py_ssize_t size) {
        return ((PyTypeObject *)cls)->tp_alloc((PyTypeObject *)cls, size);
    }
    """
    object minikv_rl_alloc(object cls, Py_ssize_t size)

from cpython.tuple cimport PyTuple_SET_ITEM

cdef object _rl_pure_fixed = None
cdef object _rl_pure_sliding = None
cdef object _rl_pure_result = None


cdef int _rl_bind() except -1:
    global _rl_pure_fixed, _rl_pure_sliding, _rl_pure_result
    from minikv.patterns import ratelimit
    _rl_pure_fixed = ratelimit.fixed_window
    _rl_pure_sliding = ratelimit.sliding_window
    _rl_pure_result = ratelimit._result
    return 0


cdef int _rl_fields(bytes value, long long *out, int count) noexcept:
    """Exactly ``count`` space-separated runs of 1 to 18 digits; 0 when so."""
    cdef const char *text = PyBytes_AS_STRING(value)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(value), i = 0, start
    cdef int field = 0
    cdef long long number
    while True:
        start = i
        number = 0
        while i < size and c'0' <= text[i] <= c'9':
            if i - start == 18:
                return -1
            number = number * 10 + (text[i] - c'0')
            i += 1
        if i == start:
            return -1
        out[field] = number
        field += 1
        if field == count:
            return 0 if i == size else -1
        if i >= size or text[i] != c' ':
            return -1
        i += 1


cdef bytes _rl_state(long long *fields, int count):
    """``b"%d %d"`` (or three fields) of ``fields``, as the pure path writes."""
    cdef char buffer[80]
    cdef char *end = buffer + 80
    cdef char *start = end
    cdef unsigned long long magnitude
    cdef int i = count - 1
    while i >= 0:
        magnitude = (0 - <unsigned long long>fields[i]) if fields[i] < 0 \
            else <unsigned long long>fields[i]
        while True:
            start -= 1
            start[0] = <char>(c'0' + magnitude % 10)
            magnitude //= 10
            if magnitude == 0:
                break
        if fields[i] < 0:
            start -= 1
            start[0] = c'-'
        if i:
            start -= 1
            start[0] = c' '
        i -= 1
    return PyBytes_FromStringAndSize(start, end - start)


cdef inline void _rl_put(object result, Py_ssize_t at, object item):
    Py_INCREF(item)
    PyTuple_SET_ITEM(result, at, item)


cdef class _RateLimitWindow:
    """_RateLimitWindow(client, result_type, prefix, suffix, limit, period, sliding)
    --

    One RateLimiter's compiled fixed or sliding window (see the comment
    above): ``hit``/``peek`` return a ``result_type`` or None when the pure
    path must run the call.
    """

    cdef FastPaths client
    cdef object result_type
    cdef bytes prefix
    cdef bytes suffix
    cdef long long limit
    cdef long long period
    cdef bint sliding

    def __init__(self, FastPaths client, type result_type, bytes prefix, bytes suffix,
                 long long limit, long long period, bint sliding):
        if not issubclass(result_type, tuple):
            raise TypeError("result_type must be a tuple subclass")
        self.client = client
        self.result_type = result_type
        self.prefix = prefix
        self.suffix = suffix
        self.limit = limit
        self.period = period
        self.sliding = sliding

    def hit(self, key, cost=1):
        return self._run(key, cost, True)

    def peek(self, key, cost=1):
        return self._run(key, cost, False)

    cdef object _run(self, object key, object cost, bint take):
        cdef FastPaths client = self.client
        cdef long long limit = self.limit, period = self.period
        cdef bint sliding = self.sliding
        cdef object name, storage_key, value, now_object, decided, write, result
        cdef object expire_at = None
        cdef Keyspace ks
        cdef StoreLock lock
        cdef long long c, now, window, ends, decay
        cdef long long count = 0, previous = 0, remaining = 0, reset = 0, retry = 0, spare
        cdef long long fields[3]
        cdef bint fits, odd
        if type(cost) is not int or not 0 < cost <= limit:
            return None
        if type(key) is bytes:
            name = key
        elif type(key) is str:
            name = PyUnicode_AsUTF8String(key)
        else:
            return None
        if client.store.memory is not None:
            return None
        ks = <Keyspace>client._session.ks
        if ks.notify is not None:
            return None
        c = cost
        storage_key = self.prefix + name + self.suffix
        write = None
        lock = <StoreLock>client._lock
        lock._enter()
        try:
            value = ks._lookup_read(storage_key)
            if value is not None and type(value) is not bytes:
                if type(value) is not bytearray:
                    raise _redis_error(_WRONGTYPE)
                value = bytes(value)
            # Read after the lookup, as the pure path does (see RateLimiter._decide).
            now_object = ks.clock_ms()
            odd = False
            if value is not None:
                if sliding:
                    odd = (_rl_fields(value, fields, 3) != 0 or fields[1] > limit
                           or fields[2] > limit)
                else:
                    odd = _rl_fields(value, fields, 2) != 0 or fields[1] > limit
            if odd:
                if _rl_pure_fixed is None:
                    _rl_bind()
                try:
                    decided = (_rl_pure_sliding if sliding else _rl_pure_fixed)(
                        value, now_object, limit, period, cost, take)
                except _CommandError as exc:
                    raise _redis_error(exc.text)
                write, expire_at = decided[4], decided[5]
            else:
                now = now_object
                window = now - now % period
                if not sliding:
                    if value is not None and fields[0] == window:
                        count = fields[1]
                    ends = window + period - now
                    fits = count + c <= limit
                    if not fits:
                        reset = retry = ends
                    elif take:
                        count += c
                        reset = ends
                        fields[0] = window
                        fields[1] = count
                        write = _rl_state(fields, 2)
                        expire_at = window + period
                    else:
                        reset = ends if count else 0
                    remaining = limit - count
                else:
                    if value is not None:
                        if fields[0] == window:
                            previous = fields[1]
                            count = fields[2]
                        elif fields[0] == window - period:
                            previous = fields[2]
                    decay = period - (now - window)
                    fits = previous * decay + (count + c) * period <= limit * period
                    if fits and take:
                        count += c
                        fields[0] = window
                        fields[1] = previous
                        fields[2] = count
                        write = _rl_state(fields, 3)
                        expire_at = window + 2 * period
                    if count:
                        reset = window + 2 * period - now
                    elif previous:
                        reset = window + period - now
                    else:
                        reset = 0
                    if not fits:
                        spare = limit - count - c
                        if spare >= 0:
                            retry = window + period - spare * period // previous - now
                        else:
                            retry = window + 2 * period - (limit - c) * period // count - now
                    remaining = (limit * period - previous * decay - count * period) // period
            if write:
                ks._store_with_expiry(storage_key, write, expire_at)
        finally:
            lock._exit()
        if odd:
            return _rl_pure_result(decided[0], limit, decided[1], decided[2], decided[3])
        if remaining < 0:
            remaining = 0
        result = minikv_rl_alloc(self.result_type, 5)
        _rl_put(result, 0, fits)
        _rl_put(result, 1, limit)
        _rl_put(result, 2, remaining)
        _rl_put(result, 3, reset / 1000.0)
        _rl_put(result, 4, retry / 1000.0)
        return result
