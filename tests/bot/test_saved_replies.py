"""Saved answers offered to staff with a hand-off (tickets/suggested_replies.py, cogs/tickets/_saved_replies.py):
the notice lists the notes the model saw as buttons; staff press one to post that saved answer in the ticket."""

from __future__ import annotations

import pytest

from tests.fakes.ollama import FakeOllama, Reply
from tests.grounded import PASSWORD_Q, REFUND_A, REFUND_ASK, REFUND_Q, REFUND_SUBJECT, UNSURE, train_faq
from tests.sim import make_world, text_of

pytestmark = pytest.mark.bot_env(ANSWER_CHECKS="true")


def _notice(world):
    [notice] = [m for m in world.log_channel.history() if "needs a human" in m.content]
    return notice


def _labels(message) -> list[str]:
    return [c.label for row in message.components for c in row.children]


def _tags(env, thread) -> set[str]:
    return {t.name for t in env.bot.get_channel(thread.id).applied_tags}


async def _handed_off(world, fake_ollama: FakeOllama):
    await train_faq(world)
    fake_ollama.script(Reply(UNSURE))
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    return thread


async def test_staff_send_the_offered_saved_answer_and_the_users_wording_is_proposed(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    thread = await _handed_off(world, fake_ollama)
    notice = _notice(world)
    labels = _labels(notice)
    assert labels and labels[0] == REFUND_Q, "the best note first, labelled with its trained question"
    assert "Waiting for staff" in _tags(simcord_env, thread)

    result = await world.staff.click(notice, label=REFUND_Q)
    assert result.ephemeral and "Sent the saved answer" in text_of(result), text_of(result)
    last = world.bot_messages(thread)[-1]
    assert REFUND_A in last.content and "sent by sam_staff" in last.content
    ticket = await world.core.tickets.get(thread.id)
    assert ticket.ai_paused, "staff answered: the assistant stays quiet, as when staff write"
    tags = _tags(simcord_env, thread)
    assert "Waiting for staff" not in tags and "Answered" in tags
    [message] = [m for m in await world.core.tickets.messages(thread.id) if m.content.startswith(REFUND_A)]
    assert message.role.value == "staff" and message.author_id == world.staff.id, "counts as staff's reply"
    [pending] = await world.core.memory.list_suggestions(world.guild.id)
    entry = await world.core.memory.get_by_query(world.guild.id, REFUND_Q)
    assert pending.kind == "alternate" and pending.entry_id == entry.id
    assert REFUND_ASK in pending.query, "the user's own wording, for staff to approve"
    refreshed = world.log_channel.history()
    used = next(m for m in refreshed if m.id == notice.id)
    assert _labels(used) == [] and "Saved answer sent" in used.content, "one press per notice"


async def test_only_staff_can_send_an_offered_saved_answer(simcord_env, fake_ollama):
    world = await make_world(simcord_env, with_log=False)  # the notice is in the ticket, where the opener reads it
    thread = await _handed_off(world, fake_ollama)
    [notice] = [m for m in world.bot_messages(thread) if "needs a human" in m.content]
    before = len(world.bot_messages(thread))
    refused = await world.alice.click(notice, label=REFUND_Q)
    assert refused.ephemeral and "Only staff" in text_of(refused)
    assert len(world.bot_messages(thread)) == before, "nothing posted"
    assert await world.core.memory.list_suggestions(world.guild.id) == []


async def test_a_deleted_saved_answer_is_not_sent(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    thread = await _handed_off(world, fake_ollama)
    notice = _notice(world)
    entry = await world.core.memory.get_by_query(world.guild.id, REFUND_Q)
    assert await world.core.memory.delete(world.guild.id, entry.id)
    before = len(world.bot_messages(thread))
    refused = await world.staff.click(notice, label=REFUND_Q)
    assert "no longer exists" in text_of(refused)
    assert len(world.bot_messages(thread)) == before
    assert not (await world.core.tickets.get(thread.id)).ai_paused


async def test_a_closed_ticket_gets_no_saved_answer(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    thread = await _handed_off(world, fake_ollama)
    notice = _notice(world)
    await world.staff.slash(thread, "close", reason="done")
    refused = await world.staff.click(notice, label=REFUND_Q)
    assert "closed" in text_of(refused)
    assert not any(REFUND_A in m.content for m in world.bot_messages(thread))


async def test_a_hand_off_without_notes_offers_nothing(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world)
    await world.open_ticket(world.alice, "Weather", "what is the weather like on mars today")
    notice = _notice(world)
    assert _labels(notice) == [] and "Closest saved answers" not in notice.content


async def test_the_offer_lists_the_notes_the_model_saw_and_not_off_topic_ones(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world)
    fake_ollama.script(Reply(UNSURE))
    await world.open_ticket(world.alice, "Login", "i forgot my password and how do i get a refund, help")
    labels = _labels(_notice(world))
    assert set(labels) <= {REFUND_Q, PASSWORD_Q} and labels, labels
