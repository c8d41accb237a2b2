"""The PostgreSQL backend itself (db/postgres.py) on a real server: what tests/unit/db/test_lock.py checks of
SQLite's connection, and what only PostgreSQL has (several pools = several processes on one database)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.meta import BotMeta
from app.schema import open_app_database
from db.postgres import PgDatabase
from tests.fixtures_pg import fresh_pg_database


@pytest.fixture
def fresh_url(pg_session_db: str) -> str:  # pg_session_db skips, saying why, without TEST_DATABASE_URL
    return fresh_pg_database()


@pytest.fixture
async def pg(fresh_url: str) -> AsyncIterator[PgDatabase]:
    db = await open_app_database(fresh_url)
    assert isinstance(db, PgDatabase)
    yield db
    await db.close()


async def _committed(db: PgDatabase, key: str) -> str | None:
    """Read from a connection of its own: only what was committed."""
    conn = await asyncpg.connect(db.url)
    try:
        return await conn.fetchval("SELECT value FROM bot_meta WHERE key = $1", key)
    finally:
        await conn.close()


@pytest.mark.parametrize("steps", range(6))
async def test_cancelled_transaction_never_stays_open(pg: PgDatabase, steps: int) -> None:
    async def write() -> None:
        async with pg.transaction():
            await pg.run("INSERT INTO bot_meta (key, value) VALUES ('inside', '1')")
            await asyncio.sleep(0.01)

    task = asyncio.create_task(write())
    for _ in range(steps):
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not pg.in_transaction
    await pg.run("INSERT INTO bot_meta (key, value) VALUES ('later', '2')")
    assert await _committed(pg, "later") == "2"
    assert await _committed(pg, "inside") is None  # cancelled before its COMMIT: rolled back
    # Every connection went back to the pool idle (none holds the write lock or an open transaction).
    async with pg.transaction():
        await pg.run("INSERT INTO bot_meta (key, value) VALUES ('again', '3')")


async def test_a_failing_statement_rolls_the_transaction_back(pg: PgDatabase) -> None:
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with pg.transaction():
            await pg.run("INSERT INTO bot_meta (key, value) VALUES ('x', '1')")
            await pg.run(
                "INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary) VALUES (999, 1, 'q', 'q', 1)"
            )
    assert not pg.in_transaction
    assert await BotMeta(pg).get("x") is None


async def test_a_task_started_inside_a_transaction_does_not_share_its_connection(pg: PgDatabase) -> None:
    with pytest.raises(RuntimeError):
        async with pg.transaction():
            await pg.run("INSERT INTO bot_meta (key, value) VALUES ('mine', '1')")
            # Its own connection: committed by itself, not rolled back with the transaction.
            await asyncio.create_task(pg.run("INSERT INTO bot_meta (key, value) VALUES ('theirs', '2')"))
            raise RuntimeError("the transaction fails")
    assert await _committed(pg, "mine") is None
    assert await _committed(pg, "theirs") == "2"


async def test_statements_outside_transactions_do_not_wait_for_one(pg: PgDatabase) -> None:
    inside, done = asyncio.Event(), asyncio.Event()

    async def long_transaction() -> None:
        async with pg.transaction():
            await pg.run("INSERT INTO bot_meta (key, value) VALUES ('slow', '1')")
            inside.set()
            await done.wait()

    task = asyncio.create_task(long_transaction())
    await inside.wait()
    await asyncio.wait_for(pg.run("INSERT INTO bot_meta (key, value) VALUES ('fast', '2')"), 5)
    assert await BotMeta(pg).get("slow") is None  # not committed yet
    done.set()
    await task
    assert await BotMeta(pg).get("slow") == "1"


async def test_write_transactions_of_two_processes_run_one_at_a_time(pg: PgDatabase) -> None:
    """Two pools on one database (two bot processes): a read-then-write in a transaction never interleaves."""
    other = await PgDatabase.connect_url(pg.url)
    await pg.run("INSERT INTO bot_meta (key, value) VALUES ('n', '0')")

    async def increment(db: PgDatabase) -> None:
        async with db.transaction():
            row = await db.fetchone("SELECT value FROM bot_meta WHERE key = 'n'")
            await asyncio.sleep(0)  # another process's transaction would read the same value here
            await db.run("UPDATE bot_meta SET value = ? WHERE key = 'n'", (str(int(row[0]) + 1),))

    try:
        await asyncio.gather(*(increment(pg if i % 2 else other) for i in range(40)))
    finally:
        await other.close()
    assert await BotMeta(pg).get("n") == "40"


async def test_rows_read_as_sqlite_rows_do(pg: PgDatabase) -> None:
    for key, value in (("a", "1"), ("b", "22")):
        await pg.run("INSERT INTO bot_meta (key, value) VALUES (:key, :value)", {"key": key, "value": value})
    row = await pg.fetchone("SELECT key, value FROM bot_meta WHERE key = ?", ("b",))
    assert row is not None
    assert (row["key"], row[1], dict(row), list(row.keys())) == (
        "b",
        "22",
        {"key": "b", "value": "22"},
        ["key", "value"],
    )
    (total, average, count) = await pg.fetchone(
        "SELECT SUM(CAST(value AS BIGINT)), AVG(CAST(value AS BIGINT)), COUNT(*) FROM bot_meta"
    )
    assert (total, average, count) == (23, 11.5, 2) and isinstance(total, int) and isinstance(average, float)
    assert await pg.run_rowcount("UPDATE bot_meta SET value = 'x'") == 2
    assert (
        await pg.insert(
            "INSERT INTO care_events (guild_id, ticket_id, kind, created_at) VALUES (1, 2, 'k', 'now') RETURNING id"
        )
        == 1
    )


async def test_a_write_batch_is_one_transaction_and_a_read_batch_one_snapshot(pg: PgDatabase) -> None:
    with pytest.raises(asyncpg.NotNullViolationError):
        await pg.batch(
            [
                ("INSERT INTO bot_meta (key, value) VALUES ('kept?', '1')", ()),
                ("INSERT INTO bot_meta (key, value) VALUES ('y', NULL)", ()),
            ]
        )
    assert await BotMeta(pg).get("kept?") is None
    first, second = await pg.batch(
        [("SELECT COUNT(*) FROM bot_meta", ()), ("SELECT COUNT(*) FROM bot_meta", ())], write=False
    )
    assert first[0][0] == second[0][0] == 0
