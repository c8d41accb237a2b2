"""Opening the SQLite database (WAL) and applying the numbered migrations."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from memory.migrations import MIGRATIONS

log = logging.getLogger(__name__)


def utc_iso(moment: datetime | None = None) -> str:
    """Timestamps are stored as ISO-8601 UTC text so they sort and compare as strings."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


async def open_database(path: str | Path) -> aiosqlite.Connection:
    """Open (creating if needed) the database file and bring its schema up to date."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so a migration and its
    # version record land together or not at all.
    db = await aiosqlite.connect(path, isolation_level=None)
    db.row_factory = aiosqlite.Row
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"):
        await run(db, pragma)
    await apply_migrations(db)
    return db


async def run(db: aiosqlite.Connection, sql: str, params: tuple[object, ...] = ()) -> int:
    """Execute one statement and close its cursor at once; returns lastrowid.

    A cursor left open (e.g. an unread PRAGMA result) keeps a statement "in progress",
    and SQLite then refuses to COMMIT an explicit transaction.
    """
    async with db.execute(sql, params) as cur:
        await cur.fetchall()
        return cur.lastrowid or 0


async def apply_migrations(db: aiosqlite.Connection) -> int:
    """Apply pending migrations; returns the schema version afterwards."""
    await run(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    async with db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
        (current,) = await cur.fetchone()
    for version, sql in MIGRATIONS:
        if version <= current:
            continue
        await run(db, "BEGIN")
        try:
            for statement in _split_sql(sql):
                await run(db, statement)
            await run(db, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, utc_iso()))
            await run(db, "COMMIT")
        except Exception:
            await run(db, "ROLLBACK")
            raise
        log.info("Applied database migration %d", version)
        current = version
    return current


def _split_sql(script: str) -> list[str]:
    # executescript() would COMMIT our open transaction, so statements run one by one.
    statements, buf = [], []
    for line in script.splitlines():
        code = line.split("--", 1)[0]
        buf.append(code)
        if code.rstrip().endswith(";"):
            stmt = "\n".join(buf).strip()
            if stmt.strip(";").strip():
                statements.append(stmt)
            buf = []
    tail = "\n".join(buf).strip()
    if tail:
        statements.append(tail)
    return statements
