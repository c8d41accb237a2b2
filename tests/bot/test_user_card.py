"""The user card staff get with each new ticket (account age, time on the server, earlier tickets with their
outcome and rating): in the staff log channel, or, without one, behind a staff-only button in the ticket.
The opener never sees it, and it never reaches the model."""

from __future__ import annotations

import discord
import pytest
from simcord.backend.access import can_access_channel

from tests.clock import advance
from tests.fakes.ollama import FakeOllama
from tests.grounded import REFUND_AGAIN, REFUND_ASK, train_faq
from tests.sim import make_world, text_of

H = 3600


async def _world_with_staff_log(env, *, private: bool):
    """The README's setup: the log channel is private to staff (and the bot)."""
    world = await make_world(env, setup=False)
    guild = world.guild
    staff_log = guild.create_text_channel(
        "staff-log",
        overwrites={
            guild.default_role: discord.PermissionOverwrite(view_channel=False),
            world.staff_role: discord.PermissionOverwrite(view_channel=True),
            world.admin: discord.PermissionOverwrite(view_channel=True),
            guild.me: discord.PermissionOverwrite(view_channel=True, send_messages=True, embed_links=True,
                                                  attach_files=True, read_message_history=True),
        },
    )  # fmt: skip
    result = await world.admin.slash(
        world.panel_channel, "setup", forum=world.forum, staff_role=world.staff_role, log_channel=staff_log,
        private_channel=world.private_channel,
    )  # fmt: skip
    assert "set up" in text_of(result), text_of(result)
    if private:
        for name in ("billing", "technical", "general"):
            await world.category(name, mode="private_thread")
    await world.staff.slash(world.panel_channel, "ticket_panel")
    world.log_channel = staff_log
    return world


def _card(message: discord.Message) -> dict[str, str]:
    [embed] = message.embeds
    return {"title": embed.title or "", **{f.name: f.value for f in embed.fields}}


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_staff_get_the_card_in_their_log_and_the_opener_and_the_model_never_see_it(
    simcord_env, fake_ollama: FakeOllama, private
):
    world = await _world_with_staff_log(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, "Printer jam", REFUND_ASK)
    [first] = world.threads
    await world.alice.click(world.bot_messages(first)[-1], label="Solved")
    prompt = next(m for m in world.bot_messages(first) if "How did we do" in m.content)
    await world.alice.click(prompt, label="4 ★")
    await world.staff.slash(first, "close", reason="cleared the tray")
    await advance(simcord_env, 2 * H)
    asked_before = len(fake_ollama.chat_requests())

    await world.open_ticket(world.alice, "Scanner", REFUND_AGAIN)

    second = next(t for t in world.threads if t.id != first.id)
    notice = next(m for m in reversed(world.log_channel.history()) if second.mention in m.content)
    card = _card(notice)
    assert card["title"] == "👤 alice" and card["Account age"] == "2 hours" and card["On this server"] == "2 hours"
    assert card["Tickets"] == "1 earlier, rated 4.0/5 on average"
    latest = card["Latest tickets"]
    assert "**Printer jam** (general)" in latest and "closed — cleared the tray · ★★★★☆ 4/5" in latest
    assert can_access_channel(simcord_env, world.log_channel.id, world.staff)
    assert not can_access_channel(simcord_env, world.log_channel.id, world.alice), "the opener cannot read it"
    seen_by_alice = " ".join(m.content + str([e.to_dict() for e in m.embeds]) for m in second.history())
    assert "Printer jam" not in seen_by_alice and "Account age" not in seen_by_alice
    prompts = str(fake_ollama.chat_requests()[asked_before:])
    assert "Scanner" in prompts, "the model was asked about the new ticket"
    assert "Printer jam" not in prompts and "Account age" not in prompts and "4/5" not in prompts


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_without_a_log_channel_the_card_is_behind_a_staff_only_button(simcord_env, private):
    world = await make_world(simcord_env, with_log=False, private=private)
    await world.open_ticket(world.alice, "Printer jam", "Paper stuck in tray 2")
    [thread] = world.threads
    await world.staff.slash(thread, "close")
    await advance(simcord_env, 120)  # the member's cooldown between two tickets
    await world.open_ticket(world.alice, "Scanner", "The scanner shows an error")
    second = next(t for t in world.threads if t.id != thread.id)

    notice = next(m for m in world.bot_messages(second) if "New **general** ticket" in m.content)
    assert not notice.embeds, "nothing of the card in the ticket itself"
    for member in (world.alice, world.bob):
        if private and member is world.bob:
            continue  # bob cannot even see a private ticket
        refused = await member.click(notice, label="User card (staff)")
        assert refused.ephemeral and "Only staff" in text_of(refused) and not refused.response.embeds
    shown = await world.staff.click(notice, label="User card (staff)")
    assert shown.ephemeral
    card = _card(shown.response)
    assert card["title"] == "👤 alice" and "Printer jam" in card["Latest tickets"]
    assert "closed — closed by staff" in card["Latest tickets"]


@pytest.mark.bot_env(TICKET_COOLDOWN_SECONDS="0")
async def test_earlier_close_reasons_are_shown_short_and_as_text(simcord_env):
    """A close reason is the opener's words (up to 300 characters): five long ones cut the card's field at 1,024
    characters, dropping the latest lines and their ratings, and a masked link in one was a link aimed at staff."""
    world = await _world_with_staff_log(simcord_env, private=False)
    masked = "[Staff guide](https://evil.example/login)"
    for n in range(5):
        await world.open_ticket(world.alice, f"Question {n}", "It prints blank pages.")
        await world.alice.slash(world.threads[-1], "close", reason=f"{masked} " + "words " * 40)
    await world.open_ticket(world.alice, "Another", "It prints blank pages.")
    new = world.threads[-1]
    notice = next(m for m in world.log_channel.history() if new.mention in m.content and "New **" in m.content)
    latest = _card(notice)["Latest tickets"]
    assert [f"**Question {n}**" in latest for n in range(5)] == [True] * 5, latest
    assert "evil.example" in latest and "](" not in latest, latest
