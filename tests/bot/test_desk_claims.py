"""/claim, /unclaim, /transfer and the on-call rotation, in both ticket modes."""

from __future__ import annotations

import discord
import pytest

from tests.bot.desk import BOTH_MODES, card, open_ticket, readable, tags
from tests.fakes.ollama import FakeOllama
from tests.grounded import REFUND_AGAIN, REFUND_ASK, train_faq
from tests.sim import make_world, text_of


def _thread_member_adds(env, thread) -> set[int]:
    prefix = f"/channels/{thread.id}/thread-members/"
    return {int(r.path.rsplit("/", 1)[1]) for r in env.http_requests if r.method == "PUT" and r.path.startswith(prefix)}


@BOTH_MODES
async def test_claim_quiets_the_assistant_shows_the_owner_and_transfer_hands_over(
    simcord_env, fake_ollama: FakeOllama, private: bool
):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    thread = await open_ticket(world)
    calls = len(fake_ollama.chat_requests())

    result = await world.staff.slash(thread, "claim")

    assert result.ephemeral and "Done" in text_of(result)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.claimed_by == world.staff.id and ticket.claimed_at and ticket.ai_paused
    announcement = world.bot_messages(thread)[-1].content
    assert "**sam\\_staff** claimed this ticket" in announcement and "<@" not in announcement
    assert world.staff.id in _thread_member_adds(simcord_env, thread), "the claimer is added to the thread"
    if private:
        assert card(simcord_env, thread)["Claimed by"] == world.staff.mention
    else:
        assert "Claimed" in tags(simcord_env, world, thread)
    assert "sam\\_staff" in readable(thread, world.alice), "the opener sees who owns the ticket"

    await world.alice.send(thread, "Any news on this?")
    assert len(fake_ollama.chat_requests()) == calls, "the assistant stays quiet in a claimed ticket"
    assert world.bot_messages(thread)[-1].content == announcement

    result = await world.staff.slash(thread, "transfer", member=world.admin)

    assert "Done" in text_of(result)
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.claimed_by == world.admin.id and ticket.ai_paused
    assert "handed this ticket to **admin**" in world.bot_messages(thread)[-1].content
    ping = world.log_channel.last_message
    assert world.admin.mention in ping.content and thread.mention in ping.content
    if private:
        assert card(simcord_env, thread)["Claimed by"] == world.admin.mention
    assert world.admin.id in _thread_member_adds(simcord_env, thread)

    await world.admin.slash(thread, "ticket_ai", enabled=True)
    # A question, not chit-chat: "Hello again?" gets a canned reply without the model (ai/chitchat.py).
    await world.alice.send(thread, REFUND_AGAIN)
    assert len(fake_ollama.chat_requests()) == calls + 1, "staff switched the assistant back on"

    await world.admin.slash(thread, "unclaim")
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.claimed_by is None
    if private:
        assert "Claimed by" not in card(simcord_env, thread)
    else:
        assert "Claimed" not in tags(simcord_env, world, thread)
    history = await world.core.desk.claims.history(thread.id)
    assert [(e.action, e.staff_id, e.by_id) for e in history] == [
        ("claimed", world.staff.id, world.staff.id), ("transferred", world.admin.id, world.staff.id),
        ("unclaimed", None, world.admin.id),
    ]  # fmt: skip


async def test_who_may_claim_unclaim_and_transfer(simcord_env):
    world = await make_world(simcord_env)
    billing_team = world.guild.create_role("Billing team")
    biller = world.guild.add_member(simcord_env.create_user("bill"), roles=[billing_team])
    await world.category("billing", staff_role=billing_team)
    general = await open_ticket(world, world.alice, "General question", "Hi", category="general")
    billing = await open_ticket(world, world.bob, "Invoice", "Where is it?", category="billing")

    for member, where in ((world.alice, general), (world.bob, general), (biller, general)):
        refused = await member.slash(where, "claim")
        assert refused.ephemeral and "Only staff for this ticket's category" in text_of(refused), text_of(refused)
    assert (await world.core.store.get_ticket(general.id)).claimed_by is None

    assert "Done" in text_of(await biller.slash(billing, "claim")), "category staff claim their category's tickets"
    taken = await world.staff.slash(billing, "claim")
    assert "claimed by" in text_of(taken) and "/transfer" in text_of(taken)
    assert "Only staff" in text_of(await world.bob.slash(billing, "unclaim")), "the opener cannot unclaim"
    to_the_opener = await world.staff.slash(billing, "transfer", member=world.alice)
    assert "not staff for this ticket's category" in text_of(to_the_opener)
    assert "not staff" in text_of(await world.staff.slash(general, "transfer", member=biller)), "not their category"
    assert (await world.core.store.get_ticket(billing.id)).claimed_by == biller.id

    outside = await world.staff.slash(world.panel_channel, "claim")
    assert "only works inside a ticket" in text_of(outside)


@BOTH_MODES
@pytest.mark.bot_env(TICKET_COOLDOWN_SECONDS="0", MAX_OPEN_TICKETS="10")
async def test_the_on_call_rotation_assigns_new_tickets_in_turn(simcord_env, fake_ollama: FakeOllama, private: bool):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    refused = await world.bob.slash(world.panel_channel, "oncall", state="on")
    assert "Only staff" in text_of(refused)
    for member in (world.staff, world.admin):
        reply = await member.slash(world.panel_channel, "oncall", state="on")
        assert "on call" in text_of(reply) and "rotation is off" in text_of(reply)
        await simcord_env.advance_time(1)  # on call in this order
    first = await open_ticket(world, world.alice, "Before the rotation", "hello")
    assert (await world.core.store.get_ticket(first.id)).claimed_by is None, "off by default"
    await world.admin.slash(world.panel_channel, "settings set", key="oncall_rotation", value="on")

    owners = []
    for subject in ("One", "Two", "Three"):
        thread = await open_ticket(world, world.alice, subject, REFUND_ASK)
        ticket = await world.core.store.get_ticket(thread.id)
        owners.append(ticket.claimed_by)
        assert not ticket.ai_paused and ticket.status == "answered", "the assistant still answers first"
        notice = world.log_channel.last_message
        assert f"<@{ticket.claimed_by}>" in notice.content and "on call" in notice.content
        assert notice.mentions and notice.mentions[0].id == ticket.claimed_by
        assert ticket.claimed_by in _thread_member_adds(simcord_env, thread), "the owner is added to the ticket"
        if private:
            assert card(simcord_env, thread)["Claimed by"] == f"<@{ticket.claimed_by}>"
        else:
            assert "Claimed" in tags(simcord_env, world, thread)
    assert owners == [world.staff.id, world.admin.id, world.staff.id]

    await world.staff.slash(world.panel_channel, "oncall", state="off")
    thread = await open_ticket(world, world.bob, "Four", "hello")
    assert (await world.core.store.get_ticket(thread.id)).claimed_by == world.admin.id
    history = await world.core.desk.claims.history(thread.id)
    assert [(e.action, e.by_id) for e in history] == [("assigned", None)]


async def test_a_claimed_private_ticket_names_the_claimer_on_its_card_only_as_a_member(simcord_env):
    world = await make_world(simcord_env, private=True)
    thread = await open_ticket(world)

    await world.admin.slash(thread, "claim")

    requests = [r for r in simcord_env.http_requests if r.path.startswith(f"/channels/{thread.id}/") and r.json]
    contents = [r.json.get("content") or "" for r in requests if r.method == "POST"]
    assert not any(world.admin.mention in c for c in contents), "no mention in the thread's messages"
    assert card(simcord_env, thread)["Claimed by"] == world.admin.mention
    dthread = simcord_env.bot.get_channel(thread.id)
    assert isinstance(dthread, discord.Thread)
