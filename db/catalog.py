"""What a database holds, read from its own catalog (sqlite_master and pragmas, or PostgreSQL's pg_catalog and
information_schema): its tables, their columns, primary keys, foreign keys and id sequences. For copying a
database (db/copy.py); knows no table of the application's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from db.database import Database
from db.database import quote_name as _q

# Never copied: each database's migrations record themselves; `schema_version` is the old single list of
# versions, adopted into schema_migrations when a SQLite database was opened (db/migrations.py).
SKIPPED = frozenset({"schema_migrations", "schema_version"})
# Shadow tables SQLite keeps for a full-text (FTS3/4/5) virtual table `name`: `name_data`, `name_idx`, …
_FTS_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config", "_segments", "_segdir", "_stat")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key: rows are read in its order
    parents: frozenset[str] = frozenset()  # tables its foreign keys point at
    serial: str | None = None  # the column an identity / AUTOINCREMENT sequence numbers


async def tables_of(db: Database) -> dict[str, Table]:
    """The tables to copy (or copied into), by name, read from the database's own catalog."""
    return await (_pg_tables(db) if db.engine == "postgresql" else _sqlite_tables(db))


async def _sqlite_tables(db: Database) -> dict[str, Table]:
    rows = await db.fetchall("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    shadows = {f"{name}{suffix}" for name in virtual for suffix in _FTS_SHADOWS}
    tables: dict[str, Table] = {}
    for name, sql in rows:
        if name.startswith("sqlite_") or name in SKIPPED or name in virtual or name in shadows:
            continue
        info = await db.fetchall("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", (name,))
        key = tuple(col for col, pk in sorted((r for r in info if r[1]), key=lambda r: r[1]))
        fks = await db.fetchall('SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)', (name,))
        serial = key[0] if len(key) == 1 and "AUTOINCREMENT" in (sql or "").upper() else None
        tables[name] = Table(
            name, tuple(r[0] for r in info), key or ("rowid",), frozenset(r[0] for r in fks) - {name}, serial
        )
    return tables


async def _pg_tables(db: Database) -> dict[str, Table]:
    columns = await db.fetchall(
        "SELECT table_name, column_name, is_identity, column_default FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    keys = await db.fetchall(
        "SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON TRUE "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        "WHERE i.indisprimary AND n.nspname = current_schema() ORDER BY c.relname, k.position"
    )
    fks = await db.fetchall(
        "SELECT c.relname, p.relname FROM pg_constraint f JOIN pg_class c ON c.oid = f.conrelid "
        "JOIN pg_class p ON p.oid = f.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE f.contype = 'f' AND n.nspname = current_schema()"
    )
    names = {r[0] for r in await db.fetchall("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    tables: dict[str, Table] = {}
    for name in sorted(names - SKIPPED):
        cols = [r for r in columns if r[0] == name]
        serial = [r[1] for r in cols if r[2] == "YES" or str(r[3] or "").startswith("nextval(")]
        tables[name] = Table(
            name,
            tuple(r[1] for r in cols),
            tuple(r[1] for r in keys if r[0] == name) or ("ctid",),
            frozenset(r[1] for r in fks if r[0] == name) - {name},
            serial[0] if len(serial) == 1 else None,
        )
    return tables


def copy_order(tables: Sequence[Table]) -> list[Table]:
    """Parents before the tables that reference them (ties by name); a cycle keeps its tables in name order."""
    pending = {t.name: t for t in tables}
    ordered: list[Table] = []
    while pending:
        ready = sorted(name for name, table in pending.items() if not table.parents & pending.keys())
        for name in ready or [min(pending)]:
            ordered.append(pending.pop(name))
    return ordered


# --- sequences -----------------------------------------------------------------------------------------------


async def high_water(db: Database, table: Table) -> int:
    """The largest id the database ever gave out in `table` (its rows' largest, or a deleted one's)."""
    if table.serial is None:
        return 0
    row = await db.fetchone(f"SELECT MAX({_q(table.serial)}) FROM {_q(table.name)}")
    largest = int(row[0]) if row and row[0] is not None else 0
    if db.engine == "postgresql":
        seq = await db.fetchone(
            "SELECT s.last_value FROM pg_sequences s "
            "WHERE format('%I.%I', s.schemaname, s.sequencename) = pg_get_serial_sequence(?, ?)",
            (table.name, table.serial),
        )
    else:
        seq = await db.fetchone("SELECT seq FROM sqlite_sequence WHERE name = ?", (table.name,))
    return max(largest, int(seq[0]) if seq and seq[0] is not None else 0)


async def continue_ids(db: Database, table: Table, high_water: int) -> None:
    """Let the target give out ids after `high_water` in `table`."""
    if table.serial is None:
        return
    if db.engine == "postgresql":
        # setval(…, 1, false): an empty table's next id is 1 again (after --replace of a used database too).
        await db.run(
            "SELECT setval(pg_get_serial_sequence(?, ?), ?, ?)",
            (table.name, table.serial, max(high_water, 1), high_water > 0),
        )
        return
    changed = await db.run_rowcount("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (high_water, table.name))
    if not changed and high_water:
        await db.run("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table.name, high_water))
