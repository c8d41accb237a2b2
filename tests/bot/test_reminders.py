"""Staff re-pings (SLA) and opener reminders from the one scheduler, on the virtual clock and across a
restart; whose turn it is lives in the database. Both ticket modes."""

from __future__ import annotations

import discord
import pytest

from db.database import utc_iso
from tests.clock import advance
from tests.grounded import REFUND_A, REFUND_AGAIN, REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world, text_of

MIN = 60
H = 3600
FAST = {"AUTOCLOSE_CHECK_SECONDS": "300"}


async def _settings(world, **values) -> None:
    for key, value in values.items():
        result = await world.admin.slash(world.panel_channel, "settings set", key=key, value=str(value))
        assert "is now" in result.response.content, result.response.content


def _repings(world) -> list[discord.Message]:
    return [m for m in world.log_channel.history() if m.content.startswith(f"<@&{world.staff_role.id}> ⏰")]


def _repings_to(world, member) -> list[discord.Message]:
    return [m for m in world.log_channel.history() if m.content.startswith(f"<@{member.id}> ⏰")]


def _reminders(world, thread) -> list[discord.Message]:
    return [m for m in world.bot_messages(thread) if "Is there anything else you need" in m.content]


def _request_to(env, channel_id, message: discord.Message):
    return next(
        r for r in env.http_requests
        if r.method == "POST" and r.path == f"/channels/{channel_id}/messages"
        and r.json.get("content") == message.content
    )  # fmt: skip


@pytest.mark.bot_env(**FAST)
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_staff_are_pinged_again_while_a_ticket_waits_for_them_then_stop(simcord_env, private, fake_ollama):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    await _settings(world, staff_reping_minutes=30, staff_reping_repeat_minutes=60)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads
    await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")
    assert "needs a human" in world.log_channel.last_message.content

    await advance(simcord_env, 25 * MIN)
    assert _repings(world) == []
    await advance(simcord_env, 10 * MIN)
    [first] = _repings(world)
    assert thread.mention in first.content and "30 minutes" in first.content
    assert "re-ping 1 of at most 3" in first.content
    roles = _request_to(simcord_env, world.log_channel.id, first).json["allowed_mentions"]["roles"]
    assert list(map(int, roles)) == [world.staff_role.id], "a real ping of the staff role"

    await advance(simcord_env, 3 * H)
    assert [m.content.split("(re-ping ")[1][0] for m in _repings(world)] == ["1", "2", "3"], "bounded: 3 re-pings"
    events = await world.core.care.events(thread.id)
    assert [(kind, n) for kind, n, _ in events] == [
        ("sla_breach", 1), ("staff_reping", 1), ("staff_reping", 2), ("staff_reping", 3),
    ]  # fmt: skip
    assert events[0][2] >= 30 * MIN

    await world.staff.send(thread, "Done: bob is the owner now.")
    assert (await world.core.care.wait(thread.id)).on == "opener", "staff answered: the opener's turn"


@pytest.mark.bot_env(**FAST)
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_a_repings_clock_survives_a_restart(simcord_env, restart_bot, private, fake_ollama):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    await _settings(world, staff_reping_minutes=30)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads
    await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")
    await advance(simcord_env, 20 * MIN)

    await restart_bot()
    await advance(simcord_env, 15 * MIN)

    [reping] = _repings(world)
    assert thread.mention in reping.content
    await advance(simcord_env, 2 * H)
    assert len(_repings(world)) == 1, "repeat 0: once per wait"


@pytest.mark.bot_env(**FAST)
async def test_a_member_writing_after_staff_took_over_waits_for_staff(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await _settings(world, staff_reping_minutes=30)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads
    await world.staff.send(thread, "Which account?")  # staff take over: the assistant is quiet now
    await world.alice.send(thread, "The one ending in 42.")

    await advance(simcord_env, 35 * MIN)

    [reping] = _repings(world)
    assert thread.mention in reping.content
    answers = [m for m in world.bot_messages(thread) if REFUND_A in m.content]
    assert len(answers) == 1, "the assistant stayed quiet (its first answer only)"


@pytest.mark.bot_env(**FAST, IDLE_WARN_HOURS="5", IDLE_CLOSE_AFTER_WARN_HOURS="2")
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_the_opener_is_reminded_up_to_k_times_before_the_idle_warning(simcord_env, private, fake_ollama):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    await _settings(world, opener_reminder_hours=1, opener_reminders=2)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads
    assert (await world.core.care.wait(thread.id)).on == "opener", "the assistant answered: the opener's turn"

    await advance(simcord_env, 50 * MIN)
    assert _reminders(world, thread) == []
    await advance(simcord_env, 15 * MIN)
    [first] = _reminders(world, thread)
    assert first.content.startswith(f"👋 {world.alice.mention}")
    mentions = _request_to(simcord_env, thread.id, first).json["allowed_mentions"]
    assert list(map(int, mentions["users"])) == [world.alice.id] and not mentions.get("roles"), "the opener only"

    await advance(simcord_env, 3 * H)
    assert len(_reminders(world, thread)) == 2, "at most opener_reminders"
    assert not any("quiet for a while" in m.content for m in world.bot_messages(thread))
    await advance(simcord_env, H)
    assert "quiet for a while" in world.bot_messages(thread)[-1].content, "then the idle warning, as before"
    kinds = [(kind, n) for kind, n, _ in await world.core.care.events(thread.id)]
    assert kinds == [("opener_reminder", 1), ("opener_reminder", 2)]


@pytest.mark.bot_env(**FAST)
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_writing_back_ends_the_wait_and_the_next_answer_starts_a_new_one(
    simcord_env, restart_bot, private, fake_ollama
):
    world = await make_world(simcord_env, private=private)
    await train_faq(world, fake_ollama)
    await _settings(world, opener_reminder_hours=1, opener_reminders=1)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads
    await advance(simcord_env, 65 * MIN)
    assert len(_reminders(world, thread)) == 1

    await world.alice.send(thread, REFUND_AGAIN)  # answered again at once
    await restart_bot()
    await advance(simcord_env, 30 * MIN)
    assert len(_reminders(world, thread)) == 1
    await advance(simcord_env, 35 * MIN)
    assert len(_reminders(world, thread)) == 2, "a new wait, a new reminder, also after a restart"


@pytest.mark.bot_env(**FAST, IDLE_WARN_HOURS="2")
async def test_no_reminder_once_the_idle_warning_is_due(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await _settings(world, opener_reminder_hours=3)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads

    await advance(simcord_env, 5 * H)

    assert _reminders(world, thread) == []
    assert any("quiet for a while" in m.content for m in world.bot_messages(thread))


@pytest.mark.bot_env(**FAST)
async def test_a_solved_ticket_gets_no_reminder(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await _settings(world, opener_reminder_hours=1, solved_close_delay_hours=0)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads
    await world.alice.click(world.bot_messages(thread)[-1], label="Solved")

    await advance(simcord_env, 2 * H)

    assert _reminders(world, thread) == []
    assert await world.core.care.wait(thread.id) is None


@pytest.mark.bot_env(**FAST)
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_a_claimed_tickets_reping_goes_to_its_owner_and_to_the_role_once_unclaimed(simcord_env, private):
    world = await make_world(simcord_env, private=private)
    await _settings(world, staff_reping_minutes=30, staff_reping_repeat_minutes=30)
    await world.open_ticket(world.alice, "Account", "Please change my account owner.")
    [thread] = world.threads
    await world.staff.slash(thread, "claim")
    await world.alice.send(thread, "Any news?")  # a claimed ticket is staff's: the assistant stays quiet
    assert (await world.core.care.wait(thread.id)).on == "staff"

    await advance(simcord_env, 35 * MIN)

    assert _repings(world) == [], "not the staff role: the ticket has an owner"
    [reping] = _repings_to(world, world.staff)
    assert thread.mention in reping.content and "your ticket" in reping.content
    assert "re-ping 1 of at most 3" in reping.content
    mentions = _request_to(simcord_env, world.log_channel.id, reping).json["allowed_mentions"]
    assert list(map(int, mentions["users"])) == [world.staff.id] and not mentions.get("roles"), "the owner only"
    assert [(kind, n) for kind, n, _ in await world.core.care.events(thread.id)] == [
        ("sla_breach", 1), ("staff_reping", 1),
    ]  # fmt: skip

    await world.staff.slash(thread, "unclaim")
    await advance(simcord_env, 30 * MIN)
    [second] = _repings(world)
    assert thread.mention in second.content and "re-ping 2 of at most 3" in second.content, "nobody owns it now"
    assert len(_repings_to(world, world.staff)) == 1


@pytest.mark.bot_env(**FAST)
@pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])
async def test_reopening_a_ticket_staff_handle_starts_a_new_wait_for_staff(simcord_env, restart_bot, private):
    world = await make_world(simcord_env, private=private)
    await _settings(world, staff_reping_minutes=30)
    await world.open_ticket(world.alice, "Account", "Please change my account owner.")
    [thread] = world.threads
    await world.staff.send(thread, "Done, the owner is bob now.")  # staff took over: the assistant is quiet
    await world.staff.slash(thread, "close", reason="fixed")
    assert await world.core.care.wait(thread.id) is None, "closed: nobody's turn"
    await advance(simcord_env, 3 * H)

    result = await world.alice.slash(world.panel_channel, "reopen", ticket=str(thread.id))

    assert f"Reopened {thread.mention}" in text_of(result)
    wait = await world.core.care.wait(thread.id)
    assert (wait.on, wait.since, wait.nudges) == ("staff", utc_iso(simcord_env.now()), 0), "a new wait, from now"
    await restart_bot()
    await advance(simcord_env, 25 * MIN)
    assert _repings(world) == []
    await advance(simcord_env, 10 * MIN)
    [reping] = _repings(world)
    assert thread.mention in reping.content and "hour" not in reping.content, "the clock started at the reopening"


@pytest.mark.bot_env(**FAST)
async def test_reopening_a_ticket_the_assistant_answers_waits_on_nobody_until_someone_writes(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await _settings(world, staff_reping_minutes=30, opener_reminder_hours=1)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.threads
    await world.alice.slash(thread, "close")
    await world.alice.slash(world.panel_channel, "reopen", ticket=str(thread.id))
    assert await world.core.care.wait(thread.id) is None, "the assistant answers the next message"

    await world.alice.send(thread, REFUND_AGAIN)

    assert (await world.core.care.wait(thread.id)).on == "opener", "answered: the opener's turn"
