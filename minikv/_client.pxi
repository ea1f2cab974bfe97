# The client's hot paths, compiled: included at the end of _core.pyx.
#
# ``FastPaths`` is the compiled twin of ``minikv._pyclient.FastPaths``, the
# first base of ``minikv.Redis``: same methods, same signatures, same results.
# The pure class is the reference and does everything; this one runs the
# most common form of each call in C and hands every other form to it:
#
# - The decision to hand over is always taken *before* anything is changed
#   or counted (arguments of an unusual type, maxmemory set, keyspace
#   notifications on, several keys), so a handed-over call runs once, whole,
#   in the pure code. After the lookup, every outcome is finished here,
#   errors included.
# - The client's attributes (``store``, ``_session``, ``_lock``, the
#   encoding) are C struct fields; the keyspace is reached through its
#   ``cdef`` methods (``_lookup``, ``_store``...), with the very same code
#   the engine's command handlers run through the ``def`` wrappers, so WATCH
#   signalling, lazy expiry and counters cannot differ.
# - Writes whose rules live in an engine helper with more than a couple of
#   branches (HSET's encoding limits, ZADD/ZINCRBY, pushes that create a
#   list) call that helper, as the pure twin does: one place per rule.
#
# The store lock is a ``StoreLock``: a bare ``PyThread_type_lock`` (the OS
# mutex/semaphore under ``threading.Lock``) driven through CPython's C API.
# Uncontended, acquiring is one non-blocking try (an atomic operation, no
# system call) and releasing one post; only when another thread holds it
# does the caller release the GIL and block. It is a real mutex — it does
# not lean on the GIL for exclusion — so it stays correct however the Python
# code holding it is interleaved (a command handler can lose the GIL in the
# middle; no other command can enter until it releases), and it would stay
# correct without a GIL. It offers ``threading.Lock``'s interface
# (``acquire(blocking, timeout)``, ``release``, ``locked``, context manager)
# for the Python code, ``threading.Condition`` and the fork handlers.
from cpython.pythread cimport (
    NOWAIT_LOCK, WAIT_LOCK, PY_LOCK_ACQUIRED, PyLockStatus, PyThread_acquire_lock,
    PyThread_allocate_lock, PyThread_free_lock, PyThread_release_lock, PyThread_type_lock,
)


cdef extern from "pythread.h":
    PyLockStatus PyThread_acquire_lock_timed(PyThread_type_lock, long long microseconds,
                                             int intr_flag) nogil
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.unicode cimport PyUnicode_AsUTF8String
from libc.stdint cimport int64_t


cdef class StoreLock:
    """StoreLock()
    --

    The store's mutex, ``threading.Lock``'s interface over a bare
    ``PyThread_type_lock``; the compiled fast paths take it without a
    method call. Not reentrant, like ``threading.Lock``.
    """

    cdef PyThread_type_lock _handle
    cdef bint _held

    def __cinit__(self):
        self._handle = PyThread_allocate_lock()
        if self._handle == NULL:
            raise MemoryError("cannot allocate a lock")

    def __dealloc__(self):
        if self._handle != NULL:
            if self._held:
                PyThread_release_lock(self._handle)
            PyThread_free_lock(self._handle)

    cdef inline int _enter(self) except -1:
        if not PyThread_acquire_lock(self._handle, NOWAIT_LOCK):
            with nogil:
                PyThread_acquire_lock(self._handle, WAIT_LOCK)
        self._held = True
        return 0

    cdef inline void _exit(self) noexcept:
        self._held = False
        PyThread_release_lock(self._handle)

    def acquire(self, blocking=True, timeout=-1):
        """As ``threading.Lock.acquire``: True once held, False on timeout."""
        cdef long long microseconds
        cdef PyLockStatus status
        if not blocking:
            if timeout != -1:
                raise ValueError("can't specify a timeout for a non-blocking call")
            if not PyThread_acquire_lock(self._handle, NOWAIT_LOCK):
                return False
        elif timeout == -1:
            self._enter()
            return True
        else:
            if timeout < 0:
                raise ValueError("timeout value must be a non-negative number")
            microseconds = <long long>(timeout * 1e6)
            if not PyThread_acquire_lock(self._handle, NOWAIT_LOCK):
                with nogil:
                    status = PyThread_acquire_lock_timed(self._handle, microseconds, 0)
                if status != PY_LOCK_ACQUIRED:
                    return False
        self._held = True
        return True

    def release(self):
        if not self._held:
            raise RuntimeError("release unlocked lock")
        self._exit()

    def locked(self):
        return self._held

    def __enter__(self):
        self._enter()
        return True

    def __exit__(self, *exc_info):
        self._exit()

    def __repr__(self):
        return f"<minikv StoreLock {'locked' if self._held else 'unlocked'}>"


# Bound on the first client (the engine imports this module: no cycle).
cdef object _pure = None            # minikv._pyclient.FastPaths
cdef object _error_from_reply = None
cdef object _set_field = None
cdef object _push = None
cdef object _pop = None
cdef object _add_member = None
cdef object _incr_member = None
cdef object _remove_members = None
cdef object _serve_ready_keys = None
cdef object _CommandError = None
cdef object _Hash = None
cdef object _List = None
cdef object _ZSet = None
cdef str _WRONGTYPE
cdef str _NOT_INTEGER
cdef str _OVERFLOW


cdef int _bind() except -1:
    global _pure, _error_from_reply, _set_field, _push, _pop, _add_member, _incr_member
    global _remove_members, _serve_ready_keys, _CommandError, _Hash, _List, _ZSet
    global _WRONGTYPE, _NOT_INTEGER, _OVERFLOW
    from minikv import _pyclient
    from minikv.engine import blocking, errors, hashes, lists, values, zsets
    from minikv import exceptions
    _error_from_reply = exceptions.error_from_reply
    _set_field = hashes.set_field
    _push = lists.push
    _pop = lists.pop
    _add_member = zsets.add_member
    _incr_member = zsets.incr_member
    _remove_members = zsets.remove_members
    _serve_ready_keys = blocking.serve_ready_keys
    _CommandError = errors.CommandError
    _Hash = values.Hash
    _List = values.List
    _ZSet = values.ZSet
    _WRONGTYPE = errors.WRONGTYPE
    _NOT_INTEGER = errors.NOT_INTEGER
    _OVERFLOW = errors.OVERFLOW
    _pure = _pyclient.FastPaths
    return 0


cdef str _codec_name(object encoding):
    import codecs
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        return ""


cdef object _redis_error(str text):
    return _error_from_reply(text)


# Redis's string2ll: an optional "-", no leading zeros, no "+", no spaces,
# at most 20 characters, within int64. Returns 0 on success.
cdef int _string2ll(bytes data, int64_t *out) noexcept:
    cdef const char *text = PyBytes_AS_STRING(data)
    cdef Py_ssize_t size = PyBytes_GET_SIZE(data), i = 0
    cdef bint negative = False
    cdef unsigned long long value = 0, digit
    if size == 0 or size > 20:
        return -1
    if size == 1 and text[0] == c'0':
        out[0] = 0
        return 0
    if text[0] == c'-':
        negative = True
        i = 1
        if size == 1:
            return -1
    if text[i] < c'1' or text[i] > c'9':
        return -1
    while i < size:
        if text[i] < c'0' or text[i] > c'9':
            return -1
        digit = text[i] - c'0'
        if value > (18446744073709551615ULL - digit) // 10:
            return -1
        value = value * 10 + digit
        i += 1
    if negative:
        if value > 9223372036854775808ULL:
            return -1
        out[0] = <int64_t>(0 - value)
    else:
        if value > 9223372036854775807ULL:
            return -1
        out[0] = <int64_t>value
    return 0


cdef bytes _ll2bytes(int64_t value):
    """The decimal text of ``value``, as Redis stores an INCR result."""
    cdef char buffer[24]
    cdef char *end = buffer + 24
    cdef char *start = end
    cdef unsigned long long magnitude = (0 - <unsigned long long>value) if value < 0 \
        else <unsigned long long>value
    while True:
        start -= 1
        start[0] = <char>(c'0' + magnitude % 10)
        magnitude //= 10
        if magnitude == 0:
            break
    if value < 0:
        start -= 1
        start[0] = c'-'
    return PyBytes_FromStringAndSize(start, end - start)


# Integers this small convert to the same double as Redis's strtod of their
# decimal text; the pure twin's ``fast_score`` has the same rule.
cdef object _EXACT_INT_LIMIT = 1 << 1000


cdef inline object _exact_score(object value):
    """A score as a float when it is certain without text, else None."""
    if type(value) is float:
        return value if value == value else None
    if type(value) is int and -_EXACT_INT_LIMIT < value < _EXACT_INT_LIMIT:
        return float(value)
    return None


cdef class FastPaths:
    """FastPaths()
    --

    The hot-path methods of ``minikv.Redis``, compiled (twin of
    ``minikv._pyclient.FastPaths``; see the comment above this class).
    """

    cdef public object store
    cdef public object _session
    cdef public object _lock
    cdef public object _encode
    cdef public object _encoding
    cdef public object _encoding_errors
    cdef public bint _decode
    # 1 when str arguments are encoded as strict UTF-8 (the default), which
    # is then done inline; 0 otherwise; -1 until the first str is seen.
    cdef int _utf8

    def __cinit__(self, *args, **kwargs):
        self._utf8 = -1
        if _pure is None:
            _bind()

    cdef inline object _key(self, object name):
        """An argument as redis-py encodes it (``self._encode``'s rules)."""
        if type(name) is bytes:
            return name
        if type(name) is str:
            if self._utf8 < 0:
                self._utf8 = (_codec_name(self._encoding) == "utf-8"
                              and self._encoding_errors == "strict")
            if self._utf8:
                return PyUnicode_AsUTF8String(name)
        return self._encode(name)

    cdef inline object _text(self, object value):
        """A bulk reply as the client returns it (decoded when asked)."""
        if self._decode:
            return (<bytes>value).decode(self._encoding, self._encoding_errors)
        return value

    # -- strings ------------------------------------------------------------
    def get(self, name):
        cdef object key = self._key(name)
        cdef StoreLock lock = self._lock
        cdef object value
        lock._enter()
        try:
            value = (<Keyspace>self._session.ks)._lookup_read(key)
        finally:
            lock._exit()
        if value is None:
            return None
        if type(value) is bytearray:
            value = bytes(value)
        elif type(value) is not bytes:
            raise _redis_error(_WRONGTYPE)
        return self._text(value)

    def set(self, name, value, ex=None, px=None, nx=False, xx=False, keepttl=False,
            get=False, exat=None, pxat=None, ifeq=None, ifne=None, ifdeq=None, ifdne=None):
        cdef object key, data, when
        cdef StoreLock lock
        cdef Keyspace ks
        cdef bint handed_over
        cdef long long ttl_ms
        if px is None and ex is None:
            ttl_ms = 0
        elif px is None and type(ex) is int and 0 < ex <= 1000000000000:
            ttl_ms = ex * 1000
        elif ex is None and type(px) is int and 0 < px <= 1000000000000000:
            ttl_ms = px
        else:
            ttl_ms = -1
        if (ttl_ms < 0 or nx or xx or get or keepttl or exat is not None
                or pxat is not None or ifeq is not None or ifne is not None
                or ifdeq is not None or ifdne is not None):
            return _pure.set(self, name, value, ex, px, nx, xx, keepttl, get, exat, pxat,
                             ifeq, ifne, ifdeq, ifdne)
        key = self._key(name)
        data = self._key(value)
        lock = self._lock
        lock._enter()
        try:
            ks = self._session.ks
            if ks.notify is not None or self.store.memory is not None:
                handed_over = True
            else:
                handed_over = False
                if ttl_ms == 0:
                    ks._store(key, data)
                else:
                    when = ks.clock_ms() + ttl_ms
                    ks._store_with_expiry(key, data, when)
        finally:
            lock._exit()
        if handed_over:
            return _pure.set(self, name, value, ex, px)
        return True

    def incrby(self, name, amount=1):
        cdef object key, current
        cdef StoreLock lock
        cdef Keyspace ks
        cdef int64_t number, delta
        cdef str error = None
        if type(amount) is not int or not (-9223372036854775808 <= amount
                                           <= 9223372036854775807):
            return _pure.incrby(self, name, amount)
        delta = amount
        key = self._key(name)
        lock = self._lock
        lock._enter()
        try:
            ks = self._session.ks
            if ks.notify is not None or self.store.memory is not None:
                error = ""  # handed over, below
            else:
                current = ks._lookup(key)
                if current is None:
                    number = 0
                elif type(current) is bytes:
                    if _string2ll(current, &number) != 0:
                        error = _NOT_INTEGER
                elif type(current) is bytearray:
                    if _string2ll(bytes(current), &number) != 0:
                        error = _NOT_INTEGER
                else:
                    error = _WRONGTYPE
                if error is None:
                    if (delta > 0 and number > 9223372036854775807 - delta) or \
                            (delta < 0 and number < -9223372036854775807 - 1 - delta):
                        error = _OVERFLOW
                    else:
                        number += delta
                        ks._replace(key, _ll2bytes(number))
        finally:
            lock._exit()
        if error is not None:
            if not error:
                return _pure.incrby(self, name, amount)
            raise _redis_error(error)
        return number

    incr = incrby

    # -- keys ---------------------------------------------------------------
    def delete(self, *names):
        cdef object key
        cdef StoreLock lock
        cdef Keyspace ks
        cdef int deleted = 0
        if len(names) != 1:
            return _pure.delete(self, *names)
        key = self._key(names[0])
        lock = self._lock
        lock._enter()
        try:
            ks = self._session.ks
            if ks.notify is not None:
                deleted = -1
            elif ks._lookup(key) is not None:
                deleted = ks._delete(key)
        finally:
            lock._exit()
        if deleted < 0:
            return _pure.delete(self, *names)
        return 1 if deleted else 0

    def exists(self, *names):
        cdef object key, value
        cdef StoreLock lock
        if len(names) != 1:
            return _pure.exists(self, *names)
        key = self._key(names[0])
        lock = self._lock
        lock._enter()
        try:
            value = (<Keyspace>self._session.ks)._lookup_read(key)
        finally:
            lock._exit()
        return 0 if value is None else 1

    __contains__ = exists

    def expire(self, name, time, nx=False, xx=False, gt=False, lt=False):
        cdef object key, now
        cdef StoreLock lock
        cdef Keyspace ks
        cdef int outcome = -1
        if nx or xx or gt or lt or type(time) is not int or not 0 < time <= 1000000000000:
            return _pure.expire(self, name, time, nx, xx, gt, lt)
        key = self._key(name)
        lock = self._lock
        lock._enter()
        try:
            ks = self._session.ks
            store = self.store
            if ks.notify is None and store.memory is None:
                now = store.clock.ms()
                if ks._lookup(key) is None:
                    outcome = 0
                else:
                    ks._expire_at(key, now + time * 1000)
                    outcome = 1
        finally:
            lock._exit()
        if outcome < 0:
            return _pure.expire(self, name, time, nx, xx, gt, lt)
        return outcome == 1

    def ttl(self, name):
        cdef object key
        cdef StoreLock lock = self._lock
        cdef Keyspace ks
        cdef ExpiryTable table
        cdef Py_ssize_t at
        cdef long long ms
        key = self._key(name)
        lock._enter()
        try:
            ks = self._session.ks
            if ks._lookup_read(key) is None:
                return -2
            table = ks._expires
            at = table._find(key)
            if at < 0:
                return -1
            ms = table.entries[at].when - <long long>self.store.clock.ms()
        finally:
            lock._exit()
        if ms < 0:
            ms = 0
        return (ms + 500) // 1000

    # -- hashes -------------------------------------------------------------
    def hget(self, name, key):
        cdef object hash_key = self._key(name)
        cdef object field = self._key(key)
        cdef StoreLock lock = self._lock
        cdef object value
        lock._enter()
        try:
            value = (<Keyspace>self._session.ks)._lookup_read(hash_key)
        finally:
            lock._exit()
        if value is None:
            return None
        if type(value) is not _Hash:
            raise _redis_error(_WRONGTYPE)
        value = (<dict>value).get(field)
        if value is None:
            return None
        return self._text(value)

    def hset(self, name, key=None, value=None, mapping=None, items=None):
        cdef object hash_key, field, data, current, limits, limit
        cdef StoreLock lock
        cdef Keyspace ks
        cdef Py_ssize_t size
        if key is None or mapping or items:
            return _pure.hset(self, name, key, value, mapping, items)
        hash_key = self._key(name)
        field = self._key(key)
        data = self._key(value)
        lock = self._lock
        store = self.store
        lock._enter()
        try:
            if store.memory is None:
                ks = self._session.ks
                current = ks._lookup(hash_key)
                if type(current) is not _Hash or ks.notify is not None:
                    return _set_field(ks, store.config, hash_key, field, data)
                # An existing hash: engine/hashes.py's set_field, inline.
                ks._modified(hash_key)
                size = len(<dict>current)
                (<dict>current)[field] = data
                if not current.hashtable:
                    limits = store.config._values
                    limit = limits["hash-max-listpack-value"]
                    if len(field) > limit or len(data) > limit \
                            or len(<dict>current) > limits["hash-max-listpack-entries"]:
                        current.hashtable = True
                return len(<dict>current) - size
        except _CommandError as exc:
            raise _redis_error(exc.text) from None
        finally:
            lock._exit()
        return _pure.hset(self, name, key, value, mapping, items)

    # -- lists --------------------------------------------------------------
    def lpush(self, name, *values):
        return self._push("LPUSH", name, values, True)

    def rpush(self, name, *values):
        return self._push("RPUSH", name, values, False)

    def _push(self, command_name, name, values, head):
        cdef object key, current, element
        cdef StoreLock lock
        cdef Keyspace ks
        cdef Py_ssize_t length = -1
        if len(values) != 1:
            return _pure._push(self, command_name, name, values, head)
        key = self._key(name)
        element = self._key(values[0])
        lock = self._lock
        store = self.store
        lock._enter()
        try:
            ks = self._session.ks
            if ks.notify is None and store.memory is None:
                current = ks._lookup(key)
                if type(current) is _List:
                    if head:
                        current.appendleft(element)
                    else:
                        current.append(element)
                    ks._modified(key)
                    length = len(current)
                elif current is None:  # engine/lists.py's push creating a list, inline
                    ks._store(key, _List((element,)))
                    length = 1
                    blocked = store.blocked
                    if blocked.by_key:
                        blocked.signal((self._session.db, key))
                        if blocked.ready:
                            _serve_ready_keys(store)
                else:
                    _push(self._session, key, [element], head)  # raises WRONGTYPE
        except _CommandError as exc:
            raise _redis_error(exc.text) from None
        finally:
            lock._exit()
        if length < 0:
            return _pure._push(self, command_name, name, values, head)
        return length

    def lpop(self, name, count=None):
        return self._pop("LPOP", name, count, True)

    def rpop(self, name, count=None):
        return self._pop("RPOP", name, count, False)

    def _pop(self, command_name, name, count, head):
        cdef object key, current, element = None
        cdef StoreLock lock
        cdef Keyspace ks
        cdef bint handed_over = False
        if count is not None:
            return _pure._pop(self, command_name, name, count, head)
        key = self._key(name)
        lock = self._lock
        store = self.store
        lock._enter()
        try:
            ks = self._session.ks
            if ks.notify is not None or store.memory is not None:
                handed_over = True
            else:
                current = ks._lookup(key)
                if type(current) is _List:
                    element = current.popleft() if head else current.pop()
                    if current:
                        ks._modified(key)
                    else:
                        ks._delete(key)
                elif current is not None:
                    element = _pop(ks, key, head)  # raises WRONGTYPE
        except _CommandError as exc:
            raise _redis_error(exc.text) from None
        finally:
            lock._exit()
        if handed_over:
            return _pure._pop(self, command_name, name, count, head)
        if element is None:
            return None
        return self._text(element)

    # -- sorted sets ----------------------------------------------------------
    def zadd(self, name, mapping, nx=False, xx=False, ch=False, incr=False, gt=False,
             lt=False):
        cdef object key, member, score
        cdef StoreLock lock
        if nx or xx or ch or incr or gt or lt or not mapping or len(mapping) != 1:
            return _pure.zadd(self, name, mapping, nx, xx, ch, incr, gt, lt)
        (member, score), = mapping.items()
        score = _exact_score(score)
        if score is None:
            return _pure.zadd(self, name, mapping)
        key = self._key(name)
        member = self._key(member)
        lock = self._lock
        store = self.store
        lock._enter()
        try:
            if store.memory is None:
                added = _add_member(self._session, key, member, score)
                if store.blocked.ready:
                    _serve_ready_keys(store)
                return added
        except _CommandError as exc:
            raise _redis_error(exc.text) from None
        finally:
            lock._exit()
        return _pure.zadd(self, name, mapping)

    def zincrby(self, name, amount, value):
        cdef object key, member
        cdef StoreLock lock
        cdef object increment = _exact_score(amount)
        if increment is None:
            return _pure.zincrby(self, name, amount, value)
        key = self._key(name)
        member = self._key(value)
        lock = self._lock
        store = self.store
        lock._enter()
        try:
            if store.memory is None:
                score = _incr_member(self._session, key, member, increment)
                if store.blocked.ready:
                    _serve_ready_keys(store)
                return score
        except _CommandError as exc:
            raise _redis_error(exc.text) from None
        finally:
            lock._exit()
        return _pure.zincrby(self, name, amount, value)

    def zrem(self, name, *values):
        cdef StoreLock lock
        if len(values) != 1:
            return _pure.zrem(self, name, *values)
        key = self._key(name)
        members = [self._key(values[0])]
        lock = self._lock
        store = self.store
        lock._enter()
        try:
            if store.memory is None:
                return _remove_members(self._session.ks, key, members)
        except _CommandError as exc:
            raise _redis_error(exc.text) from None
        finally:
            lock._exit()
        return _pure.zrem(self, name, *values)

    def zscore(self, name, value):
        cdef object key = self._key(name)
        cdef object member = self._key(value)
        cdef StoreLock lock = self._lock
        cdef object zset
        lock._enter()
        try:
            zset = (<Keyspace>self._session.ks)._lookup_read(key)
            if zset is None:
                return None
            if type(zset) is not _ZSet:
                raise _redis_error(_WRONGTYPE)
            return (<dict>zset.scores).get(member)
        finally:
            lock._exit()

    def _rank(self, command_name, name, value, withscore, score_cast_func, reverse):
        cdef object key, member, zset, score
        cdef StoreLock lock
        cdef ScoreIndex index
        cdef Py_ssize_t rank
        if withscore:
            return _pure._rank(self, command_name, name, value, withscore, score_cast_func,
                               reverse)
        key = self._key(name)
        member = self._key(value)
        lock = self._lock
        lock._enter()
        try:
            zset = (<Keyspace>self._session.ks)._lookup_read(key)
            if zset is None:
                return None
            if type(zset) is not _ZSet:
                raise _redis_error(_WRONGTYPE)
            score = (<dict>zset.scores).get(member)
            if score is None:
                return None
            index = zset.index
            rank = index._rank(score, member)
            return index.length - 1 - rank if reverse else rank
        finally:
            lock._exit()

    def zrank(self, name, value, withscore=False, score_cast_func=float):
        return self._rank("ZRANK", name, value, withscore, score_cast_func, False)

    def zrevrank(self, name, value, withscore=False, score_cast_func=float):
        return self._rank("ZREVRANK", name, value, withscore, score_cast_func, True)

    def _rank_range(self, name, start, end, withscores, score_cast_func, reverse):
        cdef object key, zset, member
        cdef StoreLock lock
        cdef ScoreIndex index
        cdef ZNode *node
        cdef long long first, stop, size, count
        cdef list result
        if (type(start) is not int or type(end) is not int
                or not (-9223372036854775808 <= start <= 9223372036854775807
                        and -9223372036854775808 <= end <= 9223372036854775807)
                or (withscores and score_cast_func is not float)):
            return _pure._rank_range(self, name, start, end, withscores, score_cast_func,
                                     reverse)
        key = self._key(name)
        first = start
        stop = end
        result = []
        lock = self._lock
        lock._enter()
        try:
            zset = (<Keyspace>self._session.ks)._lookup_read(key)
            if zset is None:
                return result
            if type(zset) is not _ZSet:
                raise _redis_error(_WRONGTYPE)
            index = zset.index
            # engine/zsets.py's _rank_span: Redis's clamping of the indexes.
            size = index.length
            if first < 0:
                first += size
            if stop < 0:
                stop += size
            if first < 0:
                first = 0
            if first > stop or first >= size:
                return result
            if stop >= size:
                stop = size - 1
            count = stop - first + 1
            # Ranks count from the top when reversed; walk the nodes in
            # reply order, straight from the skip list.
            node = index._at(size - 1 - first if reverse else first)
            while count:
                member = <object>node.member
                if withscores:
                    result.append((self._text(member), node.score))
                else:
                    result.append(self._text(member))
                node = node.backward if reverse else node.level[0].forward
                count -= 1
            return result
        finally:
            lock._exit()

    def zrevrange(self, name, start, end, withscores=False, score_cast_func=float):
        return self._rank_range(name, start, end, withscores, score_cast_func, True)
