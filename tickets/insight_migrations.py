"""Indexes and search for the dashboard's analytics and ticket list (tickets/analytics.py), in their own
package of migrations ("ticket_insights") next to the ticket tables' list.

The full-text index is SQLite's FTS5, kept up to date by triggers (message texts are only ever added or
deleted); it is the one engine-specific part of the dashboard's SQL (PostgreSQL would use a tsvector
column and a GIN index instead, see `tickets/analytics_sql.py`). Append new migrations at the end; never
edit one that has shipped.
"""

from db.migrations import Migration, Schema

MIGRATIONS: list[Migration] = [
    (
        1,
        """
        CREATE INDEX tickets_guild_created ON tickets (guild_id, created_at);
        CREATE INDEX tickets_guild_closed ON tickets (guild_id, closed_at);
        -- First bot / staff answer of a ticket is one index seek per ticket and role.
        CREATE INDEX ticket_messages_ticket_role ON ticket_messages (ticket_id, role, created_at);
        CREATE INDEX interactions_ticket_feedback ON interactions (ticket_id, feedback);

        CREATE VIRTUAL TABLE ticket_messages_fts
            USING fts5 (content, content = 'ticket_messages', content_rowid = 'id');
        -- (Statements end where a line ends with a semicolon, so each trigger's body keeps its own mid-line.)
        CREATE TRIGGER ticket_messages_fts_insert AFTER INSERT ON ticket_messages
            BEGIN INSERT INTO ticket_messages_fts (rowid, content) VALUES (new.id, new.content); END;
        CREATE TRIGGER ticket_messages_fts_delete AFTER DELETE ON ticket_messages
            BEGIN INSERT INTO ticket_messages_fts (ticket_messages_fts, rowid, content)
            VALUES ('delete', old.id, old.content); END;
        INSERT INTO ticket_messages_fts (ticket_messages_fts) VALUES ('rebuild');
        """,
    ),
]

SCHEMA = Schema("ticket_insights", MIGRATIONS)
