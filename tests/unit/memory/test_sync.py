"""MemorySync: two TrainedMemory objects on one SQLite file, each with its own connection, are two processes
(the bot and a CLI import). A write by one is searchable by the other after one poll; only owned servers are
reloaded; a failed reload is logged and retried; `wake` polls at once (the PostgreSQL NOTIFY seam)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from app.schema import open_app_database
from memory.hashed_embedder import HashedEmbedder
from memory.store import TrainedMemory
from memory.sync import MemorySync
from tests.waiting import wait_until

GUILD, OTHER = 1, 2
QUESTION = "How do I reset my password?"


@pytest.fixture
async def two_processes(tmp_path) -> AsyncIterator[tuple[TrainedMemory, TrainedMemory]]:
    bot_db = await open_app_database(tmp_path / "bot.db")
    cli_db = await open_app_database(tmp_path / "bot.db")
    try:
        yield TrainedMemory(bot_db, HashedEmbedder()), TrainedMemory(cli_db, HashedEmbedder())
    finally:
        await cli_db.close()
        await bot_db.close()


async def _answers(memory: TrainedMemory, guild_id: int, text: str) -> list[str]:
    return [m.entry.response for m in await memory.find_similar(guild_id, text) if m.score > 0.6]


async def test_a_write_of_another_process_is_searchable_after_one_poll(two_processes):
    bot, cli = two_processes
    sync = MemorySync(bot)
    await bot.add(GUILD, "Where is my invoice?", "On the billing page.")
    assert await _answers(bot, GUILD, QUESTION) == []  # loaded, without the password entry
    await cli.add(GUILD, QUESTION, "Use the reset link.")
    assert await _answers(bot, GUILD, QUESTION) == [], "the loaded index does not see it before a poll"
    assert await sync.poll() == [GUILD]
    assert await _answers(bot, GUILD, QUESTION) == ["Use the reset link."]
    assert await sync.poll() == [], "nothing changed since: nothing reloaded"


async def test_guilds_not_loaded_or_not_owned_are_not_reloaded(two_processes):
    bot, cli = two_processes
    sync = MemorySync(bot, owns=lambda guild_id: guild_id == GUILD)
    await bot.find_similar(GUILD, QUESTION)
    await bot.find_similar(OTHER, QUESTION)
    await cli.add(GUILD, QUESTION, "Use the reset link.")
    await cli.add(OTHER, QUESTION, "Ask an admin.")
    await cli.add(3, QUESTION, "Not loaded here.")
    assert await sync.poll() == [GUILD]
    assert not bot.loaded(3)
    assert await _answers(bot, OTHER, QUESTION) == [], "another process serves that server"


async def test_a_failed_reload_is_logged_and_retried_while_searches_keep_the_old_index(
    two_processes, monkeypatch, caplog
):
    bot, cli = two_processes
    sync = MemorySync(bot)
    await bot.add(GUILD, "Where is my invoice?", "On the billing page.")
    await bot.find_similar(GUILD, QUESTION)
    await cli.add(GUILD, QUESTION, "Use the reset link.")
    load = bot._load
    failures = 1

    async def flaky(guild_id):
        nonlocal failures
        if failures:
            failures -= 1
            raise OSError("disk I/O error")
        return await load(guild_id)

    monkeypatch.setattr(bot, "_load", flaky)
    with caplog.at_level(logging.ERROR, logger="memory.sync"):
        assert await sync.poll() == []
    assert "Reloading the trained memory of guild 1 failed" in caplog.text
    assert await _answers(bot, GUILD, "Where is my invoice?") == ["On the billing page."], "the old index still answers"
    assert await sync.poll() == [GUILD]
    assert await _answers(bot, GUILD, QUESTION) == ["Use the reset link."]


async def test_a_failed_look_at_the_counters_is_logged_and_retried(two_processes, monkeypatch, caplog):
    bot, cli = two_processes
    sync = MemorySync(bot)
    await bot.find_similar(GUILD, QUESTION)
    await cli.add(GUILD, QUESTION, "Use the reset link.")
    overtaken = bot.overtaken

    async def locked():
        raise RuntimeError("database is locked")

    monkeypatch.setattr(bot, "overtaken", locked)
    with caplog.at_level(logging.ERROR, logger="memory.sync"):
        assert await sync.poll() == []
    assert "change counters failed" in caplog.text
    monkeypatch.setattr(bot, "overtaken", overtaken)
    assert await sync.poll() == [GUILD]


async def test_wake_polls_at_once_and_a_wake_during_that_poll_polls_again(two_processes):
    bot, cli = two_processes
    sync = MemorySync(bot)
    await bot.find_similar(GUILD, QUESTION)
    polls: list[list[int]] = []
    poll = sync.poll
    gate = asyncio.Event()

    async def recorded() -> list[int]:
        await gate.wait()
        polls.append(await poll())
        return polls[-1]

    sync.poll = recorded  # type: ignore[method-assign]
    try:
        await cli.add(GUILD, QUESTION, "Use the reset link.")
        sync.wake()
        sync.wake()  # before the woken task started: the same poll
        await asyncio.sleep(0)  # the task has started and waits at the gate, inside its poll
        sync.wake()  # a notification during that poll: one more after it
        gate.set()
        await wait_until(lambda: len(polls) == 2, "the woken polls ran")
        assert polls == [[GUILD], []]
        assert await _answers(bot, GUILD, QUESTION) == ["Use the reset link."]
    finally:
        await sync.close()
