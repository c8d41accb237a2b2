"""The PostgreSQL backend: the same `Database` methods on an asyncpg pool (DATABASE_URL=postgresql://…).

Stores call `run`, `fetchone`, `batch`, `transaction`… and never learn which engine answers. The SQL is the
same text as on SQLite; `db.dialect.bind` turns its `?`/`:name` parameters into asyncpg's `$n`.
asyncpg directly, not SQLAlchemy: its async layer cost 2–3× per transaction here (research for issue 12)
and our statements need no query builder.

How the SQLite semantics carry over:
- `transaction()` is one real transaction on one pooled connection; the task's statements inside it use that
  connection (a context variable, checked against the task so a task started inside does not share it).
  Statements outside a transaction take any pooled connection: no process-wide lock.
- Write transactions (`transaction()`, `batch(write=True)`) queue on an asyncio lock in the process, then take
  one transaction-scoped advisory lock,
  so they run one at a time across every process on the database, as SQLite's single writer
  (BEGIN IMMEDIATE) did: a read-then-write inside one (a limit check, a counter) cannot interleave with
  another. Reads and single statements do not take it.
- `batch(write=False)` reads in one REPEATABLE READ snapshot, like SQLite's deferred transaction.
- Rows are asyncpg Records: `row["x"]`, `row[0]`, `dict(row)`, `row.keys()`, unpacking, as aiosqlite.Row.
  NUMERIC results (SUM of BIGINT, AVG) come back as int when whole, else float, as SQLite gives them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg

from db.database import Database, Params, Row
from db.dialect import bind, storable

log = logging.getLogger(__name__)

# The key of the advisory lock every write transaction takes ("tkbt" in ASCII): one writer at a time.
WRITE_LOCK_KEY = 0x746B6274


def _numeric(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eEnN") else int(text)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class PgDatabase(Database):
    """A `Database` on PostgreSQL. Shares the SQLite class's interface (stores are typed with `Database`)."""

    engine = "postgresql"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url
        # This process's write transactions queue here, not on pooled connections: one waiting for the database's
        # write lock would hold a connection that reads could use (a burst of writers used to starve them).
        self._writer = asyncio.Lock()
        # (owning task, connection) of the transaction open in this context, if any.
        self._tx: ContextVar[tuple[asyncio.Task[Any] | None, asyncpg.Connection] | None] = ContextVar(
            f"pg_tx_{id(self)}", default=None
        )

    @classmethod
    async def connect_url(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PgDatabase:
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, init=_init_connection)
        assert pool is not None
        return cls(pool, url)

    async def close(self) -> None:
        await self.pool.close()

    def _own(self) -> asyncpg.Connection | None:
        held = self._tx.get()
        if held is not None and held[0] is asyncio.current_task():
            return held[1]
        return None

    @property
    def in_transaction(self) -> bool:
        return self._own() is not None

    async def create_function(self, name: str, arity: int, func: Callable[..., Any]) -> None:
        """PostgreSQL cannot call Python: migrations that need a function are SQLite-only (db/migrations.py)."""

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        own = self._own()
        if own is not None:
            yield own
            return
        async with self.pool.acquire() as conn:
            yield conn

    async def run(self, sql: str, params: Params = ()) -> None:
        text, args = bind(sql, params)
        async with self._connection() as conn:
            await conn.execute(text, *args) if args else await conn.execute(text)

    async def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """COPY: 6× the rows per second of multi-row INSERTs here (copying a database, db/copy.py)."""
        async with self._connection() as conn:
            records = [storable(row) for row in rows]
            await conn.copy_records_to_table(table, columns=list(columns), records=records)

    async def run_rowcount(self, sql: str, params: Params = ()) -> int:
        text, args = bind(sql, params)
        async with self._connection() as conn:
            status = await conn.execute(text, *args)
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        text, args = bind(sql, params)
        async with self._connection() as conn:
            return await conn.fetchrow(text, *args)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        text, args = bind(sql, params)
        async with self._connection() as conn:
            return list(await conn.fetch(text, *args))

    async def batch(
        self, steps: Sequence[tuple[str, Params]], *, write: bool = True, only_if: tuple[str, Params] | None = None
    ) -> list[list[Row]]:
        """Several statements in one transaction (the caller's if one is open); returns each one's rows.
        `only_if`: as in `Database.batch` (checked under the write lock, so no other process writes in between)."""
        bound = [bind(sql, params) for sql, params in steps]
        guard = bind(*only_if) if only_if is not None else None

        async def run_all(conn: asyncpg.Connection) -> list[list[Row]]:
            if guard is not None and not await conn.fetch(guard[0], *guard[1]):
                return []
            return [list(await conn.fetch(text, *args)) for text, args in bound]

        own = self._own()
        if own is not None:
            return await run_all(own)
        if write:
            async with self._writer, self.pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
                return await run_all(conn)
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            return await run_all(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One transaction on one pooled connection, holding the write lock: COMMIT, or ROLLBACK on any exception
        or cancellation (asyncpg's pool also rolls back a connection released mid-transaction)."""
        if self._own() is not None:
            raise RuntimeError("a transaction is already open in this task")
        async with self._writer, self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
            token = self._tx.set((asyncio.current_task(), conn))
            try:
                yield
            finally:
                self._tx.reset(token)
