"""Thread titles within Discord's rename limit.

Discord lets a channel or thread be renamed about twice per 10 minutes; beyond that it answers 429 and
discord.py sleeps until it may (minutes, while the command that asked waits). So the bot counts its own
renames per thread (`RenameBudget`) and, when a title must wait, changes it later by itself (the newest
wanted title wins) and says so; if Discord still makes a rename wait, the command is answered after
`WAIT_FOR_DISCORD_S` and the rename finishes in the background. Pending renames live in memory, but the title
follows from what is recorded (subject, priority): after a restart `restore` gives each open ticket the title it
should have (`StaffActions.titles_restored`, run once the bot is ready).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

import discord

from ai.untrusted import without_bidi

log = logging.getLogger(__name__)

RENAMES_PER_WINDOW = 2
RENAME_WINDOW_S = 600.0
WAIT_FOR_DISCORD_S = 5.0
TITLE_MAX = 100


class RenameBudget:
    """Renames each thread had in the last `RENAME_WINDOW_S` seconds (times in seconds, any clock)."""

    def __init__(self, per_window: int = RENAMES_PER_WINDOW, window_s: float = RENAME_WINDOW_S) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self._done: dict[int, deque[float]] = {}

    def wait_s(self, thread_id: int, now: float) -> float:
        """Seconds until `thread_id` may be renamed again (0: now)."""
        done = self._done.get(thread_id)
        if not done:
            return 0.0
        while done and now - done[0] >= self.window_s:
            done.popleft()
        return 0.0 if len(done) < self.per_window else done[0] + self.window_s - now

    def spent(self, thread_id: int, now: float) -> None:
        self._done.setdefault(thread_id, deque()).append(now)


@dataclass(frozen=True)
class Retitled:
    applied: bool  # the thread has its new title now
    wait_s: float = 0.0  # otherwise: it will, in about this many seconds

    @property
    def note(self) -> str:
        """What the command says about it ("" when it was applied at once)."""
        if self.applied:
            return ""
        minutes = max(1, round(self.wait_s / 60))
        return (
            f"Discord allows about {RENAMES_PER_WINDOW} renames per 10 minutes, so the new title will show in "
            f"about {minutes} minute{'s' if minutes != 1 else ''}."
        )


def _now() -> float:
    # discord.utils.utcnow, not time.monotonic: the same clock the tests' virtual Discord runs on.
    return discord.utils.utcnow().timestamp()


class TitleKeeper:
    def __init__(self, budget: RenameBudget | None = None) -> None:
        self.budget = budget or RenameBudget()
        self._wanted: dict[int, str] = {}  # thread id -> title a scheduled rename will apply
        self._tasks: set[asyncio.Task[None]] = set()

    async def retitle(self, thread: discord.Thread, title: str) -> Retitled | None:
        """Give `thread` the title `title` now, or as soon as Discord allows. None: it has it already.
        Raises discord.HTTPException when Discord refuses (other than making it wait)."""
        title = without_bidi(title)[:TITLE_MAX]
        if thread.name == title and thread.id not in self._wanted:
            return None
        wait = self.budget.wait_s(thread.id, _now())
        if wait > 0 or thread.id in self._wanted:
            self._later(thread, title, wait)
            return Retitled(False, wait)
        rename = asyncio.create_task(self._rename(thread, title))
        self._keep(rename)
        try:
            await asyncio.wait_for(asyncio.shield(rename), WAIT_FOR_DISCORD_S)
        except TimeoutError:
            log.info("Discord makes the rename of thread %d wait; it finishes in the background", thread.id)
            return Retitled(False, RENAME_WINDOW_S)
        except discord.HTTPException as exc:
            if exc.status != 429:
                raise
            self._later(thread, title, RENAME_WINDOW_S)
            return Retitled(False, RENAME_WINDOW_S)
        return Retitled(True)

    def restore(self, thread: discord.Thread, title: str) -> bool:
        """`thread` should show `title` (its record says so, e.g. a rename that waited when the bot stopped): rename
        it in the background, within the budget. False: it shows that title, or a rename is scheduled already."""
        title = without_bidi(title)[:TITLE_MAX]
        if thread.name == title or thread.id in self._wanted:
            return False
        self._later(thread, title, self.budget.wait_s(thread.id, _now()))
        return True

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def _rename(self, thread: discord.Thread, title: str) -> None:
        await thread.edit(name=title)
        self.budget.spent(thread.id, _now())

    def _later(self, thread: discord.Thread, title: str, wait: float) -> None:
        scheduled = thread.id in self._wanted
        self._wanted[thread.id] = title  # the newest wanted title wins
        if not scheduled:
            self._keep(asyncio.create_task(self._when_allowed(thread, wait)))

    async def _when_allowed(self, thread: discord.Thread, wait: float) -> None:
        await asyncio.sleep(max(wait, 1.0))
        wait = self.budget.wait_s(thread.id, _now())
        if wait > 0:  # another rename spent the budget meanwhile
            await asyncio.sleep(wait)
        title = self._wanted.pop(thread.id, None)
        if title is None or thread.name == title:
            return
        try:
            await self._rename(thread, title)
        except discord.HTTPException:
            log.warning("A delayed rename of thread %d failed", thread.id, exc_info=True)

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
