"""Support hours in another time zone on the virtual clock (SimCord starts at 2026-01-01T00:00Z, a Thursday:
19:00 on Wednesday in New York). Outside them the ticket says when staff are there, the assistant still
answers, and staff pings wait in the database until support opens; the SLA clock counts open hours only."""

from __future__ import annotations

import discord
import pytest
from simcord.builders import ChannelHandle

from tests.clock import advance
from tests.grounded import REFUND_A, REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world, text_of

H = 3600
MIN = 60
FAST = {"AUTOCLOSE_CHECK_SECONDS": "300"}
NEW_YORK = "Mon–Fri 09:00–17:00 (America/New_York)"
OPENS_IN = 14 * H  # Thursday 09:00 in New York is 14:00 UTC


async def _hours(world, hours: str = "mon-fri 09:00-17:00", zone: str = "America/New_York", **more) -> None:
    for key, value in {"support_hours": hours, "support_time_zone": zone, **more}.items():
        result = await world.admin.slash(world.panel_channel, "settings set", key=key, value=str(value))
        assert "is now" in result.response.content, result.response.content


def _posted(env, channel_id: int, message: discord.Message):
    return next(
        r for r in env.http_requests
        if r.method == "POST" and r.path == f"/channels/{channel_id}/messages"
        and r.json.get("content") == message.content
    )  # fmt: skip


def _pinged_roles(env, channel_id: int, message: discord.Message) -> list[int]:
    return [int(r) for r in _posted(env, channel_id, message).json["allowed_mentions"].get("roles", [])]


def _digests(world) -> list[discord.Message]:
    return [m for m in world.log_channel.history() if "Support is open" in m.content]


@pytest.mark.bot_env(**FAST)
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_outside_hours_the_ticket_says_so_the_assistant_answers_and_the_ping_waits(
    simcord_env, private, fake_ollama
):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    await _hours(world)

    result = await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)

    assert f"Staff are available {NEW_YORK}" in text_of(result), "the confirmation says when staff are there"
    [thread] = world.threads
    starter = thread.history()[0]
    assert world.alice.mention in starter.content and NEW_YORK in starter.content
    assert any(REFUND_A in m.content for m in world.bot_messages(thread)), "the assistant answers now"
    notice = world.log_channel.last_message
    assert thread.mention in notice.content and "staff will be pinged when we open" in notice.content
    assert _pinged_roles(simcord_env, world.log_channel.id, notice) == [], "no ping outside support hours"
    [held] = await world.core.care.held_pings(world.guild.id)
    assert held.kind == "new_ticket" and held.ticket_id == thread.id

    await advance(simcord_env, OPENS_IN - 10 * MIN)
    assert _digests(world) == []
    await advance(simcord_env, 15 * MIN)
    [digest] = _digests(world)
    assert thread.mention in digest.content and digest.content.startswith(world.staff_role.mention)
    assert _pinged_roles(simcord_env, world.log_channel.id, digest) == [world.staff_role.id]
    assert await world.core.care.held_pings(world.guild.id) == []
    await advance(simcord_env, H)
    assert len(_digests(world)) == 1, "sent once"


@pytest.mark.bot_env(**FAST)
async def test_a_hand_off_outside_hours_waits_and_the_sla_counts_open_hours_only(simcord_env, fake_ollama):
    world = await make_world(simcord_env, private=True)
    await train_faq(world, fake_ollama)
    await _hours(world, staff_reping_minutes=30)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads

    await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")

    said = f"Staff are available {NEW_YORK}; they will reply when we open"
    assert any(said in m.content for m in world.bot_messages(thread)), "the ticket says when staff are there"
    handoff = world.log_channel.last_message
    assert "needs a human" in handoff.content and _pinged_roles(simcord_env, world.log_channel.id, handoff) == []
    await advance(simcord_env, OPENS_IN + 5 * MIN)
    [digest] = _digests(world)
    assert digest.content.count(thread.mention) == 2, "the new ticket and the hand-off, in one message"
    assert not any("⏰" in m.content for m in world.log_channel.history()), "14 h closed are not 14 h of waiting"
    await advance(simcord_env, 30 * MIN)
    [reping] = [m for m in world.log_channel.history() if "⏰" in m.content]
    assert "30 minutes" in reping.content
    assert _pinged_roles(simcord_env, world.log_channel.id, reping) == [world.staff_role.id]


@pytest.mark.bot_env(**FAST)
async def test_a_held_ping_for_a_ticket_closed_meanwhile_is_dropped(simcord_env):
    world = await make_world(simcord_env)
    await _hours(world)
    await world.open_ticket(world.alice, "Refund", "I was charged twice")
    [thread] = world.threads
    await world.alice.slash(thread, "close")

    await advance(simcord_env, OPENS_IN + 5 * MIN)

    assert _digests(world) == []
    assert await world.core.care.held_pings(world.guild.id) == []


@pytest.mark.bot_env(**FAST)
async def test_inside_hours_staff_are_pinged_at_once(simcord_env):
    world = await make_world(simcord_env)
    await _hours(world, hours="mon-sun 18:00-20:00")  # 19:00 in New York now

    result = await world.open_ticket(world.alice, "Refund", "I was charged twice")

    assert "Staff are available" not in text_of(result)
    notice = world.log_channel.last_message
    assert "pinged when we open" not in notice.content
    assert _pinged_roles(simcord_env, world.log_channel.id, notice) == [world.staff_role.id]
    assert await world.core.care.held_pings(world.guild.id) == []


@pytest.mark.bot_env(**FAST)
async def test_a_post_made_in_the_forum_outside_hours_says_so(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await _hours(world, zone="Europe/Berlin", hours="sat 10:00-14:00")
    raw = simcord_env.backend.create_thread(world.forum.id, "Direct question", world.alice.id)
    thread = ChannelHandle(simcord_env, world.guild, raw)

    await world.alice.send(thread, REFUND_ASK)

    contents = [m.content for m in world.bot_messages(thread)]
    assert any("Staff are available Sat 10:00–14:00 (Europe/Berlin)" in c for c in contents)
    assert any(REFUND_A in c for c in contents)


async def test_support_hours_are_validated_with_a_clear_message(simcord_env):
    world = await make_world(simcord_env)
    bad_hours = await world.admin.slash(
        world.panel_channel, "settings set", key="support_hours", value="weekdays 9-5pm"
    )
    assert "is not a day" in text_of(bad_hours) or "is not a time" in text_of(bad_hours)
    bad_zone = await world.admin.slash(world.panel_channel, "settings set", key="support_time_zone", value="Mars/Base")
    assert "not a time zone" in text_of(bad_zone)
    settings = await world.core.server_settings.of(world.guild.id)
    assert not settings.values, "nothing half-written"


def _panel_text(world, message_id: int) -> str:
    return next(m for m in world.panel_channel.history() if m.id == message_id).embeds[0].description


async def test_the_panel_says_when_staff_are_there_and_follows_the_settings(simcord_env):
    world = await make_world(simcord_env)
    panel = world.panel_channel.last_message
    assert "Staff are available" not in panel.embeds[0].description, "always open: nothing to say"

    await _hours(world)
    assert f"Staff are available {NEW_YORK}" in _panel_text(world, panel.id)
    assert "the assistant answers" in _panel_text(world, panel.id)

    await world.admin.slash(world.panel_channel, "settings set", key="support_time_zone", value="Europe/Berlin")
    assert "Mon–Fri 09:00–17:00 (Europe/Berlin)" in _panel_text(world, panel.id)

    await world.staff.slash(world.panel_channel, "ticket_panel")
    second = world.panel_channel.last_message
    assert second.id != panel.id and "(Europe/Berlin)" in second.embeds[0].description, "a new panel says it too"

    await world.admin.slash(world.panel_channel, "settings reset", key="support_hours")
    for message_id in (panel.id, second.id):
        assert "Staff are available" not in _panel_text(world, message_id)
