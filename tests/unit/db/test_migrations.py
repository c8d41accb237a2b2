"""Each package owns its tables' migrations; databases made before that split upgrade without loss."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from app.schema import LEGACY_VERSIONS, SCHEMAS, open_app_database
from db.migrations import Schema, apply_migrations, open_database, split_sql
from tests.legacy_schema import LEGACY_MIGRATIONS

# Each package's migrations as far as the single legacy list went: what adopting an old database must
# reproduce exactly. Later migrations are applied on top (test_later_migrations_apply_on_top_of_an_adopted_one).
_LEGACY_KNOWN = {record for records in LEGACY_VERSIONS.values() for record in records}
LEGACY_ERA = [
    Schema(s.package, [m for m in s.migrations if (s.package, m[0]) in _LEGACY_KNOWN], s.functions) for s in SCHEMAS
]


async def _open_legacy_era(path: Path):
    return await open_database(path, LEGACY_ERA, legacy=LEGACY_VERSIONS)


async def _legacy_database(path: Path, up_to: int) -> None:
    """A database as the bot made it with one numbered list of migrations, with a row in each part."""
    db = await aiosqlite.connect(path, isolation_level=None)
    try:
        await db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        for version, sql in LEGACY_MIGRATIONS[:up_to]:
            for statement in split_sql(sql):
                if "identity_key" in statement:
                    continue  # a data migration over rows that do not exist yet
                await db.execute(statement)
            await db.execute(
                "INSERT INTO schema_version VALUES (?, ?)", (version, f"2024-01-0{version}T00:00:00+00:00")
            )
        await db.execute("INSERT INTO bot_meta (key, value) VALUES ('commands_hash:1', 'abc')")
        await db.execute(
            "INSERT INTO tickets (id, guild_id, opener_id, category, subject, status, created_at, updated_at,"
            " last_activity_at) VALUES (7, 1, 2, 'general', 'Printer', 'open', 'x', 'x', 'x')"
        )
        await db.execute(
            "INSERT INTO trained_entries (id, guild_id, query, response, created_at, updated_at)"
            " VALUES (3, 1, 'Where is my invoice?', 'Billing page.', 'x', 'x')"
        )
        await db.commit()
    finally:
        await db.close()


async def _records(db) -> list[tuple[str, int, str]]:
    rows = await db.fetchall("SELECT package, version, applied_at FROM schema_migrations ORDER BY package, version")
    return [tuple(row) for row in rows]


async def _tables(path: Path) -> dict[str, str]:
    """Every table and index with its SQL, whitespace normalised; the version bookkeeping left out."""
    db = await aiosqlite.connect(path)
    try:
        async with db.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL") as cur:
            rows = await cur.fetchall()
    finally:
        await db.close()
    skip = {"schema_version", "schema_migrations", "sqlite_sequence"}
    return {name: " ".join(sql.split()) for name, sql in rows if name not in skip}


async def test_a_database_at_legacy_version_3_upgrades_without_reapplying_or_losing_anything(tmp_path):
    path = tmp_path / "old.db"
    await _legacy_database(path, up_to=3)
    before = await _tables(path)

    db = await _open_legacy_era(path)
    try:
        records = await _records(db)
        # Each old version became the records of what it created, with its original date.
        assert records == [
            ("app", 1, "2024-01-01T00:00:00+00:00"),
            ("memory", 1, "2024-01-01T00:00:00+00:00"),
            ("memory", 2, "2024-01-02T00:00:00+00:00"),
            ("memory", 3, "2024-01-03T00:00:00+00:00"),
            ("tickets", 1, "2024-01-01T00:00:00+00:00"),
        ]
        assert (await db.fetchone("SELECT value FROM bot_meta WHERE key = 'commands_hash:1'"))[0] == "abc"
        assert (await db.fetchone("SELECT subject FROM tickets WHERE id = 7"))[0] == "Printer"
        assert (await db.fetchone("SELECT query FROM trained_entries WHERE id = 3"))[0] == "Where is my invoice?"
    finally:
        await db.close()
    assert await _tables(path) == before, "no table or index changed"

    again = await _open_legacy_era(path)  # a second start finds nothing to do
    try:
        assert await _records(again) == records
    finally:
        await again.close()


async def test_a_database_at_legacy_version_1_gets_only_the_later_migrations(tmp_path):
    path = tmp_path / "older.db"
    await _legacy_database(path, up_to=1)

    db = await _open_legacy_era(path)
    try:
        applied = [(package, version) for package, version, _ in await _records(db)]
        assert applied == [("app", 1), ("memory", 1), ("memory", 2), ("memory", 3), ("tickets", 1)]
        assert await db.fetchone("SELECT COUNT(*) FROM memory_changes") is not None
        assert (await db.fetchone("SELECT subject FROM tickets WHERE id = 7"))[0] == "Printer"
    finally:
        await db.close()


async def test_a_new_database_has_exactly_the_tables_the_legacy_list_made(tmp_path):
    await _legacy_database(tmp_path / "old.db", up_to=len(LEGACY_MIGRATIONS))
    db = await open_database(tmp_path / "new.db", LEGACY_ERA)
    await db.close()

    assert await _tables(tmp_path / "new.db") == await _tables(tmp_path / "old.db")
    # And with every package, an upgraded legacy database and a new one are the same.
    for path in (tmp_path / "old.db", tmp_path / "full.db"):
        db = await open_app_database(path)
        await db.close()
    assert await _tables(tmp_path / "old.db") == await _tables(tmp_path / "full.db")


async def test_later_migrations_apply_on_top_of_an_adopted_database(tmp_path):
    path = tmp_path / "old.db"
    await _legacy_database(path, up_to=len(LEGACY_MIGRATIONS))
    legacy = await _open_legacy_era(path)  # adopted first, as by the bot before these migrations
    await legacy.run(
        "INSERT INTO guild_config (guild_id, forum_id, staff_role_id, updated_at) VALUES (1, 2, 3, '2024-01-01')"
    )
    await legacy.close()

    db = await open_app_database(path)
    try:
        records = [(package, version) for package, version, _ in await _records(db)]
        later = sorted((s.package, v) for s in SCHEMAS for v, _ in s.migrations if (s.package, v) not in _LEGACY_KNOWN)
        assert [r for r in records if r not in _LEGACY_KNOWN] == later, "every later migration, on top"
        assert sorted(r for r in records if r in _LEGACY_KNOWN) == sorted(_LEGACY_KNOWN), "nothing re-applied"
        assert (await db.fetchone("SELECT subject, mode, source FROM tickets WHERE id = 7"))[:] == (
            "Printer", "forum", None,
        )  # fmt: skip
        rows = await db.fetchall(
            "SELECT name, mode, position FROM ticket_categories WHERE guild_id = 1 ORDER BY position"
        )
        assert [tuple(r) for r in rows] == [("billing", "forum", 0), ("technical", "forum", 1), ("general", "forum", 2)]
        # Memory 4 gave the existing entry its answer row (to be embedded), which is no alternate.
        answers = await db.fetchall("SELECT entry_id, text, norm FROM entry_phrasings WHERE is_primary = 2")
        assert [tuple(row) for row in answers] == [(3, "Billing page.", "")]
        assert await db.fetchall("SELECT id FROM entry_phrasings WHERE is_primary = 0") == []
    finally:
        await db.close()


async def test_each_package_is_migrated_on_its_own(tmp_path):
    first = Schema("first", [(1, "CREATE TABLE a (x INTEGER);")])
    second = Schema("second", [(1, "CREATE TABLE b (x INTEGER);"), (2, "ALTER TABLE b ADD COLUMN y TEXT;")])
    db = await open_database(tmp_path / "p.db", [first])
    try:
        assert await apply_migrations(db, [first, second]) == {"first": 1, "second": 2}
        assert await apply_migrations(db, [first, second]) == {"first": 1, "second": 2}
        assert [(p, v) for p, v, _ in await _records(db)] == [("first", 1), ("second", 1), ("second", 2)]
    finally:
        await db.close()


def test_the_application_migrates_every_package_that_owns_tables() -> None:
    packages = [schema.package for schema in SCHEMAS]
    assert packages == ["app", "tickets", "memory", "ticket_archive", "ticket_insights", "web", "ticket_care"]
