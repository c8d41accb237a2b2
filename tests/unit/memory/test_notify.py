"""PostgreSQL change notifications (memory/notify.py) on a real server: a write by another OS process reaches this
process's loaded index within about a second although the periodic poll never runs here (only the NOTIFY can have
done it), and the listener survives its connection being ended (pg_terminate_backend), catching up on what it
missed meanwhile. On SQLite a write sends nothing (the version check is its only path, tests/unit/memory/test_sync.py).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from app.schema import open_app_database
from memory import repository as repo
from memory.hashed_embedder import HashedEmbedder
from memory.notify import APPLICATION_NAME, ChangeListener
from memory.store import TrainedMemory
from memory.sync import MemorySync
from tests.fixtures_pg import fresh_pg_database

GUILD = 1
QUESTION = "How do I reset my password?"
ROOT = Path(__file__).resolve().parents[3]

# The other process: opens the database and trains one answer, as `python bot.py train add` or another bot would.
WRITER = """
import asyncio, sys
from app.schema import open_app_database
from memory.hashed_embedder import HashedEmbedder
from memory.store import TrainedMemory

async def main(url, question, answer):
    db = await open_app_database(url)
    try:
        await TrainedMemory(db, HashedEmbedder()).add(1, question, answer)
    finally:
        await db.close()

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture
def fresh_url(pg_session_db: str) -> str:  # pg_session_db skips, saying why, without TEST_DATABASE_URL
    return fresh_pg_database()


@pytest.fixture
async def bot(fresh_url: str) -> AsyncIterator[TrainedMemory]:
    db = await open_app_database(fresh_url)
    memory = TrainedMemory(db, HashedEmbedder())
    await memory.add(GUILD, "Where is my invoice?", "On the billing page.")  # loaded, without the password entry
    yield memory
    await db.close()


async def _answers(memory: TrainedMemory, text: str = QUESTION) -> list[str]:
    return [m.entry.response for m in await memory.find_similar(GUILD, text) if m.score > 0.6]


async def _write_in_another_process(url: str, question: str, answer: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, url, question, answer, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert await asyncio.wait_for(proc.wait(), 60) == 0


async def _searchable_within(memory: TrainedMemory, seconds: float, answer: str, question: str = QUESTION) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if answer in await _answers(memory, question):
            return time.perf_counter() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"{answer!r} was not searchable within {seconds} s")


async def test_a_write_by_another_process_is_searchable_within_a_second(bot, fresh_url):
    sync = MemorySync(bot)  # polled by nobody here: MEMORY_SYNC_SECONDS might as well be an hour
    listener = ChangeListener(fresh_url, sync.wake)
    await listener.start()
    try:
        assert listener.connected
        await _searchable_within(bot, 1.0, "On the billing page.", "Where is my invoice?")  # the index is loaded
        assert await _answers(bot) == []
        await _write_in_another_process(fresh_url, QUESTION, "Use the reset link.")
        waited = await _searchable_within(bot, 1.0, "Use the reset link.")
        assert listener.notifications >= 1, f"searchable after {waited:.2f} s, but not through a notification?"
    finally:
        await listener.close()
        await sync.close()


async def test_the_listener_reconnects_after_its_connection_is_ended_and_catches_up(bot, fresh_url):
    sync = MemorySync(bot)
    # A long first retry: the write below surely lands while the listener is disconnected (its NOTIFY is lost).
    listener = ChangeListener(fresh_url, sync.wake, first_retry_s=1.5)
    await listener.start()
    other_db = await open_app_database(fresh_url)
    admin = await asyncpg.connect(fresh_url)
    try:
        await _searchable_within(bot, 1.0, "On the billing page.", "Where is my invoice?")  # the index is loaded
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            APPLICATION_NAME,
        )
        assert ended == 1
        for _ in range(200):
            if not listener.connected:
                break
            await asyncio.sleep(0.01)
        assert not listener.connected, "the listener did not notice its connection was ended"
        notified = listener.notifications
        await TrainedMemory(other_db, HashedEmbedder()).add(GUILD, QUESTION, "Use the reset link.")
        assert await _answers(bot) == [], "nothing but the listener reloads here"
        await _searchable_within(bot, 5.0, "Use the reset link.")
        assert listener.connects == 2
        assert listener.notifications == notified, "caught up by the reconnect's poll, not by the lost notification"
        # And it listens again: the next write arrives as a notification.
        await TrainedMemory(other_db, HashedEmbedder()).add(GUILD, "Can I change my email?", "In your profile.")
        await _searchable_within(bot, 1.0, "In your profile.", "Can I change my email?")
        assert listener.notifications > notified
    finally:
        await admin.close()
        await other_db.close()
        await listener.close()
        await sync.close()


async def test_notifications_are_sent_on_commit_only(fresh_url):
    db = await open_app_database(fresh_url)
    listen = await asyncpg.connect(fresh_url)
    heard: list[str] = []
    await listen.add_listener(repo.CHANGES_CHANNEL, lambda *args: heard.append(args[-1]))
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction():
                await repo.bump_changes(db, 42)
                raise RuntimeError("rolled back")
        async with db.transaction():
            assert await repo.bump_changes(db, 7) == 1
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert heard == ["7"]
    finally:
        await listen.close()
        await db.close()
