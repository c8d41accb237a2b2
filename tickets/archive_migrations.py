"""Tables of the ticket archive: what Discord showed in a ticket (embeds, avatars) and its attachments,
saved when the ticket closes, for the dashboard's transcripts. A separate package of migrations
("ticket_archive"), so the ticket tables' own list stays with the ticket lifecycle.

Append new migrations at the end; never edit one that has shipped.
"""

from db.migrations import Migration, Schema

MIGRATIONS: list[Migration] = [
    (
        1,
        """
        CREATE TABLE archived_messages (
            ticket_id    INTEGER NOT NULL,
            message_id   INTEGER NOT NULL,
            author_id    INTEGER NOT NULL,
            author_name  TEXT NOT NULL,
            author_bot   INTEGER NOT NULL DEFAULT 0,
            avatar_url   TEXT,
            content      TEXT NOT NULL,
            embeds       TEXT NOT NULL DEFAULT '[]',       -- JSON [{"title", "description", "fields", "footer"}]
            created_at   TEXT NOT NULL,
            PRIMARY KEY (ticket_id, message_id)
        );

        CREATE TABLE ticket_attachments (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id     INTEGER NOT NULL,
            guild_id      INTEGER NOT NULL,
            message_id    INTEGER NOT NULL,
            filename      TEXT NOT NULL,
            content_type  TEXT,
            size          INTEGER NOT NULL,
            data          BLOB,                            -- NULL: not kept (see note)
            note          TEXT,                            -- why it was not kept, e.g. over the size cap
            saved_at      TEXT NOT NULL
        );
        CREATE INDEX ticket_attachments_ticket ON ticket_attachments (ticket_id, id);
        """,
    ),
]

SCHEMA = Schema("ticket_archive", MIGRATIONS)
