"""The shared connection's lock: a memory transaction never takes other coroutines' writes with it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime

import aiosqlite
import pytest

from app.meta import BotMeta
from memory import repository as repo
from memory.decision import Route
from memory.store import TrainedMemory
from tickets.models import MessageRole, TicketMessage, TicketStatus
from tickets.store import TicketStore

GUILD = 1
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


async def _ticket(store: TicketStore, ticket_id: int = 10):
    return await store.create_ticket(
        ticket_id=ticket_id, guild_id=GUILD, opener_id=5, category="general", subject="help", now=NOW
    )


async def test_ticket_write_survives_a_rolled_back_memory_transaction(memory_db):
    store = TicketStore(memory_db)
    await _ticket(store)
    inside = asyncio.Event()

    async def failing_memory_write() -> None:
        async with memory_db.transaction():
            await repo.insert_entry(memory_db, GUILD, "q", "a", "general", None)
            inside.set()
            await asyncio.sleep(0.05)  # other coroutines run here
            raise RuntimeError("embedder said no")

    memory_task = asyncio.create_task(failing_memory_write())
    await inside.wait()
    message = TicketMessage(10, 99, 5, "user", MessageRole.USER, "still broken", "2024-05-01T12:00:00+00:00")
    ticket_writes = asyncio.gather(
        store.add_message(message),
        store.record_route(
            guild_id=GUILD, ticket_id=10, message_id=99, route=Route.LLM, entry_id=None, score=None, detail="", now=NOW
        ),
    )
    with pytest.raises(RuntimeError):
        await memory_task
    await ticket_writes
    assert [m.content for m in await store.messages(10)] == ["still broken"]
    assert await store.last_route(10) is not None
    assert await store.count_open(GUILD) == 1


async def test_cancelled_memory_transaction_keeps_other_writes(memory_db):
    store = TicketStore(memory_db)
    await _ticket(store)
    inside = asyncio.Event()

    async def slow_memory_write() -> None:
        async with memory_db.transaction():
            await repo.insert_entry(memory_db, GUILD, "q", "a", "general", None)
            inside.set()
            await asyncio.sleep(10)

    memory_task = asyncio.create_task(slow_memory_write())
    await inside.wait()
    update = asyncio.create_task(store.update_ticket(10, NOW, status=TicketStatus.ANSWERED))
    await asyncio.sleep(0.02)
    memory_task.cancel()  # e.g. shutdown
    with pytest.raises(asyncio.CancelledError):
        await memory_task
    assert (await update).status is TicketStatus.ANSWERED
    assert (await store.get_ticket(10)).status is TicketStatus.ANSWERED


async def test_reads_during_memory_commits_do_not_fail(memory_db, hashed_embedder):
    memory = TrainedMemory(memory_db, hashed_embedder)
    store = TicketStore(memory_db)
    await _ticket(store)
    for i in range(30):
        message = TicketMessage(10, 1000 + i, 5, "user", MessageRole.USER, f"message {i}", "2024-05-01T12:00:00+00:00")
        await store.add_message(message)

    async def writes() -> None:
        for i in range(20):
            await memory.add(GUILD, f"Question number {i}?", f"Answer {i}.", alternates=[f"alt {i}", f"other {i}"])

    async def reads() -> None:
        for _ in range(60):
            assert len(await store.messages(10)) == 30
            await memory.list_entries(GUILD, limit=50)

    await asyncio.gather(writes(), reads(), reads())
    assert await memory.count(GUILD) == 20


@pytest.mark.sqlite_only("the SQLite connection's lock; PostgreSQL has none (tests/unit/db/test_postgres.py)")
async def test_lock_is_reentrant_in_the_holding_task_only(memory_db):
    # Same task: the transaction's own statements and a nested lock pass straight through.
    async with memory_db.transaction(), memory_db.lock:
        await memory_db.run("INSERT INTO bot_meta (key, value) VALUES ('a', '1')")
    other = asyncio.create_task(memory_db.run("INSERT INTO bot_meta (key, value) VALUES ('b', '2')"))
    async with memory_db.lock:
        await asyncio.sleep(0.02)
        assert not other.done()  # another task waits for the lock
    await other
    assert await BotMeta(memory_db).get("b") == "2"


async def test_late_status_write_does_not_reopen_a_closed_ticket(memory_db):
    store = TicketStore(memory_db)
    await _ticket(store)
    closed = await store.update_ticket(10, NOW, status=TicketStatus.CLOSED, closed_by=7, close_reason="solved")
    assert closed.status is TicketStatus.CLOSED
    # e.g. a message handled while the ticket was being closed
    late = await store.update_ticket(10, NOW, status=TicketStatus.OPEN, resolved_at=None, last_activity_at="x")
    assert late is not None and late.status is TicketStatus.CLOSED and late.last_activity_at != "x"
    assert (await store.get_ticket(10)).closed_by == 7
    assert await store.count_open(GUILD) == 0
    # Closing again still applies (it is the closing update itself).
    again = await store.update_ticket(10, NOW, status=TicketStatus.CLOSED, close_reason="staff")
    assert again.close_reason == "staff"


@pytest.mark.sqlite_only("reads the SQLite file beside the bot; PostgreSQL: tests/unit/db/test_postgres.py")
@pytest.mark.parametrize("steps", range(6))
async def test_cancelled_transaction_never_stays_open(memory_db, tmp_path, steps):
    # Cancelled after `steps` turns of the event loop: while BEGIN is on its way (0, 1), inside
    # the block, or while COMMIT is on its way. Whatever the moment, no transaction stays open
    # to swallow other coroutines' writes.
    async def write() -> None:
        async with memory_db.transaction():
            await memory_db.run("INSERT INTO bot_meta (key, value) VALUES ('inside', '1')")

    task = asyncio.create_task(write())
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not memory_db.in_transaction
    await memory_db.run("INSERT INTO bot_meta (key, value) VALUES ('later', '2')")
    assert not memory_db.in_transaction
    # Seen from another connection: committed, not pending in a forgotten transaction.
    other = await aiosqlite.connect(tmp_path / "memory.db")
    try:
        async with other.execute("SELECT value FROM bot_meta WHERE key = 'later'") as cur:
            assert [tuple(row) for row in await cur.fetchall()] == [("2",)]
    finally:
        await other.close()


@pytest.mark.sqlite_only("SQLite's deferred foreign keys; PostgreSQL: tests/unit/db/test_postgres.py")
async def test_failed_commit_rolls_back(memory_db):
    # A deferred foreign-key violation makes COMMIT itself fail: the transaction must not stay open.
    with pytest.raises(sqlite3.IntegrityError):
        async with memory_db.transaction():
            await memory_db.run("PRAGMA defer_foreign_keys = ON")
            await memory_db.run("INSERT INTO bot_meta (key, value) VALUES ('x', '1')")
            await memory_db.run(
                "INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary) VALUES (999, 1, 'q', 'q', 1)",
            )
    assert not memory_db.in_transaction
    assert await BotMeta(memory_db).get("x") is None
