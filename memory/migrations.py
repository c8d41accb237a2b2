"""The trained memory's tables: entries, their phrasings and embeddings, suggestions, change counters.

Append new migrations at the end; never edit one that has shipped. They may call `identity_key(text)`
(memory.text), registered by the runner (db/migrations.py) from `SCHEMA.functions`.
"""

from db.migrations import Migration, Schema, sqlite_only
from memory.text import identity_key

MIGRATIONS: list[Migration] = [
    (
        1,
        """
        CREATE TABLE trained_entries (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id     INTEGER NOT NULL,
            query        TEXT NOT NULL,
            response     TEXT NOT NULL,
            category     TEXT NOT NULL DEFAULT 'general',
            created_by   INTEGER,
            created_at   TEXT NOT NULL,
            updated_at   TEXT NOT NULL,
            usage_count  INTEGER NOT NULL DEFAULT 0,
            confidence   REAL NOT NULL DEFAULT 1.0
        );
        CREATE INDEX trained_entries_guild ON trained_entries (guild_id, id);

        -- Every phrasing of an entry, the primary query included, so search covers all of them.
        CREATE TABLE entry_phrasings (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            entry_id    INTEGER NOT NULL REFERENCES trained_entries (id) ON DELETE CASCADE,
            guild_id    INTEGER NOT NULL,
            text        TEXT NOT NULL,
            norm        TEXT NOT NULL,                     -- normalised text, for idempotent imports
            is_primary  INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX entry_phrasings_entry ON entry_phrasings (entry_id);
        CREATE INDEX entry_phrasings_guild_norm ON entry_phrasings (guild_id, norm);

        CREATE TABLE embeddings (
            phrasing_id INTEGER PRIMARY KEY REFERENCES entry_phrasings (id) ON DELETE CASCADE,
            model       TEXT NOT NULL,
            dim         INTEGER NOT NULL,
            vector      BLOB NOT NULL                      -- float32 little-endian
        );

        -- Pending Q&A pairs and alternates proposed from tickets; only staff turn them into entries.
        CREATE TABLE suggestions (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            guild_id    INTEGER NOT NULL,
            kind        TEXT NOT NULL,                     -- qa|alternate
            entry_id    INTEGER,
            ticket_id   INTEGER,
            query       TEXT NOT NULL,
            response    TEXT,
            category    TEXT,
            status      TEXT NOT NULL DEFAULT 'pending',   -- pending|approved|rejected
            created_at  TEXT NOT NULL,
            decided_by  INTEGER,
            decided_at  TEXT
        );
        CREATE INDEX suggestions_guild_status ON suggestions (guild_id, status);

        """,
    ),
    (
        2,
        sqlite_only(
            """
        -- entry_phrasings.norm becomes the question's identity (memory.text.identity_key): numbers
        -- now count, so questions that differ only by a number are two questions. No uniqueness is
        -- imposed: databases may hold rows whose old keys collided, and each keeps its own key.
        UPDATE entry_phrasings SET norm = identity_key(text);
        """,
            # PostgreSQL cannot call the Python function, and needs not: a PostgreSQL database is created by
            # all of these migrations at once (it came after this one), so no row holds an old key here.
            reason="recomputes keys of rows written before it; a PostgreSQL database has none",
        ),
    ),
    (
        3,
        """
        -- Bumped in the same transaction as every write of a guild's trained memory, so a process
        -- that caches the guild's search index notices another process's writes (memory/store.py).
        CREATE TABLE memory_changes (
            guild_id  INTEGER PRIMARY KEY,
            counter   INTEGER NOT NULL
        );
        """,
    ),
    (
        4,
        """
        -- Every entry's answer is also a row of entry_phrasings (is_primary = 2, the answer kind), so it
        -- is embedded, re-embedded and deleted like a phrasing; search compares questions with answers
        -- too (memory/guild_index.py). Not a question: its norm stays empty and it is never an alternate.
        INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary)
            SELECT id, guild_id, response, '', 2 FROM trained_entries ORDER BY id;
        """,
    ),
    (
        5,
        """
        -- Phrasings the model proposed are rows of entry_phrasings of their own kind (is_primary = 3,
        -- memory/repository.py GENERATED_KIND). This table says for which question of an entry they were
        -- generated: an entry without a row, or whose question changed since, is still to be done
        -- (memory/generated.py; the upkeep task retries those while the model is down).
        CREATE TABLE phrasing_generation (
            entry_id      INTEGER PRIMARY KEY REFERENCES trained_entries (id) ON DELETE CASCADE,
            guild_id      INTEGER NOT NULL,
            question_key  TEXT NOT NULL,                   -- identity_key of that question
            model         TEXT NOT NULL,
            generated_at  TEXT NOT NULL
        );
        """,
    ),
]

SCHEMA = Schema("memory", MIGRATIONS, functions={"identity_key": identity_key})
