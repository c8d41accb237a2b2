"""Every ticket status × every event → the status after it, through TicketService on a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tickets.category_store import CategoryStore
from tickets.desk_store import DeskStore
from tickets.errors import ActionRefused
from tickets.models import MessageRole, Ticket, TicketStatus
from tickets.reopening import Reopening
from tickets.server_settings import ServerSettingsService
from tickets.service import NewTicket, TicketEvent, TicketService, next_status
from tickets.settings_store import SettingsStore
from tickets.store import TicketStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
OPEN, A, W, R, C = (
    TicketStatus.OPEN,
    TicketStatus.ANSWERED,
    TicketStatus.WAITING_STAFF,
    TicketStatus.RESOLVED,
    TicketStatus.CLOSED,
)
E = TicketEvent
EVENTS = (E.USER_WROTE, E.STAFF_WROTE, E.ANSWERED, E.SOLVED, E.HANDED_TO_STAFF, E.CLOSED, E.REOPENED)
# Rows: status before; columns: EVENTS in that order.
TABLE = {
    OPEN: (OPEN, OPEN, A, R, W, C, OPEN),
    A: (A, A, A, R, W, C, A),
    W: (W, A, A, R, W, C, W),  # staff writing takes the ticket; an answer after a hand-off answers it again
    R: (OPEN, R, A, R, W, C, R),  # the user writing again means "solved" was premature
    C: (C, C, C, C, C, C, OPEN),  # only /reopen brings a closed ticket back
}
CASES = [(before, event, after) for before, row in TABLE.items() for event, after in zip(EVENTS, row, strict=True)]


@pytest.mark.parametrize(("before", "event", "after"), CASES)
def test_next_status(before: TicketStatus, event: TicketEvent, after: TicketStatus) -> None:
    assert next_status(before, event) is after


async def _ticket_in(service: TicketService, status: TicketStatus) -> Ticket:
    ticket = await service.ticket_opened(
        NewTicket(
            ticket_id=10, guild_id=1, opener_id=5, opener_name="alice", category="general", subject="Printer",
            description="It is on fire.",
        ),
        now=NOW,
    )  # fmt: skip
    if status is TicketStatus.CLOSED:
        return await service.closed(ticket, by=None, reason="done", summary="", now=NOW)
    updated = await service.store.update_ticket(ticket.id, NOW, status=status)
    assert updated is not None
    return updated


async def _apply(service: TicketService, ticket: Ticket, event: TicketEvent) -> None:
    if event in (E.USER_WROTE, E.STAFF_WROTE):
        role = MessageRole.USER if event is E.USER_WROTE else MessageRole.STAFF
        await service.message_posted(
            ticket, message_id=99, author_id=6, author_name="x", role=role, content="hello", now=NOW
        )
    elif event is E.ANSWERED:
        await service.answered(ticket, NOW)
    elif event is E.SOLVED:
        await service.resolved(ticket, NOW)
    elif event is E.HANDED_TO_STAFF:
        await service.handed_to_staff(ticket, NOW, pause_ai=False)
    elif event is E.REOPENED:
        reopening = Reopening(DeskStore(service.store.db, service.store), service.settings)
        try:
            await reopening.reopened(ticket, by=5, now=NOW)
        except ActionRefused:
            assert not ticket.is_closed, "a closed ticket reopens"
    else:
        await service.closed(ticket, by=5, reason="bye", summary="", now=NOW)


@pytest.mark.parametrize(("before", "event", "after"), CASES)
async def test_each_event_records_its_transition(
    memory_db, before: TicketStatus, event: TicketEvent, after: TicketStatus
) -> None:
    service = TicketService(
        TicketStore(memory_db), CategoryStore(memory_db), ServerSettingsService(SettingsStore(memory_db))
    )
    ticket = await _ticket_in(service, before)

    await _apply(service, ticket, event)

    stored = await service.get(ticket.id)
    assert stored is not None and stored.status is after
