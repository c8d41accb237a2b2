"""/reopen and /close_request in both ticket modes: reopening after a close (state, tags or card, the
dashboard's facts), its window, who may; a close request accepted, declined and ignored (virtual clock), and
its buttons after a restart."""

from __future__ import annotations

import pytest

from app.settings import load_settings
from bot import create_bot
from tests.bot.desk import BOTH_MODES, card, open_ticket, tags
from tests.bot.test_races import _press
from tests.clock import advance
from tests.sim import make_world, text_of
from tickets.analytics import Period


def _labels(message) -> list[str]:
    return [c.label for row in message.components for c in row.children]


async def _facts_of(world, ticket_id: int) -> bool:
    await world.core.analytics.report(world.guild.id, Period.last_days(7, world.env.now()))
    row = await world.core.db.fetchone("SELECT 1 FROM ticket_facts WHERE ticket_id = :id", {"id": ticket_id})
    return row is not None


@BOTH_MODES
async def test_the_opener_reopens_a_closed_ticket_as_it_was(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    thread = await open_ticket(world)
    await world.staff.slash(thread, "claim")
    await world.staff.slash(thread, "priority", level="high")
    await world.staff.slash(thread, "close", reason="fixed")
    assert await _facts_of(world, thread.id), "the dashboard computed the closed ticket's facts"

    refused = await world.bob.slash(world.panel_channel, "reopen", ticket=str(thread.id))
    assert refused.ephemeral and "Only the person who opened this ticket or staff" in text_of(refused)
    result = await world.alice.slash(world.panel_channel, "reopen", ticket=str(thread.id))

    assert result.ephemeral and f"Reopened {thread.mention}" in text_of(result)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "open" and ticket.closed_at is None and ticket.close_reason is None
    assert ticket.claimed_by == world.staff.id and ticket.priority == "high"
    assert ticket.ai_paused, "the assistant's state is as it was: quiet in a claimed ticket"
    meta = thread._channel.thread_metadata
    assert not meta.archived and not meta.locked
    if private:
        shown = card(simcord_env, thread)
        assert shown["Status"].endswith("Open") and shown["Priority"] == "🟠 High"
        assert shown["Claimed by"] == world.staff.mention
    else:
        assert tags(simcord_env, world, thread) == {"Open", "General", "High priority", "Claimed"}
    assert "**alice** reopened this ticket" in world.bot_messages(thread)[-1].content
    assert not await world.core.db.fetchone("SELECT 1 FROM ticket_facts WHERE ticket_id = :id", {"id": thread.id})
    [reopening] = await world.core.desk.store.reopenings(thread.id)
    assert reopening["close_reason"] == "fixed" and reopening["by_id"] == world.alice.id

    again = await world.alice.slash(thread, "reopen")
    assert "This ticket is open" in text_of(again)
    await world.alice.send(thread, "It broke again")
    await world.staff.slash(thread, "close", reason="fixed for good")
    assert await _facts_of(world, thread.id), "closed again: its facts are computed from the new close"
    report = await world.core.analytics.report(world.guild.id, Period.last_days(7, simcord_env.now()))
    assert report.closed == 1 and dict(report.close_reasons) == {"fixed for good": 1}


@pytest.mark.bot_env(AUTOCLOSE_CHECK_SECONDS="600")
async def test_reopening_works_within_the_servers_window(simcord_env):
    world = await make_world(simcord_env)
    await world.admin.slash(world.panel_channel, "settings set", key="reopen_window_hours", value="1")
    thread = await open_ticket(world)
    await world.alice.slash(thread, "close")

    await simcord_env.advance_time(1800)
    assert "Reopened" in text_of(await world.staff.slash(thread, "reopen")), "staff, inside the thread"
    await world.staff.slash(thread, "close")
    await advance(simcord_env, 3601)

    for member in (world.alice, world.staff):
        late = await member.slash(world.panel_channel, "reopen", ticket=str(thread.id))
        assert "closed more than 1 hour ago" in text_of(late)
    assert (await world.core.store.get_ticket(thread.id)).status == "closed"
    await world.admin.slash(world.panel_channel, "settings set", key="reopen_window_hours", value="0")
    off = await world.staff.slash(world.panel_channel, "reopen", ticket=str(thread.id))
    assert "can't be reopened on this server" in text_of(off)


@BOTH_MODES
async def test_a_close_request_accepted_closes_the_ticket(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    thread = await open_ticket(world)

    result = await world.staff.slash(thread, "close_request", reason="the printer works again")

    assert result.ephemeral and "Asked the opener" in text_of(result)
    asked = world.bot_messages(thread)[-1]
    assert asked.content.startswith(world.alice.mention) and "the printer works again" in asked.content
    assert "closes by itself <t:" in asked.content and _labels(asked) == ["Close it", "Keep it open"]
    assert [m.id for m in asked.mentions] == [world.alice.id], "only the opener is pinged"
    second = await world.staff.slash(thread, "close_request")
    assert "already waiting" in text_of(second)
    refused = await world.staff.click(asked, label="Close it")
    assert "Only the person who opened this ticket" in text_of(refused)
    assert "Only staff" in text_of(await world.alice.slash(thread, "close_request"))

    await world.alice.click(asked, label="Close it")

    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.closed_by == world.alice.id
    assert ticket.close_reason == "close request accepted: the printer works again"
    assert thread._channel.thread_metadata.archived
    request = await world.core.desk.close_requests.get(1)
    assert request.status == "accepted" and request.answered_by == world.alice.id
    assert _labels(next(m for m in thread.history() if m.id == asked.id)) == [], "taken off before archiving"


@BOTH_MODES
@pytest.mark.bot_env(AUTOCLOSE_CHECK_SECONDS="600")
async def test_a_close_request_declined_keeps_the_ticket_open(simcord_env, private: bool):
    world = await make_world(simcord_env, private=private)
    await world.admin.slash(world.panel_channel, "settings set", key="close_request_hours", value="1")
    thread = await open_ticket(world)
    await world.staff.slash(thread, "close_request")
    asked = world.bot_messages(thread)[-1]

    await world.alice.click(asked, label="Keep it open")

    assert "**alice** wants to keep this ticket open" in world.bot_messages(thread)[-1].content
    assert _labels(next(m for m in thread.history() if m.id == asked.id)) == []
    notice = world.log_channel.last_message.content
    assert f"<@{world.staff.id}>" in notice and "wants to keep" in notice
    await advance(simcord_env, 3600 + 1200)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status != "closed"
    assert (await world.core.desk.close_requests.get(1)).status == "declined"


@BOTH_MODES
@pytest.mark.bot_env(AUTOCLOSE_CHECK_SECONDS="600")
async def test_an_ignored_close_request_closes_the_ticket_also_after_a_restart(simcord_env, bot_env, private: bool):
    world = await make_world(simcord_env, private=private)
    await world.admin.slash(world.panel_channel, "settings set", key="close_request_hours", value="2")
    thread = await open_ticket(world)
    await world.staff.slash(thread, "close_request", reason="solved?")
    asked = world.bot_messages(thread)[-1]
    await advance(simcord_env, 3600)
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"

    restarted = create_bot(load_settings(bot_env))
    await simcord_env.restart_bot(restarted)
    await advance(simcord_env, 3600 + 600)

    ticket = await restarted.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.close_reason == "close request not answered: solved?"
    assert ticket.closed_by is None
    assert (await restarted.core.desk.close_requests.get(1)).status == "expired"
    assert _labels(next(m for m in thread.history() if m.id == asked.id)) == [], "no buttons left to press"
    assert thread._channel.thread_metadata.archived
    await restarted.core.close()


@BOTH_MODES
async def test_close_request_buttons_keep_working_after_a_restart(simcord_env, bot_env, private: bool):
    world = await make_world(simcord_env, private=private)
    thread = await open_ticket(world)
    await world.staff.slash(thread, "close_request")
    asked = world.bot_messages(thread)[-1]

    restarted = create_bot(load_settings(bot_env))
    await simcord_env.restart_bot(restarted)
    await world.alice.click(asked, label="Close it")

    assert (await restarted.core.store.get_ticket(thread.id)).status == "closed"
    assert (await restarted.core.desk.close_requests.get(1)).status == "accepted"
    await restarted.core.close()


async def test_a_close_request_on_a_ticket_closed_meanwhile_is_cancelled(simcord_env):
    world = await make_world(simcord_env)
    thread = await open_ticket(world)
    await world.staff.slash(thread, "close_request")
    asked = world.bot_messages(thread)[-1]
    await world.staff.slash(thread, "close", reason="done anyway")

    late = await world.alice.click(asked, label="Keep it open")

    assert "This ticket is closed" in text_of(late)
    assert (await world.core.desk.close_requests.get(1)).status == "cancelled"


@pytest.mark.parametrize("typed", ["9" * 30, "²"], ids=["past 64 bits", "superscript digit"])
async def test_reopen_with_a_typed_id_no_ticket_can_have_says_so(simcord_env, typed: str):
    """The option is text (picked from the list, or typed): digits no id can be got "something went wrong" (the
    database refused a number past 64 bits, int() a superscript digit that str.isdigit() accepts)."""
    world = await make_world(simcord_env)
    result = await world.staff.slash(world.panel_channel, "reopen", ticket=typed)
    assert result.ephemeral and "Pick the ticket from the list" in text_of(result), text_of(result)


@pytest.mark.parametrize("first", ["Close it", "Keep it open"])
async def test_close_it_and_keep_it_open_pressed_at_once_count_once(simcord_env, first: str):
    """A misclick corrected at once sends both answers: the ticket was closed and "wants to keep this ticket open"
    was posted and sent to staff, both. One answer counts; the other is told the request was answered."""
    world = await make_world(simcord_env)
    thread = await open_ticket(world)
    await world.staff.slash(thread, "close_request")
    asked = world.bot_messages(thread)[-1]
    second = "Keep it open" if first == "Close it" else "Close it"
    _press(simcord_env, world.alice, asked, first)
    _press(simcord_env, world.alice, asked, second)
    await simcord_env.settle(timeout=10)
    ticket = await world.core.store.get_ticket(thread.id)
    kept = [m for m in world.bot_messages(thread) if "wants to keep this ticket open" in m.content]
    told = [m for m in world.log_channel.history() if "wants to keep" in m.content]
    assert (ticket.status == "closed") != bool(kept), (ticket.status, [m.content for m in kept])
    assert len(kept) == len(told) <= 1
