"""``minikv.asyncio.Pipeline``: redis.asyncio's Pipeline over a minikv store.

``r.pipeline()`` returns one. As in redis.asyncio, a command method queues
its command at once and returns the pipeline (so calls chain and nothing
needs awaiting), ``await pipe.execute()`` runs the queue, and the pipeline
is an async context manager that resets itself on exit. After ``await
pipe.watch(...)`` commands run immediately and are awaited for their
values, until ``pipe.multi()``.

Everything else — argument building, queueing, MULTI/EXEC, WATCH, error
annotation, callbacks — is ``minikv.Pipeline``'s: this class drives a
``LoopSidePipeline`` (a sync pipeline whose session defers blocked calls
to the event loop, like ``LoopSideClient``). A transaction runs inline:
inside EXEC a blocking command cannot block (it answers as if timed out,
as in Redis). A non-transactional pipeline runs its commands in order,
batch by batch under the store lock; when one of them blocks (BLPOP with
data nowhere yet) the lock is released and the coroutine awaits it before
the commands after it run, as a Redis connection processes its pipeline.
"""
from operator import attrgetter

from minikv.asyncio.client import Blocked, LoopSide, command_names, describe
from minikv.asyncio.waiting import wait_for_reply
from minikv.engine.errors import CommandError
from minikv.pipeline import command_summary
from minikv.pipeline import Pipeline as SyncPipeline

__all__ = ["Pipeline", "LoopSidePipeline"]


class LoopSidePipeline(LoopSide, SyncPipeline):
    """``minikv.Pipeline`` whose blocked calls are awaited on the event loop."""

    def __init__(self, client, transaction=True, shard_hint=None):
        super().__init__(client, transaction, shard_hint)
        self._defer_to_loop()

    def annotate_exception(self, exception, number, command):
        """redis.asyncio's wording, which quotes the exception's ``args``
        tuple where redis-py's sync Pipeline quotes its message."""
        message = (f"Command # {number} ({command_summary(command)}) of pipeline caused "
                   f"error: {exception.args}")
        exception.args = (message,) + exception.args[1:]


async def _finished(reply):
    if reply.__class__ is Blocked:
        return await reply.wait()
    return reply


class Pipeline:
    """redis.asyncio's ``Pipeline`` API; see the module docstring."""

    UNWATCH_COMMANDS = SyncPipeline.UNWATCH_COMMANDS

    def __init__(self, client, transaction=True, shard_hint=None):
        self._pipe = LoopSidePipeline(client._client, transaction, shard_hint)
        self.store = client.store
        self.is_transaction = transaction
        self.shard_hint = shard_hint

    def __repr__(self):
        return f"<minikv.asyncio.Pipeline db={self._pipe._session.db} store={id(self.store):#x}>"

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.reset()

    def __await__(self):
        return self._async_self().__await__()

    async def _async_self(self):
        return self

    def __len__(self):
        return len(self._pipe.command_stack)

    def __bool__(self):
        return True

    # -- state (the sync pipeline's, read-only here) ------------------------------
    command_stack = property(attrgetter("_pipe.command_stack"))
    scripts = property(attrgetter("_pipe.scripts"))
    watching = property(attrgetter("_pipe.watching"))
    explicit_transaction = property(attrgetter("_pipe.explicit_transaction"))
    response_callbacks = property(attrgetter("_pipe.response_callbacks"))

    def get_encoder(self):
        return self._pipe.get_encoder()

    # -- control -------------------------------------------------------------------
    async def reset(self):
        """Drop the queued commands and the watches; the pipeline is reusable."""
        self._pipe.reset()

    async def aclose(self):
        await self.reset()

    def multi(self):
        """Start the transactional block after WATCH; ``execute`` ends it."""
        self._pipe.multi()

    async def watch(self, *names):
        """WATCH ``names``; commands then run at once until ``multi()``."""
        return self._pipe.watch(*names)

    async def unwatch(self):
        return self._pipe.unwatch()

    async def discard(self):
        self._pipe.discard()

    async def load_scripts(self):
        self._pipe.load_scripts()

    def raise_first_error(self, commands, response):
        self._pipe.raise_first_error(commands, response)

    def annotate_exception(self, exception, number, command):
        self._pipe.annotate_exception(exception, number, command)

    # -- commands ------------------------------------------------------------------
    def execute_command(self, *args, **options):
        """Queue the command and return the pipeline; after WATCH (before
        MULTI), an awaitable that runs it now."""
        pipe = self._pipe
        if (pipe.watching or args[0] == "WATCH") and not pipe.explicit_transaction:
            return self.immediate_execute_command(*args, **options)
        return self.pipeline_execute_command(*args, **options)

    async def immediate_execute_command(self, *args, **options):
        return await _finished(self._pipe.immediate_execute_command(*args, **options))

    def pipeline_execute_command(self, *args, **options):
        self._pipe.pipeline_execute_command(*args, **options)
        return self

    async def execute(self, raise_on_error=True):
        """Run the queued commands; their replies, in order."""
        pipe = self._pipe
        if pipe.transaction or pipe.explicit_transaction or not pipe.command_stack:
            # Nothing to wait for: inside EXEC nothing blocks; nothing queued runs.
            return pipe.execute(raise_on_error)
        try:
            if pipe.scripts:
                pipe.load_scripts()
            return await self._execute_pipeline(pipe.command_stack, raise_on_error)
        finally:
            pipe.reset()

    async def _execute_pipeline(self, commands, raise_on_error):
        pipe = self._pipe
        encoded = [pipe._argv(args) for args, _ in commands]
        raw = []
        # The rest waits for a command that blocked, as on a connection.
        while (waiter := pipe._dispatch_batches(encoded, raw)) is not None:
            try:
                reply = await wait_for_reply(self.store, waiter, encoded[len(raw)])
            except CommandError as exc:
                reply = exc
            raw.append(reply)
        return pipe._pipeline_response(commands, raw, raise_on_error)


def _queueing_method(name):
    def method(self, *args, **kwargs):
        pipe = self._pipe
        if pipe.watching and not pipe.explicit_transaction:
            return _finished_call(getattr(pipe, name), args, kwargs)
        result = getattr(pipe, name)(*args, **kwargs)
        return self if result is pipe else result
    return method


async def _finished_call(method, args, kwargs):
    return await _finished(method(*args, **kwargs))


for _name, _function, _is_generator in command_names():
    # scan_iter & co. do not queue; watch, unwatch... are the pipeline's own
    if not _is_generator and _name not in vars(Pipeline):
        setattr(Pipeline, _name, describe(_queueing_method(_name), _name, _function, Pipeline))
del _name, _function, _is_generator
