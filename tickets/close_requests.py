"""/close_request: staff ask the opener whether the ticket can close. The opener answers with the
buttons (close / keep open); if nobody answers within the server's `close_request_hours`, the auto-close
loop closes the ticket (cogs/tickets/_autoclose.py), also after a restart: the request and when it is due
are stored. One request waits per ticket at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

from memory.text import visible_text
from tickets.desk_models import CloseRequest, CloseRequestStatus
from tickets.desk_store import DeskStore
from tickets.errors import ActionRefused
from tickets.models import Ticket
from tickets.server_settings import CLOSE_REQUEST_HOURS, ServerSettingsService

REASON_MAX = 300


class CloseRequests:
    def __init__(self, store: DeskStore, settings: ServerSettingsService) -> None:
        self.store = store
        self.settings = settings

    async def wait_s(self, guild_id: int) -> int:
        """Seconds a request waits before the ticket closes by itself (0: it never does)."""
        return (await self.settings.of(guild_id)).seconds(CLOSE_REQUEST_HOURS)

    async def requested(self, ticket: Ticket, *, by: int, reason: str, now: datetime) -> CloseRequest:
        if await self.store.pending_close_request(ticket.id) is not None:
            raise ActionRefused("A close request is already waiting for the opener's answer in this ticket.")
        wait = await self.wait_s(ticket.guild_id)
        due = now + timedelta(seconds=wait) if wait else None
        return await self.store.add_close_request(
            ticket, by=by, reason=visible_text(reason)[:REASON_MAX], now=now, due_at=due
        )

    async def shown(self, request: CloseRequest, message_id: int) -> None:
        await self.store.set_close_request_message(request.id, message_id)

    async def get(self, request_id: int) -> CloseRequest | None:
        return await self.store.close_request(request_id)

    async def pending(self, ticket_id: int) -> CloseRequest | None:
        return await self.store.pending_close_request(ticket_id)

    async def settle(self, request: CloseRequest, status: CloseRequestStatus, *, by: int | None, now: datetime) -> bool:
        """Record the outcome of a waiting request; False when it was settled already."""
        return await self.store.answer_close_request(request.id, status, by=by, now=now)

    async def due(self, now: datetime) -> list[CloseRequest]:
        """Waiting requests whose time is up (every server)."""
        return await self.store.due_close_requests(now)
