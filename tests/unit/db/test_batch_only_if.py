"""`Database.batch(only_if=…)`: the steps run only if a check, made in the same transaction, finds a row."""

from __future__ import annotations

from db.database import Database
from db.dialect import ddl_for_postgres


async def _tables(db: Database) -> None:
    for ddl in (
        "CREATE TABLE flags (id INTEGER PRIMARY KEY, open INTEGER NOT NULL)",
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL)",
    ):
        await db.run(ddl_for_postgres(ddl) if db.engine == "postgresql" else ddl)
    await db.run("INSERT INTO flags (id, open) VALUES (1, 1), (2, 0)")


def _steps(v: str) -> list[tuple[str, dict[str, object]]]:
    return [("INSERT INTO t (v) VALUES (:v) RETURNING id", {"v": v}), ("SELECT v FROM t ORDER BY id", {})]


async def test_the_steps_run_when_the_check_finds_a_row(memory_db):
    await _tables(memory_db)
    results = await memory_db.batch(_steps("a"), only_if=("SELECT 1 FROM flags WHERE id = :id AND open = 1", {"id": 1}))
    assert len(results) == 2 and [r["v"] for r in results[1]] == ["a"]
    assert not memory_db.in_transaction


async def test_nothing_runs_when_the_check_finds_no_row(memory_db):
    await _tables(memory_db)
    results = await memory_db.batch(_steps("b"), only_if=("SELECT 1 FROM flags WHERE id = :id AND open = 1", {"id": 2}))
    assert results == []
    assert await memory_db.fetchall("SELECT * FROM t") == [], "nothing was written"
    assert not memory_db.in_transaction
    await memory_db.run("INSERT INTO t (v) VALUES ('after')")  # the connection is usable
    assert len(await memory_db.fetchall("SELECT * FROM t")) == 1


async def test_the_check_sees_the_callers_transaction(memory_db):
    await _tables(memory_db)
    async with memory_db.transaction():
        await memory_db.run("UPDATE flags SET open = 0 WHERE id = 1")
        results = await memory_db.batch(_steps("c"), only_if=("SELECT 1 FROM flags WHERE id = 1 AND open = 1", {}))
    assert results == []
    assert await memory_db.fetchall("SELECT * FROM t") == []
