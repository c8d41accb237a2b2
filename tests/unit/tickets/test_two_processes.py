"""Two processes on one database (issue 12): each opens its own connection(s) (SQLite: a connection to the same
file; PostgreSQL: a pool of its own), and the rules that once relied on one shared connection still hold because
the database enforces them: a member's open-ticket limit, and one approval per suggestion."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.schema import open_app_database
from db.database import Database
from memory import suggestions as sugg
from memory.hashed_embedder import HashedEmbedder
from memory.store import TrainedMemory
from tickets.category_store import CategoryStore
from tickets.errors import TicketOpenError
from tickets.server_settings import ServerSettingsService
from tickets.service import NewTicket, TicketService
from tickets.settings_store import SettingsStore
from tickets.store import TicketStore

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GUILD, MEMBER = 1, 5


@pytest.fixture
async def two_processes(tmp_path, pg_url: str | None) -> AsyncIterator[tuple[Database, Database]]:
    target = pg_url or tmp_path / "shared.db"
    first = await open_app_database(target)
    second = await open_app_database(target)
    yield first, second
    await first.close()
    await second.close()


def _service(db: Database) -> TicketService:
    return TicketService(TicketStore(db), CategoryStore(db), ServerSettingsService(SettingsStore(db)))


def _new(ticket_id: int) -> NewTicket:
    return NewTicket(
        ticket_id=ticket_id, guild_id=GUILD, opener_id=MEMBER, opener_name="alice", category="general",
        subject=f"Printer {ticket_id}", description="It is on fire.",
    )  # fmt: skip


async def test_a_members_ticket_limit_holds_when_two_processes_open_at_once(two_processes) -> None:
    first, second = (_service(db) for db in two_processes)
    for ticket_id in (10, 11):  # two open already; the limit is 3
        await first.ticket_opened(_new(ticket_id), now=NOW, limited=True)
    # Both processes checked before creating their threads, and both saw room for one more.
    for service in (first, second):
        await service.check_can_open(guild_id=GUILD, user_id=MEMBER, now=NOW.replace(hour=13))
    results = await asyncio.gather(
        first.ticket_opened(_new(20), now=NOW, limited=True),
        second.ticket_opened(_new(21), now=NOW, limited=True),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, TicketOpenError)]
    assert len(refused) == 1 and "the limit is 3" in str(refused[0]), results
    assert await TicketStore(two_processes[0]).open_tickets_of(GUILD, MEMBER) == 3


async def test_staff_opening_for_a_member_is_not_limited(two_processes) -> None:
    service = _service(two_processes[0])
    for ticket_id in range(10, 15):
        await service.ticket_opened(_new(ticket_id), now=NOW)
    assert await TicketStore(two_processes[0]).open_tickets_of(GUILD, MEMBER) == 5


async def test_one_suggestion_is_approved_once_when_two_processes_approve_it_at_once(two_processes) -> None:
    first, second = (TrainedMemory(db, HashedEmbedder()) for db in two_processes)
    suggestion_id = await sugg.insert(
        two_processes[0], GUILD, "qa", None, 7, "How do I reset my password?", "Use the reset link.", "general"
    )
    results = await asyncio.gather(
        first.approve_suggestion(GUILD, suggestion_id, by=1),
        second.approve_suggestion(GUILD, suggestion_id, by=2),
        first.approve_suggestion(GUILD, suggestion_id, by=3),
    )
    assert sum(r is not None for r in results) == 1, results
    assert len(await first.list_entries(GUILD)) == 1
    decided = await sugg.get(two_processes[1], GUILD, suggestion_id)
    assert decided.status == "approved"


async def test_a_refused_approval_leaves_the_suggestion_pending(two_processes) -> None:
    memory = TrainedMemory(two_processes[0], HashedEmbedder())
    suggestion_id = await sugg.insert(two_processes[0], GUILD, "qa", None, 7, "How do I log in?", "Like this.", None)
    with pytest.raises(ValueError, match="answer is empty"):
        await memory.approve_suggestion(GUILD, suggestion_id, by=1, response="   ")
    assert (await sugg.get(two_processes[1], GUILD, suggestion_id)).status == "pending"
