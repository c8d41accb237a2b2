"""Private-thread tickets: who sees them, their card, answering, closing, restarts, and /setup's checks."""

from __future__ import annotations

from dataclasses import replace

import discord
import pytest
from simcord.backend.access import can_access_channel

from app.settings import load_settings
from bot import create_bot
from cogs.tickets._places import PRIVATE_THREAD, place_of
from tests.clock import advance
from tests.fakes.ollama import Reply
from tests.grounded import REFUND_A, REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.grounded import answer as grounded
from tests.sim import make_world, text_of
from tickets.models import TicketStatus


def _card(env, thread) -> dict[str, str]:
    starter = next(m for m in thread.history() if m.author.id == env.bot.user.id and m.embeds)
    return {f.name: f.value for f in starter.embeds[0].fields}


async def test_a_private_ticket_from_the_panel_is_seen_by_its_opener_and_staff_only(simcord_env, fake_ollama):
    world = await make_world(simcord_env, private=True)
    await train_faq(world, fake_ollama)

    result = await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK, category="billing")

    assert "ticket is open" in text_of(result)
    assert world.forum.threads == []
    [thread] = world.private_channel.threads
    dthread = simcord_env.bot.get_channel(thread.id)
    assert dthread.type is discord.ChannelType.private_thread
    create = [r for r in simcord_env.http_requests if r.method == "POST" and r.path.endswith("/threads")][-1]
    assert create.json["type"] == 12 and create.json["invitable"] is False
    assert can_access_channel(simcord_env, thread.id, world.alice)
    assert can_access_channel(simcord_env, thread.id, world.staff), "the staff role sees it (overwrite from /setup)"
    assert can_access_channel(simcord_env, thread.id, world.admin)
    assert not can_access_channel(simcord_env, thread.id, world.bob)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.mode == "private_thread" and ticket.category == "billing" and ticket.source == "panel"
    starter = thread.history()[0]
    assert world.alice.mention in starter.content and REFUND_ASK in starter.content
    assert ticket.starter_message_id == starter.id != thread.id
    assert _card(simcord_env, thread)["Status"].endswith("Answered"), "the answer moved the card on"
    assert world.bot_messages(thread)[-1].components, "the answer carries Solved / Talk to staff"
    notice = world.log_channel.last_message
    assert world.staff_role.mention in notice.content and thread.mention in notice.content


async def test_buttons_and_staff_replies_move_the_card_of_a_private_ticket(simcord_env, fake_ollama):
    world = await make_world(simcord_env, private=True)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.private_channel.threads

    await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")
    assert _card(simcord_env, thread)["Status"].endswith("Waiting for staff")
    assert "needs a human" in world.log_channel.last_message.content

    await world.staff.send(thread, "Done: bob is the owner now.")  # staff see and write without being added
    assert _card(simcord_env, thread)["Status"].endswith("Answered")
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "answered" and ticket.ai_paused


async def test_closing_a_private_ticket_archives_it_and_says_so_on_its_card(simcord_env):
    world = await make_world(simcord_env, private=True)
    await world.open_ticket(world.alice, "Printer", "It prints blank pages.")
    [thread] = world.private_channel.threads

    result = await world.staff.slash(thread, "close", reason="fixed")

    assert "closed" in text_of(result).lower()
    meta = thread._channel.thread_metadata
    assert meta.archived and meta.locked
    assert _card(simcord_env, thread)["Status"].endswith("Closed")
    assert (await world.core.store.get_ticket(thread.id)).status == "closed"
    log_message = world.log_channel.last_message
    assert log_message.attachments and "Ticket closed" in log_message.embeds[0].title
    assert not can_access_channel(simcord_env, thread.id, world.bob)


async def test_a_private_close_discord_refuses_leaves_the_card_open(simcord_env):
    world = await make_world(simcord_env, private=True)
    await world.open_ticket(world.alice, "Printer", "It prints blank pages.")
    [thread] = world.private_channel.threads
    simcord_env.inject_error("PATCH", f"/channels/{thread.id}", status=403, code=50013, message="Missing Permissions")

    result = await world.staff.slash(thread, "close")

    assert "archive and lock this thread" in text_of(result)
    assert not _card(simcord_env, thread)["Status"].endswith("Closed")
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"


async def test_mentions_in_answers_never_invite_anyone_into_a_private_ticket(simcord_env, fake_ollama):
    world = await make_world(simcord_env, private=True)
    await train_faq(world)
    fake_ollama.script(Reply(grounded(f"Ask <@{world.bob.id}> or <@&{world.staff_role.id}> about it. {REFUND_A}")))

    await world.open_ticket(world.alice, "Mentions", f"my friend <@{world.bob.id}> knows: {REFUND_ASK}")

    [thread] = world.private_channel.threads
    to_thread = [r for r in simcord_env.http_requests if r.path.startswith(f"/channels/{thread.id}/") and r.json]
    posted = [r.json.get("content") or "" for r in to_thread]
    assert posted and not any(f"<@{world.bob.id}>" in text for text in posted), posted
    assert any(f"‹@{world.bob.id}>" in text and REFUND_A in text for text in posted), "the answer, mentions as text"
    assert world.alice.mention in thread.history()[0].content, "the opener is still mentioned"
    assert not can_access_channel(simcord_env, thread.id, world.bob)


async def test_panel_and_buttons_keep_working_after_a_restart_in_both_modes(simcord_env, bot_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.category("billing", mode="private_thread")
    await world.open_ticket(world.alice, "Forum question", REFUND_ASK)
    await world.open_ticket(world.bob, "Private question", REFUND_AGAIN, category="billing")
    [forum_thread] = world.forum.threads
    [private_thread] = world.private_channel.threads
    answers = [world.bot_messages(t)[-1] for t in (forum_thread, private_thread)]

    restarted = create_bot(load_settings(bot_env))
    await simcord_env.restart_bot(restarted)

    for member, answer in zip((world.alice, world.bob), answers, strict=True):
        assert "Glad" in text_of(await member.click(answer, label="Solved"))
    assert (await restarted.core.store.get_ticket(forum_thread.id)).status == "resolved"
    assert _card(simcord_env, private_thread)["Status"].endswith("Resolved")
    shown = await world.staff.select(world.panel_channel.last_message, ["billing"], custom_id="ticket:panel:category")
    result = await world.staff.submit_modal(shown, {"subject": "After restart", "description": "still private?"})
    assert "ticket is open" in text_of(result)
    assert len(world.private_channel.threads) == 2
    await restarted.core.close()


async def test_setup_gives_the_bot_and_staff_what_private_tickets_need(simcord_env):
    world = await make_world(simcord_env, setup=False)
    guild = world.guild
    locked = guild.create_text_channel(
        "locked-tickets",
        overwrites={
            guild.default_role: discord.PermissionOverwrite(create_private_threads=False, send_messages=False),
        },
    )

    result = await world.admin.slash(
        world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role, private_channel=locked
    )

    text = text_of(result)
    assert "set up" in text and "gave myself Create Private Threads" in text, text
    assert f"gave {world.staff_role.mention} Manage Threads" in text
    channel = simcord_env.bot.get_channel(locked.id)
    assert channel.permissions_for(channel.guild.me).create_private_threads
    assert channel.permissions_for(channel.guild.get_role(world.staff_role.id)).manage_threads
    assert (await world.core.tickets.config(guild.id)).private_channel_id == locked.id


async def test_setup_names_what_it_cannot_arrange_in_the_private_channel(simcord_env):
    world = await make_world(simcord_env, setup=False)
    guild = world.guild
    me = guild.me
    hidden = guild.create_text_channel(
        "no-threads",
        overwrites={me: discord.PermissionOverwrite(create_private_threads=False, manage_roles=False)},
    )

    result = await world.admin.slash(
        world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role, private_channel=hidden
    )

    text = text_of(result)
    assert "Create Private Threads" in text and "cannot see private tickets" in text, text
    assert await world.core.tickets.config(guild.id) is None, "nothing is stored"


async def test_setup_refuses_to_drop_the_channel_private_categories_use(simcord_env):
    world = await make_world(simcord_env, private=True)

    result = await world.admin.slash(world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role)

    assert "open private threads" in text_of(result) and "private_channel" in text_of(result)
    assert (await world.core.tickets.config(world.guild.id)).private_channel_id == world.private_channel.id


async def test_a_private_tickets_place_reopens_and_lets_members_in_and_out(simcord_env):
    """What later commands (/add, /remove, /reopen) stand on: the place of the ticket, whatever its mode."""
    world = await make_world(simcord_env, private=True)
    await world.open_ticket(world.alice, "Printer", "It prints blank pages.")
    [thread] = world.private_channel.threads
    await world.staff.slash(thread, "close")
    bot = simcord_env.bot
    ticket = await world.core.store.get_ticket(thread.id)
    config = await world.core.tickets.config(world.guild.id)
    dthread = await bot.fetch_channel(thread.id)
    place = place_of(ticket)
    assert place is PRIVATE_THREAD

    await place.reopen(dthread, config, replace(ticket, status=TicketStatus.OPEN))
    await place.add_member(dthread, discord.Object(world.bob.id))

    meta = thread._channel.thread_metadata
    assert not meta.archived and not meta.locked
    assert _card(simcord_env, thread)["Status"].endswith("Open")
    assert can_access_channel(simcord_env, thread.id, world.bob)
    await place.remove_member(dthread, discord.Object(world.bob.id))
    assert not can_access_channel(simcord_env, thread.id, world.bob)


@pytest.mark.bot_env(AUTOCLOSE_CHECK_SECONDS="600")
async def test_an_idle_private_ticket_is_warned_then_closed(simcord_env, fake_ollama):
    world = await make_world(simcord_env, private=True)
    await train_faq(world, fake_ollama)
    for key in ("idle_warn_hours", "idle_close_after_warn_hours"):
        await world.admin.slash(world.panel_channel, "settings set", key=key, value="1")
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.private_channel.threads

    await advance(simcord_env, 3600 + 600)
    warning = world.bot_messages(thread)[-1]
    assert "quiet for a while" in warning.content and world.alice.mention in warning.content
    await advance(simcord_env, 3600 + 600)

    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.close_reason == "no activity"
    assert thread._channel.thread_metadata.archived
    assert _card(simcord_env, thread)["Status"].endswith("Closed")
    assert not can_access_channel(simcord_env, thread.id, world.bob)
