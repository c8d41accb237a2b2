"""Thread titles within Discord's rename limit: the budget, and what happens when Discord itself makes a
rename wait (discord.py sleeps through a 429) or answers 429 — cases SimCord does not model."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from cogs.tickets import _titles
from cogs.tickets._titles import RenameBudget, TitleKeeper
from tests.waiting import wait_until


def test_two_renames_per_ten_minutes() -> None:
    budget = RenameBudget()
    assert budget.wait_s(1, 1000.0) == 0
    budget.spent(1, 1000.0)
    budget.spent(1, 1100.0)
    assert budget.wait_s(1, 1200.0) == pytest.approx(400.0)
    assert budget.wait_s(2, 1200.0) == 0, "per thread"
    assert budget.wait_s(1, 1600.0) == 0, "the first one is ten minutes old"
    budget.spent(1, 1600.0)
    assert budget.wait_s(1, 1650.0) == pytest.approx(50.0)


class FakeThread:
    def __init__(self, *, delay: float = 0.0, status: int | None = None) -> None:
        self.id = 7
        self.name = "Old"
        self.delay = delay
        self.status = status
        self.renamed: list[str] = []

    async def edit(self, *, name: str) -> None:
        if self.status is not None:
            response: Any = SimpleNamespace(status=self.status, reason="Too Many Requests")
            raise discord.HTTPException(response, {"message": "You are being rate limited.", "code": 0})
        await asyncio.sleep(self.delay)
        self.renamed.append(name)
        self.name = name


async def test_a_rename_discord_makes_wait_is_answered_and_finishes_later(monkeypatch) -> None:
    monkeypatch.setattr(_titles, "WAIT_FOR_DISCORD_S", 0.05)
    thread = FakeThread(delay=0.3)
    keeper = TitleKeeper()

    outcome = await keeper.retitle(thread, "New")  # type: ignore[arg-type]

    assert outcome is not None and not outcome.applied and "about 10 minutes" in outcome.note
    assert thread.renamed == []
    # Waited for, not slept: a loaded machine may finish the 0.3 s rename later than a fixed 0.4 s.
    await wait_until(lambda: thread.renamed != [], "the rename finished in the background")
    assert thread.renamed == ["New"], "the rename went on in the background"


async def test_a_429_is_retried_after_the_window(monkeypatch) -> None:
    thread = FakeThread(status=429)
    keeper = TitleKeeper()

    outcome = await keeper.retitle(thread, "New")  # type: ignore[arg-type]

    assert outcome is not None and not outcome.applied and outcome.wait_s == _titles.RENAME_WINDOW_S
    assert len(keeper._tasks) == 1, "a rename is scheduled"
    keeper.close()


async def test_other_refusals_reach_the_caller_and_nothing_to_do_is_none() -> None:
    keeper = TitleKeeper()
    with pytest.raises(discord.HTTPException):
        await keeper.retitle(FakeThread(status=403), "New")  # type: ignore[arg-type]
    same = FakeThread()
    assert await keeper.retitle(same, "Old") is None  # type: ignore[arg-type]
    done = await keeper.retitle(same, "New")  # type: ignore[arg-type]
    assert done is not None and done.applied and done.note == "" and same.renamed == ["New"]
