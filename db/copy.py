"""Copy every row of the bot's database to another one: SQLite → PostgreSQL to move a server over, or back
(PostgreSQL or SQLite → a SQLite file) for a backup or a test copy (`python bot.py db copy`, app/cli.py).

Both databases are opened and migrated by the caller with the application's own migrations; this module knows
no table. It reads both catalogs (db/catalog.py) and copies the tables they share:
- skipped: SQLite's own tables (sqlite_sequence, sqlite_stat1), full-text tables and their shadow tables (FTS5
  on SQLite is rebuilt by its triggers as rows arrive; PostgreSQL's GIN index on the messages' tsvector builds
  itself), and the migration records (each side's own migrations wrote them);
- in foreign-key order (parents first), in batches read by primary key (keyset, so a large table is never
  held in memory and never re-scanned from the start), keeping every id and value as it is (BLOB vectors
  stay bytes);
- ALL in ONE transaction on the target, row counts of source and target compared inside it before COMMIT:
  a failure, or a count that does not match, leaves the target as it was (migrated, no rows).
Afterwards ids continue past the source's high-water mark: PostgreSQL identity sequences and SQLite's
sqlite_sequence are set to the largest id the source ever gave out (a deleted last row's id included, so
an old button naming a deleted ticket never reaches a new one).

The bot must not run on either database meanwhile (the CLI holds the instance locks while copying).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from db.catalog import Table, continue_ids, copy_order, high_water, tables_of
from db.database import Database
from db.database import quote_name as _q

log = logging.getLogger(__name__)


class CopyRefused(Exception):
    """The copy cannot or may not start, or its check failed (nothing was written); the message says why."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int


@dataclass
class CopyReport:
    tables: list[TableCount] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # source tables the target's schema does not have

    @property
    def rows(self) -> int:
        return sum(t.target for t in self.tables)


def redact_url(url: str) -> str:
    """A database URL fit for output and logs: its password (in the address or as ?password=) replaced."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k.lower() == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def describe(target: object) -> str:
    """A database named for output: a SQLite path as it is, a URL without its password."""
    from db.postgres import is_postgres_url

    return redact_url(str(target)) if is_postgres_url(target) else str(target)


# --- the copy ------------------------------------------------------------------------------------------------


async def count_rows(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) FROM {_q(table)}")
    return int(row[0]) if row else 0


async def tables_with_rows(db: Database, tables: Sequence[str]) -> list[str]:
    return [t for t in tables if await db.fetchone(f"SELECT 1 FROM {_q(t)} LIMIT 1") is not None]


async def _applied(db: Database) -> set[tuple[str, int]]:
    return {(r[0], int(r[1])) for r in await db.fetchall("SELECT package, version FROM schema_migrations")}


async def plan(source: Database, target: Database) -> tuple[list[Table], list[str]]:
    """The tables to copy in order, and the source's tables the target has not (reported, not copied).

    Refuses when the source was migrated further than the target (a newer bot wrote it: its tables or columns
    would be lost), or when a shared table has a column the target lacks."""
    newer = sorted(await _applied(source) - await _applied(target))
    if newer:
        listed = ", ".join(f"{p} {v}" for p, v in newer)
        raise CopyRefused(
            f"The source has migrations this version of the bot does not know ({listed}): "
            "copy it with the bot version that wrote it."
        )
    source_tables, target_tables = await tables_of(source), await tables_of(target)
    shared: list[Table] = []
    for name, table in source_tables.items():
        into = target_tables.get(name)
        if into is None:
            continue
        missing = [c for c in table.columns if c not in into.columns]
        if missing:
            raise CopyRefused(f"The target's table {name} has no column {', '.join(missing)}.")
        # Read with the source's key, write with the target's sequence.
        shared.append(Table(name, table.columns, table.key, into.parents | table.parents, into.serial))
    return copy_order(shared), sorted(source_tables.keys() - target_tables.keys())


async def copy_database(
    source: Database,
    target: Database,
    *,
    replace: bool = False,
    batch_size: int = 1000,
    progress: Callable[[TableCount], None] | None = None,
) -> CopyReport:
    """Copy every shared table from `source` to `target` (both open and migrated) in one target transaction.

    Refuses (CopyRefused, nothing written) a target that already holds rows unless `replace`, which empties
    its tables first, inside the same transaction. `progress` hears of each table once it is copied.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order, skipped = await plan(source, target)
    target_tables = list(await tables_of(target))
    if not replace:
        filled = await tables_with_rows(target, target_tables)
        if filled:
            raise CopyRefused(
                f"The target already holds data (in {', '.join(filled)}). Copy into an empty database, "
                "or pass --replace to delete everything in it first."
            )
    report = CopyReport(skipped=skipped)
    async with target.transaction():
        if replace:
            by_name = await tables_of(target)
            for table in reversed(copy_order(list(by_name.values()))):
                await target.run(f"DELETE FROM {_q(table.name)}")
        for table in order:
            copied = await _copy_table(source, target, table, batch_size)
            await continue_ids(target, table, await high_water(source, table))
            count = TableCount(table.name, await count_rows(source, table.name), await count_rows(target, table.name))
            if count.source != count.target or count.target != copied:
                raise CopyRefused(
                    f"{table.name}: the source has {count.source} rows, {copied} were copied and the target has "
                    f"{count.target}; nothing was kept. Is the bot still running on the source?"
                )
            report.tables.append(count)
            if progress is not None:
                progress(count)
    log.info("Copied %d rows in %d tables", report.rows, len(report.tables))
    return report


async def _copy_table(source: Database, target: Database, table: Table, batch_size: int) -> int:
    """Copy one table's rows in batches read in primary-key order after the last key seen (keyset)."""
    columns = ", ".join(_q(c) for c in table.columns)
    key = ", ".join(_q(c) for c in table.key)
    width = len(table.columns)  # the key's values follow the columns in each row read
    first = f"SELECT {columns}, {key} FROM {_q(table.name)} ORDER BY {key} LIMIT {batch_size}"
    after = (
        f"SELECT {columns}, {key} FROM {_q(table.name)} WHERE ({key}) > ({', '.join('?' * len(table.key))}) "
        f"ORDER BY {key} LIMIT {batch_size}"
    )
    last: tuple[object, ...] | None = None
    copied = 0
    while True:
        rows = await source.fetchall(first if last is None else after, () if last is None else last)
        if not rows:
            return copied
        await target.insert_rows(table.name, table.columns, [tuple(row)[:width] for row in rows])
        copied += len(rows)
        last = tuple(rows[-1])[width:]
        if len(rows) < batch_size:
            return copied


def hide_passwords(text: str, databases: Sequence[str]) -> str:
    """`text` (e.g. an error message) with the password of each database URL among `databases` replaced."""
    for database in databases:
        password = urlsplit(database).password if "://" in database else None
        for form in {password, unquote(password or "")} - {None, ""}:  # as written, and %-decoded
            text = text.replace(str(form), "***")
    return text
