"""The pure auto-close rules (tickets.service.due_autoclose_actions) and the bot applying them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.clock import advance
from tests.grounded import REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world
from tickets.models import Ticket, TicketStatus
from tickets.service import due_autoclose_actions, human_duration

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
H = 3600


def ticket(status=TicketStatus.OPEN, *, idle_h=0.0, resolved_h=None, warned_h=None) -> Ticket:
    def ago(hours):
        return None if hours is None else (NOW - timedelta(hours=hours)).isoformat()

    return Ticket(
        id=1, guild_id=1, opener_id=2, category="general", subject="s", status=status, ai_paused=False,
        staff_pinged=False, created_at=ago(100), updated_at=ago(idle_h), last_activity_at=ago(idle_h),
        resolved_at=ago(resolved_h), idle_warned_at=ago(warned_h), closed_at=None, closed_by=None,
        close_reason=None, summary=None,
    )  # fmt: skip


def actions(t: Ticket, solved=1 * H, warn=48 * H, close=24 * H) -> list[str]:
    return [
        a.action for a in due_autoclose_actions([t], NOW, solved_delay_s=solved, idle_warn_s=warn, idle_close_s=close)
    ]


@pytest.mark.parametrize(
    ("t", "kwargs", "expected"),
    [
        (ticket(TicketStatus.RESOLVED, resolved_h=0.5, idle_h=0.5), {}, []),
        (ticket(TicketStatus.RESOLVED, resolved_h=1.0, idle_h=1.0), {}, ["close_solved"]),
        (ticket(TicketStatus.RESOLVED, resolved_h=99, idle_h=99), {"solved": 0}, []),  # 0 disables
        (ticket(idle_h=47), {}, []),
        (ticket(idle_h=48), {}, ["warn_idle"]),
        (ticket(TicketStatus.ANSWERED, idle_h=60), {}, ["warn_idle"]),
        (ticket(idle_h=60, warned_h=12), {}, []),
        (ticket(idle_h=80, warned_h=24), {}, ["close_idle"]),
        (ticket(idle_h=999, warned_h=500), {"close": 0}, []),  # warn but never close
        (ticket(idle_h=999), {"warn": 0}, []),  # no idle handling at all
        (ticket(TicketStatus.WAITING_STAFF, idle_h=999), {}, []),  # staff's turn, not the user's
        (ticket(TicketStatus.CLOSED, idle_h=999), {}, []),
    ],
)
def test_due_actions(t, kwargs, expected):
    assert actions(t, **kwargs) == expected


def test_human_duration():
    assert [human_duration(s) for s in (60, 90, 1800, 3600, 7200, 86400)] == [
        "1 minute", "2 minutes", "30 minutes", "1 hour", "2 hours", "24 hours",
    ]  # fmt: skip


@pytest.mark.bot_env(IDLE_WARN_HOURS="1", IDLE_CLOSE_AFTER_WARN_HOURS="0", AUTOCLOSE_CHECK_SECONDS="600")
async def test_warn_only_setting_never_closes(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    await advance(simcord_env, H + 600)
    warning = world.bot_messages(thread)[-1].content
    assert "quiet for a while" in warning and "will close" not in warning
    await advance(simcord_env, 3 * H)
    assert (await world.core.store.get_ticket(thread.id)).status != "closed"


@pytest.mark.bot_env(IDLE_WARN_HOURS="1", IDLE_CLOSE_AFTER_WARN_HOURS="0.5", AUTOCLOSE_CHECK_SECONDS="600")
async def test_ticket_waiting_for_staff_is_not_idle_closed(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")
    await advance(simcord_env, 3 * H)
    assert not any("quiet for a while" in m.content for m in world.bot_messages(thread))
    assert (await world.core.store.get_ticket(thread.id)).status == "waiting_staff"


@pytest.mark.bot_env(IDLE_WARN_HOURS="1", IDLE_CLOSE_AFTER_WARN_HOURS="1", AUTOCLOSE_CHECK_SECONDS="600")
async def test_staff_reply_ends_waiting_so_the_ticket_can_idle_close(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    await world.alice.click(world.bot_messages(thread)[-1], label="Talk to staff")
    await world.staff.send(thread, "Done: bob is the owner now.")
    ticket = await world.core.store.get_ticket(thread.id)
    assert ticket.status == "answered" and ticket.ai_paused
    assert "Answered" in {t.name for t in simcord_env.bot.get_channel(thread.id).applied_tags}
    await advance(simcord_env, 2 * H + 1200)
    assert (await world.core.store.get_ticket(thread.id)).status == "closed"
