"""The ticket tables: per-server configuration, tickets, their messages, the answers given (interactions).

Append new migrations at the end; never edit one that has shipped.
"""

from db.migrations import Migration, Schema

MIGRATIONS: list[Migration] = [
    (
        1,
        """
        CREATE TABLE guild_config (
            guild_id        INTEGER PRIMARY KEY,
            forum_id        INTEGER NOT NULL,
            staff_role_id   INTEGER NOT NULL,
            log_channel_id  INTEGER,
            tag_ids         TEXT NOT NULL DEFAULT '{}',   -- JSON {"open": id, "billing": id, ...}
            categories      TEXT NOT NULL DEFAULT '["billing","technical","general"]',
            updated_at      TEXT NOT NULL
        );

        CREATE TABLE tickets (
            id               INTEGER PRIMARY KEY,          -- the forum thread id
            guild_id         INTEGER NOT NULL,
            opener_id        INTEGER NOT NULL,
            category         TEXT NOT NULL,
            subject          TEXT NOT NULL,
            status           TEXT NOT NULL,                -- open|answered|waiting_staff|resolved|closed
            ai_paused        INTEGER NOT NULL DEFAULT 0,
            staff_pinged     INTEGER NOT NULL DEFAULT 0,
            created_at       TEXT NOT NULL,
            updated_at       TEXT NOT NULL,
            last_activity_at TEXT NOT NULL,
            resolved_at      TEXT,
            idle_warned_at   TEXT,
            closed_at        TEXT,
            closed_by        INTEGER,
            close_reason     TEXT,
            summary          TEXT
        );
        CREATE INDEX tickets_guild_status ON tickets (guild_id, status);
        CREATE INDEX tickets_opener ON tickets (guild_id, opener_id, status);

        CREATE TABLE ticket_messages (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            message_id   INTEGER,
            author_id    INTEGER NOT NULL,
            author_name  TEXT NOT NULL,
            role         TEXT NOT NULL,                    -- user|staff|bot
            content      TEXT NOT NULL,
            created_at   TEXT NOT NULL
        );
        CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

        CREATE TABLE interactions (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id    INTEGER NOT NULL,
            ticket_id   INTEGER,
            message_id  INTEGER,
            route       TEXT NOT NULL,                     -- answer|llm|fallback|staff
            entry_id    INTEGER,
            score       REAL,
            detail      TEXT,
            feedback    TEXT,                              -- solved|staff|NULL
            created_at  TEXT NOT NULL
        );
        CREATE INDEX interactions_guild_time ON interactions (guild_id, created_at);
        CREATE INDEX interactions_ticket ON interactions (ticket_id, id);
        """,
    ),
]

SCHEMA = Schema("tickets", MIGRATIONS)
