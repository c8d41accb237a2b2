"""Which packages' tables the application's database holds, in the order they are migrated."""

from __future__ import annotations

from pathlib import Path

from app import meta
from db.database import Database
from db.migrations import LegacyVersions, open_database
from memory import migrations as memory_migrations
from tickets import archive_migrations, care_migrations, insight_migrations
from tickets import migrations as ticket_migrations
from web import migrations as web_migrations

SCHEMAS = (
    meta.SCHEMA,
    ticket_migrations.SCHEMA,
    memory_migrations.SCHEMA,
    archive_migrations.SCHEMA,
    insight_migrations.SCHEMA,
    web_migrations.SCHEMA,
    care_migrations.SCHEMA,
)

# Before each package owned its migrations, one numbered list (`schema_version`) created everything:
# what each of its versions stands for now.
LEGACY_VERSIONS: LegacyVersions = {
    1: [("app", 1), ("tickets", 1), ("memory", 1)],
    2: [("memory", 2)],
    3: [("memory", 3)],
}


async def open_app_database(path: str | Path) -> Database:
    """The bot's database (a SQLite file, or a `postgresql://` URL), with every package's tables up to date."""
    return await open_database(path, SCHEMAS, legacy=LEGACY_VERSIONS)
