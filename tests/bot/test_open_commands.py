"""The other ways of opening a ticket: "Open ticket from this message" and /ticket_open, in both modes."""

from __future__ import annotations

import pytest
from simcord.backend.access import can_access_channel

from tests.fakes.ollama import FakeOllama
from tests.grounded import REFUND_ASK, train_faq
from tests.sim import make_world, text_of

MENU = "Open ticket from this message"


async def _from_message(world, member, message, category: str = "technical", **values: str):
    picked = await member.context_menu(world.panel_channel, MENU, message)
    assert picked.ephemeral and picked.response.components, text_of(picked)
    shown = await member.select(picked.response, [category])
    assert shown.modal is not None, text_of(shown)
    prefilled = next(row["components"][0] for row in shown.modal["components"])["value"]
    values = {"subject": prefilled, "description": "It happens every morning.", **values}
    return shown, await member.submit_modal(shown, values)


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_a_ticket_from_a_message_quotes_it_and_never_mentions_its_author(
    simcord_env, fake_ollama: FakeOllama, private: bool
):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    message = await world.bob.send(world.panel_channel, "The app crashes on start\nsince the update")

    shown, result = await _from_message(world, world.alice, message, description=REFUND_ASK)

    subject = next(row["components"][0] for row in shown.modal["components"])
    assert subject["value"] == "The app crashes on start", "the subject is prefilled from the message"
    assert "ticket is open" in text_of(result)
    [thread] = world.threads
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.opener_id == world.alice.id and ticket.source == "message" and ticket.category == "technical"
    assert ticket.mode == ("private_thread" if private else "forum")
    starter = thread.history()[0].content
    assert "> The app crashes on start\n> since the update" in starter and message.jump_url in starter
    assert "**bob**" in starter and world.bob.mention not in starter
    if private:
        assert not can_access_channel(simcord_env, thread.id, world.bob)
    question = fake_ollama.chat_requests()[-1]["messages"][-1]["content"]
    assert "Quoted message by bob:\nThe app crashes on start" in question and REFUND_ASK in question


async def test_one_category_goes_straight_to_its_form(simcord_env):
    world = await make_world(simcord_env)
    for name in ("billing", "technical"):
        await world.admin.slash(world.panel_channel, "category remove", name=name)
    message = await world.bob.send(world.panel_channel, "hello")

    shown = await world.alice.context_menu(world.panel_channel, MENU, message)

    assert shown.modal is not None and shown.modal["title"] == "New General ticket"


@pytest.mark.bot_env(MAX_OPEN_TICKETS="1", TICKET_COOLDOWN_SECONDS="0")
async def test_the_message_menu_keeps_the_members_limits(simcord_env):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "First one", "a")
    message = await world.bob.send(world.panel_channel, "hello")

    refused = await world.alice.context_menu(world.panel_channel, MENU, message)

    assert refused.modal is None and refused.ephemeral and "limit is 1" in text_of(refused)


@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
@pytest.mark.bot_env(MAX_OPEN_TICKETS="1")
async def test_staff_open_a_ticket_for_a_member(simcord_env, fake_ollama: FakeOllama, private: bool):
    world = await make_world(simcord_env, private=private)
    await world.open_ticket(world.alice, "Her own", "a")  # at her limit: staff may still open one for her
    calls = len(fake_ollama.chat_requests())

    result = await world.staff.slash(
        world.panel_channel, "ticket_open", member=world.alice, subject="Your refund", category="billing",
        details="We need your order number.",
    )  # fmt: skip

    assert result.ephemeral and "Opened" in text_of(result), text_of(result)
    thread = world.threads[-1]
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.opener_id == world.alice.id and ticket.opened_by == world.staff.id and ticket.source == "staff"
    assert ticket.ai_paused and len(fake_ollama.chat_requests()) == calls, "the assistant stays quiet"
    starter = thread.history()[0].content
    assert "sam\\_staff (staff) opened a **Billing** ticket for " + world.alice.mention in starter
    assert "We need your order number." in starter
    assert can_access_channel(simcord_env, thread.id, world.alice)
    assert not can_access_channel(simcord_env, thread.id, world.bob) or not private
    if private:
        assert world.staff.id in thread._channel.thread_members, "the staff member who opened it follows it"
    await world.alice.send(thread, "Here: A-1234")
    assert len(fake_ollama.chat_requests()) == calls


async def test_ticket_open_is_refused_to_members_and_to_other_categories_staff(simcord_env):
    world = await make_world(simcord_env)
    billing_team = world.guild.create_role("Billing team")
    bella = world.guild.add_member(simcord_env.create_user("bella"), roles=[billing_team])
    await world.category("billing", staff_role=billing_team)

    member = await world.bob.slash(world.panel_channel, "ticket_open", member=world.alice, subject="Hello there")
    other = await bella.slash(
        world.panel_channel, "ticket_open", member=world.alice, subject="Hello there", category="technical"
    )
    own = await bella.slash(
        world.panel_channel, "ticket_open", member=world.alice, subject="Your invoice", category="billing"
    )

    assert member.ephemeral and "Only staff" in text_of(member)
    assert other.ephemeral and "Only staff" in text_of(other)
    assert "Opened" in text_of(own)
    assert len(world.forum.threads) == 1


async def test_ticket_open_refuses_bots_and_unknown_categories(simcord_env):
    world = await make_world(simcord_env)
    unknown = await world.staff.slash(
        world.panel_channel, "ticket_open", member=world.alice, subject="Hello there", category="nope"
    )
    assert "no category" in text_of(unknown)
    assert world.forum.threads == []
