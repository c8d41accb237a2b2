"""Looking after open tickets between messages: whose turn it is (recorded from every ticket event, see
`TicketService`'s watcher), the nudges the scheduler sends (staff re-pings, opener reminders; tickets/schedule.py
decides when), and staff pings held back outside support hours until support opens.
"""

from __future__ import annotations

import logging
from datetime import datetime

from tickets.care_models import PingKind, QueuedPing
from tickets.care_store import CareStore
from tickets.hours import SupportHours
from tickets.models import Ticket
from tickets.schedule import CareAction, CarePolicy, CareStep, SchedulePolicy, Wait, next_wait, support_hours_of
from tickets.server_settings import ServerSettingsService
from tickets.service import AutoClosePolicy, TicketEvent

log = logging.getLogger(__name__)


class CareService:
    def __init__(self, store: CareStore, settings: ServerSettingsService) -> None:
        self.store = store
        self.settings = settings

    # -- whose turn (TicketService calls this on every event) -------------------------------------

    async def ticket_event(self, ticket: Ticket, event: TicketEvent, now: datetime) -> None:
        current = await self.store.wait(ticket.id)
        wait = next_wait(current, ticket, event, now)
        if wait is None:
            if current is not None:
                await self.store.delete_wait(ticket.id)
        elif wait != current:
            await self.store.put_wait(wait)

    async def wait(self, ticket_id: int) -> Wait | None:
        return await self.store.wait(ticket_id)

    async def waits(self, guild_id: int) -> dict[int, Wait]:
        return await self.store.waits(guild_id)

    # -- policies --------------------------------------------------------------------------------

    async def policy(self, guild_id: int) -> SchedulePolicy:
        settings = await self.settings.of(guild_id)
        return SchedulePolicy(AutoClosePolicy.of(settings), CarePolicy.of(settings))

    async def hours(self, guild_id: int) -> SupportHours:
        return support_hours_of(await self.settings.of(guild_id))

    # -- nudges ----------------------------------------------------------------------------------

    async def nudged(self, action: CareAction, now: datetime) -> bool:
        """Count the nudge `action` stands for and log it (an SLA breach is a wait's first staff re-ping);
        False if the wait changed since the action was decided (then nothing is sent)."""
        if not await self.store.count_nudge(action.wait, now):
            return False
        ticket = action.ticket
        if action.step is CareStep.STAFF_REPING and action.number == 1:
            await self.store.log_event(
                guild_id=ticket.guild_id, ticket_id=ticket.id, kind="sla_breach", number=1,
                waited_s=action.waited_s, now=now,
            )  # fmt: skip
        await self.store.log_event(
            guild_id=ticket.guild_id, ticket_id=ticket.id, kind=action.step.value, number=action.number,
            waited_s=action.waited_s, now=now,
        )  # fmt: skip
        return True

    async def events(self, ticket_id: int) -> list[tuple[str, int, int | None]]:
        """(kind, number, waited seconds) of what the scheduler did in a ticket, oldest first."""
        return await self.store.events(ticket_id)

    # -- pings held back outside support hours -----------------------------------------------------

    async def hold_ping(
        self, *, guild_id: int, ticket_id: int, channel_id: int, role_id: int, kind: PingKind, text: str,
        now: datetime, release_at: datetime,
    ) -> None:  # fmt: skip
        await self.store.queue_ping(
            guild_id=guild_id, ticket_id=ticket_id, channel_id=channel_id, role_id=role_id, kind=kind, text=text,
            now=now, release_at=release_at,
        )  # fmt: skip
        log.info("Staff ping for ticket %d held until support opens (%s)", ticket_id, release_at.isoformat())

    async def guilds_with_held_pings(self) -> list[int]:
        return await self.store.guilds_with_queued_pings()

    async def held_pings(self, guild_id: int) -> list[QueuedPing]:
        return await self.store.queued_pings(guild_id)

    async def pings_released(self, pings: list[QueuedPing], outcome: str, now: datetime) -> None:
        """`outcome`: sent, ticket_closed (nothing left to ping about) or failed (Discord refused)."""
        await self.store.pings_done([p.id for p in pings], outcome, now)
