"""The ticket tables: per-server configuration, categories and settings, tickets, their messages and form
answers, the answers given (interactions), the panels posted.

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
    (
        2,
        # Issue 10: ticket modes and categories as data, form answers, per-server settings, posted panels.
        # The categories every server had so far become rows (the default form: one question).
        """
        ALTER TABLE guild_config ADD COLUMN private_channel_id INTEGER;

        CREATE TABLE ticket_categories (
            guild_id       INTEGER NOT NULL,
            name           TEXT NOT NULL,                  -- lowercase key, as stored in tickets.category
            label          TEXT NOT NULL,                  -- as shown in the panel and the forum tag
            emoji          TEXT,
            description    TEXT NOT NULL DEFAULT '',
            mode           TEXT NOT NULL DEFAULT 'forum',  -- forum|private_thread
            staff_role_id  INTEGER,                        -- NULL: the server's staff role
            questions      TEXT NOT NULL DEFAULT '[]',     -- JSON [{label, placeholder, required, style, max_length}]
            position       INTEGER NOT NULL DEFAULT 0,
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL,
            PRIMARY KEY (guild_id, name)
        );
        INSERT INTO ticket_categories (guild_id, name, label, description, questions, position, created_at,
                                       updated_at)
        SELECT guild_id, defaults.name, defaults.label, defaults.description,
               '[{"label": "Describe the problem", '
               || '"placeholder": "What happened, what did you expect, what have you tried?", '
               || '"required": true, "style": "paragraph", "max_length": 1500}]',
               defaults.position, updated_at, updated_at
        FROM guild_config CROSS JOIN (
            SELECT 'billing' AS name, 'Billing' AS label, 'Open a billing ticket' AS description, 0 AS position
            UNION ALL SELECT 'technical', 'Technical', 'Open a technical ticket', 1
            UNION ALL SELECT 'general', 'General', 'Open a general ticket', 2
        ) AS defaults;

        ALTER TABLE tickets ADD COLUMN mode TEXT NOT NULL DEFAULT 'forum';
        ALTER TABLE tickets ADD COLUMN source TEXT;           -- panel|post|message|staff; NULL: opened before
        ALTER TABLE tickets ADD COLUMN opened_by INTEGER;     -- staff who opened it for the opener
        ALTER TABLE tickets ADD COLUMN starter_message_id INTEGER;

        CREATE TABLE ticket_answers (
            ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            position   INTEGER NOT NULL,
            question   TEXT NOT NULL,
            answer     TEXT NOT NULL,
            PRIMARY KEY (ticket_id, position)
        );

        CREATE TABLE server_settings (
            guild_id    INTEGER NOT NULL,
            key         TEXT NOT NULL,
            value       TEXT NOT NULL,                     -- as typed; parsed by the setting's kind
            updated_by  INTEGER,
            updated_at  TEXT NOT NULL,
            PRIMARY KEY (guild_id, key)
        );

        CREATE TABLE ticket_panels (
            message_id  INTEGER PRIMARY KEY,
            guild_id    INTEGER NOT NULL,
            channel_id  INTEGER NOT NULL,
            created_at  TEXT NOT NULL
        );
        CREATE INDEX ticket_panels_guild ON ticket_panels (guild_id);
        """,
    ),
    (
        3,
        # Issue 10, the staff desk: who owns a ticket and how urgent it is (on the ticket, for its card and tags),
        # and every change with its time (for analytics): claims, priority changes, notes, members added and
        # removed, reopenings, close requests; the blacklist and the on-call rotation of each server.
        """
        ALTER TABLE tickets ADD COLUMN claimed_by INTEGER;
        ALTER TABLE tickets ADD COLUMN claimed_at TEXT;
        ALTER TABLE tickets ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';  -- low|normal|high|urgent
        ALTER TABLE tickets ADD COLUMN priority_source TEXT;                    -- auto|staff; NULL: never set
        ALTER TABLE tickets ADD COLUMN flag TEXT;                               -- urgent|angry (urgency detection)
        CREATE INDEX tickets_guild_claimed ON tickets (guild_id, claimed_by);
        CREATE INDEX tickets_guild_priority ON tickets (guild_id, priority);

        CREATE TABLE ticket_claims (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            guild_id    INTEGER NOT NULL,
            action      TEXT NOT NULL,                     -- claimed|unclaimed|transferred|assigned
            staff_id    INTEGER,                           -- who holds the ticket afterwards; NULL: nobody
            staff_name  TEXT,
            by_id       INTEGER,                           -- who did it; NULL: the on-call rotation
            created_at  TEXT NOT NULL
        );
        CREATE INDEX ticket_claims_ticket ON ticket_claims (ticket_id, id);
        CREATE INDEX ticket_claims_guild_time ON ticket_claims (guild_id, created_at, action, staff_id);

        CREATE TABLE ticket_priority_changes (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            guild_id    INTEGER NOT NULL,
            priority    TEXT NOT NULL,
            previous    TEXT NOT NULL,
            source      TEXT NOT NULL,                     -- auto|staff
            by_id       INTEGER,                           -- NULL: automatic
            reason      TEXT NOT NULL DEFAULT '',
            created_at  TEXT NOT NULL
        );
        CREATE INDEX ticket_priority_changes_ticket ON ticket_priority_changes (ticket_id, id);

        CREATE TABLE ticket_notes (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            guild_id     INTEGER NOT NULL,
            author_id    INTEGER NOT NULL,
            author_name  TEXT NOT NULL,
            content      TEXT NOT NULL,
            created_at   TEXT NOT NULL
        );
        CREATE INDEX ticket_notes_ticket ON ticket_notes (ticket_id, id);

        CREATE TABLE ticket_member_changes (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            user_id     INTEGER NOT NULL,
            action      TEXT NOT NULL,                     -- added|removed
            by_id       INTEGER NOT NULL,
            created_at  TEXT NOT NULL
        );
        CREATE INDEX ticket_member_changes_ticket ON ticket_member_changes (ticket_id, user_id, id);

        CREATE TABLE ticket_reopenings (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id     INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            guild_id      INTEGER NOT NULL,
            by_id         INTEGER NOT NULL,
            closed_at     TEXT NOT NULL,                   -- the close this undid
            close_reason  TEXT,
            created_at    TEXT NOT NULL
        );
        CREATE INDEX ticket_reopenings_ticket ON ticket_reopenings (ticket_id, id);

        CREATE TABLE ticket_close_requests (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id     INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
            guild_id      INTEGER NOT NULL,
            requested_by  INTEGER NOT NULL,
            reason        TEXT NOT NULL DEFAULT '',
            message_id    INTEGER,                         -- the message with the opener's buttons
            status        TEXT NOT NULL,                   -- pending|accepted|declined|expired|cancelled
            created_at    TEXT NOT NULL,
            due_at        TEXT,                            -- closes by itself then; NULL: never
            answered_by   INTEGER,
            answered_at   TEXT
        );
        CREATE INDEX ticket_close_requests_ticket ON ticket_close_requests (ticket_id, status);
        CREATE INDEX ticket_close_requests_due ON ticket_close_requests (status, due_at);

        CREATE TABLE ticket_blacklist (
            guild_id    INTEGER NOT NULL,
            user_id     INTEGER NOT NULL,
            reason      TEXT NOT NULL DEFAULT '',
            added_by    INTEGER NOT NULL,
            created_at  TEXT NOT NULL,
            PRIMARY KEY (guild_id, user_id)
        );

        CREATE TABLE oncall_staff (
            guild_id          INTEGER NOT NULL,
            user_id           INTEGER NOT NULL,
            since             TEXT NOT NULL,
            last_turn         INTEGER NOT NULL DEFAULT 0,  -- the rotation's counter at their last ticket; 0: none
            last_assigned_at  TEXT,
            PRIMARY KEY (guild_id, user_id)
        );
        """,
    ),
]

SCHEMA = Schema("tickets", MIGRATIONS)
