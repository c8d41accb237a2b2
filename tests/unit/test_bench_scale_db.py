"""bench/scale_db.py runs its worker processes to the end and counts what they handled: every message answered, half
from memory and half by the (fake) model, and the PostgreSQL rows skipped, saying so, without a server."""

from __future__ import annotations

from bench import scale_db
from tests.fixtures_pg import admin_url


def test_the_sqlite_baseline_handles_every_message_and_skips_postgresql_without_a_url():
    runs, skipped = scale_db.measure(None, [1, 2], tickets=4, rounds=2)
    [run] = runs
    assert (run.label, run.processes, run.messages) == ("SQLite", 1, 8)
    assert run.routes == {"answer": 4, "llm": 4}
    assert "skipped" in skipped and "--database-url" in skipped
    assert "| SQLite | 1 | 8 |" in scale_db.table(runs, 4, 2)


def test_two_processes_share_one_postgresql_database(pg_session_db):  # skips, saying why, without a server
    runs, skipped = scale_db.measure(admin_url(), [2], tickets=3, rounds=2)
    assert skipped == ""
    _sqlite, pg = runs
    assert (pg.label, pg.processes, pg.messages, len(pg.cpu_share)) == ("PostgreSQL", 2, 12, 2)
    assert pg.routes == {"answer": 6, "llm": 6}
