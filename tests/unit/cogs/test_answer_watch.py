"""An answer in progress looks at its ticket while it runs (`TicketLocks.run_answer(watch=…)`): what another
process did to the ticket (claimed, closed) stops it there, not only at its record."""

from __future__ import annotations

import asyncio

import pytest

from cogs.tickets._locks import TAKEN_OVER, AnswerCancelled, TicketLocks


async def _long_answer(done: list[str]) -> str:
    await asyncio.sleep(5)
    done.append("finished")
    return "answer"


async def test_a_reason_from_the_watch_stops_the_answer_with_that_reason():
    locks, looks, done = TicketLocks(), [], list[str]()

    async def watch() -> str | None:
        looks.append(1)
        return TAKEN_OVER if len(looks) >= 2 else None

    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(AnswerCancelled) as stopped:
        await locks.run_answer(7, _long_answer(done), watch=watch, every=0.05)
    assert stopped.value.reason == TAKEN_OVER
    assert len(looks) == 2 and not done, "stopped at the second look, long before the answer's end"
    assert loop.time() - began < 1


async def test_a_failing_look_does_not_stop_the_answer_and_the_watch_ends_with_it():
    locks, looks = TicketLocks(), []

    async def watch() -> str | None:
        looks.append(1)
        raise ConnectionError("database restarting")

    async def answer() -> str:
        await asyncio.sleep(0.3)
        return "answer"

    assert await locks.run_answer(7, answer(), watch=watch, every=0.05) == "answer"
    seen = len(looks)
    assert seen >= 2, "it kept looking after a failed look"
    await asyncio.sleep(0.2)
    assert len(looks) == seen, "no look after the answer ended"


async def test_without_a_watch_nothing_looks_and_the_answer_runs_to_its_end():
    done: list[str] = []

    async def quick() -> str:
        await asyncio.sleep(0.01)
        done.append("finished")
        return "answer"

    assert await TicketLocks().run_answer(7, quick()) == "answer"
    assert done == ["finished"]
