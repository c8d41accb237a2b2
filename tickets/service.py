"""Ticket lifecycle: what happens when a ticket is opened, written in, resolved, handed off or closed.

Plain async Python over `TicketStore`; the cogs translate Discord events into these calls.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from db.database import utc_iso
from memory.text import visible_text
from tickets.models import CloseReason, GuildConfig, Ticket, TicketMessage, TicketStatus
from tickets.store import TicketStore

log = logging.getLogger(__name__)

# What a ticket title or close reason shows when what was given has nothing visible in it.
UNTITLED = "Untitled ticket"
NO_REASON = "no reason given"


@dataclass(frozen=True)
class OpenPolicy:
    max_open: int
    cooldown_s: int


class TicketService:
    def __init__(self, store: TicketStore, policy: OpenPolicy) -> None:
        self.store = store
        self.policy = policy
        self._configs: dict[int, GuildConfig | None] = {}

    async def config(self, guild_id: int) -> GuildConfig | None:
        # Read on every ticket message and button press, changed only by /setup: cache it.
        if guild_id not in self._configs:
            self._configs[guild_id] = await self.store.get_config(guild_id)
        return self._configs[guild_id]

    async def save_config(self, config: GuildConfig, now: datetime) -> None:
        await self.store.save_config(config, now)
        self._configs[config.guild_id] = config

    async def why_cannot_open(self, guild_id: int, user_id: int, now: datetime) -> str | None:
        """A user-facing reason the user may not open another ticket now, or None."""
        open_count = await self.store.open_tickets_of(guild_id, user_id)
        if open_count >= self.policy.max_open:
            return (
                f"You already have {open_count} open ticket(s); the limit is {self.policy.max_open}. "
                "Please continue in an existing ticket or close one first."
            )
        last = await self.store.last_opened_at(guild_id, user_id)
        if last and self.policy.cooldown_s:
            wait = self.policy.cooldown_s - (now - datetime.fromisoformat(last)).total_seconds()
            if wait > 0:
                return f"You opened a ticket a moment ago. Please wait {int(wait) + 1} s before opening another."
        return None

    async def ticket_opened(
        self,
        *,
        ticket_id: int,
        guild_id: int,
        opener_id: int,
        opener_name: str,
        category: str,
        subject: str,
        description: str,
        now: datetime,
    ) -> Ticket:
        # A direct forum post's title comes from Discord as typed: it may be zero-width characters only.
        subject = visible_text(subject) or UNTITLED
        ticket = await self.store.create_ticket(
            ticket_id=ticket_id, guild_id=guild_id, opener_id=opener_id, category=category, subject=subject, now=now
        )
        await self.message_posted(
            ticket, message_id=ticket_id, author_id=opener_id, author_name=opener_name, role="user",
            content=f"{subject}\n{description}".strip(), now=now,
        )  # fmt: skip
        log.info("Ticket %d opened in guild %d (%s)", ticket_id, guild_id, category)
        return ticket

    async def message_posted(
        self, ticket: Ticket, *, message_id: int | None, author_id: int, author_name: str, role: str,
        content: str, now: datetime,
    ) -> Ticket:  # fmt: skip
        """Store a message; user/staff activity resets idle tracking, a user reopens a resolved ticket,
        and staff writing in a ticket that waits for them answers it (the AI stays quiet there)."""
        await self.store.add_message(
            TicketMessage(ticket.id, message_id, author_id, author_name, role, content, utc_iso(now))
        )
        if role == "bot":
            return ticket
        changes: dict[str, object] = {"last_activity_at": utc_iso(now), "idle_warned_at": None}
        if role == "user" and ticket.status is TicketStatus.RESOLVED:
            changes.update(status=TicketStatus.OPEN, resolved_at=None)
        if role == "staff" and not ticket.ai_paused:
            changes["ai_paused"] = 1
        if role == "staff" and ticket.status is TicketStatus.WAITING_STAFF:
            # Staff took it: the ticket is answered again (and idles normally); a later hand-off pings anew.
            changes.update(status=TicketStatus.ANSWERED, staff_pinged=0)
        updated = await self.store.update_ticket(ticket.id, now, **changes)
        assert updated is not None
        return updated

    async def set_status(self, ticket: Ticket, status: TicketStatus, now: datetime) -> Ticket:
        updated = await self.store.update_ticket(ticket.id, now, status=status)
        assert updated is not None
        return updated

    async def resolved(self, ticket: Ticket, now: datetime) -> Ticket:
        updated = await self.store.update_ticket(ticket.id, now, status=TicketStatus.RESOLVED, resolved_at=utc_iso(now))
        assert updated is not None
        return updated

    async def handed_to_staff(self, ticket: Ticket, now: datetime, *, pause_ai: bool) -> tuple[Ticket, bool]:
        """Mark the ticket as waiting for staff; returns (ticket, whether staff should be pinged now)."""
        should_ping = not ticket.staff_pinged
        changes: dict[str, object] = {"status": TicketStatus.WAITING_STAFF, "staff_pinged": 1}
        if pause_ai:
            changes["ai_paused"] = 1
        updated = await self.store.update_ticket(ticket.id, now, **changes)
        assert updated is not None
        return updated, should_ping

    async def set_ai_paused(self, ticket: Ticket, paused: bool, now: datetime) -> Ticket:
        changes: dict[str, object] = {"ai_paused": int(paused)}
        if not paused:
            changes["staff_pinged"] = 0  # a later hand-off may ping again
        updated = await self.store.update_ticket(ticket.id, now, **changes)
        assert updated is not None
        return updated

    async def idle_warned(self, ticket: Ticket, now: datetime) -> None:
        await self.store.update_ticket(ticket.id, now, idle_warned_at=utc_iso(now))

    async def closed(self, ticket: Ticket, *, by: int | None, reason: str, summary: str, now: datetime) -> Ticket:
        reason = visible_text(reason) or NO_REASON
        updated = await self.store.update_ticket(
            ticket.id, now, status=TicketStatus.CLOSED, closed_at=utc_iso(now), closed_by=by,
            close_reason=reason, summary=summary,
        )  # fmt: skip
        assert updated is not None
        log.info("Ticket %d closed (%s)", ticket.id, reason)
        return updated


@dataclass(frozen=True)
class AutoCloseAction:
    ticket: Ticket
    action: str  # "close_solved" | "warn_idle" | "close_idle"
    reason: str


def human_duration(seconds: int) -> str:
    """'1 hour', '3 hours', '45 minutes' — for messages that announce a delay."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def due_autoclose_actions(
    tickets: list[Ticket], now: datetime, *, solved_delay_s: int, idle_warn_s: int, idle_close_s: int
) -> list[AutoCloseAction]:
    """Which unclosed tickets need an auto-close step now.

    A delay of 0 disables that step: no solved auto-close, no idle warning, or warn-but-never-close.
    """
    actions = []
    for t in tickets:
        if t.is_closed:
            continue
        if t.status is TicketStatus.RESOLVED and t.resolved_at:
            if solved_delay_s and now - datetime.fromisoformat(t.resolved_at) >= timedelta(seconds=solved_delay_s):
                actions.append(AutoCloseAction(t, "close_solved", CloseReason.SOLVED_TIMEOUT.value))
            continue
        if not idle_warn_s or t.status is TicketStatus.WAITING_STAFF:
            continue  # a ticket waiting for staff is idle through no fault of the user
        idle_for = now - datetime.fromisoformat(t.last_activity_at)
        if t.idle_warned_at is None:
            if idle_for >= timedelta(seconds=idle_warn_s):
                actions.append(AutoCloseAction(t, "warn_idle", CloseReason.IDLE.value))
        elif idle_close_s and now - datetime.fromisoformat(t.idle_warned_at) >= timedelta(seconds=idle_close_s):
            actions.append(AutoCloseAction(t, "close_idle", CloseReason.IDLE.value))
    return actions
