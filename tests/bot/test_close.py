"""Closing tickets by hand and automatically."""

from __future__ import annotations

import logging

import pytest

from tests.clock import advance
from tests.grounded import REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world, text_of


def _thread_edits(env, thread_id):
    return [r.json for r in env.http_requests if r.method == "PATCH" and r.path == f"/channels/{thread_id}"]


async def _open(world, subject: str = "Printer on fire", text: str = "It smells like toast."):
    await world.open_ticket(world.alice, subject, text)
    [thread] = world.forum.threads
    return thread


async def test_a_close_reason_cannot_forge_a_log_line(simcord_env, caplog):
    world = await make_world(simcord_env)
    thread = await _open(world)
    caplog.set_level(logging.INFO)
    await world.alice.slash(thread, "close", reason="fixed\nERROR fake\u2028record\r\nmore")
    [record] = [r for r in caplog.records if "closed (" in r.getMessage()]
    message = record.getMessage()
    assert "\n" not in message and "\r" not in message and "\u2028" not in message
    assert message.endswith("(fixed\\nERROR fake\\u2028record\\r\\nmore)")  # escaped: still readable
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.close_reason == "fixed\nERROR fake\u2028record\r\nmore", "the record keeps what was written"


async def test_opener_closes_with_embed_transcript_and_lock(simcord_env):
    world = await make_world(simcord_env)
    thread = await _open(world)
    await world.alice.send(thread, "Never mind, I unplugged it.")
    result = await world.alice.slash(thread, "close", reason="fixed it myself")
    assert result.ephemeral and "closed" in text_of(result).lower()
    embed = world.bot_messages(thread)[-1].embeds[0]
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Reason"] == "fixed it myself" and world.alice.mention in fields["Closed by"]
    assert fields["Summary"].strip()
    assert any(e.get("archived") and e.get("locked") for e in _thread_edits(simcord_env, thread.id))
    closed_tag = next(t.id for t in simcord_env.bot.get_channel(world.forum.id).available_tags if t.name == "Closed")
    assert any(str(closed_tag) in map(str, e.get("applied_tags", [])) for e in _thread_edits(simcord_env, thread.id))
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.close_reason == "fixed it myself" and ticket.closed_by == world.alice.id
    log_msg = world.log_channel.last_message
    # The Markdown transcript and, since the dashboard (issue 11), the self-contained HTML one.
    attachment, html = log_msg.attachments
    assert attachment.filename == f"ticket-{thread.id}.md" and html.filename == f"ticket-{thread.id}.html"
    transcript = (await attachment.read()).decode()
    assert "It smells like toast." in transcript and "Never mind, I unplugged it." in transcript


async def test_staff_can_close_and_others_cannot(simcord_env):
    world = await make_world(simcord_env)
    thread = await _open(world)
    refused = await world.bob.slash(thread, "close")
    assert refused.ephemeral and "Only the person" in text_of(refused)
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"
    result = await world.staff.slash(thread, "close")
    assert "closed" in text_of(result).lower()
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.close_reason == "closed by staff"


async def test_close_twice_or_outside_a_ticket_is_a_clear_error(simcord_env):
    world = await make_world(simcord_env)
    thread = await _open(world)
    outside = await world.alice.slash(world.panel_channel, "close")
    assert outside.ephemeral and "only works inside a ticket" in text_of(outside)
    await world.staff.slash(thread, "close")
    again = await world.staff.slash(thread, "close")
    assert again.ephemeral and "already closed" in text_of(again)


async def test_close_refused_by_discord_leaves_ticket_open(simcord_env):
    world = await make_world(simcord_env)
    thread = await _open(world)
    simcord_env.inject_error("PATCH", f"/channels/{thread.id}", status=403)
    result = await world.staff.slash(thread, "close")
    assert "permission" in text_of(result)
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"


@pytest.mark.bot_env(SOLVED_CLOSE_DELAY_HOURS="1", AUTOCLOSE_CHECK_SECONDS="300")
async def test_solved_ticket_closes_after_the_delay(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, REFUND_SUBJECT, REFUND_ASK)  # the assistant answers it
    await world.alice.click(world.bot_messages(thread)[-1], label="Solved")
    await simcord_env.advance_time(1800)
    assert (await world.core.store.get_ticket(thread.id)).status == "resolved"
    await advance(simcord_env, 1900, step=900)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.close_reason == "solved, closed automatically"
    assert any(e.get("archived") and e.get("locked") for e in _thread_edits(simcord_env, thread.id))


@pytest.mark.bot_env(IDLE_WARN_HOURS="2", IDLE_CLOSE_AFTER_WARN_HOURS="1", AUTOCLOSE_CHECK_SECONDS="300")
async def test_idle_ticket_is_warned_then_closed(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, REFUND_SUBJECT, REFUND_ASK)  # the assistant answers it
    await advance(simcord_env, 2 * 3600 + 300, step=900)
    warning = world.bot_messages(thread)[-1]
    assert "quiet for a while" in warning.content and world.alice.mention in warning.content
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"
    await advance(simcord_env, 3600 + 300, step=900)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.close_reason == "no activity"


@pytest.mark.bot_env(IDLE_WARN_HOURS="2", IDLE_CLOSE_AFTER_WARN_HOURS="1", AUTOCLOSE_CHECK_SECONDS="300")
async def test_user_reply_after_warning_keeps_ticket_open(simcord_env):
    world = await make_world(simcord_env)
    thread = await _open(world)
    await advance(simcord_env, 2 * 3600 + 300, step=900)
    await world.alice.send(thread, "Still here, still broken!")
    await advance(simcord_env, 3600 + 300, step=900)
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"


@pytest.mark.bot_env(SOLVED_CLOSE_DELAY_HOURS="0", IDLE_WARN_HOURS="0", AUTOCLOSE_CHECK_SECONDS="1800")
async def test_zero_delays_disable_auto_close(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    thread = await _open(world, REFUND_SUBJECT, REFUND_ASK)  # the assistant answers it
    await world.alice.click(world.bot_messages(thread)[-1], label="Solved")
    await advance(simcord_env, 4 * 3600, step=900)  # far past the 1 h default
    assert (await world.core.store.get_ticket(thread.id)).status == "resolved"
