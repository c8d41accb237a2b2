"""/setup, /ticket_panel and the persistent panel, driven through SimCord."""

from __future__ import annotations

import discord
import pytest
from simcord import SetupError

from app.settings import load_settings
from bot import create_bot
from tests.grounded import REFUND_ASK, train_faq
from tests.sim import make_world, text_of


async def test_setup_by_admin_creates_tags_and_stores_config(simcord_env):
    world = await make_world(simcord_env)
    forum = simcord_env.bot.get_channel(world.forum.id)
    names = {t.name for t in forum.available_tags}
    assert {"Open", "Answered", "Waiting for staff", "Resolved", "Closed", "Billing", "Technical", "General"} <= names
    config = await world.core.tickets.config(world.guild.id)
    assert config.forum_id == world.forum.id
    assert config.staff_role_id == world.staff_role.id
    assert config.log_channel_id == world.log_channel.id


async def test_setup_again_updates_without_duplicating_tags(simcord_env):
    world = await make_world(simcord_env)
    other_log = world.guild.create_text_channel("other-log")
    result = await world.admin.slash(
        world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role, log_channel=other_log
    )
    assert result.ephemeral and "set up" in text_of(result)
    forum = simcord_env.bot.get_channel(world.forum.id)
    names = [t.name for t in forum.available_tags]
    # Status (5), categories (3), and the staff desk's priority and claimed tags (4).
    assert len(names) == len(set(names)) == 12
    assert {"Urgent", "High priority", "Low priority", "Claimed"} <= set(names)
    assert (await world.core.tickets.config(world.guild.id)).log_channel_id == other_log.id


async def test_setup_refused_for_a_member(simcord_env):
    world = await make_world(simcord_env, setup=False)
    with pytest.raises(SetupError, match="not visible"):
        await world.alice.slash(world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role)
    assert await world.core.tickets.config(world.guild.id) is None


async def test_setup_names_missing_permissions_in_the_log_channel(simcord_env):
    world = await make_world(simcord_env, setup=False)
    bot_member = world.guild.me
    hidden = world.guild.create_text_channel(
        "secret-log", overwrites={bot_member: discord.PermissionOverwrite(send_messages=False, attach_files=False)}
    )
    result = await world.admin.slash(
        world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role, log_channel=hidden
    )
    text = text_of(result)
    assert result.ephemeral
    assert "Send Messages" in text and "Attach Files" in text
    assert await world.core.tickets.config(world.guild.id) is None


async def test_panel_requires_setup_and_staff(simcord_env):
    world = await make_world(simcord_env, setup=False)
    result = await world.staff.slash(world.panel_channel, "ticket_panel")
    assert result.ephemeral and "/setup" in text_of(result)


async def test_panel_survives_restart(simcord_env, bot_env):
    world = await make_world(simcord_env)
    restarted = create_bot(load_settings(bot_env))
    await simcord_env.restart_bot(restarted)
    shown = await world.alice.click(world.panel_channel.last_message, label="Open ticket")
    assert shown.modal is not None
    result = await world.alice.submit_modal(shown, {"subject": "Still works", "description": "after a restart"})
    assert "ticket is open" in text_of(result)
    assert len(world.forum.threads) == 1
    await restarted.core.close()  # the fixture closes only the first bot


async def test_answer_buttons_survive_restart(simcord_env, bot_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, "Billing question", REFUND_ASK)
    [thread] = world.forum.threads
    answer = world.bot_messages(thread)[-1]
    restarted = create_bot(load_settings(bot_env))
    await simcord_env.restart_bot(restarted)
    syncs = [r for r in simcord_env.http_requests if r.method == "PUT" and "/commands" in r.path]
    assert len(syncs) == 1, "an unchanged command tree is not synced again on restart"
    result = await world.alice.click(answer, label="Solved")
    assert "Glad" in text_of(result)
    assert (await restarted.core.store.get_ticket(thread.id)).status == "resolved"
    await restarted.core.close()
