"""What the scheduler must do now: one pure function, `due_actions`, over the open tickets, whose turn it is
in each (`Wait`), each server's policy and the clock. The loop that applies its answer is
cogs/tickets/_scheduler.py; what it decides:

- **auto-close** (`due_autoclose_actions`, tickets/service.py): close solved tickets after a delay, warn,
  then close, idle ones;
- **staff re-ping (SLA)**: a ticket waiting for staff for `staff_reping_minutes` of support hours pings staff
  again; then every `staff_reping_repeat_minutes` (0: once per wait), `MAX_STAFF_REPINGS` at most per wait.
  A wait for staff starts with a hand-off, or with the opener writing in a ticket staff have taken over
  (the assistant is quiet there), or with a /reopen of such a ticket; it ends when staff write. In a claimed
  ticket the re-ping goes to the claimer, not to the staff role;
- **opener reminders**: a ticket waiting on its opener (the assistant answered or staff replied, and the
  opener has not written since) reminds them after `opener_reminder_hours`, up to `opener_reminders` times
  that far apart; only before the idle warning (a ticket the idle rules act on this round is left to them,
  and a warned one gets no more reminders), never in a solved ticket (it closes by itself).

Whose turn it is comes from the ticket's events (`next_wait`), recorded as they happen (tickets/care.py),
so it survives restarts; each nudge is counted in the wait, so none is sent twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from db.database import utc_iso
from tickets.hours import SupportHours
from tickets.models import Ticket, TicketStatus
from tickets.server_settings import (
    OPENER_REMINDER_HOURS,
    OPENER_REMINDERS,
    STAFF_REPING_MINUTES,
    STAFF_REPING_REPEAT_MINUTES,
    SUPPORT_HOURS,
    SUPPORT_TIME_ZONE,
    ServerSettings,
)
from tickets.service import AutoCloseAction, AutoClosePolicy, TicketEvent, due_autoclose_actions

ALWAYS = SupportHours((), ZoneInfo("UTC"))
# Re-pings per wait for staff: enough to be noticed, not enough to be muted.
MAX_STAFF_REPINGS = 3


class WaitingOn(StrEnum):
    STAFF = "staff"
    OPENER = "opener"


@dataclass(frozen=True)
class Wait:
    """Whose turn it is in an open ticket, since when, and how many nudges this wait has had."""

    ticket_id: int
    guild_id: int
    on: WaitingOn
    since: str  # ISO-8601 UTC
    nudges: int = 0
    last_nudge_at: str | None = None


def next_wait(current: Wait | None, ticket: Ticket, event: TicketEvent, now: datetime) -> Wait | None:
    """Whose turn it is after `event` (`ticket` as it is after it); None: nobody's (the assistant is answering,
    the ticket is solved or closed)."""
    if event in (TicketEvent.CLOSED, TicketEvent.SOLVED) or ticket.is_closed:
        return None

    def waiting(on: WaitingOn) -> Wait:
        if current is not None and current.on is on and on is WaitingOn.STAFF:
            return current  # a second hand-off, or the opener writing again, does not restart the clock
        return Wait(ticket.id, ticket.guild_id, on, utc_iso(now))

    if event is TicketEvent.HANDED_TO_STAFF:
        return waiting(WaitingOn.STAFF)
    if event in (TicketEvent.STAFF_WROTE, TicketEvent.ANSWERED):
        return Wait(ticket.id, ticket.guild_id, WaitingOn.OPENER, utc_iso(now))
    if event is TicketEvent.REOPENED:
        # A fresh wait, never one from before the close: staff's turn in a ticket staff handle (the assistant
        # stays quiet there), else the assistant answers whoever writes next.
        return Wait(ticket.id, ticket.guild_id, WaitingOn.STAFF, utc_iso(now)) if ticket.ai_paused else None
    # The opener (or another member) wrote.
    if ticket.status is TicketStatus.WAITING_STAFF:
        return waiting(WaitingOn.STAFF)
    if ticket.ai_paused:
        if ticket.opened_by is not None and ticket.created_at == utc_iso(now):
            return None  # the opening message of a ticket staff opened themselves: theirs to follow
        return waiting(WaitingOn.STAFF)  # staff took the ticket over; the assistant stays quiet
    return None  # the assistant answers


@dataclass(frozen=True)
class CarePolicy:
    """A server's reminder and SLA settings, in seconds (0 disables), and its support hours."""

    reping_after_s: int = 0
    reping_every_s: int = 0
    remind_after_s: int = 0
    reminders: int = 1
    hours: SupportHours = ALWAYS

    @classmethod
    def of(cls, settings: ServerSettings) -> CarePolicy:
        return cls(
            reping_after_s=settings.seconds(STAFF_REPING_MINUTES, per=60),
            reping_every_s=settings.seconds(STAFF_REPING_REPEAT_MINUTES, per=60),
            remind_after_s=settings.seconds(OPENER_REMINDER_HOURS),
            reminders=settings.get(OPENER_REMINDERS),
            hours=support_hours_of(settings),
        )


def support_hours_of(settings: ServerSettings) -> SupportHours:
    return SupportHours.of(settings.get(SUPPORT_HOURS), settings.get(SUPPORT_TIME_ZONE))


@dataclass(frozen=True)
class SchedulePolicy:
    autoclose: AutoClosePolicy
    care: CarePolicy


class CareStep(StrEnum):
    STAFF_REPING = "staff_reping"
    OPENER_REMINDER = "opener_reminder"


@dataclass(frozen=True)
class CareAction:
    ticket: Ticket
    wait: Wait
    step: CareStep
    number: int  # the n-th nudge of this wait
    waited_s: int  # how long the wait has lasted (for staff: inside support hours)


def _staff_reping(ticket: Ticket, wait: Wait, now: datetime, policy: CarePolicy) -> CareAction | None:
    number = wait.nudges + 1
    if not policy.reping_after_s or number > MAX_STAFF_REPINGS or (number > 1 and not policy.reping_every_s):
        return None
    if not policy.hours.is_open(now):
        return None  # the clock stands still outside support hours; nothing to ping about
    waited = policy.hours.open_seconds(datetime.fromisoformat(wait.since), now)
    if waited < policy.reping_after_s + (number - 1) * policy.reping_every_s:
        return None
    return CareAction(ticket, wait, CareStep.STAFF_REPING, number, int(waited))


def _opener_reminder(
    ticket: Ticket, wait: Wait, now: datetime, policy: CarePolicy, autoclose: AutoClosePolicy
) -> CareAction | None:
    number = wait.nudges + 1
    if not policy.remind_after_s or number > policy.reminders or ticket.idle_warned_at is not None:
        return None
    if ticket.status not in (TicketStatus.OPEN, TicketStatus.ANSWERED):
        return None  # solved (closes by itself) or handed to staff
    since = datetime.fromisoformat(wait.since)
    if now < since + timedelta(seconds=number * policy.remind_after_s):
        return None
    if autoclose.idle_warn_s:
        warn_at = datetime.fromisoformat(ticket.last_activity_at) + timedelta(seconds=autoclose.idle_warn_s)
        if now >= warn_at:
            return None  # the idle warning is due: it speaks for itself
    return CareAction(ticket, wait, CareStep.OPENER_REMINDER, number, int((now - since).total_seconds()))


def due_care_actions(
    tickets: list[Ticket], waits: Mapping[int, Wait], now: datetime, policy: SchedulePolicy
) -> list[CareAction]:
    actions = []
    for ticket in tickets:
        wait = waits.get(ticket.id)
        if ticket.is_closed or wait is None:
            continue
        if wait.on is WaitingOn.STAFF:
            action = _staff_reping(ticket, wait, now, policy.care)
        else:
            action = _opener_reminder(ticket, wait, now, policy.care, policy.autoclose)
        if action is not None:
            actions.append(action)
    return actions


def due_actions(
    tickets: list[Ticket], waits: Mapping[int, Wait], now: datetime, policy: SchedulePolicy
) -> list[AutoCloseAction | CareAction]:
    """Everything due now in one server's unclosed tickets: auto-close steps first; a ticket with one gets
    no reminder in the same round."""
    a = policy.autoclose
    closing = due_autoclose_actions(
        tickets, now, solved_delay_s=a.solved_delay_s, idle_warn_s=a.idle_warn_s, idle_close_s=a.idle_close_s
    )
    busy = {action.ticket.id for action in closing}
    care = [action for action in due_care_actions(tickets, waits, now, policy) if action.ticket.id not in busy]
    return [*closing, *care]


def nudged(wait: Wait, now: datetime) -> Wait:
    return replace(wait, nudges=wait.nudges + 1, last_nudge_at=utc_iso(now))
