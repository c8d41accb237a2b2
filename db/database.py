"""One SQLite connection (WAL) shared by the whole process, and the lock every statement takes.

The bot shares ONE connection in autocommit mode. An explicit transaction on it (`transaction()`)
includes every statement sent while it is open, whichever coroutine sent it, so every access goes
through `Database` (`run`, `fetchone`, `fetchall`, `transaction`), which takes the connection's
`DbLock`: other coroutines wait until the transaction commits or rolls back.

Stores receive a `Database`, never the raw connection, so the engine behind it can change without
touching them: `db.postgres.PgDatabase` is the same interface on PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from db.dialect import storable

log = logging.getLogger(__name__)

# Positional (`?`) or named (`:name`) parameters.
Params = Sequence[object] | Mapping[str, object]
Row = aiosqlite.Row


def utc_iso(moment: datetime | None = None) -> str:
    """Timestamps are stored as ISO-8601 UTC text so they sort and compare as strings."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def quote_name(name: str) -> str:
    """A table or column name as an SQL identifier (both engines quote with double quotes)."""
    return '"' + name.replace('"', '""') + '"'


def database_size(path: Path) -> int:
    """Bytes on disk, including the WAL and shared-memory files."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


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


class Database:
    """The connection, its lock, and the only ways to send SQL through it."""

    engine = "sqlite"  # db.postgres.PgDatabase: "postgresql"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self.lock = DbLock()

    @classmethod
    async def connect(cls, path: str | Path) -> Database:
        """Open (creating if needed) the database file, without touching its schema
        (`db.migrations.open_database` opens and migrates)."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a migration and its
        # version record land together or not at all.
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        db = cls(connection)
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000"):
            await db.run(pragma)
        return db

    async def close(self) -> None:
        await self.connection.close()

    @property
    def in_transaction(self) -> bool:
        return self.connection.in_transaction

    async def create_function(self, name: str, arity: int, func: Callable[..., Any]) -> None:
        """A Python function that SQL (e.g. a migration) may call."""
        await self.connection.create_function(name, arity, func, deterministic=True)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an `INSERT … RETURNING id` and return the new row's id (portable, unlike lastrowid)."""
        row = await self.fetchone(sql, params)
        if row is None:
            raise RuntimeError(f"the INSERT returned no id: {sql}")
        return int(row[0])

    async def run(self, sql: str, params: Params = ()) -> None:
        """Execute one statement under the lock, reading it to the end.

        A statement left unread (e.g. a PRAGMA result) stays "in progress", and SQLite then refuses
        to COMMIT an explicit transaction. `execute_fetchall` executes and reads in one trip to
        aiosqlite's thread (a cursor costs three: execute, fetch, close).
        """
        async with self.lock:
            await self.connection.execute_fetchall(sql, storable(params))

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Many rows into one table, the fastest way the engine has (here executemany; PostgreSQL: COPY)."""
        names = ", ".join(quote_name(c) for c in columns)
        sql = f"INSERT INTO {quote_name(table)} ({names}) VALUES ({', '.join('?' * len(columns))})"
        async with self.lock:
            await self.connection.executemany(sql, [storable(row) for row in rows])

    async def run_rowcount(self, sql: str, params: Params = ()) -> int:
        """Like `run`, but returns how many rows the statement changed."""
        async with self.lock, self.connection.execute(sql, storable(params)) as cur:
            await cur.fetchall()
            return cur.rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self.lock:
            rows = list(await self.connection.execute_fetchall(sql, storable(params)))
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.lock:
            return list(await self.connection.execute_fetchall(sql, storable(params)))

    async def batch(
        self, steps: Sequence[tuple[str, Params]], *, write: bool = True, only_if: tuple[str, Params] | None = None
    ) -> list[list[Row]]:
        """Several statements in ONE trip to the database thread; returns each one's rows.

        `write=True`: in one transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error), or in the
        caller's own if one is open. `write=False`: reads, in one deferred transaction so they see one
        state of the database. A ticket message used to cost a trip (and, for a write, a commit and its
        fsync) per statement, each waiting its turn for the connection's lock during a burst.

        `only_if`: a query run first, in the same transaction: if it finds no row, no step runs and the batch
        returns `[]`. Write transactions run one at a time (here and on PostgreSQL), so what it saw still holds
        when the steps write: a decision taken long before (e.g. to answer a ticket) is checked at the write.

        The whole transaction runs inside the thread's one call, so a cancelled caller cannot leave it
        open. aiosqlite has no public way to run a function on its thread: this uses `_execute`, which
        its own helpers use (aiosqlite is pinned in requirements.txt; tests/unit/db cover it).
        """

        def run_all(conn: sqlite3.Connection) -> list[list[Row]]:
            own = not conn.in_transaction
            if own:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                allowed = only_if is None or bool(conn.execute(only_if[0], storable(only_if[1])).fetchall())
                results = [conn.execute(sql, storable(params)).fetchall() for sql, params in steps] if allowed else []
                if own:
                    conn.execute("COMMIT")
            except BaseException:
                if own and conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return results

        async with self.lock:
            return await self.connection._execute(run_all, self.connection._conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
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
        async with self.lock:
            try:
                await self._settled("BEGIN IMMEDIATE")
                yield
                await self._settled("COMMIT")
            except BaseException:
                if self.connection.in_transaction:
                    try:
                        await self._settled("ROLLBACK")
                    except Exception:
                        log.exception("ROLLBACK failed")
                raise

    async def _settled(self, sql: str) -> None:
        """Run a transaction-control statement to the end even if the caller is cancelled meanwhile.

        Once handed to aiosqlite's thread a statement runs whether or not anyone still awaits it;
        cancelling the wait would leave `in_transaction` telling the state before it. So the
        statement runs in its own task, awaited until done; a cancellation received meanwhile is
        raised afterwards. The caller holds the lock, so the statement is sent without it (the lock
        is per task: the helper task would wait for it forever).
        """

        async def execute() -> None:
            async with self.connection.execute(sql) as cur:
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
