"""`python bot.py db copy` (db/copy.py): a database built by the project's own stores copied to another one
(a SQLite file, or PostgreSQL in the postgresql variant) and read back by the project's own code."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from app.cli import EXIT_ALREADY_RUNNING, run_cli
from app.instance import InstanceLock
from app.runtime import open_core
from app.schema import open_app_database
from app.settings import Settings, load_settings
from db import copy as dbcopy
from db.catalog import tables_of
from db.copy import CopyRefused, copy_database, redact_url
from db.database import Database
from memory.hashed_embedder import HashedEmbedder
from memory.store import TrainedMemory
from tickets.analytics import Period, TicketFilter
from tickets.archive import ArchivedMessage
from tickets.models import GuildConfig, MessageRole
from tickets.server_settings import MAX_OPEN_TICKETS
from tickets.service import NewTicket

GUILD = 111
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD_Q, PASSWORD_A = "How do I reset my password?", "Use the reset link on the login page."
VECTOR_BLOB = bytes(range(256)) * 3  # an attachment's bytes: every byte value, NUL included


def _settings(database: str | Path) -> Settings:
    url = str(database) if str(database).startswith("postgresql://") else ""
    return load_settings(
        {"DB_PATH": str(database) if not url else "unused.db", "DATABASE_URL": url, "LLM_URL": "http://127.0.0.1:9"}
    )


def _new(tid: int, opener: int, category: str, subject: str, text: str) -> NewTicket:
    return NewTicket(
        ticket_id=tid, guild_id=GUILD, opener_id=opener, opener_name=f"user{opener}", category=category,
        subject=subject, description=text,
    )  # fmt: skip


async def build_source(path: Path) -> dict[str, int]:
    """A server's database as the bot grows it: configuration and settings, two open tickets with messages, a
    closed one with a rating, a transcript (an attachment's bytes) and analytics facts, trained entries with
    alternates and vectors, a suggestion, and a deleted last entry (its id must never be given out again)."""
    core = await open_core(_settings(path))
    memory = TrainedMemory(core.db, HashedEmbedder())
    try:
        await core.tickets.save_config(GuildConfig(GUILD, 2, 3, None, {"open": 41, "closed": 42}), NOW)
        await core.server_settings.set(GUILD, MAX_OPEN_TICKETS.key, "7", by=9, now=NOW)
        for number, tid in enumerate((1001, 1002), start=1):
            ticket = await core.tickets.ticket_opened(
                _new(tid, 500 + number, "technical", f"Login {number}", "It fails"),
                now=NOW + timedelta(minutes=number),
            )
            await core.tickets.message_posted(
                ticket, message_id=tid + 10, author_id=9, author_name="Sam", role=MessageRole.STAFF,
                content=f"Which browser? ({number})", now=NOW + timedelta(minutes=5 + number),
            )  # fmt: skip
        closed = await core.tickets.ticket_opened(
            _new(1003, 503, "billing", "Invoice", "Where is it?"), now=NOW - timedelta(days=1)
        )
        closed = await core.tickets.message_posted(
            closed, message_id=1013, author_id=9, author_name="Sam", role=MessageRole.STAFF,
            content="On the billing page.", now=NOW - timedelta(hours=20),
        )  # fmt: skip
        closed = await core.tickets.closed(closed, by=9, reason="answered", summary="billing page", now=NOW)
        await core.ratings.rate(closed, user_id=503, stars=4, now=NOW)
        await core.archive.save(
            closed, [ArchivedMessage(1013, 9, "Sam", False, None, "On the billing page.", [], "2026-02-28")], NOW
        )
        await core.archive.archive.save_attachment(
            {"ticket_id": 1003, "guild_id": GUILD, "message_id": 1013, "filename": "invoice.pdf",
             "content_type": "application/pdf", "size": len(VECTOR_BLOB), "data": VECTOR_BLOB, "note": None,
             "saved_at": "2026-03-01T12:00:00+00:00"},
        )  # fmt: skip
        await core.analytics.report(GUILD, Period.last_days(7, NOW))  # computes the closed ticket's facts
        entry = await memory.add(GUILD, PASSWORD_Q, PASSWORD_A, "technical", ["forgot password", "lost login"])
        await memory.add(GUILD, "Where is my invoice?", "On the billing page.", "billing")
        gone = await memory.add(GUILD, "Do you ship abroad?", "Yes.", "general")
        await memory.delete(GUILD, gone.id)
        await memory.suggest_qa(GUILD, "Can I pay by card?", "Yes, Visa and Mastercard.", ticket_id=1003)
        return {"entry": entry.id, "deleted_entry": gone.id}
    finally:
        await core.close()


async def table_rows(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every copied table's rows, in primary-key order, as plain tuples."""
    out = {}
    for name, table in (await tables_of(db)).items():
        key = ", ".join(table.key)
        out[name] = [
            tuple(r) for r in await db.fetchall(f"SELECT {', '.join(table.columns)} FROM {name} ORDER BY {key}")
        ]
    return out


@pytest.fixture
async def source(tmp_path) -> tuple[Path, dict[str, int]]:
    path = tmp_path / "source.db"
    return path, await build_source(path)


@pytest.fixture
async def pair(source, tmp_path, pg_url) -> AsyncIterator[tuple[Database, Database]]:
    """The source opened, and an empty target of the backend under test (a SQLite file or PostgreSQL)."""
    src, dst = await open_app_database(source[0]), await open_app_database(pg_url or tmp_path / "target.db")
    try:
        yield src, dst
    finally:
        await src.close()
        await dst.close()


async def test_copy_reads_back_the_same_through_the_projects_code(source, tmp_path, pg_url):
    path, ids = source
    target_name: str | Path = pg_url or tmp_path / "target.db"
    src, dst = await open_app_database(path), await open_app_database(target_name)
    try:
        counted: list[str] = []
        report = await copy_database(src, dst, batch_size=2, progress=lambda c: counted.append(c.table))
        before = await table_rows(src)
        assert await table_rows(dst) == before  # every row and value, vectors and attachments as bytes
    finally:
        await src.close()
        await dst.close()
    # Parents before children, and every table of the schema (not a list that could rot).
    assert counted.index("tickets") < counted.index("ticket_messages")
    assert counted.index("trained_entries") < counted.index("entry_phrasings") < counted.index("embeddings")
    assert {"schema_migrations", "ticket_messages_fts", "sqlite_sequence"}.isdisjoint(counted)
    assert {"tickets", "ticket_messages", "embeddings", "ticket_facts", "server_settings"} <= set(counted)
    assert all(t.source == t.target for t in report.tables) and report.rows == sum(len(r) for r in before.values())
    assert len(before["embeddings"]) >= 6 and all(isinstance(r[-1], bytes) for r in before["embeddings"])

    core = await open_core(_settings(target_name))
    memory = TrainedMemory(core.db, HashedEmbedder())
    try:
        ticket = await core.tickets.get(1001)
        assert ticket is not None and ticket.subject == "Login 1" and ticket.status.value == "open"
        assert [(m.role.value, m.content) for m in await core.tickets.messages(1001)] == [
            ("user", "Login 1\nIt fails"),
            ("staff", "Which browser? (1)"),
        ]
        assert (await core.server_settings.of(GUILD)).get(MAX_OPEN_TICKETS) == 7
        rating = await core.ratings.get(1003)
        assert rating is not None and rating.stars == 4
        closed = await core.tickets.get(1003)
        assert closed is not None and closed.close_reason == "answered"
        transcript = await core.archive.transcript(closed)
        assert transcript.archived and transcript.attachments[0].filename == "invoice.pdf"
        attachment = await core.archive.attachment(GUILD, transcript.attachments[0].id)
        assert attachment is not None and attachment[1] == VECTOR_BLOB
        top = (await memory.find_similar(GUILD, "lost login"))[0]
        assert (top.entry.id, top.phrasing, top.entry.response) == (ids["entry"], "lost login", PASSWORD_A)
        assert top.score > 0.9  # found by its vector and words, as on the source
        # Full-text search: FTS5 on SQLite filled by its triggers, PostgreSQL's GIN index built by itself.
        found = await core.analytics.tickets(GUILD, TicketFilter(text="browser"))
        assert {t.id for t in found.rows} == {1001, 1002}
        # New rows after the copy get fresh ids: past the largest the source gave out (a deleted one's included).
        fresh = await memory.add(GUILD, "Is there a student discount?", "Yes.")
        assert fresh.id == ids["deleted_entry"] + 1
        await core.tickets.message_posted(
            ticket, message_id=1, author_id=501, author_name="user1", role=MessageRole.USER, content="Firefox",
            now=NOW + timedelta(hours=1),
        )  # fmt: skip
        newest = await core.db.fetchone("SELECT MAX(id), COUNT(*) FROM ticket_messages")
        assert newest is not None and newest[0] == newest[1] == len(before["ticket_messages"]) + 1
    finally:
        await core.close()


async def test_postgresql_copies_back_to_sqlite(source, tmp_path, pg_url, db_backend):
    """PostgreSQL → SQLite (backups, tests): the same rows, and SQLite's sequences continue after them."""
    if db_backend != "postgresql":
        pytest.skip("needs a PostgreSQL source")
    path, ids = source
    src, pg = await open_app_database(path), await open_app_database(pg_url)
    back = await open_app_database(tmp_path / "back.db")
    try:
        await copy_database(src, pg)
        await copy_database(pg, back)
        assert await table_rows(back) == await table_rows(src)
        seq = await back.fetchone("SELECT seq FROM sqlite_sequence WHERE name = 'trained_entries'")
        assert seq is not None and seq[0] == ids["deleted_entry"]
    finally:
        for db in (src, pg, back):
            await db.close()


async def test_a_target_that_holds_data_is_refused_unless_replace(pair):
    src, dst = pair
    first = await copy_database(src, dst)
    await dst.run("INSERT INTO bot_meta (key, value) VALUES ('only', 'in the target')")
    with pytest.raises(CopyRefused, match=r"already holds data \(in .*bot_meta.*--replace"):
        await copy_database(src, dst)
    second = await copy_database(src, dst, replace=True)
    assert second.tables == first.tables  # replaced, not doubled
    assert await dst.fetchone("SELECT 1 FROM bot_meta WHERE key = 'only'") is None


async def test_a_failure_midway_leaves_the_target_empty(pair):
    src, dst = pair
    seen: list[str] = []

    def fail_on_the_fourth(count: dbcopy.TableCount) -> None:
        seen.append(count.table)
        if len(seen) == 4:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await copy_database(src, dst, progress=fail_on_the_fourth)
    assert await dbcopy.tables_with_rows(dst, list(await tables_of(dst))) == []
    assert len(seen) == 4 and await dbcopy.count_rows(src, seen[0]) > 0
    await copy_database(src, dst)  # and it can simply be run again


async def test_a_source_changed_during_the_copy_is_not_kept(pair, monkeypatch):
    """A bot still writing to the source: the counts differ at the check, and nothing is kept."""
    src, dst = pair
    copy_table = dbcopy._copy_table

    async def copy_then_write(source_db, target_db, table, batch_size):
        copied = await copy_table(source_db, target_db, table, batch_size)
        if table.name == "bot_meta":
            await source_db.run("INSERT INTO bot_meta (key, value) VALUES ('late', 'write')")
        return copied

    monkeypatch.setattr(dbcopy, "_copy_table", copy_then_write)
    with pytest.raises(CopyRefused, match="bot_meta: the source has 1 rows, 0 were copied"):
        await copy_database(src, dst)
    assert await dbcopy.tables_with_rows(dst, list(await tables_of(dst))) == []


async def test_a_newer_source_is_refused_and_tables_outside_the_schema_are_reported(pair):
    src, dst = pair
    await src.run("CREATE TABLE admin_scratch (id INTEGER PRIMARY KEY, note TEXT)")
    await src.run("INSERT INTO admin_scratch (note) VALUES ('kept only in the source')")
    report = await copy_database(src, dst, replace=True)
    assert report.skipped == ["admin_scratch"] and "admin_scratch" not in {t.table for t in report.tables}
    await src.run("INSERT INTO schema_migrations (package, version, applied_at) VALUES ('memory', 99, 'x')")
    with pytest.raises(CopyRefused, match=r"migrations this version of the bot does not know \(memory 99\)"):
        await copy_database(src, dst, replace=True)


def test_urls_lose_their_password_in_output():
    assert (
        redact_url("postgresql://bot:s3cr%40t@db.example:5432/tickets")
        == "postgresql://bot:***@db.example:5432/tickets"
    )
    assert redact_url("postgresql://db.example/t?user=bot&password=s3cret&sslmode=require") == (
        "postgresql://db.example/t?user=bot&password=***&sslmode=require"
    )
    assert redact_url("postgresql://bot@db.example/t") == "postgresql://bot@db.example/t"
    assert dbcopy.hide_passwords("auth for s3cret failed", ["x.db", "postgresql://bot:s3cret@h/t"]) == (
        "auth for *** failed"
    )
    assert dbcopy.hide_passwords("s3cr@t or s3cr%40t", ["postgresql://bot:s3cr%40t@h/t"]) == "*** or ***"


# --- the command ---------------------------------------------------------------------------------------------


def _cli(monkeypatch, tmp_path: Path, argv: list[str], *, db_path: Path, database_url: str = "") -> int:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name, value in {"DB_PATH": str(db_path), "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}.items():
        monkeypatch.setenv(name, value)
    return run_cli(argv, create_bot=lambda settings: None)


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def test_the_command_copies_prints_counts_and_hides_the_password(monkeypatch, tmp_path, capsys, pg_url):
    source = tmp_path / "bot.db"
    asyncio.run(build_source(source))
    # PostgreSQL here trusts local connections, so a password in the URL is accepted and must not be shown.
    target = _with_password(pg_url, "hunter2-secret") if pg_url else str(tmp_path / "copy.db")
    code = _cli(monkeypatch, tmp_path, ["db", "copy", "--to", target], db_path=source)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "hunter2-secret" not in out + err
    assert f"Copying {source} → " + ("postgresql://postgres:***@" if pg_url else str(tmp_path)) in out
    counts = dict(line.split()[:2] for line in out.splitlines() if line.startswith("  "))
    assert counts["tickets"] == "3" and counts["trained_entries"] == "2" and "schema_migrations" not in counts
    assert "every table's row count matches the source's" in out

    # Again: refused, the target holds data now; exit code 1, the target untouched.
    assert _cli(monkeypatch, tmp_path, ["db", "copy", "--to", target], db_path=source) == 1
    assert "already holds data" in capsys.readouterr().err
    # DATABASE_URL is the default target (keeps the password off the command line); --replace overwrites.
    code = _cli(monkeypatch, tmp_path, ["db", "copy", "--replace"], db_path=source, database_url=pg_url or "")
    if pg_url:
        assert code == 0 and "Done: " in capsys.readouterr().out
    else:
        assert code == 1 and "--to postgresql://" in capsys.readouterr().err


def test_the_command_refuses_while_a_bot_runs_on_the_source(monkeypatch, tmp_path, capsys):
    source = tmp_path / "bot.db"
    sqlite3.connect(source).close()
    with InstanceLock.acquire(source):
        code = _cli(monkeypatch, tmp_path, ["db", "copy", "--to", str(tmp_path / "c.db")], db_path=source)
    assert code == EXIT_ALREADY_RUNNING
    assert f"A bot is running on {source}: stop it" in capsys.readouterr().err
    assert not (tmp_path / "c.db").exists()


def test_the_command_says_what_is_wrong_without_the_password(monkeypatch, tmp_path, capsys):
    source = tmp_path / "bot.db"
    missing = _cli(monkeypatch, tmp_path, ["db", "copy", "--to", str(tmp_path / "c.db")], db_path=source)
    assert missing == 1 and "bot.db: no such database file" in capsys.readouterr().err
    sqlite3.connect(source).close()
    assert _cli(monkeypatch, tmp_path, ["db", "copy", "--to", str(source)], db_path=source) == 1
    assert "the same database" in capsys.readouterr().err
    # Nothing listens on port 1: the connection fails, and the message names no password.
    url = "postgresql://bot:hunter2-secret@127.0.0.1:1/tickets"
    assert _cli(monkeypatch, tmp_path, ["db", "copy", "--to", url], db_path=source) == 1
    out, err = capsys.readouterr()
    assert "db copy failed, the target was left as it was" in err
    assert "hunter2-secret" not in out + err and "postgresql://bot:***@127.0.0.1:1/tickets" in out
