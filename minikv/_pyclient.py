"""Pure-Python twin of the client fast paths compiled in ``minikv/_core.pyx``.

``FastPaths`` is the first base of ``minikv.Redis``: the methods of the
commands an application calls most (GET, SET, INCRBY, EXISTS, EXPIRE, TTL,
DEL, HGET, HSET, LPUSH/RPUSH, LPOP/RPOP, ZADD, ZINCRBY, ZREM, ZSCORE,
ZRANK/ZREVRANK, index ranges). Each takes redis-py's arguments, and for the
common forms calls the engine's typed helper directly under the store lock
— the same function the command's handler calls, so each rule lives in one
place — instead of building an argv for ``dispatch``; any other form goes
through ``execute_command`` exactly as redis-py sends it.

While maxmemory is set a write goes through ``write_under_limit``
(api/limits.py), which applies what ``dispatch`` applies around a command;
a write that can make a key ready serves blocked clients before the lock is
released, as ``dispatch`` does.

This module is the reference; ``minikv._core.FastPaths`` has the same
methods with the same signatures and results, and runs the most common
cases in C (see the comment above it there). ``minikv.backend`` picks one.
Pipelines and MULTI route every method here through ``execute_command``
(``minikv.pipeline.RoutedCommands``).
"""
from minikv.api.expiry_args import condition_flags, seconds
from minikv.api.hashes import hset_arguments
from minikv.api.limits import write_under_limit
from minikv.api.sorted_sets import fast_score, zadd_arguments
from minikv.api.strings import MAX_FAST_EX, set_arguments
from minikv.engine.blocking import serve_ready_keys
from minikv.engine.errors import CommandError
from minikv.engine.hashes import get_field, set_field
from minikv.engine.keys import count_existing, delete_keys, expire_key, expire_when, key_ttl
from minikv.engine.lists import pop, push
from minikv.engine.notify import GENERIC, STRING
from minikv.engine.numbers import INT64_MAX, INT64_MIN
from minikv.engine.strings import get_string, incr_by, set_string, set_string_with_expiry
from minikv.engine.zsets import (
    add_member, incr_member, rank_of, rank_range, remove_members, score_of,
)
from minikv.exceptions import error_from_reply

__all__ = ["FastPaths"]


def _fast_ttl_ms(ex, px):
    """SET's relative TTL in ms when the fast path can take it: 0 for none,
    None for a form the command handler must judge (both given, not a
    plain int, not positive, or large enough to need its overflow checks)."""
    if px is None:
        if ex is None:
            return 0
        if ex.__class__ is int and 0 < ex <= MAX_FAST_EX:
            return ex * 1000
    elif ex is None and px.__class__ is int and 0 < px <= MAX_FAST_EX * 1000:
        return px
    return None


class FastPaths:
    """The hot-path methods of ``minikv.Redis`` (pure-Python version)."""

    __slots__ = ()

    # -- strings ------------------------------------------------------------
    def get(self, name):
        key = name if name.__class__ is bytes else self._encode(name)
        try:
            with self._lock:
                value = get_string(self._session.ks, key)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        if value is not None and self._decode:
            return value.decode(self._encoding, self._encoding_errors)
        return value

    def set(self, name, value, ex=None, px=None, nx=False, xx=False, keepttl=False,
            get=False, exat=None, pxat=None, ifeq=None, ifne=None, ifdeq=None, ifdne=None):
        if (not (nx or xx or get or keepttl) and exat is None and pxat is None
                and ifeq is None and ifne is None and ifdeq is None and ifdne is None):
            # Fast paths: plain SET, and SET EX/PX with a valid int (the
            # cache case). Anything unusual goes through the command handler.
            ttl_ms = _fast_ttl_ms(ex, px)
            if ttl_ms is not None:
                encode = self._encode
                key = name if name.__class__ is bytes else encode(name)
                data = value if value.__class__ is bytes else encode(value)
                with self._lock:
                    ks = self._session.ks
                    store = self.store
                    if not ttl_ms:
                        if store.memory is not None:  # maxmemory is set
                            write_under_limit(store, True, set_string, ks, key, data)
                            return True
                        ks.store(key, data)
                        if ks.notify is not None:  # keyspace notifications are on
                            ks.notify(STRING, b"set", key)
                        return True
                    when = ks.clock_ms() + ttl_ms
                    if store.memory is not None:  # maxmemory is set
                        write_under_limit(store, True, set_string_with_expiry, ks, key, data,
                                          when)
                    else:
                        ks.store_with_expiry(key, data, when)
                        if ks.notify is not None:  # keyspace notifications are on
                            ks.notify(STRING, b"set", key)
                            ks.notify(GENERIC, b"expire", key)
                return True
        pieces, options = set_arguments(name, value, ex, px, nx, xx, keepttl, get, exat, pxat,
                                        ifeq, ifne, ifdeq, ifdne)
        return self.execute_command("SET", *pieces, **options)

    def incrby(self, name, amount=1):
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        if amount.__class__ is not int or not INT64_MIN <= amount <= INT64_MAX:
            return self.execute_command("INCRBY", name, amount)
        try:
            with self._lock:
                store = self.store
                if store.memory is not None:  # maxmemory is set
                    return write_under_limit(store, True, incr_by, self._session.ks, key,
                                             amount)
                return incr_by(self._session.ks, key, amount)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    incr = incrby


    # -- keys ---------------------------------------------------------------
    def delete(self, *names):
        if not names:
            return self.execute_command("DEL")  # Redis's arity error
        encode = self._encode
        keys = [name if name.__class__ is bytes else encode(name) for name in names]
        with self._lock:
            return delete_keys(self._session.ks, keys)

    def exists(self, *names):
        if len(names) != 1:
            return self.execute_command("EXISTS", *names, keys=names)
        name = names[0]
        key = name if name.__class__ is bytes else self._encode(name)
        with self._lock:
            return count_existing(self._session.ks, (key,))

    __contains__ = exists

    def expire(self, name, time, nx=False, xx=False, gt=False, lt=False):
        time = seconds(time)
        if nx or xx or gt or lt or time.__class__ is not int \
                or not INT64_MIN <= time <= INT64_MAX:
            return self.execute_command("EXPIRE", name, time,
                                        *condition_flags(nx, xx, gt, lt))
        key = name if name.__class__ is bytes else self._encode(name)
        try:
            with self._lock:
                now = self.store.clock.ms()
                when = expire_when(time, True, now, "expire")
                if self.store.memory is not None:  # maxmemory is set
                    return write_under_limit(self.store, False, expire_key, self._session.ks,
                                             key, when, now) == 1
                return expire_key(self._session.ks, key, when, now) == 1
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def ttl(self, name):
        key = name if name.__class__ is bytes else self._encode(name)
        with self._lock:
            return key_ttl(self._session.ks, key, self.store.clock.ms())


    # -- hashes -------------------------------------------------------------
    def hget(self, name, key):
        encode = self._encode
        hash_key = name if name.__class__ is bytes else encode(name)
        field = key if key.__class__ is bytes else encode(key)
        try:
            with self._lock:
                value = get_field(self._session.ks, hash_key, field)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        if value is not None and self._decode:
            return value.decode(self._encoding, self._encoding_errors)
        return value

    def hset(self, name, key=None, value=None, mapping=None, items=None):
        if key is None or mapping or items:
            return self.execute_command("HSET", name,
                                        *hset_arguments(key, value, mapping, items))
        encode = self._encode
        hash_key = name if name.__class__ is bytes else encode(name)
        field = key if key.__class__ is bytes else encode(key)
        data = value if value.__class__ is bytes else encode(value)
        try:
            with self._lock:
                store = self.store
                if store.memory is not None:  # maxmemory is set
                    return write_under_limit(store, True, set_field, self._session.ks,
                                             store.config, hash_key, field, data)
                return set_field(self._session.ks, store.config, hash_key, field, data)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None


    # -- lists --------------------------------------------------------------
    def _push(self, command_name, name, values, head):
        if not values:
            return self.execute_command(command_name, name)  # Redis's arity error
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        elements = [value if value.__class__ is bytes else encode(value) for value in values]
        store = self.store
        try:
            with self._lock:
                if store.memory is not None:  # maxmemory is set
                    return write_under_limit(store, True, push, self._session, key, elements,
                                             head)
                length = push(self._session, key, elements, head)
                if store.blocked.ready:
                    serve_ready_keys(store)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        return length

    def lpush(self, name, *values):
        return self._push("LPUSH", name, values, True)

    def rpush(self, name, *values):
        return self._push("RPUSH", name, values, False)

    def _pop(self, command_name, name, count, head):
        if count is not None:
            return self.execute_command(command_name, name, count)
        key = name if name.__class__ is bytes else self._encode(name)
        try:
            with self._lock:
                store = self.store
                if store.memory is not None:  # maxmemory is set
                    element = write_under_limit(store, False, pop, self._session.ks, key, head)
                else:
                    element = pop(self._session.ks, key, head)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        if element is not None and self._decode:
            return element.decode(self._encoding, self._encoding_errors)
        return element

    def lpop(self, name, count=None):
        return self._pop("LPOP", name, count, True)

    def rpop(self, name, count=None):
        return self._pop("RPOP", name, count, False)


    # -- sorted sets --------------------------------------------------------
    def zadd(self, name, mapping, nx=False, xx=False, ch=False, incr=False, gt=False,
             lt=False):
        if mapping and len(mapping) == 1 and not (nx or xx or ch or incr or gt or lt):
            (member, score), = mapping.items()
            if score.__class__ is not float or score != score:
                score = fast_score(score)
            if score is not None:
                encode = self._encode
                key = name if name.__class__ is bytes else encode(name)
                member = member if member.__class__ is bytes else encode(member)
                store = self.store
                try:
                    with self._lock:
                        if store.memory is not None:  # maxmemory is set
                            return write_under_limit(store, True, add_member, self._session,
                                                     key, member, score)
                        added = add_member(self._session, key, member, score)
                        if store.blocked.ready:
                            serve_ready_keys(store)
                except CommandError as exc:
                    raise error_from_reply(exc.text) from None
                return added
        pieces, options = zadd_arguments(mapping, nx, xx, ch, incr, gt, lt)
        return self.execute_command("ZADD", name, *pieces, **options)

    def zincrby(self, name, amount, value):
        increment = amount if amount.__class__ is float and amount == amount \
            else fast_score(amount)
        if increment is None:
            return self.execute_command("ZINCRBY", name, amount, value)
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        member = value if value.__class__ is bytes else encode(value)
        store = self.store
        try:
            with self._lock:
                if store.memory is not None:  # maxmemory is set
                    return write_under_limit(store, True, incr_member, self._session, key,
                                             member, increment)
                score = incr_member(self._session, key, member, increment)
                if store.blocked.ready:
                    serve_ready_keys(store)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        return score

    def zrem(self, name, *values):
        if not values:
            return self.execute_command("ZREM", name)  # Redis's arity error
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        members = [value if value.__class__ is bytes else encode(value) for value in values]
        try:
            with self._lock:
                store = self.store
                if store.memory is not None:  # maxmemory is set
                    return write_under_limit(store, False, remove_members, self._session.ks,
                                             key, members)
                return remove_members(self._session.ks, key, members)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def zscore(self, name, value):
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        member = value if value.__class__ is bytes else encode(value)
        try:
            with self._lock:
                return score_of(self._session.ks, key, member)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def _rank(self, command_name, name, value, withscore, score_cast_func, reverse):
        if withscore:
            pieces = [command_name, name, value, "WITHSCORE"]
            return self.execute_command(*pieces, withscore=withscore,
                                        score_cast_func=score_cast_func)
        encode = self._encode
        key = name if name.__class__ is bytes else encode(name)
        member = value if value.__class__ is bytes else encode(value)
        try:
            with self._lock:
                return rank_of(self._session.ks, key, member, reverse)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None

    def zrank(self, name, value, withscore=False, score_cast_func=float):
        return self._rank("ZRANK", name, value, withscore, score_cast_func, False)

    def zrevrank(self, name, value, withscore=False, score_cast_func=float):
        return self._rank("ZREVRANK", name, value, withscore, score_cast_func, True)

    def _rank_range(self, name, start, end, withscores, score_cast_func, reverse):
        """ZRANGE/ZREVRANGE by index: straight from the index when the
        arguments are plain ints and scores are floats, else the command."""
        if start.__class__ is not int or end.__class__ is not int \
                or not (INT64_MIN <= start <= INT64_MAX and INT64_MIN <= end <= INT64_MAX) \
                or (withscores and score_cast_func is not float):
            pieces = ["ZREVRANGE" if reverse else "ZRANGE", name, start, end]
            if withscores:
                pieces.append(b"WITHSCORES")
            return self.execute_command(*pieces, withscores=withscores,
                                        score_cast_func=score_cast_func, keys=[name])
        key = name if name.__class__ is bytes else self._encode(name)
        try:
            with self._lock:
                pairs = rank_range(self._session.ks, key, start, end, reverse)
        except CommandError as exc:
            raise error_from_reply(exc.text) from None
        if self._decode:
            decode, encoding, errors = bytes.decode, self._encoding, self._encoding_errors
            if withscores:
                return [(decode(member, encoding, errors), score) for score, member in pairs]
            return [decode(member, encoding, errors) for _, member in pairs]
        if withscores:
            return [(member, score) for score, member in pairs]
        return [member for _, member in pairs]

    def zrevrange(self, name, start, end, withscores=False, score_cast_func=float):
        return self._rank_range(name, start, end, withscores, score_cast_func, True)
