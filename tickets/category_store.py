"""SQL for ticket categories (with their forms) and the panels posted in Discord."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from db.database import Database, Row, utc_iso
from tickets.models import Category, FormQuestion, QuestionStyle, TicketMode


class CategoryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- categories -------------------------------------------------------------
    async def categories(self, guild_id: int) -> tuple[Category, ...]:
        rows = await self.db.fetchall(
            "SELECT * FROM ticket_categories WHERE guild_id = :guild_id ORDER BY position, name",
            {"guild_id": guild_id},
        )
        return tuple(_category(row) for row in rows)

    async def insert(self, category: Category, now: datetime) -> bool:
        """Add a category at the end of the list; False when the server already has one of that name."""
        row = await self.db.fetchone(
            """INSERT INTO ticket_categories (guild_id, name, label, emoji, description, mode, staff_role_id,
                                              questions, position, created_at, updated_at)
               VALUES (:guild_id, :name, :label, :emoji, :description, :mode, :staff_role_id, :questions,
                       (SELECT COALESCE(MAX(position) + 1, 0) FROM ticket_categories WHERE guild_id = :guild_id),
                       :now, :now)
               ON CONFLICT (guild_id, name) DO NOTHING
               RETURNING name""",
            {**_values(category), "now": utc_iso(now)},
        )
        return row is not None

    async def insert_missing(self, categories: list[Category], now: datetime) -> None:
        """Add these categories (in one transaction) where the server has none of that name."""
        async with self.db.transaction():
            for category in categories:
                await self.db.run(
                    """INSERT INTO ticket_categories (guild_id, name, label, emoji, description, mode,
                                                      staff_role_id, questions, position, created_at, updated_at)
                       VALUES (:guild_id, :name, :label, :emoji, :description, :mode, :staff_role_id, :questions,
                               :position, :now, :now)
                       ON CONFLICT (guild_id, name) DO NOTHING""",
                    {**_values(category), "position": category.position, "now": utc_iso(now)},
                )

    async def update(self, category: Category, now: datetime) -> None:
        await self.db.run(
            """UPDATE ticket_categories SET label = :label, emoji = :emoji, description = :description,
                      mode = :mode, staff_role_id = :staff_role_id, questions = :questions, updated_at = :now
               WHERE guild_id = :guild_id AND name = :name""",
            {**_values(category), "now": utc_iso(now)},
        )

    async def delete(self, guild_id: int, name: str) -> None:
        await self.db.run(
            "DELETE FROM ticket_categories WHERE guild_id = :guild_id AND name = :name",
            {"guild_id": guild_id, "name": name},
        )

    # --- panels -----------------------------------------------------------------
    async def add_panel(self, *, guild_id: int, channel_id: int, message_id: int, now: datetime) -> None:
        await self.db.run(
            """INSERT INTO ticket_panels (message_id, guild_id, channel_id, created_at)
               VALUES (:message_id, :guild_id, :channel_id, :now) ON CONFLICT (message_id) DO NOTHING""",
            {"message_id": message_id, "guild_id": guild_id, "channel_id": channel_id, "now": utc_iso(now)},
        )

    async def panels(self, guild_id: int) -> list[tuple[int, int]]:
        """(channel id, message id) of every panel posted on the server, oldest first."""
        rows = await self.db.fetchall(
            "SELECT channel_id, message_id FROM ticket_panels WHERE guild_id = :guild_id ORDER BY message_id",
            {"guild_id": guild_id},
        )
        return [(row["channel_id"], row["message_id"]) for row in rows]

    async def remove_panel(self, message_id: int) -> None:
        await self.db.run("DELETE FROM ticket_panels WHERE message_id = :message_id", {"message_id": message_id})


def _values(category: Category) -> dict[str, Any]:
    return {
        "guild_id": category.guild_id,
        "name": category.name,
        "label": category.label,
        "emoji": category.emoji,
        "description": category.description,
        "mode": category.mode.value,
        "staff_role_id": category.staff_role_id,
        "questions": json.dumps([{**asdict(q), "style": q.style.value} for q in category.questions]),
    }


def _question(data: dict[str, Any]) -> FormQuestion:
    return FormQuestion(
        label=str(data["label"]),
        placeholder=str(data.get("placeholder") or ""),
        required=bool(data.get("required", True)),
        style=QuestionStyle(data.get("style", QuestionStyle.PARAGRAPH.value)),
        max_length=int(data.get("max_length") or 1500),
    )


def _category(row: Row) -> Category:
    return Category(
        guild_id=row["guild_id"],
        name=row["name"],
        label=row["label"],
        emoji=row["emoji"],
        description=row["description"],
        mode=TicketMode(row["mode"]),
        staff_role_id=row["staff_role_id"],
        questions=tuple(_question(q) for q in json.loads(row["questions"])),
        position=row["position"],
    )
