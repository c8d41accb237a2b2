"""A ticket message costs at most 3 trips to the database, its writes batched in transactions, the care
bookkeeping of whose turn it is (tickets/care.py, `ticket_waits`) included; it used to cost 11 statements of the
ticket pipeline (each its own trip and, for a write, its own commit) and 4 of the care bookkeeping."""

from __future__ import annotations

from collections import Counter

import pytest

from db.database import Database
from tests.grounded import REFUND_A, REFUND_ASK, REFUND_Q, answer, train
from tests.sim import make_world, text_of
from tickets.schedule import WaitingOn

# The trips counted are calls into SQLite's one connection (its thread and lock), which a burst queues on; the
# PostgreSQL backend runs the same calls (the code path is shared) on a pool without that queue.
pytestmark = pytest.mark.sqlite_only("counts trips through the SQLite Database's methods")

TRAINED_Q = "How do I reset my password?"
MODEL_Q = REFUND_ASK  # near the refund note, not close enough for its saved answer: the model answers


@pytest.fixture
def trips(monkeypatch) -> Counter[str]:
    """Counts every trip to the database through `Database` (a transaction's BEGIN and COMMIT too), by kind."""
    counts: Counter[str] = Counter()
    for name in ("run", "run_rowcount", "fetchone", "fetchall", "batch", "_settled"):
        original = getattr(Database, name)

        def counted(original=original, name=name):
            async def wrapper(self, *args, **kwargs):
                counts[name] += 1
                return await original(self, *args, **kwargs)

            return wrapper

        monkeypatch.setattr(Database, name, counted())
    return counts


async def _world_with_ticket(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    result = await world.staff.slash(world.panel_channel, "train", question=TRAINED_Q, answer="Use the reset link.")
    assert "Saved as entry" in text_of(result)
    await train(world, REFUND_Q, REFUND_A)
    fake_ollama.default_reply = answer()  # from the refund note: the shipped checks let it through
    await world.open_ticket(world.alice, "Account", "Hello there")
    [thread] = world.forum.threads
    return world, thread


@pytest.mark.parametrize("question, trained", [(TRAINED_Q, True), (MODEL_Q, False)], ids=["trained", "model"])
async def test_an_answered_ticket_message_costs_three_database_trips(
    simcord_env, fake_ollama, trips, question, trained
):  # fmt: skip
    world, thread = await _world_with_ticket(simcord_env, fake_ollama)
    answers_before = len(world.bot_messages(thread))
    chats_before = len(fake_ollama.chat_requests())
    trips.clear()

    await world.alice.send(thread, question)

    assert len(world.bot_messages(thread)) == answers_before + 1, "the message was answered"
    assert (len(fake_ollama.chat_requests()) == chats_before) is trained, "the route this test means"
    if trained:
        assert "reset link" in world.bot_messages(thread)[-1].content
    # The ticket read with its wait; the message recorded with the ticket's update and the wait, and the
    # answer's context read; the answer's route, the reply, the status and the new wait recorded.
    assert sum(trips.values()) == 3, trips
    assert trips["batch"] == 3 and trips["_settled"] == 0, "no BEGIN/COMMIT round trips: the writes go in batches"
    wait = await world.bot.core.care.wait(thread.id)
    assert wait is not None and wait.on is WaitingOn.OPENER, "the care bookkeeping was still done"


async def test_a_staff_message_costs_two_database_trips(simcord_env, fake_ollama, trips):
    world, thread = await _world_with_ticket(simcord_env, fake_ollama)
    answers_before = len(world.bot_messages(thread))
    trips.clear()

    await world.staff.send(thread, "Let me look at your account.")

    assert sum(trips.values()) == 2, trips
    assert trips["batch"] == 2 and trips["_settled"] == 0
    assert len(world.bot_messages(thread)) == answers_before, "the assistant stays quiet after staff wrote"
    ticket = await world.bot.core.tickets.get(thread.id)
    assert ticket is not None and ticket.ai_paused
    wait = await world.bot.core.care.wait(thread.id)
    assert wait is not None and wait.on is WaitingOn.OPENER, "the care bookkeeping was still done"
