"""Two processes on one database file (issue 7, item 5b and 6): the bot and a CLI import, each with its
own connection. Writers wait for each other instead of failing, and each sees the other's writes."""

from __future__ import annotations

import asyncio

from memory.db import open_database, run
from memory.store import TrainedMemory

GUILD = 1
QUESTION = "How do I reset my password?"


async def _hold_write_lock(db, seconds: float, started: asyncio.Event) -> None:
    """Another process in the middle of a write transaction (e.g. one row of a CLI import)."""
    await run(db, "BEGIN IMMEDIATE")
    await run(db, "INSERT INTO bot_meta (key, value) VALUES ('other process', 'writing')")
    started.set()
    await asyncio.sleep(seconds)
    await run(db, "COMMIT")


async def test_retraining_waits_for_another_connections_write_instead_of_failing(tmp_path):
    bot_db = await open_database(tmp_path / "bot.db")
    cli_db = await open_database(tmp_path / "bot.db")
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
