"""Abuse gates at opening: a minimum account age and a cap on tickets per hour per server, refused on every
path a member opens by (panel button and select, the message menu, a post made in the forum, the form's
submit); staff opening a ticket for someone with /ticket_open are exempt. Account age comes from SimCord's
clock: a user is as old as the virtual time since they were created."""

from __future__ import annotations

import pytest
from simcord.builders import ChannelHandle

from tests.clock import advance
from tests.sim import make_world, text_of

H = 3600
MENU = "Open ticket from this message"
NO_COOLDOWN = {"TICKET_COOLDOWN_SECONDS": "0", "AUTOCLOSE_CHECK_SECONDS": "900"}


async def _set(world, key: str, value: str) -> None:
    result = await world.admin.slash(world.panel_channel, "settings set", key=key, value=value)
    assert "is now" in text_of(result), text_of(result)


def _panel(world):
    return next(m for m in world.panel_channel.history() if m.author.id == world.bot.user.id and m.components)


async def _refused_everywhere(world, member, says: str) -> None:
    """Every way a member opens a ticket is refused with `says`, and nothing is opened."""
    env = world.env
    before = len(world.threads)
    panel = _panel(world)
    by_button = await member.click(panel, label="Open ticket")
    by_select = await member.select(panel, ["billing"], custom_id="ticket:panel:category")
    chat = world.guild.create_text_channel(f"chat-{len(world.threads)}")
    message = await world.bob.send(chat, "My payment failed twice")
    by_menu = await member.context_menu(chat, MENU, message)
    for refused in (by_button, by_select, by_menu):
        assert refused.modal is None and refused.ephemeral and says in text_of(refused), text_of(refused)
    raw = env.backend.create_thread(world.forum.id, "Direct question", member.id)
    post = ChannelHandle(env, world.guild, raw)
    await member.send(post, "How do I reset my password?")
    assert await world.core.tickets.get(post.id) is None
    refusal = world.bot_messages(post)[-1].content
    assert says in refusal and "This post has been closed" in refusal
    assert post._channel.thread_metadata.locked
    assert len(world.threads) == before + 1, "only the refused post itself"


@pytest.mark.bot_env(**NO_COOLDOWN)
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_an_account_younger_than_the_minimum_cannot_open_a_ticket(simcord_env, private):
    world = await make_world(simcord_env, private=private)
    await _set(world, "min_account_age_hours", "2")
    await advance(simcord_env, 2 * H + 600)  # everyone made so far is old enough now
    carol = world.guild.add_member(simcord_env.create_user("carol"))

    await _refused_everywhere(world, carol, "too new to open a ticket")
    refused = await carol.click(_panel(world), label="Open ticket")
    assert "at least 2 hours old" in text_of(refused) and "You can open one in 2 hours" in text_of(refused)
    # Stored for analytics: button, select, message menu and the second click before a form; the post when opening.
    stages = [stage for user, gate, stage in await world.core.gates.refusals(world.guild.id) if user == carol.id]
    assert sorted(stages) == ["form"] * 4 + ["open"]
    assert "ticket is open" in text_of(await world.open_ticket(world.alice, "Old enough", "I am 2 hours old"))

    opened = await world.staff.slash(world.panel_channel, "ticket_open", member=carol, subject="Staff asked for it")
    assert "Opened" in text_of(opened), "staff opening a ticket for a member are exempt"

    await advance(simcord_env, 2 * H)
    result = await world.open_ticket(carol, "Now I may", "2 hours later")
    assert "ticket is open" in text_of(result)


@pytest.mark.bot_env(**NO_COOLDOWN)
async def test_the_servers_tickets_per_hour_are_capped_for_members_not_staff(simcord_env):
    world = await make_world(simcord_env)
    await _set(world, "max_tickets_per_hour", "2")
    carol = world.guild.add_member(simcord_env.create_user("carol"))
    await world.open_ticket(world.alice, "First", "one")
    await advance(simcord_env, 20 * 60)
    await world.open_ticket(world.bob, "Second", "two")

    await _refused_everywhere(world, carol, "at most 2 an hour")
    refused = await carol.click(_panel(world), label="Open ticket")
    assert "try again in 40 minutes" in text_of(refused), "when the oldest of the hour's tickets drops out"
    opened = await world.staff.slash(world.panel_channel, "ticket_open", member=carol, subject="Staff asked for it")
    assert "Opened" in text_of(opened), "staff are exempt, and their tickets do not count"

    await advance(simcord_env, 41 * 60)
    assert "ticket is open" in text_of(await world.open_ticket(carol, "Third", "three"))
    refused = await world.alice.click(_panel(world), label="Open ticket")
    assert "at most 2 an hour" in text_of(refused)


@pytest.mark.bot_env(**NO_COOLDOWN)
async def test_the_cap_is_checked_again_when_the_form_is_sent(simcord_env):
    world = await make_world(simcord_env)
    await _set(world, "max_tickets_per_hour", "1")
    shown = await world.bob.click(_panel(world), label="Open ticket")  # allowed: none yet
    await world.open_ticket(world.alice, "First", "one")

    result = await world.bob.submit_modal(shown, {"subject": "Second", "description": "two"})

    assert "at most 1 an hour" in text_of(result)
    assert len(world.threads) == 1


@pytest.mark.bot_env(**NO_COOLDOWN)
async def test_posts_made_at_the_same_moment_do_not_pass_the_cap_together(simcord_env):
    """Both posts' first messages reach the bot before either is handled: the cap must count the ticket
    being opened next to it (the check and the record are one step per server)."""
    world = await make_world(simcord_env)
    await _set(world, "max_tickets_per_hour", "1")
    backend = simcord_env.backend
    posts = []
    for member in (world.alice, world.bob):
        raw = backend.create_thread(world.forum.id, f"Question from {member.name}", member.id)
        backend.create_message(raw.id, member.id, "How do I reset my password?")
        posts.append(ChannelHandle(simcord_env, world.guild, raw))

    await simcord_env.settle()

    opened = [p for p in posts if await world.core.tickets.get(p.id) is not None]
    assert len(opened) == 1, "one ticket within the cap"
    [refused] = [p for p in posts if p not in opened]
    assert "at most 1 an hour" in world.bot_messages(refused)[-1].content
