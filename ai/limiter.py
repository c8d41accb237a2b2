"""A fair (FIFO) concurrency limit for model requests, over one server or several.

``asyncio.Semaphore`` does not promise FIFO wake-up order and cannot report a queue
position, and users waiting on a busy model want to know "you are #3". ``PoolLimiter``
is the queue of a pool of servers (ai/pool.py); ``FairLimiter`` is a pool of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from ai.types import OnQueued

log = logging.getLogger(__name__)


class NoServerUsable(Exception):
    """Every server a request may still use is down (raised by PoolLimiter instead of waiting forever)."""


@dataclass(eq=False)
class _Waiter:
    future: asyncio.Future[int]
    exclude: frozenset[int]


class PoolLimiter:
    """One fair (FIFO) queue in front of several servers, each with its own concurrency limit.

    A request gets a slot on the least busy usable server (busy / limit, then fewest in flight); when
    every slot is taken it waits in one line, whatever server frees up first serves the oldest waiter.
    So the line of a server that goes down is simply served by the others. ``usable(i)`` says whether
    server i may take requests now; call ``dispatch()`` when that changes (ai/pool.py does, from the
    servers' health). A waiter whose every allowed server is down fails with ``NoServerUsable``.
    """

    def __init__(self, limits: list[int], usable: Callable[[int], bool]) -> None:
        self.limits = list(limits)
        self.busy = [0] * len(limits)
        self._usable = usable
        self._waiters: deque[_Waiter] = deque()
        self._moved = asyncio.Event()

    @property
    def active(self) -> int:
        return sum(self.busy)

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.future.done())

    def can_serve(self, exclude: frozenset[int] = frozenset()) -> bool:
        """Whether any server outside `exclude` is usable (busy or not)."""
        return any(i not in exclude and self._usable(i) for i in range(len(self.limits)))

    def pick(self, exclude: frozenset[int] = frozenset()) -> int | None:
        """The least busy usable server with a free slot, outside `exclude`."""
        free = [
            i for i in range(len(self.limits)) if i not in exclude and self.busy[i] < self.limits[i] and self._usable(i)
        ]
        return min(free, key=lambda i: (self.busy[i] / self.limits[i], self.busy[i], i), default=None)

    async def acquire(
        self, on_queued: OnQueued | None = None, *, exclude: frozenset[int] = frozenset(), first: bool = False
    ) -> int:
        """A slot's server index; give it back with ``release``. `first`: queue at the front (a request
        that already had its turn and is being retried elsewhere)."""
        if not self.can_serve(exclude):
            raise NoServerUsable
        if first or not self._waiters:
            index = self.pick(exclude)
            if index is not None:
                self.busy[index] += 1
                return index
        waiter = _Waiter(asyncio.get_running_loop().create_future(), exclude)
        if first:
            self._waiters.appendleft(waiter)
        else:
            self._waiters.append(waiter)
        self.dispatch()  # a slot may be free that the waiters ahead may not use
        fut = waiter.future
        try:
            await self._wait_turn(waiter, on_queued)
            return fut.result()
        except BaseException:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                # The slot was handed over just as we were cancelled: pass it on.
                self.release(fut.result())
            else:
                fut.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                self._announce_move()
            raise

    def release(self, index: int) -> None:
        self.busy[index] -= 1
        self.dispatch()

    def dispatch(self) -> None:
        """Hand free slots to waiters, oldest first; fail those no usable server is left for."""
        moved = False
        for waiter in list(self._waiters):
            fut = waiter.future
            if not fut.done():
                index = self.pick(waiter.exclude)
                if index is not None:
                    self.busy[index] += 1
                    fut.set_result(index)
                elif not self.can_serve(waiter.exclude):
                    fut.set_exception(NoServerUsable())
                else:
                    continue
            self._waiters.remove(waiter)
            moved = True
        if moved:
            self._announce_move()

    async def _wait_turn(self, waiter: _Waiter, on_queued: OnQueued | None) -> None:
        """Wait for a slot, telling the caller its place in line whenever it changes."""
        fut = waiter.future
        shown = None
        while not fut.done():
            position = self._waiters.index(waiter) + 1  # still queued while not done
            if on_queued is not None and position != shown:
                shown = position
                await on_queued(position)
                continue  # the queue may have moved while we were reporting
            moved = asyncio.ensure_future(self._moved.wait())
            either: set[asyncio.Future[Any]] = {fut, moved}
            try:
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                moved.cancel()

    def _announce_move(self) -> None:
        self._moved.set()
        self._moved = asyncio.Event()


class FairLimiter(PoolLimiter):
    """The fair queue of one server (an ``LLMClient`` used on its own): a pool of one, always usable."""

    def __init__(self, limit: int) -> None:
        super().__init__([limit], lambda _: True)
        self.limit = limit

    @asynccontextmanager
    async def slot(self, on_queued: OnQueued | None = None) -> AsyncIterator[None]:
        index = await self.acquire(on_queued)
        try:
            yield
        finally:
            self.release(index)
