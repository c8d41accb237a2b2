"""The migration runner: each package's numbered migrations, applied in a fixed order of packages.

A package describes its tables as a `Schema`: its name, its migrations (append only; never edit one
that has shipped) and the Python functions its SQL may call. Each migration is applied together with
its record in `schema_migrations` (one row per package and version) in one transaction.

Databases created before the migrations were split by package carry one list of versions in
`schema_version`; `legacy` says which (package, version) records each of those stands for, so such a
database upgrades without re-applying anything. `schema_version` itself is left as it was.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.database import Database, utc_iso
from db.dialect import ddl_for_postgres

log = logging.getLogger(__name__)

Migration = tuple[int, str]
LegacyVersions = Mapping[int, Sequence[tuple[str, int]]]


class EngineSql(str):
    """A migration's SQLite text that PostgreSQL runs differently (`postgresql`), or not at all (None).

    Only for what cannot be written once: SQLite-only features (FTS5, Python functions over existing rows).
    A str, so a migration stays `(version, sql)` and SQLite runs exactly the text it always ran.
    """

    postgresql: str | None
    reason: str

    def __new__(cls, sqlite: str, *, postgresql: str | None, reason: str) -> EngineSql:
        self = super().__new__(cls, sqlite)
        self.postgresql, self.reason = postgresql, reason
        return self


def sqlite_only(sql: str, *, reason: str) -> EngineSql:
    """A migration PostgreSQL records as applied without running it (say why in `reason`)."""
    return EngineSql(sql, postgresql=None, reason=reason)


@dataclass(frozen=True)
class Schema:
    package: str
    migrations: Sequence[Migration]
    # SQL functions the migrations call, e.g. to recompute a key stored in rows.
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


async def connect(target: str | Path) -> Database:
    """A PostgreSQL database for a `postgresql://` URL, else the SQLite file at `target`."""
    from db.postgres import PgDatabase, is_postgres_url

    if is_postgres_url(target):
        return await PgDatabase.connect_url(str(target))
    return await Database.connect(target)


async def open_database(
    path: str | Path, schemas: Sequence[Schema], *, legacy: LegacyVersions | None = None
) -> Database:
    """Open (creating if needed) the database (a SQLite file, or a `postgresql://` URL) and bring the given
    packages' tables up to date."""
    db = await connect(path)
    try:
        await apply_migrations(db, schemas, legacy=legacy)
    except BaseException:
        await db.close()
        raise
    return db


async def apply_migrations(
    db: Database, schemas: Sequence[Schema], *, legacy: LegacyVersions | None = None
) -> dict[str, int]:
    """Apply pending migrations, package by package in the order given; returns each package's version.

    On PostgreSQL everything runs in ONE transaction (its DDL is transactional) holding the write lock, so
    processes starting together on one database migrate it once, one after the other.
    """
    postgres = db.engine == "postgresql"
    async with db.transaction() if postgres else contextlib.nullcontext():
        return await _apply(db, schemas, legacy=None if postgres else legacy)


@contextlib.asynccontextmanager
async def _migration_transaction(db: Database) -> AsyncIterator[None]:
    if db.in_transaction:  # PostgreSQL: the whole run is one transaction
        yield
        return
    async with db.transaction():
        yield


async def _apply(db: Database, schemas: Sequence[Schema], *, legacy: LegacyVersions | None) -> dict[str, int]:
    postgres = db.engine == "postgresql"
    await db.run(
        _ddl(
            db,
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " package TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,"
            " PRIMARY KEY (package, version))",
        )
    )
    # A PostgreSQL database was never migrated by the old single list: it has nothing to adopt.
    if legacy:
        await _adopt_legacy_versions(db, legacy)
    versions: dict[str, int] = {}
    for schema in schemas:
        for name, func in schema.functions.items():
            await db.create_function(name, 1, func)
        row = await db.fetchone(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE package = ?", (schema.package,)
        )
        current = row[0] if row else 0
        for version, sql in schema.migrations:
            if version <= current:
                continue
            if postgres and isinstance(sql, EngineSql):
                sql = sql.postgresql or ""
                log.debug("Migration %s %d differs on PostgreSQL", schema.package, version)
            async with _migration_transaction(db):
                for statement in split_sql(sql):
                    await db.run(_ddl(db, statement))
                await db.run(
                    "INSERT INTO schema_migrations (package, version, applied_at) VALUES (?, ?, ?)",
                    (schema.package, version, utc_iso()),
                )
            log.info("Applied database migration %s %d", schema.package, version)
            current = version
        versions[schema.package] = current
    return versions


def _ddl(db: Database, statement: str) -> str:
    return ddl_for_postgres(statement) if db.engine == "postgresql" else statement


async def _adopt_legacy_versions(db: Database, legacy: LegacyVersions) -> None:
    """Record what a database migrated by the old single list already has (once, in one transaction)."""
    exists = await db.fetchone("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    if exists is None:
        return
    async with db.transaction():
        if await db.fetchone("SELECT 1 FROM schema_migrations LIMIT 1") is not None:
            return  # adopted already
        for (old_version,) in await db.fetchall("SELECT version FROM schema_version ORDER BY version"):
            for package, version in legacy.get(old_version, ()):
                await db.run(
                    "INSERT INTO schema_migrations (package, version, applied_at) "
                    "SELECT ?, ?, applied_at FROM schema_version WHERE version = ?",
                    (package, version, old_version),
                )
        log.info("Adopted the database's schema versions by package")


def split_sql(script: str) -> list[str]:
    """The statements of a migration script, comments removed.

    executescript() would COMMIT our open transaction, so statements run one by one.
    """
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
