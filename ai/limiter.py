"""A fair (FIFO) concurrency limit for model requests.

``asyncio.Semaphore`` does not promise FIFO wake-up order and cannot report a queue
position, and users waiting on a busy model want to know "you are #3".
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ai.types import OnQueued

log = logging.getLogger(__name__)


class FairLimiter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        # Set (and replaced) whenever the queue moves, so waiters can report their new place.
        self._moved = asyncio.Event()

    @property
    def waiting(self) -> int:
        return sum(1 for fut in self._waiters if not fut.done())

    @asynccontextmanager
    async def slot(self, on_queued: OnQueued | None = None) -> AsyncIterator[None]:
        await self._acquire(on_queued)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, on_queued: OnQueued | None) -> None:
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await self._wait_turn(fut, on_queued)
        except BaseException:
            if fut.done() and not fut.cancelled():
                # The slot was handed over just as we were cancelled: pass it on.
                self._release()
            else:
                fut.cancel()
                self._waiters.remove(fut)
                self._announce_move()
            raise

    async def _wait_turn(self, fut: asyncio.Future[None], on_queued: OnQueued | None) -> None:
        """Wait for the slot, telling the caller its place in line whenever it changes."""
        shown = None
        while not fut.done():
            position = self._waiters.index(fut) + 1  # still queued while not done
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

    def _release(self) -> None:
        # Hand the slot straight to the oldest waiter so late arrivals cannot overtake.
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                self._announce_move()
                return
        self.active -= 1
