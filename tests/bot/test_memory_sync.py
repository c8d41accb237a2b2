"""A CLI import into the running bot's database reaches its answers without a restart (issue 12): the import
runs the real `python bot.py train import` code with its own connection to the bot's file, and the bot's
memory sync (every MEMORY_SYNC_SECONDS on the virtual clock) reloads the server's search index."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import pytest

from app import commands
from app.settings import ShardSettings, load_settings
from tests.sim import make_world, text_of

HOURS_Q = "What are your opening hours?"
HOURS_A = "We are open Monday to Friday, 9:00 to 17:00 CET."


async def _cli_import(bot_env: dict[str, str], tmp_path, guild_id: int) -> None:
    """`python bot.py train import faq.jsonl --guild …` in this process: the CLI's own core and connection."""
    faq = tmp_path / "faq.jsonl"
    faq.write_text(json.dumps({"query": HOURS_Q, "response": HOURS_A}) + "\n", encoding="utf-8")
    args = argparse.Namespace(train_command="import", file=faq, guild=guild_id)
    assert await commands.train(load_settings(bot_env, dotenv=False), args) == 0


@pytest.mark.bot_env(MEMORY_SYNC_SECONDS="5")
async def test_a_cli_import_is_answered_without_a_restart(simcord_env, bot_env, tmp_path):
    world = await make_world(simcord_env)
    result = await world.staff.slash(
        world.panel_channel, "train", question="Where is my invoice?", answer="Billing → Invoices."
    )
    assert "Saved as entry" in text_of(result)
    await world.open_ticket(world.alice, "Hours", HOURS_Q)
    [thread] = world.forum.threads
    first = world.bot_messages(thread)[-1].content
    assert HOURS_A not in first, "nothing about opening hours is trained yet"
    assert world.core.memory.loaded(world.guild.id), "the running bot's index is loaded (and stale from now on)"

    await _cli_import(bot_env, tmp_path, world.guild.id)
    await simcord_env.advance_time(5)  # one round of the memory sync

    await world.alice.send(thread, HOURS_Q)
    answer = world.bot_messages(thread)[-1]
    assert HOURS_A in answer.content and "Saved answer" in answer.content, answer.content


@pytest.mark.bot_env(MEMORY_SYNC_SECONDS="5", SHARD_COUNT="2")
async def test_only_the_process_that_owns_a_server_reloads_it(simcord_env, bot_env, tmp_path):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Hours", HOURS_Q)
    [thread] = world.forum.threads
    core, g = world.core, world.guild.id
    assert core.memory.loaded(g)
    mine = (g >> 22) % 2
    core.settings = replace(core.settings, shards=ShardSettings(2, (1 - mine,)))  # as if another process served it
    await _cli_import(bot_env, tmp_path, g)
    await simcord_env.advance_time(5)
    assert await core.memory.overtaken() == [g], "not reloaded here: still behind the import"
    core.settings = replace(core.settings, shards=ShardSettings(2, (mine,)))
    await simcord_env.advance_time(5)
    assert await core.memory.overtaken() == []
    await world.alice.send(thread, HOURS_Q)
    assert HOURS_A in world.bot_messages(thread)[-1].content


async def test_the_running_bot_listens_for_change_notifications_on_postgresql_only(simcord_env, db_backend):
    world = await make_world(simcord_env)
    listener = world.core.change_listener
    if db_backend == "postgresql":
        assert listener is not None and listener.connected and listener.connects == 1
    else:
        assert listener is None, "SQLite cannot signal another process: the version check alone"
