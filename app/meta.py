"""Small facts about this installation kept in the database (e.g. the hash of the last synced commands)."""

from __future__ import annotations

from db.database import Database
from db.migrations import Migration, Schema

MIGRATIONS: list[Migration] = [
    (
        1,
        """
        -- Small process facts, e.g. the hash of the last synced slash-command tree.
        CREATE TABLE bot_meta (
            key    TEXT PRIMARY KEY,
            value  TEXT NOT NULL
        );
        """,
    ),
]

SCHEMA = Schema("app", MIGRATIONS)


class BotMeta:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        row = await self.db.fetchone("SELECT value FROM bot_meta WHERE key = :key", {"key": key})
        return row[0] if row else None

    async def set(self, key: str, value: str) -> None:
        await self.db.run(
            "INSERT INTO bot_meta (key, value) VALUES (:key, :value) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {"key": key, "value": value},
        )
