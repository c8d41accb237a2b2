"""The dashboard's tables: single-use sign-in links, sessions, and the secret that signs links.

Append new migrations at the end; never edit one that has shipped.
"""

from db.migrations import Migration, Schema

MIGRATIONS: list[Migration] = [
    (
        1,
        """
        -- Only a hash of each token is stored: a copy of the database signs nobody in.
        CREATE TABLE web_login_links (
            token_hash  TEXT PRIMARY KEY,
            user_id     INTEGER NOT NULL,                  -- 0 for a console link
            guild_id    INTEGER NOT NULL,                  -- the server the link lands on
            console     INTEGER NOT NULL DEFAULT 0,        -- printed by `python bot.py dashboard`
            created_at  TEXT NOT NULL,
            expires_at  TEXT NOT NULL,
            used_at     TEXT
        );
        CREATE INDEX web_login_links_expiry ON web_login_links (expires_at);

        CREATE TABLE web_sessions (
            session_hash TEXT PRIMARY KEY,
            user_id      INTEGER NOT NULL,
            guild_id     INTEGER NOT NULL,
            console      INTEGER NOT NULL DEFAULT 0,
            csrf         TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            expires_at   TEXT NOT NULL
        );
        CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

        CREATE TABLE web_secrets (
            name   TEXT PRIMARY KEY,
            value  TEXT NOT NULL
        );
        """,
    ),
]

SCHEMA = Schema("web", MIGRATIONS)
