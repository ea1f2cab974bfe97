"""What the pattern tests' ``backend`` and ``async_backend`` fixtures hand a
test (conftest.py, async_support.py): which kind of client it is, the
client, its manual clock (None on the real Redis), another client on the
same data, and a way to let time pass on either kind.
"""
import asyncio
import time


def let_time_pass(clock, seconds):
    """A tick of the manual ``clock``, or a real sleep where there is none
    (the real Redis keeps its own time)."""
    if clock is not None:
        clock.advance(seconds)
    else:
        time.sleep(seconds)


class Backend:
    def __init__(self, kind, client, clock, new_client):
        self.kind = kind
        self.client = client
        self.clock = clock
        self.new_client = new_client

    @property
    def embedded(self):
        return self.kind == "minikv"

    def advance(self, seconds):
        """Let ``seconds`` pass: a manual clock tick, or a real sleep."""
        let_time_pass(self.clock, seconds)


class AsyncBackend(Backend):
    async def advance(self, seconds):
        """Let ``seconds`` pass: a manual clock tick, or a real sleep that
        leaves the event loop running."""
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)
