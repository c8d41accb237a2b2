"""/settings view|set|reset: per-server settings, validated, with defaults from `.env`."""

from __future__ import annotations

import pytest
from simcord import SetupError

from tests.clock import advance
from tests.grounded import REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world, text_of
from tickets.server_settings import MAX_OPEN_TICKETS

H = 3600


@pytest.mark.bot_env(MAX_OPEN_TICKETS="2")
async def test_view_shows_every_setting_with_the_env_default(simcord_env):
    world = await make_world(simcord_env)

    result = await world.admin.slash(world.panel_channel, "settings view")

    text = result.response.embeds[0].description
    assert result.ephemeral
    assert "**max_open_tickets** = `2` (default; 1–100)" in text
    for key in ("ticket_cooldown_seconds", "solved_close_delay_hours", "idle_warn_hours"):
        assert f"**{key}**" in text


@pytest.mark.bot_env(TICKET_COOLDOWN_SECONDS="0")
async def test_a_setting_changes_this_server_only_and_resets(simcord_env):
    world = await make_world(simcord_env)

    result = await world.admin.slash(world.panel_channel, "settings set", key="max_open_tickets", value="1")
    assert "now `1`" in text_of(result)
    await world.open_ticket(world.alice, "First one", "a")
    refused = await world.alice.click(world.panel_channel.last_message, label="Open ticket")
    assert refused.modal is None and "limit is 1" in text_of(refused)
    other = await world.core.server_settings.of(world.guild.id + 1)
    assert other.get(MAX_OPEN_TICKETS) == 3, "another server keeps the default"

    result = await world.admin.slash(world.panel_channel, "settings reset", key="max_open_tickets")
    assert "back to its default, `3`" in text_of(result)
    shown = await world.alice.click(world.panel_channel.last_message, label="Open ticket")
    assert shown.modal is not None


async def test_bad_values_are_refused_and_nothing_is_stored(simcord_env):
    world = await make_world(simcord_env)
    cases = {
        ("max_open_tickets", "many"): "takes a whole number",
        ("max_open_tickets", "0"): "must be 1–100",
        ("idle_warn_hours", "-1"): "must be 0–8760",
        ("idle_warn_hours", "nan"): "must be 0–8760",
        ("no_such_setting", "1"): "There is no setting",
    }
    for (key, value), expected in cases.items():
        result = await world.admin.slash(world.panel_channel, "settings set", key=key, value=value)
        assert result.ephemeral and expected in text_of(result), (key, value, text_of(result))
    assert await world.core.server_settings.store.values(world.guild.id) == {}


async def test_keys_are_offered_as_you_type(simcord_env):
    world = await make_world(simcord_env)

    choices = await world.admin.autocomplete(world.panel_channel, "settings set", "key", "idle")

    assert [c["value"] for c in choices] == ["idle_warn_hours", "idle_close_after_warn_hours"]


@pytest.mark.bot_env(IDLE_WARN_HOURS="48", AUTOCLOSE_CHECK_SECONDS="600")
async def test_auto_close_follows_the_servers_setting(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.admin.slash(world.panel_channel, "settings set", key="idle_warn_hours", value="1")
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads

    await advance(simcord_env, H + 600)

    warning = world.bot_messages(thread)[-1].content
    assert "quiet for a while" in warning and "close in 24 hours" in warning


async def test_settings_are_for_manage_server_only(simcord_env):
    world = await make_world(simcord_env)

    for member in (world.alice, world.staff):
        with pytest.raises(SetupError, match="not visible"):
            await member.slash(world.panel_channel, "settings set", key="max_open_tickets", value="50")
    commands = await simcord_env.bot.tree.fetch_commands(guild=None)
    group = next(c for c in commands if c.name == "settings")
    world.guild.set_command_permissions(group, {world.guild.default_role: True})
    result = await world.staff.slash(world.panel_channel, "settings set", key="max_open_tickets", value="50")
    assert result.ephemeral and "Manage Server" in text_of(result)
    assert await world.core.server_settings.store.values(world.guild.id) == {}
