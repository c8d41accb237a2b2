"""Per-ticket and per-opener locks shared by everything that changes a ticket from Discord.

One lock per ticket serialises answering, closing and the Solved / Talk to staff buttons, so
none of them acts on a copy of the ticket that another one has changed meanwhile. A lock lives
as long as someone holds or waits for it (weak values), so closed tickets leave nothing behind.

A close must not wait minutes behind a model that is still queueing or streaming: `closing()`
cancels the answer in progress and makes answers still waiting for the lock skip. Staff taking a ticket
(/claim, a staff message, the assistant switched off) must not be followed by the assistant's answer either:
`taken_over()` cancels the answer in progress, and an answer decided before it but not started yet sees it
(`takeovers`, passed to `run_answer`). Both are this process's quick checks; the answer's record checks the
database again in its own write (`TicketStore.answer_recorded`), for what other processes did.
"""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
K = TypeVar("K")


CLOSED = "the ticket was closed"
TAKEN_OVER = "a member of staff took over this ticket"


class AnswerCancelled(Exception):
    """The answer was stopped: its ticket is being closed, or staff took it over (`reason`, for the user)."""

    def __init__(self, reason: str = CLOSED) -> None:
        super().__init__(reason)
        self.reason = reason


class TicketLocks:
    """The locks and in-flight answers of one bot (instance state: two bots in one process, as in
    tests that restart the bot, share nothing)."""

    def __init__(self) -> None:
        self._tickets: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._openers: weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock] = weakref.WeakValueDictionary()
        self._servers: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._arrivals: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._answering: dict[int, asyncio.Task[object]] = {}
        self._closing: dict[int, int] = {}  # ticket id -> number of closes in progress
        self._stop_reasons: dict[int, str] = {}  # ticket id -> why its answer in progress was cancelled
        # Ticket id -> how many times staff took it over (in this process): an answer remembers the count it saw.
        self._takeovers: dict[int, int] = {}

    def ticket(self, ticket_id: int) -> asyncio.Lock:
        """The lock of one ticket: hold it while reading the ticket and acting on what was read."""
        return _get(self._tickets, ticket_id)

    def arrival(self, thread_id: int) -> asyncio.Lock:
        """The lock of messages arriving in one thread: each is recorded (and queued for its answer) in the order
        Discord delivered them. An asyncio.Lock is first come, first served; the database is not: with SQLite's one
        connection statements happened to run in arrival order, on PostgreSQL each runs on a connection of its own."""
        return _get(self._arrivals, thread_id)

    def opener(self, *, guild_id: int, user_id: int) -> asyncio.Lock:
        """The lock of one member opening tickets in one guild (limits and cooldown are per member)."""
        return _get(self._openers, (guild_id, user_id))

    def server_openings(self, guild_id: int) -> asyncio.Lock:
        """The lock of members opening tickets in one guild: the cap on tickets per hour counts stored tickets,
        so checking it and storing the new one must not interleave with another member's opening."""
        return _get(self._servers, guild_id)

    def is_closing(self, ticket_id: int) -> bool:
        return self._closing.get(ticket_id, 0) > 0

    @contextmanager
    def closing(self, ticket_id: int) -> Iterator[None]:
        """Mark a ticket as closing for the duration, and stop the answer being written in it."""
        self._closing[ticket_id] = self._closing.get(ticket_id, 0) + 1
        self._stop(ticket_id, CLOSED)
        try:
            yield
        finally:
            self._closing[ticket_id] -= 1
            if not self._closing[ticket_id]:
                del self._closing[ticket_id]

    def closed(self, ticket_id: int) -> None:
        """The ticket is closed (recorded): it is answered no more, so nothing is kept about it."""
        self._takeovers.pop(ticket_id, None)

    def takeovers(self, ticket_id: int) -> int:
        """How many times staff took this ticket over in this process (compare two readings)."""
        return self._takeovers.get(ticket_id, 0)

    def taken_over(self, ticket_id: int) -> None:
        """Staff took the ticket (recorded already): stop the answer being written in it, and answers decided
        before (their `takeovers` reading is older) do not start."""
        self._takeovers[ticket_id] = self.takeovers(ticket_id) + 1
        self._stop(ticket_id, TAKEN_OVER)

    def _stop(self, ticket_id: int, reason: str) -> None:
        task = self._answering.get(ticket_id)
        if task is not None and not task.done():
            self._stop_reasons.setdefault(ticket_id, reason)
            task.cancel()

    async def run_answer(self, ticket_id: int, work: Awaitable[T], *, takeovers: int | None = None) -> T:
        """Run the model part of an answer so that a close of this ticket, or staff taking it over, can cancel it.

        `takeovers`: the count the answer's decision saw; if staff took the ticket over since, `work` does not run.
        Raises AnswerCancelled when a close or a takeover stopped it; a cancellation of the caller itself propagates.
        """
        if takeovers is not None and takeovers != self.takeovers(ticket_id):
            if inspect.iscoroutine(work):
                work.close()  # never started: nothing to clean up, no "never awaited" warning
            raise AnswerCancelled(TAKEN_OVER)
        task = asyncio.ensure_future(work)
        self._answering[ticket_id] = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and not (current is not None and current.cancelling()):
                raise AnswerCancelled(self._stop_reasons.get(ticket_id, CLOSED)) from None
            raise
        finally:
            if self._answering.get(ticket_id) is task:
                del self._answering[ticket_id]
                self._stop_reasons.pop(ticket_id, None)


def _get(locks: weakref.WeakValueDictionary[K, asyncio.Lock], key: K) -> asyncio.Lock:
    lock = locks.get(key)
    if lock is None:
        lock = locks[key] = asyncio.Lock()
    return lock
