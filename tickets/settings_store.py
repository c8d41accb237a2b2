"""SQL for per-server settings (`server_settings`: one row per server and key that was set)."""

from __future__ import annotations

from datetime import datetime

from db.database import Database, utc_iso


class SettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def values(self, guild_id: int) -> dict[str, str]:
        rows = await self.db.fetchall(
            "SELECT key, value FROM server_settings WHERE guild_id = :guild_id", {"guild_id": guild_id}
        )
        return {row["key"]: row["value"] for row in rows}

    async def put(self, guild_id: int, key: str, value: str, *, by: int, now: datetime) -> None:
        await self.db.run(
            """INSERT INTO server_settings (guild_id, key, value, updated_by, updated_at)
               VALUES (:guild_id, :key, :value, :by, :now)
               ON CONFLICT (guild_id, key) DO UPDATE SET
                 value = excluded.value, updated_by = excluded.updated_by, updated_at = excluded.updated_at""",
            {"guild_id": guild_id, "key": key, "value": value, "by": by, "now": utc_iso(now)},
        )

    async def delete(self, guild_id: int, key: str) -> None:
        await self.db.run(
            "DELETE FROM server_settings WHERE guild_id = :guild_id AND key = :key", {"guild_id": guild_id, "key": key}
        )
