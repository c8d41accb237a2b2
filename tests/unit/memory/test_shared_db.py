"""Two processes on one database file (issue 7, item 5b and 6): the bot and a CLI import, each with its
own connection. Writers wait for each other instead of failing, and each sees the other's writes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from app.schema import open_app_database
from memory import repository as repo
from memory.io import import_bytes
from memory.store import TrainedMemory
from memory.sync import MemorySync

GUILD, OTHER = 1, 2
QUESTION = "How do I reset my password?"


async def _hold_write_lock(db, seconds: float, started: asyncio.Event) -> None:
    """Another process in the middle of a write transaction (e.g. one row of a CLI import)."""
    await db.run("BEGIN IMMEDIATE")
    await db.run("INSERT INTO bot_meta (key, value) VALUES ('other process', 'writing')")
    started.set()
    await asyncio.sleep(seconds)
    await db.run("COMMIT")


async def test_retraining_waits_for_another_connections_write_instead_of_failing(tmp_path):
    bot_db = await open_app_database(tmp_path / "bot.db")
    cli_db = await open_app_database(tmp_path / "bot.db")
    try:
        memory = TrainedMemory(bot_db)
        entry = await memory.add(GUILD, QUESTION, "Use the reset link.")
        started = asyncio.Event()
        other = asyncio.create_task(_hold_write_lock(cli_db, 0.5, started))
        await started.wait()
        # What /train does with a known question: find it, then update it (read first, then write).
        known = await memory.get_by_query(GUILD, QUESTION)
        updated = await memory.update(GUILD, known.id, response="Use the link on the login page.")
        await other
        assert updated.response == "Use the link on the login page."
        assert (await TrainedMemory(cli_db).get(GUILD, entry.id)).response == "Use the link on the login page."
        added = await memory.add(GUILD, "Where is my invoice?", "On the billing page.")
        assert added.id != entry.id
    finally:
        await cli_db.close()
        await bot_db.close()


@pytest.fixture
async def two_processes(tmp_path) -> AsyncIterator[tuple[TrainedMemory, TrainedMemory]]:
    """The bot's memory and a CLI tool's memory: one file, two connections."""
    bot_db = await open_app_database(tmp_path / "bot.db")
    cli_db = await open_app_database(tmp_path / "bot.db")
    try:
        yield TrainedMemory(bot_db), TrainedMemory(cli_db)
    finally:
        await cli_db.close()
        await bot_db.close()


async def _top_ids(memory: TrainedMemory, text: str) -> list[int]:
    return [m.entry.id for m in await memory.find_similar(GUILD, text) if m.score > 0.6]


async def test_another_processes_deletes_and_imports_reach_the_running_index(two_processes):
    bot, cli = two_processes
    sync = MemorySync(bot)
    entry = await cli.add(GUILD, QUESTION, "Use the reset link.")
    assert await _top_ids(bot, "reset my password") == [entry.id]  # the bot's index is loaded now
    await cli.delete(GUILD, entry.id)
    assert await sync.poll() == [GUILD]
    assert await _top_ids(bot, "reset my password") == []
    rows = [{"query": "What are your opening hours?", "response": "9 to 5."}]
    await import_bytes(cli, GUILD, json.dumps(rows[0]).encode(), "faq.jsonl")
    hours = await cli.get_by_query(GUILD, "What are your opening hours?")
    assert await sync.poll() == [GUILD]
    assert await _top_ids(bot, "opening hours") == [hours.id]
    await cli.update(GUILD, hours.id, response="10 to 6.")
    await sync.poll()
    assert (await bot.find_similar(GUILD, "opening hours"))[0].entry.response == "10 to 6."


async def test_searches_never_read_the_counter_and_one_poll_reads_them_all_at_once(two_processes, monkeypatch):
    bot, cli = two_processes
    sync = MemorySync(bot)
    entry = await cli.add(GUILD, QUESTION, "Use the reset link.")
    await cli.add(OTHER, QUESTION, "Ask an admin.")
    assert await _top_ids(bot, "reset my password") == [entry.id]
    await bot.find_similar(OTHER, "reset my password")
    reads = []
    for name in ("change_count", "change_counts"):
        original = getattr(repo, name)

        def counted(*args, original=original, name=name):
            reads.append(name)
            return original(*args)

        monkeypatch.setattr(repo, name, counted)
    await cli.delete(GUILD, entry.id)
    for _ in range(10):
        await bot.find_similar(GUILD, "reset my password")
    assert reads == []  # the ticket path costs no trip to the database for this
    assert await sync.poll() == [GUILD]  # the other guild did not change: not reloaded
    assert reads == ["change_counts", "change_count"]  # the one look at every guild, and the reload
    assert await _top_ids(bot, "reset my password") == []


async def test_own_writes_keep_the_index_without_reloading(two_processes, monkeypatch):
    bot, cli = two_processes
    sync = MemorySync(bot)
    await bot.add(GUILD, QUESTION, "Use the reset link.")
    await bot.find_similar(GUILD, "reset my password")
    loads = []
    load = bot._load

    async def counting(guild_id):
        loads.append(guild_id)
        return await load(guild_id)

    monkeypatch.setattr(bot, "_load", counting)
    added = await bot.add(GUILD, "Where is my invoice?", "On the billing page.")
    await bot.update(GUILD, added.id, alternates=["invoice location"])
    await bot.record_feedback(GUILD, added.id, solved=True)
    assert await sync.poll() == []
    assert await _top_ids(bot, "invoice location") == [added.id]
    assert loads == []
    # A write of the other process in between: the bot's next own write cannot just patch its index.
    other = await cli.add(GUILD, "What are your opening hours?", "9 to 5.")
    mine = await bot.add(GUILD, "Can I get a refund?", "Within 30 days.")
    assert await _top_ids(bot, "opening hours") == [other.id]
    assert await _top_ids(bot, "refund") == [mine.id]
    assert loads == [GUILD]
    assert await sync.poll() == []
    assert loads == [GUILD]
