"""Opening tickets: panel, modal, category, limits, cooldown, direct posts, Discord errors."""

from __future__ import annotations

import pytest
from simcord.builders import ChannelHandle

from tests.sim import make_world, text_of


async def test_open_ticket_through_panel_and_modal(simcord_env):
    world = await make_world(simcord_env)
    result = await world.open_ticket(world.alice, "Cannot log in", "My password reset email never arrives.")
    assert result.ephemeral and "ticket is open" in text_of(result)
    [thread] = world.forum.threads
    assert thread.name == "Cannot log in"
    assert thread.mention in text_of(result)
    starter = thread.history()[0]
    assert world.alice.mention in starter.content
    assert "My password reset email never arrives." in starter.content
    dthread = simcord_env.bot.get_channel(thread.id)
    assert {t.name for t in dthread.applied_tags} >= {"General"}
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.opener_id == world.alice.id and ticket.category == "general"
    # staff notified in the log channel with a role ping
    notice = world.log_channel.last_message
    assert world.staff_role.mention in notice.content and thread.mention in notice.content
    assert [r.id for r in notice.role_mentions] == [world.staff_role.id]


async def test_category_select_opens_a_billing_ticket(simcord_env):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Refund please", "I was charged twice", category="billing")
    [thread] = world.forum.threads
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.category == "billing"
    assert "Billing" in {t.name for t in simcord_env.bot.get_channel(thread.id).applied_tags}


@pytest.mark.bot_env(MAX_OPEN_TICKETS="2", TICKET_COOLDOWN_SECONDS="0")
async def test_open_ticket_limit(simcord_env):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "First one", "a")
    await world.open_ticket(world.alice, "Second one", "b")
    refused = await world.alice.click(world.panel_channel.last_message, label="Open ticket")
    assert refused.modal is None and refused.ephemeral
    assert "limit is 2" in text_of(refused)
    assert len(world.forum.threads) == 2


@pytest.mark.bot_env(TICKET_COOLDOWN_SECONDS="120")
async def test_open_ticket_cooldown(simcord_env):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "First one", "a")
    refused = await world.alice.click(world.panel_channel.last_message, label="Open ticket")
    assert refused.modal is None and "Please wait" in text_of(refused)
    await simcord_env.advance_time(121)
    shown = await world.alice.click(world.panel_channel.last_message, label="Open ticket")
    assert shown.modal is not None


async def test_forbidden_thread_creation_gives_a_clear_message(simcord_env):
    world = await make_world(simcord_env)
    simcord_env.inject_error("POST", "/channels/*/threads", status=403)
    result = await world.open_ticket(world.alice, "Help", "something broke")
    text = text_of(result)
    assert "permission to create posts" in text
    assert result.ephemeral
    assert world.forum.threads == []
    assert await world.core.store.open_tickets_of(world.guild.id, world.alice.id) == 0


async def test_direct_forum_post_is_a_ticket(simcord_env):
    world = await make_world(simcord_env)
    # SimCord has no actor verb for a member's forum post, so the backend creates the post
    # (THREAD_CREATE) and the member writes in it through the normal actor path.
    raw = simcord_env.backend.create_thread(world.forum.id, "Direct question", world.alice.id)
    thread = ChannelHandle(simcord_env, world.guild, raw)
    await world.alice.send(thread, "How do I reset my password?")
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket is not None and ticket.subject == "Direct question" and ticket.opener_id == world.alice.id
    assert world.bot_messages(thread), "the bot should answer the new post"
    assert "General" in {t.name for t in simcord_env.bot.get_channel(thread.id).applied_tags}


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
@pytest.mark.bot_env(MAX_OPEN_TICKETS="1", TICKET_COOLDOWN_SECONDS="0", IDLE_WARN_HOURS="0")
async def test_a_deleted_ticket_thread_closes_its_ticket(simcord_env, private):
    """A moderator deleting a ticket's thread (spam, a mistake, a clean-up) left the ticket open in the database:
    it kept the opener at the open-ticket limit, with no idle handling for ever, and the dashboard listed it open."""
    world = await make_world(simcord_env, private=private)
    await world.open_ticket(world.alice, "First one", "a")
    [thread] = world.threads
    simcord_env.backend.delete_channel(thread.id)
    await simcord_env.settle()
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.close_reason == "thread deleted"
    result = await world.open_ticket(world.alice, "Second one", "b")
    assert "ticket is open" in text_of(result), text_of(result)
