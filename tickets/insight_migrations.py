"""Indexes and search for the dashboard's analytics and ticket list (tickets/analytics.py), in their own
package of migrations ("ticket_insights") next to the ticket tables' list.

The full-text index is SQLite's FTS5, kept up to date by triggers (message texts are only ever added or
deleted); it is the one engine-specific part of the dashboard's SQL (PostgreSQL would use a tsvector
column and a GIN index instead, see `tickets/analytics_sql.py`). Append new migrations at the end; never
edit one that has shipped.
"""

from db.migrations import EngineSql, Migration, Schema

# PostgreSQL: the same indexes and table; full-text search is a GIN index on the messages' tsvector instead
# of FTS5 and its triggers (analytics_sql.MESSAGE_SEARCH_POSTGRES).
_POSTGRES_1 = """
CREATE INDEX tickets_guild_opened ON tickets (guild_id, created_at, id);
CREATE INDEX tickets_guild_created ON tickets (guild_id, created_at, closed_at, category);
CREATE INDEX tickets_guild_closed ON tickets (guild_id, closed_at, opener_id, closed_by, close_reason);
CREATE INDEX ticket_messages_ticket_role ON ticket_messages (ticket_id, role, created_at);
CREATE INDEX interactions_ticket_feedback ON interactions (ticket_id, feedback);
CREATE INDEX interactions_guild_time_route ON interactions (guild_id, created_at, route, feedback);
CREATE TABLE ticket_facts (
    ticket_id            INTEGER PRIMARY KEY,
    guild_id             INTEGER NOT NULL,
    created_at           TEXT NOT NULL,
    closed_at            TEXT NOT NULL,
    opener_id            INTEGER NOT NULL,
    closed_by            INTEGER,
    close_reason         TEXT,
    first_bot_s          INTEGER,
    first_staff_s        INTEGER,
    first_staff_id       INTEGER,
    first_staff_message  INTEGER,
    resolution_s         INTEGER NOT NULL,
    had_staff            INTEGER NOT NULL,
    solved               INTEGER NOT NULL
);
CREATE INDEX ticket_facts_guild_created ON ticket_facts
    (guild_id, created_at, first_bot_s, first_staff_s, first_staff_id, first_staff_message, resolution_s);
CREATE INDEX ticket_facts_guild_closed ON ticket_facts
    (guild_id, closed_at, had_staff, solved, opener_id, closed_by, close_reason);
CREATE INDEX ticket_messages_fts ON ticket_messages USING GIN (to_tsvector('simple', content));
"""

MIGRATIONS: list[Migration] = [
    (
        1,
        EngineSql(
            """
        -- The ticket list, newest first (the id, last in every SQLite index, breaks ties in the same order).
        CREATE INDEX tickets_guild_opened ON tickets (guild_id, created_at);
        -- Covering: the period's tickets are read from the index alone.
        CREATE INDEX tickets_guild_created ON tickets (guild_id, created_at, closed_at, category);
        CREATE INDEX tickets_guild_closed ON tickets (guild_id, closed_at, opener_id, closed_by, close_reason);
        -- First bot / staff answer of a ticket is one index seek per ticket and role.
        CREATE INDEX ticket_messages_ticket_role ON ticket_messages (ticket_id, role, created_at);
        CREATE INDEX interactions_ticket_feedback ON interactions (ticket_id, feedback);
        CREATE INDEX interactions_guild_time_route ON interactions (guild_id, created_at, route, feedback);

        -- What analytics need of each CLOSED ticket, computed once (tickets/analytics.py fills it before a
        -- report): a closed ticket never changes (no message is recorded in it, no answer rated, nothing
        -- reopens it). Something that reopens tickets must delete the ticket's row here.
        CREATE TABLE ticket_facts (
            ticket_id            INTEGER PRIMARY KEY,
            guild_id             INTEGER NOT NULL,
            created_at           TEXT NOT NULL,
            closed_at            TEXT NOT NULL,
            opener_id            INTEGER NOT NULL,
            closed_by            INTEGER,
            close_reason         TEXT,
            first_bot_s          INTEGER,                  -- seconds from opening to the first bot answer
            first_staff_s        INTEGER,                  -- … to the first staff message
            first_staff_id       INTEGER,
            first_staff_message  INTEGER,
            resolution_s         INTEGER NOT NULL,         -- … to the close
            had_staff            INTEGER NOT NULL,
            solved               INTEGER NOT NULL
        );
        -- Covering both ways a report reads them: by opening time and by closing time.
        CREATE INDEX ticket_facts_guild_created ON ticket_facts
            (guild_id, created_at, first_bot_s, first_staff_s, first_staff_id, first_staff_message, resolution_s);
        CREATE INDEX ticket_facts_guild_closed ON ticket_facts
            (guild_id, closed_at, had_staff, solved, opener_id, closed_by, close_reason);

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
            postgresql=_POSTGRES_1,
            reason="FTS5 is SQLite's; PostgreSQL indexes a tsvector",
        ),
    ),
]

SCHEMA = Schema("ticket_insights", MIGRATIONS)
