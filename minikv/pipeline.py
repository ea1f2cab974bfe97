"""Pipelines and transactions with redis-py's API: ``r.pipeline()``.

A ``Pipeline`` is, as in redis-py, a client whose ``execute_command``
queues: every method records its command — arguments built exactly as
redis-py builds them — and returns the pipeline, so calls chain;
``execute()`` runs the queue and returns the replies in order, shaped by
the same callbacks as the client's. ``transaction=True`` (the default) runs
the queue as MULTI ... EXEC: atomically, under the store lock for the whole
batch. ``transaction=False`` runs each command on its own (a whole batch at
a time under the lock, released every ``BATCH`` commands so that a huge
pipeline does not starve other threads; response callbacks run after the
lock is released).

Everything visible follows redis-py's Pipeline, whose client-side logic is
mirrored over the engine's replies: ``watch()`` switches to immediate mode
(commands run at once and return their values) until ``multi()``; a
watched key changed before EXEC raises ``WatchError``; errors while queueing
make EXEC fail, and the first of them is raised, annotated "Command # N
(...) of pipeline caused error: ..."; errors at run time fail only their
command and are raised after all ran (``raise_on_error=True``) or returned
in place; ``reset()`` (also on ``with`` exit and after ``execute``) drops
the queue and the watches.

Routing. The plain client's hot-path methods (``get``, ``set``, ``incr``,
``hget``...) reach into the engine directly instead of calling
``execute_command``. ``RoutedCommands`` overrides each of them with the
redis-py argument building and a call to ``execute_command``; a pipeline
inherits them first, so nothing bypasses the queue, and the plain client's
fast paths stay as fast as before. ``tests/test_pipelines.py`` checks that
every client method that takes the store lock itself is overridden here,
and that the commands queued match those redis-py's own Pipeline queues.

The same mixin serves a plain client that sent a raw MULTI
(``execute_command("MULTI")``): its class is switched to a variant with
``RoutedCommands`` (``in_multi_class``) until EXEC or DISCARD, so that every
method answers "QUEUED" as on a real connection; the raw EXEC reply then
holds each command's reply as redis-py's default (RESP3) connection parses
it (``api.callbacks.resp3_reply``).
"""
import textwrap

from minikv.api.callbacks import has_resp3_type, resp3_reply
from minikv.api.expiry_args import condition_flags, seconds
from minikv.api.hashes import hset_arguments
from minikv.api.sorted_sets import zadd_arguments
from minikv.api.strings import set_arguments
from minikv.client import EMPTY_RESPONSE, Redis
from minikv.engine.blocking import Waiter
from minikv.engine.commands import QUEUED, dispatch
from minikv.engine.errors import CommandError
from minikv.engine.session import Session
from minikv.engine.transactions import discard_transaction
from minikv.exceptions import (
    ExecAbortError, RedisError, ResponseError, WatchError, error_from_reply,
)

__all__ = ["Pipeline", "RoutedCommands", "in_multi_class"]

# A non-transactional pipeline releases the store lock between batches.
BATCH = 1000

_MULTI = [b"MULTI"]
_EXEC = [b"EXEC"]
_UNWATCH = [b"UNWATCH"]


class RoutedCommands:
    """The client's fast-path methods, each routed through ``execute_command``
    with the arguments redis-py sends."""

    __slots__ = ()

    # -- strings -----------------------------------------------------------
    def get(self, name):
        return self.execute_command("GET", name)

    def set(self, name, value, ex=None, px=None, nx=False, xx=False, keepttl=False,
            get=False, exat=None, pxat=None, ifeq=None, ifne=None, ifdeq=None, ifdne=None):
        if (ex is None and px is None and exat is None and pxat is None
                and not (nx or xx or get or keepttl) and ifeq is None and ifne is None
                and ifdeq is None and ifdne is None):
            return self.execute_command("SET", name, value)  # the common case, quickly
        pieces, options = set_arguments(name, value, ex, px, nx, xx, keepttl, get, exat, pxat,
                                        ifeq, ifne, ifdeq, ifdne)
        return self.execute_command("SET", *pieces, **options)

    def incrby(self, name, amount=1):
        return self.execute_command("INCRBY", name, amount)

    incr = incrby

    # -- keys --------------------------------------------------------------
    def delete(self, *names):
        return self.execute_command("DEL", *names)

    def exists(self, *names):
        return self.execute_command("EXISTS", *names)

    __contains__ = exists

    def expire(self, name, time, nx=False, xx=False, gt=False, lt=False):
        return self.execute_command("EXPIRE", name, seconds(time),
                                    *condition_flags(nx, xx, gt, lt))

    def ttl(self, name):
        return self.execute_command("TTL", name)

    # -- hashes ------------------------------------------------------------
    def hget(self, name, key):
        return self.execute_command("HGET", name, key)

    def hset(self, name, key=None, value=None, mapping=None, items=None):
        return self.execute_command("HSET", name, *hset_arguments(key, value, mapping, items))

    # -- lists -------------------------------------------------------------
    def _push(self, command_name, name, values, head):
        return self.execute_command(command_name, name, *values)

    def _pop(self, command_name, name, count, head):
        if count is not None:
            return self.execute_command(command_name, name, count)
        return self.execute_command(command_name, name)

    def llen(self, name):
        return self.execute_command("LLEN", name)

    # -- sets --------------------------------------------------------------
    def sadd(self, name, *values):
        return self.execute_command("SADD", name, *values)

    def srem(self, name, *values):
        return self.execute_command("SREM", name, *values)

    def sismember(self, name, value):
        return self.execute_command("SISMEMBER", name, value)

    # -- sorted sets -------------------------------------------------------
    def zadd(self, name, mapping, nx=False, xx=False, ch=False, incr=False, gt=False,
             lt=False):
        pieces, options = zadd_arguments(mapping, nx, xx, ch, incr, gt, lt)
        return self.execute_command("ZADD", name, *pieces, **options)

    def zincrby(self, name, amount, value):
        return self.execute_command("ZINCRBY", name, amount, value)

    def zrem(self, name, *values):
        return self.execute_command("ZREM", name, *values)

    def zscore(self, name, value):
        return self.execute_command("ZSCORE", name, value)

    def zcard(self, name):
        return self.execute_command("ZCARD", name)

    def _rank(self, command_name, name, value, withscore, score_cast_func, reverse):
        pieces = [command_name, name, value]
        if withscore:
            pieces.append("WITHSCORE")
        return self.execute_command(*pieces, withscore=withscore,
                                    score_cast_func=score_cast_func)

    def _rank_range(self, name, start, end, withscores, score_cast_func, reverse):
        pieces = ["ZREVRANGE" if reverse else "ZRANGE", name, start, end]
        if withscores:
            pieces.append(b"WITHSCORES")
        return self.execute_command(*pieces, withscores=withscores,
                                    score_cast_func=score_cast_func)

    # -- native atomic steps -------------------------------------------------
    def run_atomically(self, fn, *args):
        # A step returns its value at once; nothing can stand for it in a queue.
        raise RedisError("run_atomically() runs at once: it cannot be queued in a pipeline "
                         "or inside MULTI; call it on the client")


# -- a plain client inside a raw MULTI -----------------------------------------
class _InMulti:
    """What a client's class gains, with ``RoutedCommands``, inside MULTI."""

    def execute_command(self, *args, **options):
        argv = self._argv(args)
        session = self._session
        try:
            with self._lock:
                reply = dispatch(session, argv)
        except CommandError as exc:
            if session.multi is None:  # EXEC answered EXECABORT
                self._leave_multi()
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise error_from_reply(exc.text) from None
        command_name = args[0]
        if session.multi is None:  # EXEC or DISCARD
            queued = self._leave_multi()
            reply = self._finish(command_name, reply, options)
            if reply.__class__ is list and len(reply) == len(queued):
                reply = [resp3_reply(queued_argv, item) for queued_argv, item in zip(queued, reply)]
            return reply
        if reply is QUEUED:
            self.__dict__.setdefault("_queued_in_multi", []).append(argv)
            if has_resp3_type(argv):
                # redis-py 8 has no callback for a reply RESP3 types itself:
                # the "QUEUED" status comes back as it is.
                return self._decode_reply(reply) if self._decode else reply
        return self._finish(command_name, reply, options)

    def _follow_multi(self):
        pass

    def _leave_multi(self):
        """Back to the plain class; returns the argvs queued meanwhile."""
        self.__class__ = self.__class__.__bases__[0]
        return self.__dict__.pop("_queued_in_multi", [])


def _methods(*classes):
    """The functions defined by ``classes``, the first class winning."""
    namespace = {}
    for klass in reversed(classes):
        namespace.update((name, value) for name, value in vars(klass).items()
                         if name not in ("__module__", "__qualname__", "__doc__", "__slots__",
                                         "__dict__", "__weakref__"))
    return namespace


_IN_MULTI_METHODS = _methods(_InMulti, RoutedCommands)
_in_multi_classes = {}


def in_multi_class(cls):
    """``cls`` with every method queueing: a client's class inside MULTI.

    Its layout must be ``cls``'s, so that an instance's ``__class__`` can be
    switched to it and back: ``cls`` comes first among its bases (with a
    mixin first, CPython sees another layout), so the routed methods are
    copied into its own namespace; ``RoutedCommands`` is still a base, for
    ``isinstance`` checks by methods that route themselves.
    """
    variant = _in_multi_classes.get(cls)
    if variant is None:
        namespace = dict(_IN_MULTI_METHODS, __module__=cls.__module__, __slots__=())
        variant = _in_multi_classes[cls] = type(cls.__name__, (cls, RoutedCommands), namespace)
    return variant


# -- the pipeline ----------------------------------------------------------------
def _safe_str(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)


def command_summary(command):
    """A command as redis-py's pipeline errors quote it (at most 100 characters)."""
    return textwrap.shorten(" ".join(map(_safe_str, command)), width=100,
                            placeholder="...", break_long_words=True)


def annotate_exception(exception, number, command):
    """Prefix the message as redis-py does for an error of a pipeline's command."""
    message = (f"Command # {number} ({command_summary(command)}) of pipeline caused error: "
               f"{exception.args[0]}")
    exception.args = (message,) + exception.args[1:]


class Pipeline(RoutedCommands, Redis):
    """redis-py's ``Pipeline`` over a minikv store: see the module docstring.

    Created by ``Redis.pipeline()``. It runs on its own session (a
    connection of its own, as redis-py's pipeline borrows one from the pool)
    that starts on the client's current database.
    """

    UNWATCH_COMMANDS = {"DISCARD", "EXEC", "UNWATCH"}

    def __init__(self, client, transaction=True, shard_hint=None):
        self.store = client.store
        self._lock = client._lock
        self._owns_store = False
        self._session = Session(client.store, client._session.db, register=False)
        self._encode = client._encode
        self._decode_reply = client._decode_reply
        self._decode = client._decode
        self._encoding = client._encoding
        self._encoding_errors = client._encoding_errors
        # Shared with the client, as in redis-py.
        self.response_callbacks = client.response_callbacks
        self.transaction = transaction
        self.shard_hint = shard_hint
        self.watching = False
        self.command_stack = []
        self.scripts = set()
        self.explicit_transaction = False

    def __repr__(self):
        return f"<minikv.Pipeline db={self._session.db} store={id(self.store):#x}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.reset()

    def __len__(self):
        return len(self.command_stack)

    def __bool__(self):
        return True

    def close(self):
        self.reset()

    def reset(self):
        """Drop the queued commands and the watches; the pipeline is reusable."""
        self.command_stack = []
        self.scripts = set()
        session = self._session
        if self.watching or session.multi is not None:
            with self._lock:
                if session.multi is not None:
                    discard_transaction(session)
                else:
                    dispatch(session, _UNWATCH)
        self.watching = False
        self.explicit_transaction = False

    def multi(self):
        """Start the transactional block after WATCH; ``execute`` ends it."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue nested calls to MULTI")
        if self.command_stack:
            raise RedisError("Commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    def watch(self, *names):
        """WATCH ``names``; commands then run at once until ``multi()``."""
        if self.explicit_transaction:
            raise RedisError("Cannot issue a WATCH after a MULTI")
        return self.execute_command("WATCH", *names)

    def unwatch(self):
        return self.watching and self.execute_command("UNWATCH") or True

    def discard(self):
        self.execute_command("DISCARD")

    # -- command routing ----------------------------------------------------
    def execute_command(self, *args, **options):
        if (self.watching or args[0] == "WATCH") and not self.explicit_transaction:
            return self.immediate_execute_command(*args, **options)
        return self.pipeline_execute_command(*args, **options)

    def immediate_execute_command(self, *args, **options):
        """Run one command now on the pipeline's session (after WATCH)."""
        command_name = args[0]
        result = Redis.execute_command(self, *args, **options)
        if command_name in self.UNWATCH_COMMANDS:
            self.watching = False
        elif command_name == "WATCH":
            self.watching = True
        return result

    def pipeline_execute_command(self, *args, **options):
        """Queue a command for ``execute``; returns the pipeline for chaining."""
        self.command_stack.append((args, options))
        return self

    def _follow_multi(self):
        pass  # a pipeline routes every method through execute_command already

    def load_scripts(self):
        """Make sure every script queued with EVALSHA is loaded (redis-py's
        Script objects add themselves to ``scripts``)."""
        scripts = list(self.scripts)
        immediate = self.immediate_execute_command
        exists = immediate("SCRIPT EXISTS", *[script.sha for script in scripts])
        if not all(exists):
            for script, exist in zip(scripts, exists):
                if not exist:
                    script.sha = immediate("SCRIPT LOAD", script.script)

    # -- execution ------------------------------------------------------------
    def execute(self, raise_on_error=True):
        """Run the queued commands; their replies, in order."""
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        try:
            if self.scripts:
                self.load_scripts()
            if self.transaction or self.explicit_transaction:
                return self._execute_transaction(stack, raise_on_error)
            return self._execute_pipeline(stack, raise_on_error)
        finally:
            self.reset()

    def _execute_transaction(self, commands, raise_on_error):
        # Encoding first: a DataError leaves nothing half-sent.
        encoded = [None if EMPTY_RESPONSE in options else self._argv(args)
                   for args, options in commands]
        session = self._session
        errors = []
        exec_error = None
        with self._lock:
            try:
                try:
                    dispatch(session, _MULTI)
                except CommandError as exc:
                    errors.append((0, error_from_reply(exc.text)))
                for i, ((args, options), argv) in enumerate(zip(commands, encoded)):
                    if argv is None:  # redis-py sends nothing for it
                        errors.append((i, options[EMPTY_RESPONSE]))
                        continue
                    try:
                        dispatch(session, argv)
                    except CommandError as exc:
                        error = error_from_reply(exc.text)
                        self.annotate_exception(error, i + 1, args)
                        errors.append((i, error))
                try:
                    response = dispatch(session, _EXEC)
                except CommandError as exc:
                    exec_error = exc
            finally:
                if session.multi is not None:  # only if something above broke
                    discard_transaction(session)
        if exec_error is not None:
            error = error_from_reply(exec_error.text)
            if isinstance(error, ExecAbortError) and errors:
                raise errors[0][1]
            raise error
        self.watching = False
        if response is None:
            raise WatchError("Watched variable changed.")
        # The whole EXEC reply is one reply: errors become exceptions and,
        # with decode_responses, every string in it is decoded. Read under the
        # name "_", as redis-py does, so that no callback applies to it.
        response = self._finish("_", response, {})
        for i, value in errors:
            response.insert(i, value)
        if len(response) != len(commands):
            raise ResponseError("Wrong number of response items from pipeline execution")
        if raise_on_error:
            self.raise_first_error(commands, response)
        data = []
        for reply, (args, options) in zip(response, commands):
            if not isinstance(reply, Exception):
                options.pop("keys", None)
                callback = self._callback(args[0])
                if callback is not None:
                    reply = callback(reply, **options)
            data.append(reply)
        return data

    def _execute_pipeline(self, commands, raise_on_error):
        encoded = [self._argv(args) for args, _ in commands]
        raw = []
        self._dispatch_batches(encoded, raw)
        return self._pipeline_response(commands, raw, raise_on_error)

    def _dispatch_batches(self, encoded, raw):
        """Run the argvs ``encoded[len(raw):]`` in order, ``BATCH`` of them
        per hold of the store lock, appending each raw reply (a
        ``CommandError`` for a failed command) to ``raw``. Returns None when
        all ran; on a session that defers its waits (minikv.asyncio) a
        command that blocks stops the run and its ``Waiter`` is returned:
        the caller appends its reply and calls again for the rest."""
        session = self._session
        done = len(raw)
        while done < len(encoded):
            with self._lock:
                for argv in encoded[done:done + BATCH]:
                    done += 1
                    try:
                        reply = dispatch(session, argv)
                    except CommandError as exc:
                        reply = exc
                    if reply.__class__ is Waiter:
                        return reply
                    raw.append(reply)
        return None

    def _pipeline_response(self, commands, raw, raise_on_error):
        """The replies of a non-transactional run from the engine's raw
        replies (a ``CommandError`` for a failed command), shaped as
        redis-py shapes them. (The asyncio pipeline shares this and
        ``_dispatch_batches``.)"""
        response = []
        for reply, (args, options) in zip(raw, commands):
            if isinstance(reply, CommandError):
                if EMPTY_RESPONSE in options:
                    reply = options[EMPTY_RESPONSE]
                else:
                    reply = error_from_reply(reply.text)
            else:
                reply = self._finish(args[0], reply, options)
            response.append(reply)
        if raise_on_error:
            self.raise_first_error(commands, response)
        return response

    def annotate_exception(self, exception, number, command):
        """Prefix an error's message with the failing command, as redis-py's
        Pipeline does (the asyncio pipeline formats it as redis.asyncio does)."""
        annotate_exception(exception, number, command)

    def raise_first_error(self, commands, response):
        for i, reply in enumerate(response):
            if isinstance(reply, ResponseError):
                self.annotate_exception(reply, i + 1, commands[i][0])
                raise reply
