"""Abuse gates at opening, next to `TicketService.check_can_open` (the member's own limit and cooldown):

- a **minimum account age** (`min_account_age_hours`): brand-new accounts are how spam and ban evasion
  arrive;
- a **cap on tickets per hour per server** (`max_tickets_per_hour`), all members together: a raid cannot
  bury staff. Tickets staff open for someone (/ticket_open) neither count nor are refused: staff act on
  purpose.

Each gate is a small function of plain values that raises a `TicketOpenError` subclass with the reason;
`OpeningGates.check` reads the settings and the count and runs them. Every way of opening a ticket passes
through it (the panel, a post made in the forum, the message menu) before the form and again on submit.
Each refusal is stored (`gate_refusals`: which gate, before the form or when opening) for analytics.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from tickets.care_store import CareStore
from tickets.errors import TicketOpenError
from tickets.server_settings import MAX_TICKETS_PER_HOUR, MIN_ACCOUNT_AGE_HOURS, ServerSettingsService
from tickets.service import human_duration

HOUR = timedelta(hours=1)


class AccountTooYoung(TicketOpenError):
    """The member's Discord account is younger than the server's minimum."""

    gate = "account_age"


class TicketsPerHourReached(TicketOpenError):
    """The server's members opened as many tickets in the last hour as it allows."""

    gate = "tickets_per_hour"


def _later(seconds: float) -> str:
    return human_duration(max(60, math.ceil(seconds / 60) * 60))


def check_account_age(account_created_at: datetime, now: datetime, *, min_age_s: int) -> None:
    """Raise AccountTooYoung when the account is younger than `min_age_s` (0: no minimum)."""
    if not min_age_s:
        return
    short = min_age_s - (now - account_created_at).total_seconds()
    if short > 0:
        raise AccountTooYoung(
            f"Your Discord account is too new to open a ticket here: this server asks for accounts at least "
            f"{human_duration(min_age_s)} old. You can open one in {_later(short)}."
        )


def check_hourly_cap(opened_last_hour: int, oldest_at: datetime | None, now: datetime, *, cap: int) -> None:
    """Raise TicketsPerHourReached when `cap` tickets were opened in the last hour (0: no cap); the oldest of them
    says when a place frees up."""
    if not cap or opened_last_hour < cap:
        return
    frees = (oldest_at + HOUR - now).total_seconds() if oldest_at is not None else 3600
    raise TicketsPerHourReached(
        f"This server is getting a lot of tickets right now (at most {cap} an hour). Please try again in "
        f"{_later(frees)}, or add to a ticket you already have."
    )


class OpeningGates:
    def __init__(self, store: CareStore, settings: ServerSettingsService) -> None:
        self.store = store
        self.settings = settings

    async def check(
        self, *, guild_id: int, user_id: int, account_created_at: datetime, now: datetime, stage: str = "open"
    ) -> None:
        """Raise the first gate's refusal for a member opening a ticket now (not for staff opening one for them),
        after storing it. `stage`: "form" when checked before the form is shown, "open" when opening."""
        try:
            settings = await self.settings.of(guild_id)
            check_account_age(account_created_at, now, min_age_s=settings.seconds(MIN_ACCOUNT_AGE_HOURS))
            cap = settings.get(MAX_TICKETS_PER_HOUR)
            if cap:
                count, oldest = await self.store.opened_since(guild_id, now - HOUR)
                check_hourly_cap(count, datetime.fromisoformat(oldest) if oldest else None, now, cap=cap)
        except (AccountTooYoung, TicketsPerHourReached) as refused:
            await self.store.log_refusal(guild_id=guild_id, user_id=user_id, gate=refused.gate, stage=stage, now=now)
            raise

    async def refusals(self, guild_id: int) -> list[tuple[int, str, str]]:
        """(user id, gate, stage) of each refusal on the server, oldest first."""
        return await self.store.refusals(guild_id)
