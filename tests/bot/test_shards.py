"""A sharded bot in SimCord: it serves tickets as usual, and its per-server background jobs (auto-close,
embedding upkeep) touch only the servers on its own shards."""

from __future__ import annotations

from dataclasses import replace

import pytest
from discord.ext import commands

from app.settings import ShardSettings
from memory import repository as repo
from tests.clock import advance
from tests.grounded import REFUND_ASK, REFUND_SUBJECT, train_faq
from tests.sim import make_world

H = 3600


def _own_and_other(guild_id: int) -> tuple[ShardSettings, ShardSettings]:
    mine = (guild_id >> 22) % 2
    return ShardSettings(2, (mine,)), ShardSettings(2, (1 - mine,))


@pytest.mark.bot_env(SHARD_COUNT="2", IDLE_WARN_HOURS="1", AUTOCLOSE_CHECK_SECONDS="600")
async def test_a_sharded_bot_answers_and_closes_only_its_own_servers_tickets(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    assert isinstance(simcord_env.bot, commands.AutoShardedBot) and simcord_env.bot.shard_count == 2
    await world.open_ticket(world.alice, REFUND_SUBJECT, REFUND_ASK)
    [thread] = world.forum.threads
    assert world.bot_messages(thread), "the sharded bot did not answer"

    own, other = _own_and_other(world.guild.id)
    core = world.core
    core.settings = replace(core.settings, shards=other)  # as if this server were another process's
    await advance(simcord_env, H + 1200)
    assert not any("quiet for a while" in m.content for m in world.bot_messages(thread))

    core.settings = replace(core.settings, shards=own)
    await simcord_env.advance_time(1200)
    assert any("quiet for a while" in m.content for m in world.bot_messages(thread))


@pytest.mark.bot_env(SHARD_COUNT="2")
async def test_embedding_upkeep_runs_only_for_owned_servers(simcord_env):
    world = await make_world(simcord_env)
    core = world.core
    await core.memory.add(world.guild.id, "Where is my invoice?", "Billing → Invoices.", embed=False)
    model = core.settings.llm.embed_model

    async def stale() -> int:
        return len(await repo.stale_phrasings(core.db, model, world.guild.id, 100))

    waiting = await stale()  # the question, and the answer (embedded for search too)
    assert waiting >= 1
    upkeep = simcord_env.bot.get_cog("Maintenance").upkeep
    own, other = _own_and_other(world.guild.id)
    core.settings = replace(core.settings, shards=other)
    await upkeep()
    assert await stale() == waiting, "another process's server was re-embedded here"
    core.settings = replace(core.settings, shards=own)
    await upkeep()
    assert await stale() == 0
