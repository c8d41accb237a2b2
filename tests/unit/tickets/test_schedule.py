"""The scheduler's pure rules (tickets/schedule.py): whose turn it is after each ticket event, when staff are
pinged again (support hours only, bounded), when the opener is reminded (at most K, before the idle warning),
and how they combine with auto-close in `due_actions`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from db.database import utc_iso
from tickets.hours import SupportHours
from tickets.models import Ticket, TicketStatus
from tickets.schedule import (
    MAX_STAFF_REPINGS,
    CarePolicy,
    CareStep,
    SchedulePolicy,
    Wait,
    WaitingOn,
    due_actions,
    next_wait,
    nudged,
)
from tickets.service import AutoClosePolicy, TicketEvent

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
M, H = 60, 3600


def ticket(status: TicketStatus = TicketStatus.OPEN, *, idle_h: float = 0.0, **changes) -> Ticket:
    at = utc_iso(NOW - timedelta(hours=idle_h))
    base = Ticket(
        id=7, guild_id=1, opener_id=2, category="general", subject="s", status=status, ai_paused=False,
        staff_pinged=False, created_at=utc_iso(NOW - timedelta(days=9)), updated_at=at, last_activity_at=at,
        resolved_at=None, idle_warned_at=None, closed_at=None, closed_by=None, close_reason=None, summary=None,
    )  # fmt: skip
    return replace(base, **changes)


def wait(on: WaitingOn, ago_s: float, nudges: int = 0) -> Wait:
    return Wait(7, 1, on, utc_iso(NOW - timedelta(seconds=ago_s)), nudges)


def policy(*, warn_h: float = 0, hours: str = "", **care) -> SchedulePolicy:
    return SchedulePolicy(
        AutoClosePolicy(solved_delay_s=H, idle_warn_s=int(warn_h * H), idle_close_s=24 * H),
        CarePolicy(hours=SupportHours.of(hours, "America/New_York"), **care),
    )


def due(t: Ticket, w: Wait | None, p: SchedulePolicy, now: datetime = NOW) -> list[str]:
    out = []
    for action in due_actions([t], {t.id: w} if w else {}, now, p):
        out.append(f"{action.step.value}#{action.number}" if hasattr(action, "step") else action.action)
    return out


# -- whose turn ------------------------------------------------------------------------------------


def test_an_answer_or_a_staff_reply_waits_on_the_opener_and_restarts_the_clock():
    earlier = wait(WaitingOn.OPENER, 5 * H, nudges=1)
    for event in (TicketEvent.ANSWERED, TicketEvent.STAFF_WROTE):
        after = next_wait(earlier, ticket(TicketStatus.ANSWERED), event, NOW)
        assert after == Wait(7, 1, WaitingOn.OPENER, utc_iso(NOW)), event


def test_a_hand_off_waits_on_staff_and_a_second_one_keeps_the_clock():
    first = next_wait(None, ticket(TicketStatus.WAITING_STAFF), TicketEvent.HANDED_TO_STAFF, NOW)
    assert first == Wait(7, 1, WaitingOn.STAFF, utc_iso(NOW))
    older = wait(WaitingOn.STAFF, 2 * H, nudges=1)
    t = ticket(TicketStatus.WAITING_STAFF)
    assert next_wait(older, t, TicketEvent.HANDED_TO_STAFF, NOW) is older
    assert next_wait(older, t, TicketEvent.USER_WROTE, NOW) is older, "the opener writing again is no reset"


def test_the_opener_writing_hands_the_turn_to_the_assistant_or_to_staff():
    reminded = wait(WaitingOn.OPENER, 5 * H, nudges=2)
    assert next_wait(reminded, ticket(), TicketEvent.USER_WROTE, NOW) is None, "the assistant answers"
    taken_over = ticket(TicketStatus.ANSWERED, ai_paused=True)
    assert next_wait(reminded, taken_over, TicketEvent.USER_WROTE, NOW) == Wait(7, 1, WaitingOn.STAFF, utc_iso(NOW))


def test_a_ticket_staff_opened_themselves_does_not_wait_on_staff_for_its_first_message():
    by_staff = ticket(ai_paused=True, opened_by=99, created_at=utc_iso(NOW))
    assert next_wait(None, by_staff, TicketEvent.USER_WROTE, NOW) is None
    later = NOW + timedelta(minutes=5)
    assert next_wait(None, by_staff, TicketEvent.USER_WROTE, later) == Wait(7, 1, WaitingOn.STAFF, utc_iso(later))


def test_a_reopened_ticket_starts_a_new_wait_on_staff_if_staff_handle_it_else_nobodys():
    handled = ticket(ai_paused=True)  # staff wrote in it or claimed it: the assistant stays quiet
    fresh = Wait(7, 1, WaitingOn.STAFF, utc_iso(NOW))
    assert next_wait(None, handled, TicketEvent.REOPENED, NOW) == fresh
    stale = wait(WaitingOn.STAFF, 9 * H, nudges=MAX_STAFF_REPINGS)
    assert next_wait(stale, handled, TicketEvent.REOPENED, NOW) == fresh, "never the clock from before the close"
    assert next_wait(None, ticket(), TicketEvent.REOPENED, NOW) is None, "the assistant answers the next message"
    assert next_wait(stale, ticket(), TicketEvent.REOPENED, NOW) is None


@pytest.mark.parametrize("event", [TicketEvent.SOLVED, TicketEvent.CLOSED])
def test_solved_or_closed_is_nobodys_turn(event):
    assert next_wait(wait(WaitingOn.STAFF, H), ticket(), event, NOW) is None
    assert next_wait(wait(WaitingOn.OPENER, H), ticket(TicketStatus.CLOSED), TicketEvent.STAFF_WROTE, NOW) is None


# -- staff re-pings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("waited_s", "nudges", "care", "expected"),
    [
        (29 * M, 0, {"reping_after_s": 30 * M}, []),
        (30 * M, 0, {"reping_after_s": 30 * M}, ["staff_reping#1"]),
        (99 * H, 0, {}, []),  # off
        (99 * H, 1, {"reping_after_s": 30 * M}, []),  # no repeat: once per wait
        (59 * M, 1, {"reping_after_s": 30 * M, "reping_every_s": 30 * M}, []),
        (60 * M, 1, {"reping_after_s": 30 * M, "reping_every_s": 30 * M}, ["staff_reping#2"]),
        (99 * H, MAX_STAFF_REPINGS, {"reping_after_s": 30 * M, "reping_every_s": 30 * M}, []),  # bounded
    ],
)
def test_staff_are_pinged_again_after_the_wait_then_every_so_often_and_at_most_three_times(
    waited_s, nudges, care, expected
):
    t = ticket(TicketStatus.WAITING_STAFF)
    assert due(t, wait(WaitingOn.STAFF, waited_s, nudges), policy(**care)) == expected


def test_only_support_hours_count_for_a_reping_and_none_goes_out_while_closed():
    t, p = ticket(TicketStatus.WAITING_STAFF), policy(hours="mon-fri 09:00-17:00", reping_after_s=2 * H)
    # Since Friday 16:00 in New York: one open hour on Friday, one on Monday (09:00–10:00).
    since_friday = Wait(7, 1, WaitingOn.STAFF, utc_iso(datetime(2026, 1, 2, 21, tzinfo=UTC)))
    [action] = due_actions([t], {7: since_friday}, NOW, p)
    assert action.step is CareStep.STAFF_REPING and action.waited_s == 2 * H
    saturday = datetime(2026, 1, 3, 15, tzinfo=UTC)
    assert due_actions([t], {7: wait(WaitingOn.STAFF, 9 * H)}, saturday, p) == []


# -- opener reminders ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "waited_h", "nudges", "care", "expected"),
    [
        (TicketStatus.ANSWERED, 1.9, 0, {"remind_after_s": 2 * H}, []),
        (TicketStatus.ANSWERED, 2, 0, {"remind_after_s": 2 * H}, ["opener_reminder#1"]),
        (TicketStatus.ANSWERED, 3, 1, {"remind_after_s": 2 * H, "reminders": 2}, []),  # the 2nd at 4 h
        (TicketStatus.ANSWERED, 4, 1, {"remind_after_s": 2 * H, "reminders": 2}, ["opener_reminder#2"]),
        (TicketStatus.ANSWERED, 99, 2, {"remind_after_s": 2 * H, "reminders": 2}, []),  # K reached
        (TicketStatus.ANSWERED, 99, 0, {}, []),  # off
        (TicketStatus.RESOLVED, 5, 0, {"remind_after_s": 2 * H}, []),  # closes by itself
        (TicketStatus.WAITING_STAFF, 5, 0, {"remind_after_s": 2 * H}, []),
    ],
)
def test_the_opener_is_reminded_up_to_k_times(status, waited_h, nudges, care, expected):
    t = ticket(status, idle_h=waited_h)
    assert due(t, wait(WaitingOn.OPENER, waited_h * H, nudges), policy(**care)) == expected


def test_no_reminder_once_the_idle_warning_is_due_or_sent():
    p = policy(warn_h=3, remind_after_s=2 * H, reminders=3)
    assert due(ticket(TicketStatus.ANSWERED, idle_h=2.5), wait(WaitingOn.OPENER, 2.5 * H), p) == ["opener_reminder#1"]
    assert due(ticket(TicketStatus.ANSWERED, idle_h=3), wait(WaitingOn.OPENER, 3 * H), p) == ["warn_idle"], (
        "the warning speaks for itself"
    )
    warned = ticket(TicketStatus.ANSWERED, idle_h=4.5, idle_warned_at=utc_iso(NOW - timedelta(hours=1)))
    assert due(warned, wait(WaitingOn.OPENER, 4.5 * H, 1), p) == []


def test_without_a_wait_or_in_a_closed_ticket_nothing_is_due():
    p = policy(remind_after_s=H, reping_after_s=60)
    assert due(ticket(TicketStatus.ANSWERED, idle_h=5), None, p) == []
    assert due(ticket(TicketStatus.CLOSED, idle_h=5), wait(WaitingOn.OPENER, 5 * H), p) == []


def test_a_nudge_is_counted_in_its_wait():
    w = nudged(wait(WaitingOn.OPENER, H), NOW)
    assert (w.nudges, w.last_nudge_at) == (1, utc_iso(NOW))
