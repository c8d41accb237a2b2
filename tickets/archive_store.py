"""SQL of the ticket archive (tickets/archive.py): messages as Discord showed them, saved attachments, and
the answer routes of a ticket for its transcript."""

from __future__ import annotations

import json

from db.database import Database, Row


class ArchiveStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def save_message(self, ticket_id: int, values: dict[str, object]) -> None:
        await self.db.run(
            """INSERT INTO archived_messages (ticket_id, message_id, author_id, author_name, author_bot, avatar_url,
                                              content, embeds, created_at)
               VALUES (:ticket_id, :message_id, :author_id, :author_name, :author_bot, :avatar_url, :content,
                       :embeds, :created_at)
               ON CONFLICT (ticket_id, message_id) DO UPDATE SET
                 content = excluded.content, embeds = excluded.embeds, avatar_url = excluded.avatar_url""",
            {**values, "ticket_id": ticket_id, "embeds": json.dumps(values["embeds"])},
        )

    async def messages(self, ticket_id: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT * FROM archived_messages WHERE ticket_id = :ticket_id ORDER BY message_id",
            {"ticket_id": ticket_id},
        )

    async def has_attachment(self, ticket_id: int, message_id: int, filename: str) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM ticket_attachments WHERE ticket_id = :t AND message_id = :m AND filename = :f",
            {"t": ticket_id, "m": message_id, "f": filename},
        )
        return row is not None

    async def save_attachment(self, values: dict[str, object]) -> int:
        return await self.db.insert(
            """INSERT INTO ticket_attachments (ticket_id, guild_id, message_id, filename, content_type, size, data,
                                               note, saved_at)
               VALUES (:ticket_id, :guild_id, :message_id, :filename, :content_type, :size, :data, :note, :saved_at)
               RETURNING id""",
            values,
        )

    async def attachments(self, ticket_id: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT id, ticket_id, guild_id, message_id, filename, content_type, size, data IS NOT NULL AS kept, "
            "note FROM ticket_attachments WHERE ticket_id = :ticket_id ORDER BY id",
            {"ticket_id": ticket_id},
        )

    async def attachment(self, guild_id: int, attachment_id: int) -> Row | None:
        return await self.db.fetchone(
            "SELECT id, ticket_id, guild_id, message_id, filename, content_type, size, data, note "
            "FROM ticket_attachments WHERE id = :id AND guild_id = :guild_id",
            {"id": attachment_id, "guild_id": guild_id},
        )

    async def routes(self, ticket_id: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT id, message_id, route, entry_id, feedback, created_at FROM interactions "
            "WHERE ticket_id = :ticket_id ORDER BY id",
            {"ticket_id": ticket_id},
        )
