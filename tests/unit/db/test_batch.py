"""`Database.batch`: several statements in one trip to the database thread, in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg
import pytest

from db.database import Database, Params
from db.dialect import ddl_for_postgres

INTEGRITY_ERRORS = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)


async def _table(db: Database) -> None:
    ddl = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)"
    await db.run(ddl_for_postgres(ddl) if db.engine == "postgresql" else ddl)


async def test_a_batch_returns_each_statements_rows(memory_db):
    await _table(memory_db)
    results = await memory_db.batch(
        [
            ("INSERT INTO t (v) VALUES (?) RETURNING id", ("a",)),
            ("INSERT INTO t (v) VALUES (?)", ("b",)),
            ("SELECT v FROM t ORDER BY id", ()),
        ]
    )
    assert [list(r) for r in results[0]] == [[1]]
    assert results[1] == []
    assert [r["v"] for r in results[2]] == ["a", "b"]
    assert not memory_db.in_transaction


async def test_a_failing_statement_rolls_the_whole_batch_back(memory_db):
    await _table(memory_db)
    with pytest.raises(INTEGRITY_ERRORS):
        await memory_db.batch([("INSERT INTO t (v) VALUES (?)", ("kept?",)), ("INSERT INTO t (v) VALUES (NULL)", ())])
    assert await memory_db.fetchall("SELECT * FROM t") == []
    assert not memory_db.in_transaction
    await memory_db.run("INSERT INTO t (v) VALUES ('after')")  # the connection is usable
    assert len(await memory_db.fetchall("SELECT * FROM t")) == 1


async def test_a_batch_inside_a_transaction_is_part_of_it(memory_db):
    await _table(memory_db)
    with pytest.raises(RuntimeError):
        async with memory_db.transaction():
            await memory_db.batch([("INSERT INTO t (v) VALUES (?)", ("inner",))])
            raise RuntimeError("the outer transaction fails")
    assert await memory_db.fetchall("SELECT * FROM t") == []


@pytest.mark.sqlite_only("PostgreSQL runs other statements beside a batch on other connections, by design")
async def test_other_coroutines_statements_wait_for_a_batch_and_never_land_inside_it(memory_db):
    await _table(memory_db)
    steps: list[tuple[str, Params]] = [("INSERT INTO t (v) VALUES (?)", (f"b{i}",)) for i in range(200)]
    steps.append(("SELECT count(*) FROM t", ()))
    batch = asyncio.create_task(memory_db.batch(steps))
    await asyncio.sleep(0)
    other = asyncio.create_task(memory_db.run("INSERT INTO t (v) VALUES ('other')"))
    results = await batch
    await other
    assert results[-1][0][0] == 200  # the other insert came after, not inside
    assert len(await memory_db.fetchall("SELECT * FROM t")) == 201
