"""How a coroutine waits for a blocked command, and why cancelling it is safe.

Waiting. The async client's sessions carry ``loop_deferral``'s hook as
their ``defer_blocking`` (engine/blocking.py): when BLPOP & co. find nothing
to pop, ``block_on_keys`` registers the ``Waiter`` exactly as for a thread
— same FIFO queues, served by the writer under the store lock — but with a
``LoopNotifier`` as its ``condition``, and returns it instead of waiting.
The command returns, the store lock is released, and the coroutine awaits
the notifier's future (``wait_for_reply``). Whoever ends the wait — a push
from any thread or any event loop, ``clock_moved`` on a ``ManualClock`` —
calls ``notify()`` with the store lock held; that only schedules the
future's resolution on the waiter's own loop with
``loop.call_soon_threadsafe``, so nothing ever blocks on an event loop and
a push made from a plain thread or another loop wakes the coroutine at
once (from a coroutine of the waiter's own loop, plain ``call_soon``: that
loop is awake already). Nothing polls.

Timeouts are Redis's (0 = forever). On the wall clock the coroutine waits
with a loop timeout until the store clock is past the deadline (as a
thread waits on its condition); on any other clock it waits without one and
``clock_moved`` ends the wait, as for threads. When the wait ends by
timeout, the waiter is unregistered under the store lock — unless it was
served in the meantime, in which case its reply is returned: a reply handed
over at the deadline is never dropped.

Cancellation. ``CancelledError`` (``task.cancel()``, ``asyncio.wait_for``
or ``asyncio.timeout`` expiring) can reach the coroutine at any moment while
it waits. Its handler takes the store lock and then either:

- the waiter was not served: it is unregistered. Nothing was taken, and
  the next push goes to the next waiter or stays in the list;
- the waiter was already served (another thread popped for it under the
  lock, and the wake-up was still on its way when the cancellation came):
  ``give_back`` undoes the pop with one write, under the same lock hold,
  and then serves the clients blocked on that key, as the push that fed it
  would have. Guarantee: no served element is lost, none is duplicated.
  When no other command touched the key between the serve and the
  cancellation — the usual case, both typically happen within one event
  loop step — the keyspace ends exactly as if the cancelled call had never
  been served: BLPOP/BRPOP/BLMPOP's elements are back at the end they were
  popped from, in their order; BZPOPMIN/BZPOPMAX/BZMPOP's members are back
  with their scores; BLMOVE/BRPOPLPUSH's element is back at its source's
  end and gone from its destination; and the next blocked client gets it.
  When commands did run in between, the give-back is that same write done
  at cancellation time: elements are pushed back onto the end they came
  from (a list emptied meanwhile is created again); a member re-added
  meanwhile keeps its newer score (ZADD NX); a BLMOVE element is moved
  back only while it is still at the destination's end it was pushed to —
  otherwise another client already saw it there, and it stays. If the key
  now holds another type, nothing is written: the write that replaced the
  value would have destroyed the element too, had it never been served
  (a BLMOVE whose source was replaced leaves its element at the
  destination).
  The give-back is a write like any other (keyspace events, WATCH).
  XREAD BLOCK takes nothing away: there is nothing to give back. (XREADGROUP
  would leave its entries in the consumer's pending list, as Redis does
  for a client that vanished after being served.)

A waiter whose event loop was closed while it waited (without cancelling
its task) is dropped when it is next about to be served, so it never
swallows an element.
"""
import asyncio
from asyncio import _get_running_loop

from minikv.engine.commands import after_command, lookup
from minikv.engine.errors import CommandError
from minikv.engine.session import Session

__all__ = ["LoopNotifier", "give_back", "loop_deferral", "wait_for_reply"]


def _resolve(future):
    if not future.done():  # a cancelled future stays cancelled
        future.set_result(None)


class LoopNotifier:
    """Wakes one coroutine on its event loop, from any thread.

    ``notify()`` never blocks and may be called any number of times, from
    any thread, with any lock held: it schedules the future's resolution
    on the loop. A closed loop has nobody left to wake.
    """

    __slots__ = ("loop", "future")

    def __init__(self, loop):
        self.loop = loop
        self.future = loop.create_future()

    def notify(self):
        loop = self.loop
        if _get_running_loop() is loop:
            # Called by a coroutine of the same loop (its push or publish):
            # the loop is running this code, not asleep in its selector, so
            # call_soon_threadsafe's wake-up write would be wasted.
            loop.call_soon(_resolve, self.future)
            return
        try:
            loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # the loop is closed
            pass


def loop_deferral(blocked):
    """The ``defer_blocking`` hook for sessions of a store whose registry of
    blocked calls is ``blocked``: a blocked call is awaited on the loop
    running the command."""

    def defer_to_loop(waiter):
        # Runs in the coroutine's thread, inside the blocking command,
        # store lock held.
        loop = asyncio.get_running_loop()
        waiter.condition = LoopNotifier(loop)
        serve = waiter.serve

        def serve_unless_loop_closed(ks, key):
            if loop.is_closed():  # nobody can ever receive a reply
                blocked.remove(waiter)
                return None
            return serve(ks, key)

        waiter.serve = serve_unless_loop_closed

    return defer_to_loop


async def wait_for_reply(store, waiter, argv):
    """Await the end of ``waiter``'s wait; its raw reply (None: timed out).

    ``argv`` is the blocked command's, for ``give_back``. Raises the
    ``CommandError`` a serve raised for this call (BLMOVE onto a key of
    another type).
    """
    blocked = store.blocked
    notifier = waiter.condition
    future = notifier.future
    try:
        if waiter.deadline is None or not blocked.wall_clock:
            await future
        else:
            clock = store.clock
            while not future.done():
                remaining = waiter.deadline - clock.ms()
                if remaining < 0:
                    break  # the clock is past the deadline: timed out
                # One ms beyond the deadline, so that waking up finds it passed.
                await asyncio.wait((future,), timeout=(remaining + 1) / 1000)
    except BaseException:  # cancelled (or the coroutine closed): leave nothing behind
        with store.lock:
            if waiter.done:
                if waiter.reply is not None:
                    give_back(store, waiter.db, argv, waiter.reply)
            else:
                blocked.remove(waiter)
        raise
    with store.lock:
        blocked.wakeups += 1
        if not waiter.done:  # timed out on the wall clock
            blocked.remove(waiter)
    if waiter.error is not None:
        raise waiter.error
    return waiter.reply


# -- undoing a serve nobody will receive -----------------------------------------
def _push_back(argv, reply):  # BLPOP, BRPOP
    key, element = reply
    return [b"LPUSH" if argv[0].lower() == b"blpop" else b"RPUSH", key, element]


def _push_all_back(argv, reply):  # BLMPOP
    key, elements = reply
    numkeys = int(argv[2])
    push = b"LPUSH" if argv[3 + numkeys].upper() == b"LEFT" else b"RPUSH"
    # Pushed one at a time onto the end they came from: in reverse.
    return [push, key, *reversed(elements)]


def _move_back(argv, reply):  # BLMOVE, BRPOPLPUSH: (check, undo)
    source, destination = argv[1], argv[2]
    if argv[0].lower() == b"blmove":
        wherefrom, whereto = argv[3], argv[4]
    else:
        wherefrom, whereto = b"RIGHT", b"LEFT"
    index = b"0" if whereto.upper() == b"LEFT" else b"-1"
    return [b"LINDEX", destination, index], [b"LMOVE", destination, source, whereto, wherefrom]


def _add_back(argv, reply):  # BZPOPMIN, BZPOPMAX
    key, member, score = reply
    return [b"ZADD", key, b"NX", score, member]


def _add_all_back(argv, reply):  # BZMPOP
    key, pairs = reply
    return [b"ZADD", key, b"NX", *[item for member, score in pairs for item in (score, member)]]


# Blocking command -> the command that undoes its serve. Not here: XREAD,
# which takes nothing away; and XREADGROUP, whose entries stay in the
# consumer's pending list, where a Redis client that vanished after being
# served leaves them too (XCLAIM/XAUTOCLAIM recover them).
_UNDO = {b"blpop": _push_back, b"brpop": _push_back, b"blmpop": _push_all_back,
         b"bzpopmin": _add_back, b"bzpopmax": _add_back, b"bzmpop": _add_all_back}
_UNDO_IF_UNSEEN = {b"blmove": _move_back, b"brpoplpush": _move_back}


def give_back(store, db, argv, reply):
    """Undo what serving ``argv`` took to produce ``reply`` (store lock held).

    See the module docstring for the exact guarantee. Runs the undoing
    command through its handler on a private session of db ``db``, then
    serves the clients it made ready and settles memory as ``dispatch``
    does (``after_command``); the memory admission check is skipped
    (giving back must not be refused for memory the serve has just freed).
    """
    name = argv[0].lower()
    session = Session(store, db, register=False)
    undo = _UNDO.get(name)
    if undo is not None:
        _run(session, undo(argv, reply))
        return
    undo = _UNDO_IF_UNSEEN.get(name)
    if undo is not None:
        check, command = undo(argv, reply)
        if _run(session, check) == reply:  # still where it was pushed: nobody saw it
            _run(session, command)


def _run(session, argv):
    """One internal command; None if Redis refuses it (the key's type)."""
    cmd, args = lookup(argv)
    try:
        return cmd.handler(session, args)
    except CommandError:
        return None
    finally:
        after_command(session.store)
