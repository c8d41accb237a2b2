"""/reopen: a closed ticket comes back, within the server's `reopen_window_hours` after it closed.

The ticket is open again (`next_status`: CLOSED + REOPENED → OPEN) with what it had before the close: its
category, priority, claimer and whether the assistant answers (its `ai_paused` is left as it was). Its close
is kept in ticket_reopenings and its row of ticket_facts is deleted: the dashboard computes facts once per
closed ticket, assuming a closed ticket never changes. The watcher (tickets/care.py) starts a new wait: the
re-ping and reminder clocks start again from the reopening.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tickets.desk_store import DeskStore
from tickets.errors import ActionRefused
from tickets.models import Ticket
from tickets.server_settings import REOPEN_WINDOW_HOURS, ServerSettingsService
from tickets.service import TicketEvent, TicketWatcher, human_duration, next_status


class Reopening:
    def __init__(
        self, store: DeskStore, settings: ServerSettingsService, *, watcher: TicketWatcher | None = None
    ) -> None:
        self.store = store
        self.settings = settings
        # Told of the reopening like of every event `TicketService` records (tickets/care.py: whose turn it is).
        self.watcher = watcher

    async def window_s(self, guild_id: int) -> int:
        return (await self.settings.of(guild_id)).seconds(REOPEN_WINDOW_HOURS)

    async def check(self, ticket: Ticket, now: datetime) -> None:
        """Raise ActionRefused unless `ticket` may be reopened now."""
        if not ticket.is_closed:
            raise ActionRefused("This ticket is open.")
        window = await self.window_s(ticket.guild_id)
        if not window:
            raise ActionRefused("Closed tickets can't be reopened on this server. Please open a new ticket.")
        if ticket.closed_at and now - datetime.fromisoformat(ticket.closed_at) > timedelta(seconds=window):
            raise ActionRefused(
                f"This ticket closed more than {human_duration(window)} ago and can't be reopened. "
                "Please open a new ticket."
            )

    async def reopened(self, ticket: Ticket, *, by: int, now: datetime) -> Ticket:
        status = next_status(ticket.status, TicketEvent.REOPENED)
        updated = await self.store.reopen(ticket, status=status, by=by, now=now)
        if updated is None:
            raise ActionRefused("This ticket is open.")
        if self.watcher is not None:
            await self.watcher.ticket_event(updated, TicketEvent.REOPENED, now)
        return updated

    async def reopenable(self, guild_id: int, *, opener_id: int | None, now: datetime) -> list[Ticket]:
        """Closed tickets that may still be reopened: `opener_id`'s own, or (None) the server's."""
        window = await self.window_s(guild_id)
        if not window:
            return []
        return await self.store.closed_since(guild_id, now - timedelta(seconds=window), opener_id=opener_id)
