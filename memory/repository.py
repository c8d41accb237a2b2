"""SQL for trained entries, their phrasings and embeddings. No caching, no search: plain rows in and out."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from db.database import Database, Row, utc_iso
from memory.models import Entry
from memory.text import identity_key
from memory.vectors import to_blob

log = logging.getLogger(__name__)

# entry_phrasings.is_primary: 0 an alternate, 1 the primary question, 2 the entry's answer (embedded
# like a phrasing, never a question: not in alternates, not an identity, not in the lexical index),
# 3 a phrasing the model proposed (memory/generated.py: searched like an alternate, listed apart).
ANSWER_KIND = 2
GENERATED_KIND = 3
ALTERNATE_KIND = 0

ENTRY_COLUMNS = "id, guild_id, query, response, category, created_by, created_at, updated_at, usage_count, confidence"


@dataclass
class PhrasingRow:
    id: int
    entry_id: int
    text: str
    is_primary: bool
    model: str | None
    vector: bytes | None
    is_answer: bool = False
    is_generated: bool = False


def entry_from_row(row: Row, alternates: list[str], generated: list[str] | None = None) -> Entry:
    return Entry(
        id=row["id"],
        guild_id=row["guild_id"],
        query=row["query"],
        response=row["response"],
        category=row["category"],
        alternates=alternates,
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        usage_count=row["usage_count"],
        confidence=row["confidence"],
        generated=generated or [],
    )


async def fetch_entries(db: Database, guild_id: int, where: str = "", params: tuple = ()) -> list[Entry]:
    sql = f"SELECT {ENTRY_COLUMNS} FROM trained_entries WHERE guild_id = ? {where}"
    rows = await db.fetchall(sql, (guild_id, *params))
    alternates, generated = await _alternates(db, [row["id"] for row in rows])
    return [entry_from_row(row, alternates.get(row["id"], []), generated.get(row["id"], [])) for row in rows]


async def _alternates(db: Database, entry_ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Staff's alternates and the generated phrasings of each entry, in the order they were added."""
    found: dict[int, list[str]] = {}
    generated: dict[int, list[str]] = {}
    # SQLite limits bound parameters per statement; chunk the id list.
    for start in range(0, len(entry_ids), 500):
        chunk = entry_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        sql = (
            "SELECT entry_id, text, is_primary FROM entry_phrasings "
            f"WHERE is_primary IN (0, {GENERATED_KIND}) AND entry_id IN ({marks}) ORDER BY id"
        )
        for row in await db.fetchall(sql, chunk):
            into = generated if row["is_primary"] == GENERATED_KIND else found
            into.setdefault(row["entry_id"], []).append(row["text"])
    return found, generated


async def fetch_entry_rows(db: Database, guild_id: int) -> list[Row]:
    """Every entry of the guild as raw rows (`entry_from_row` makes them entries): a whole guild is read
    to build its index, and that conversion belongs off the event loop (memory/loading.py)."""
    return await db.fetchall(f"SELECT {ENTRY_COLUMNS} FROM trained_entries WHERE guild_id = ? ORDER BY id", (guild_id,))


async def fetch_phrasing_rows(db: Database, guild_id: int) -> list[Row]:
    """Every phrasing of the guild (alternates and answers too), without vectors (`fetch_vector_rows`), as raw
    rows ordered by id."""
    return await db.fetchall(
        "SELECT id, entry_id, text, is_primary FROM entry_phrasings WHERE guild_id = ? ORDER BY id", (guild_id,)
    )


def _vector_filter(answers: bool) -> str:
    return f"p.is_primary {'=' if answers else '!='} {ANSWER_KIND}"


async def count_vectors(db: Database, guild_id: int, model: str, *, answers: bool) -> int:
    """How many vectors of `model` the guild's answers (else its other phrasings) have stored."""
    row = await db.fetchone(
        "SELECT COUNT(*) FROM embeddings e JOIN entry_phrasings p ON p.id = e.phrasing_id "
        f"WHERE p.guild_id = ? AND e.model = ? AND {_vector_filter(answers)}",
        (guild_id, model),
    )
    return int(row[0]) if row else 0


async def fetch_vector_rows(
    db: Database, guild_id: int, model: str, *, answers: bool, after: int, limit: int
) -> list[Row]:
    """(phrasing id, vector) of `model` of the guild's answers (else other phrasings) with ids above `after`, by
    id, at most `limit`: a guild's vectors are read in chunks, never all their rows at once (46 MB of blobs and
    30,000 rows at 10,000 entries, which the allocator kept long after they were freed)."""
    # Walked by phrasing id (`+p.guild_id` keeps SQLite off the guild's index, which would read and sort all the
    # guild's phrasings for every chunk: 0.5-0.9 s each at 10,000 entries, against 15-30 ms).
    return await db.fetchall(
        "SELECT p.id, e.vector FROM entry_phrasings p JOIN embeddings e ON e.phrasing_id = p.id "
        f"WHERE +p.guild_id = ? AND e.model = ? AND {_vector_filter(answers)} AND p.id > ? ORDER BY p.id LIMIT ?",
        (guild_id, model, after, limit),
    )


async def fetch_phrasings(db: Database, guild_id: int, entry_id: int | None = None) -> list[PhrasingRow]:
    sql = (
        "SELECT p.id, p.entry_id, p.text, p.is_primary, e.model, e.vector FROM entry_phrasings p "
        "LEFT JOIN embeddings e ON e.phrasing_id = p.id WHERE p.guild_id = ?"
    )
    params: tuple = (guild_id,)
    if entry_id is not None:
        sql += " AND p.entry_id = ?"
        params += (entry_id,)
    rows = await db.fetchall(sql + " ORDER BY p.id", params)
    return [
        PhrasingRow(
            r["id"],
            r["entry_id"],
            r["text"],
            r["is_primary"] == 1,
            r["model"],
            r["vector"],
            r["is_primary"] == ANSWER_KIND,
            r["is_primary"] == GENERATED_KIND,
        )
        for r in rows
    ]


async def insert_entry(
    db: Database, guild_id: int, query: str, response: str, category: str, created_by: int | None
) -> int:
    now = utc_iso()
    return await db.insert(
        "INSERT INTO trained_entries (guild_id, query, response, category, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (guild_id, query, response, category, created_by, now, now),
    )


async def insert_phrasing(db: Database, guild_id: int, entry_id: int, text: str, primary: bool) -> int:
    return await db.insert(
        "INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (entry_id, guild_id, text, identity_key(text), int(primary)),
    )


async def insert_generated(db: Database, guild_id: int, entry_id: int, text: str) -> int:
    """Store a phrasing the model proposed for the entry (memory/generated.py); returns its id."""
    return await db.insert(
        "INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (entry_id, guild_id, text, identity_key(text), GENERATED_KIND),
    )


async def question_keys(db: Database, guild_id: int) -> set[str]:
    """The identities of every question phrasing of the guild (primary, alternates, generated)."""
    rows = await db.fetchall(
        "SELECT norm FROM entry_phrasings WHERE guild_id = ? AND is_primary != ?", (guild_id, ANSWER_KIND)
    )
    return {row["norm"] for row in rows}


async def mark_generated(db: Database, guild_id: int, entry_id: int, question_key: str, model: str) -> None:
    await db.run(
        "INSERT INTO phrasing_generation (entry_id, guild_id, question_key, model, generated_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO UPDATE SET "
        "question_key = excluded.question_key, model = excluded.model, generated_at = excluded.generated_at",
        (entry_id, guild_id, question_key, model, utc_iso()),
    )


async def generation_pending(
    db: Database, guild_id: int | None, limit: int, entry_id: int | None = None
) -> list[tuple[int, int]]:
    """(guild id, entry id) of entries whose current question has no generated phrasings yet, oldest first."""
    sql = (
        "SELECT e.guild_id, e.id FROM trained_entries e "
        "JOIN entry_phrasings p ON p.entry_id = e.id AND p.is_primary = 1 "
        "LEFT JOIN phrasing_generation g ON g.entry_id = e.id "
        "WHERE (g.entry_id IS NULL OR g.question_key != p.norm)"
    )
    params: tuple = ()
    if guild_id is not None:
        sql += " AND e.guild_id = ?"
        params = (guild_id,)
    if entry_id is not None:
        sql += " AND e.id = ?"
        params += (entry_id,)
    rows = await db.fetchall(sql + " ORDER BY e.id LIMIT ?", (*params, limit))
    return [(int(r[0]), int(r[1])) for r in rows]


async def insert_answer(db: Database, guild_id: int, entry_id: int, response: str) -> int:
    """Store an entry's answer as a row of the answer kind (to be embedded); returns its id."""
    return await db.insert(
        "INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary) "
        "VALUES (:entry_id, :guild_id, :text, '', :kind) RETURNING id",
        {"entry_id": entry_id, "guild_id": guild_id, "text": response, "kind": ANSWER_KIND},
    )


async def delete_phrasings(db: Database, phrasing_ids: Iterable[int]) -> None:
    # Explicit, not only ON DELETE CASCADE: stays correct even if foreign keys are off.
    for pid in phrasing_ids:
        await db.run("DELETE FROM embeddings WHERE phrasing_id = ?", (pid,))
        await db.run("DELETE FROM entry_phrasings WHERE id = ?", (pid,))


async def store_vectors(db: Database, model: str, vectors: dict[int, list[float]]) -> None:
    # A phrasing replaced or deleted while its vector was being computed is skipped (its row
    # would break the foreign key and fail the whole batch).
    for pid, vector in vectors.items():
        await db.run(
            "INSERT INTO embeddings (phrasing_id, model, dim, vector) "
            "SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM entry_phrasings WHERE id = ?) "
            "ON CONFLICT (phrasing_id) DO UPDATE SET "
            "model = excluded.model, dim = excluded.dim, vector = excluded.vector",
            (pid, model, len(vector), to_blob(vector), pid),
        )


async def entry_id_for_query(db: Database, guild_id: int, query: str) -> int | None:
    """The entry whose primary question is `query` (same `identity_key`): /train, /memory edit,
    suggestion approval and imports use it to update a known question instead of adding it twice."""
    key = identity_key(query)
    if not key:
        return None
    row = await db.fetchone(
        "SELECT entry_id FROM entry_phrasings WHERE guild_id = ? AND norm = ? AND is_primary = 1 "
        "ORDER BY entry_id LIMIT 1",
        (guild_id, key),
    )
    return None if row is None else int(row["entry_id"])


async def stale_phrasings(
    db: Database, model: str, guild_id: int | None, limit: int, after: int = 0
) -> list[tuple[int, int, int, str]]:
    """(phrasing id, entry id, guild id, text) of phrasings not embedded with `model`, the first `limit`
    with an id above `after`. Callers walk the table with `after` (keyset pagination): starting each
    batch from the beginning would step over every phrasing embedded so far, again and again."""
    sql = (
        "SELECT p.id, p.entry_id, p.guild_id, p.text FROM entry_phrasings p "
        "LEFT JOIN embeddings e ON e.phrasing_id = p.id WHERE p.id > ? AND (e.model IS NULL OR e.model != ?)"
    )
    params: tuple = (after, model)
    if guild_id is not None:
        # `+`: not through the (guild_id, norm) index, which made SQLite read and sort every phrasing of the
        # guild for each batch; the id range walks the table once, stepping over other guilds' rows.
        sql += " AND +p.guild_id = ?"
        params += (guild_id,)
    rows = await db.fetchall(sql + " ORDER BY p.id LIMIT ?", (*params, limit))
    return [(r[0], r[1], r[2], r[3]) for r in rows]


# PostgreSQL's notification channel of trained-memory writes (payload: the guild id).
CHANGES_CHANNEL = "memory_changes"


async def bump_changes(db: Database, guild_id: int) -> int:
    """Count one more write of the guild's trained memory (call inside the write's transaction);
    returns the new count.

    On PostgreSQL the same statement also sends `NOTIFY memory_changes, '<guild id>'`, delivered when the
    transaction commits (never for one rolled back): the other processes' listeners (memory/notify.py) poll at
    once instead of at their next round. SQLite has no such channel; there the periodic poll alone sees it."""
    if db.engine == "postgresql":
        row = await db.fetchone(
            "WITH bumped AS (INSERT INTO memory_changes (guild_id, counter) VALUES (?, 1) "
            "ON CONFLICT (guild_id) DO UPDATE SET counter = memory_changes.counter + 1 RETURNING counter) "
            f"SELECT counter, pg_notify('{CHANGES_CHANNEL}', ?) FROM bumped",
            (guild_id, str(guild_id)),
        )
    else:
        row = await db.fetchone(
            "INSERT INTO memory_changes (guild_id, counter) VALUES (?, 1) "
            "ON CONFLICT (guild_id) DO UPDATE SET counter = memory_changes.counter + 1 RETURNING counter",
            (guild_id,),
        )
    assert row is not None
    return int(row[0])


async def change_count(db: Database, guild_id: int) -> int:
    """How many writes the guild's trained memory has had, from any process (0 before the first)."""
    row = await db.fetchone("SELECT counter FROM memory_changes WHERE guild_id = ?", (guild_id,))
    return 0 if row is None else int(row[0])


async def change_counts(db: Database) -> dict[int, int]:
    """Every guild's change counter, in one query (memory/sync.py compares them with what is loaded)."""
    return {int(row[0]): int(row[1]) for row in await db.fetchall("SELECT guild_id, counter FROM memory_changes")}
