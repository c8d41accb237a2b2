"""SQL for suggestions: Q&A pairs and alternate phrasings proposed from tickets, awaiting staff."""

from __future__ import annotations

import logging

from db.database import Database, utc_iso
from memory.models import Entry, Suggestion
from memory.text import normalise

log = logging.getLogger(__name__)

_COLUMNS = (
    "id, guild_id, kind, entry_id, ticket_id, query, response, category, status, created_at, decided_by, decided_at"
)


async def insert(
    db: Database,
    guild_id: int,
    kind: str,
    entry_id: int | None,
    ticket_id: int | None,
    query: str,
    response: str | None,
    category: str | None,
) -> int:
    return await db.insert(
        "INSERT INTO suggestions (guild_id, kind, entry_id, ticket_id, query, response, category, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (guild_id, kind, entry_id, ticket_id, query, response, category, utc_iso()),
    )


async def propose_alternate(db: Database, entry: Entry, phrasing: str, ticket_id: int | None) -> int | None:
    """A pending alternate for `entry`, unless the wording is already known or already pending.

    "Known" compares matching forms (`normalise`), not identities: an alternate only helps matching,
    and users' wordings that differ only by an order number would otherwise each ask staff again.
    """
    phrasing = phrasing[:300]
    norm = normalise(phrasing)
    known = {normalise(text) for text in (entry.query, *entry.alternates)}
    if not norm or norm in known:
        return None
    pending = await db.fetchall(
        "SELECT query FROM suggestions "
        "WHERE guild_id = ? AND kind = 'alternate' AND entry_id = ? AND status = 'pending'",
        (entry.guild_id, entry.id),
    )
    if any(normalise(row["query"]) == norm for row in pending):
        return None
    return await insert(db, entry.guild_id, "alternate", entry.id, ticket_id, phrasing, None, entry.category)


async def get(db: Database, guild_id: int, suggestion_id: int) -> Suggestion | None:
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM suggestions WHERE guild_id = ? AND id = ?", (guild_id, suggestion_id)
    )
    return None if row is None else Suggestion(**dict(row))


async def fetch(db: Database, guild_id: int, status: str, offset: int, limit: int) -> list[Suggestion]:
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM suggestions WHERE guild_id = ? AND status = ? ORDER BY id LIMIT ? OFFSET ?",
        (guild_id, status, limit, offset),
    )
    return [Suggestion(**dict(row)) for row in rows]


async def decide(db: Database, suggestion_id: int, status: str, by: int) -> None:
    await db.run(
        "UPDATE suggestions SET status = ?, decided_by = ?, decided_at = ? WHERE id = ?",
        (status, by, utc_iso(), suggestion_id),
    )


async def claim(db: Database, suggestion_id: int, status: str, by: int) -> bool:
    """Decide a pending suggestion, if it still is: one statement, so of two staff (or two processes) deciding at
    once exactly one gets True and acts on it."""
    changed = await db.run_rowcount(
        "UPDATE suggestions SET status = ?, decided_by = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
        (status, by, utc_iso(), suggestion_id),
    )
    return changed == 1


async def unclaim(db: Database, suggestion_id: int) -> None:
    """Back to pending: what the claim was for failed (e.g. the edited answer was refused)."""
    await db.run(
        "UPDATE suggestions SET status = 'pending', decided_by = NULL, decided_at = NULL WHERE id = ?",
        (suggestion_id,),
    )
