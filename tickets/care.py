"""Looking after open tickets between messages: whose turn it is (recorded from every ticket event, see
`TicketService`'s watcher), the nudges the scheduler sends (staff re-pings, opener reminders; tickets/schedule.py
decides when), and staff pings held back outside support hours until support opens.
"""

from __future__ import annotations

import logging
from datetime import datetime

from db.database import Params, Row
from tickets.care_models import PingKind, QueuedPing
from tickets.care_store import CareStore, wait_delete, wait_of, wait_put, wait_read
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
        await self.store.apply(self.event_writes(await self.store.wait(ticket.id), ticket, event, now))

    # The same in the trips of the ticket's own event (TicketService batches them): the current wait is read with
    # the ticket (`state_read`, `state_of`), and the new one written with the event (`event_writes`).

    def state_read(self, ticket_id: int) -> tuple[str, Params]:
        return wait_read(ticket_id)

    def state_of(self, rows: list[Row]) -> Wait | None:
        return wait_of(rows)

    def event_writes(
        self, current: object, ticket: Ticket, event: TicketEvent, now: datetime, *, known: bool = True
    ) -> list[tuple[str, Params]]:
        """The statements that record whose turn it is after `event` (`ticket` as it is after it), given the
        `current` wait (`known=False`: not read, e.g. after an answer, whose wait does not depend on it)."""
        assert current is None or isinstance(current, Wait)
        wait = next_wait(current, ticket, event, now)
        if wait is None:
            return [wait_delete(ticket.id)] if current is not None or not known else []
        return [wait_put(wait)] if wait != current or not known else []

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
