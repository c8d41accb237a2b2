"""Opening the SQLite database (WAL), the connection-wide lock, and the numbered migrations.

The bot shares ONE connection in autocommit mode. An explicit transaction on it
(``transaction()``) includes every statement sent while it is open, whichever
coroutine sent it, so every access goes through the helpers below (``run``,
``fetchone``, ``fetchall``, ``transaction``), which take the connection's
``DbLock``: other coroutines wait until the transaction commits or rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from memory.migrations import MIGRATIONS
from memory.text import identity_key

log = logging.getLogger(__name__)


def utc_iso(moment: datetime | None = None) -> str:
    """Timestamps are stored as ISO-8601 UTC text so they sort and compare as strings."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class DbLock:
    """An asyncio.Lock that the task holding it may take again (a transaction's own statements).

    Re-entrant per task only: work handed to another task while the lock is held would wait.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if self._owner is not None and self._owner is task:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    async def __aexit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


def lock_of(db: aiosqlite.Connection) -> DbLock:
    """The connection's lock (created on first use for connections not opened by open_database)."""
    lock = getattr(db, "_db_lock", None)
    if lock is None:
        lock = DbLock()
        db._db_lock = lock  # type: ignore[attr-defined]
    return lock


async def open_database(path: str | Path) -> aiosqlite.Connection:
    """Open (creating if needed) the database file and bring its schema up to date."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves so a migration and its
    # version record land together or not at all.
    db = await aiosqlite.connect(path, isolation_level=None)
    db.row_factory = aiosqlite.Row
    lock_of(db)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"):
        await run(db, pragma)
    await apply_migrations(db)
    return db


Params = Sequence[object]


async def run(db: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Execute one statement under the lock and close its cursor at once; returns lastrowid.

    A cursor left open (e.g. an unread PRAGMA result) keeps a statement "in progress",
    and SQLite then refuses to COMMIT an explicit transaction.
    """
    async with lock_of(db), db.execute(sql, params) as cur:
        await cur.fetchall()
        return cur.lastrowid or 0


async def run_rowcount(db: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Like `run`, but returns how many rows the statement changed."""
    async with lock_of(db), db.execute(sql, params) as cur:
        await cur.fetchall()
        return cur.rowcount


async def fetchone(db: aiosqlite.Connection, sql: str, params: Params = ()) -> aiosqlite.Row | None:
    async with lock_of(db), db.execute(sql, params) as cur:
        rows = list(await cur.fetchall())
    return rows[0] if rows else None


async def fetchall(db: aiosqlite.Connection, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
    async with lock_of(db), db.execute(sql, params) as cur:
        return list(await cur.fetchall())


@asynccontextmanager
async def transaction(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """BEGIN … COMMIT (ROLLBACK on any exception, cancellation included), holding the lock throughout.

    The connection runs in autocommit mode, so multi-row writes are wrapped explicitly to
    land together or not at all; holding the lock keeps other coroutines' statements out.
    BEGIN, COMMIT and ROLLBACK are part of the guarded region: whenever the block is left by an
    exception or a cancellation (even one that arrives while BEGIN or COMMIT is on its way), no
    transaction stays open for other coroutines' writes to land in.

    BEGIN IMMEDIATE takes SQLite's write lock at once, waiting up to the busy timeout while another
    process (a CLI import next to the bot) writes. A plain (deferred) BEGIN would read first and
    then have to upgrade to a writer; SQLite refuses that upgrade with "database is locked" at once,
    without waiting, because waiting could deadlock two such transactions.
    """
    async with lock_of(db):
        try:
            await _settled(db, "BEGIN IMMEDIATE")
            yield
            await _settled(db, "COMMIT")
        except BaseException:
            if db.in_transaction:
                try:
                    await _settled(db, "ROLLBACK")
                except Exception:
                    log.exception("ROLLBACK failed")
            raise


async def _settled(db: aiosqlite.Connection, sql: str) -> None:
    """Run a transaction-control statement to the end even if the caller is cancelled meanwhile.

    Once handed to aiosqlite's thread a statement runs whether or not anyone still awaits it;
    cancelling the wait would leave `db.in_transaction` telling the state before it. So the
    statement runs in its own task, awaited until done; a cancellation received meanwhile is
    raised afterwards. The caller holds the lock, so the statement is sent without it (the lock
    is per task: the helper task would wait for it forever).
    """

    async def execute() -> None:
        async with db.execute(sql) as cur:
            await cur.fetchall()

    task = asyncio.ensure_future(execute())
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait({task})
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not task.cancelled():
            task.exception()  # retrieved (the cancellation wins), so asyncio does not log it as lost
        raise asyncio.CancelledError
    task.result()


async def apply_migrations(db: aiosqlite.Connection) -> int:
    """Apply pending migrations; returns the schema version afterwards."""
    # Python functions the migrations' SQL may call (they recompute keys stored in rows).
    await db.create_function("identity_key", 1, identity_key, deterministic=True)
    await run(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    row = await fetchone(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version")
    current = row[0] if row else 0
    for version, sql in MIGRATIONS:
        if version <= current:
            continue
        async with transaction(db):
            for statement in _split_sql(sql):
                await run(db, statement)
            await run(db, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, utc_iso()))
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
