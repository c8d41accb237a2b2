"""Who may use the staff desk inside a ticket, in both ticket modes: every staff command is refused, privately
and with nothing changed, for the opener, for another member who can read the ticket (in a private ticket only
a member added to it can), and for an opener staff blacklisted meanwhile (whose ticket stays open); the close
request's buttons answer only the opener."""

from __future__ import annotations

from typing import Any

from tests.bot.desk import BOTH_MODES, open_ticket, title
from tests.fakes.ollama import FakeOllama
from tests.grounded import REFUND_AGAIN, train_faq
from tests.sim import World, make_world, text_of
from tickets.blacklist import REFUSAL


def _commands(world: World, carol: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("claim", {}), ("unclaim", {}), ("transfer", {"member": world.admin}), ("add", {"member": carol}),
        ("remove", {"member": world.bob}), ("rename", {"title": "Taken over"}), ("priority", {"level": "urgent"}),
        ("note", {"text": "not staff"}), ("notes", {}), ("close_request", {"reason": "please"}),
        ("ticket_ai", {"enabled": True}),
    ]  # fmt: skip


async def _state(world: World, thread: Any) -> tuple[Any, ...]:
    ticket = await world.core.store.get_ticket(thread.id)
    desk = world.core.desk
    return (
        ticket.claimed_by, ticket.ai_paused, ticket.priority, ticket.subject, ticket.status, title(world.env, thread),
        await desk.members.of(thread.id), [n.content for n in await desk.notes.of(thread.id)],
        await desk.close_requests.pending(thread.id), len(await desk.claims.history(thread.id)),
        len(world.bot_messages(thread)),
    )  # fmt: skip


@BOTH_MODES
async def test_every_staff_command_is_refused_for_members_who_are_not_staff(
    simcord_env, fake_ollama: FakeOllama, private: bool
):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    carol = world.guild.add_member(simcord_env.create_user("carol"))
    thread = await open_ticket(world)
    await world.staff.slash(thread, "add", member=world.bob)
    await world.staff.slash(thread, "claim")
    before = await _state(world, thread)
    assert before[0] == world.staff.id and before[6] == [world.bob.id]

    for member in (world.alice, world.bob):
        for command, options in _commands(world, carol):
            refused = await member.slash(thread, command, **options)
            assert refused.ephemeral, (member.name, command)
            assert text_of(refused).startswith("Only staff"), (member.name, command, text_of(refused))
    assert await _state(world, thread) == before, "no refused command changed anything"

    added = await world.staff.slash(world.panel_channel, "blacklist add", member=world.alice, reason="abuse")
    assert "Their open tickets stay open" in text_of(added)
    for command, options in _commands(world, carol):
        refused = await world.alice.slash(thread, command, **options)
        assert refused.ephemeral and "Only staff" in text_of(refused), (command, text_of(refused))
    assert await _state(world, thread) == before
    reopen = await world.alice.slash(thread, "reopen")
    assert text_of(reopen) == REFUSAL, "the blacklist is checked first"

    # Her open ticket stays hers: she writes in it, and answers a close request (only she can).
    await world.staff.slash(thread, "ticket_ai", enabled=True)
    calls = len(fake_ollama.chat_requests())
    await world.alice.send(thread, REFUND_AGAIN)
    assert len(fake_ollama.chat_requests()) == calls + 1, "the assistant answers the blacklisted opener's ticket"
    await world.staff.slash(thread, "close_request", reason="fixed?")
    asked = world.bot_messages(thread)[-1]
    for member in (world.bob, world.staff):
        refused = await member.click(asked, label="Keep it open")
        [told] = refused.followups  # after the button's deferral: privately
        assert told.ephemeral and "Only the person who opened this ticket" in told.content, member.name
    assert (await world.core.desk.close_requests.pending(thread.id)) is not None
    await world.alice.click(asked, label="Close it")
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "closed" and ticket.closed_by == world.alice.id
