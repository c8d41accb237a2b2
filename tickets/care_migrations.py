"""Tables of what happens around a ticket besides its conversation ("ticket_care"): the opener's rating,
whose turn it is (for the SLA re-ping and the opener's reminders), staff pings held back outside support
hours, a log of the reminders, re-pings and SLA breaches, and the opening gates' refusals, all with their times
(for analytics).

A package of its own, next to the ticket tables' list, so it can grow without renumbering theirs.
Append new migrations at the end; never edit one that has shipped.
"""

from db.migrations import Migration, Schema

MIGRATIONS: list[Migration] = [
    (
        1,
        """
        -- One rating per ticket, by its opener: the stars when a button is pressed, the comment when the form
        -- after it is sent. The row exists from the first prompt (stars NULL until rated).
        CREATE TABLE ticket_ratings (
            ticket_id        INTEGER PRIMARY KEY,
            guild_id         INTEGER NOT NULL,
            opener_id        INTEGER NOT NULL,
            stars            INTEGER,                      -- 1..5; NULL: asked, not rated (yet)
            rated_at         TEXT,
            comment          TEXT,
            commented_at     TEXT,
            log_channel_id   INTEGER,                      -- the closing summary in the log channel, edited
            log_message_id   INTEGER,                      -- to show the rating when it arrives
            created_at       TEXT NOT NULL
        );
        CREATE INDEX ticket_ratings_guild_rated ON ticket_ratings (guild_id, rated_at, stars);

        -- Each time the opener was asked: in the ticket or by DM, and whether it reached them.
        CREATE TABLE rating_prompts (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            ticket_id    INTEGER NOT NULL,
            guild_id     INTEGER NOT NULL,
            place        TEXT NOT NULL,                    -- ticket|dm
            delivered    INTEGER NOT NULL,                 -- 0: Discord refused (e.g. DMs closed, 50007)
            error_code   INTEGER,
            channel_id   INTEGER,
            message_id   INTEGER,
            created_at   TEXT NOT NULL
        );
        CREATE INDEX rating_prompts_ticket ON rating_prompts (ticket_id);

        -- Whose turn it is in an open ticket, since when, and how often we have nudged them during this wait.
        CREATE TABLE ticket_waits (
            ticket_id        INTEGER PRIMARY KEY,
            guild_id         INTEGER NOT NULL,
            waiting_on       TEXT NOT NULL,                -- staff|opener
            since            TEXT NOT NULL,
            nudges           INTEGER NOT NULL DEFAULT 0,   -- re-pings (staff) or reminders (opener) sent
            last_nudge_at    TEXT
        );
        CREATE INDEX ticket_waits_guild ON ticket_waits (guild_id);

        -- Staff pings that came outside support hours, sent by the scheduler when support opens.
        CREATE TABLE queued_pings (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id     INTEGER NOT NULL,
            ticket_id    INTEGER NOT NULL,
            channel_id   INTEGER NOT NULL,                 -- where the ping goes (log channel or the ticket)
            role_id      INTEGER NOT NULL,
            kind         TEXT NOT NULL,                    -- new_ticket|handoff|reping
            text         TEXT NOT NULL,
            queued_at    TEXT NOT NULL,
            release_at   TEXT NOT NULL,                    -- the opening it waits for (as known when queued)
            sent_at      TEXT,
            outcome      TEXT                              -- sent|ticket_closed|failed
        );
        CREATE INDEX queued_pings_pending ON queued_pings (sent_at, guild_id);

        -- What the scheduler did, for analytics: reminders, re-pings, SLA breaches.
        CREATE TABLE care_events (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id    INTEGER NOT NULL,
            ticket_id   INTEGER NOT NULL,
            kind        TEXT NOT NULL,                     -- sla_breach|staff_reping|opener_reminder
            number      INTEGER NOT NULL DEFAULT 1,        -- the n-th of this wait
            waited_s    INTEGER,                           -- how long the wait had lasted (support hours for staff)
            created_at  TEXT NOT NULL
        );
        CREATE INDEX care_events_guild_time ON care_events (guild_id, created_at, kind);
        """,
    ),
    (
        2,
        """
        -- Each time an opening gate refused a member (for analytics: how often, which gate, how far along).
        CREATE TABLE gate_refusals (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id    INTEGER NOT NULL,
            user_id     INTEGER NOT NULL,
            gate        TEXT NOT NULL,                     -- account_age|tickets_per_hour
            stage       TEXT NOT NULL,                     -- form: before the form was shown; open: when opening
            created_at  TEXT NOT NULL
        );
        CREATE INDEX gate_refusals_guild_time ON gate_refusals (guild_id, created_at, gate);
        """,
    ),
]

SCHEMA = Schema("ticket_care", MIGRATIONS)
