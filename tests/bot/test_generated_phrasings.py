"""/train asks the model for users' phrasings in the background; /memory show lists them, staff remove them."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.ollama import Fail, Reply
from tests.sim import make_world, text_of

GENERATION_ON = pytest.mark.bot_env(GENERATE_PHRASINGS="true")
QUESTION = "How do I reset my password?"


def _fields(result) -> dict[str, str]:
    return {f.name: f.value for f in result.response.embeds[0].fields}


@GENERATION_ON
async def test_train_replies_before_the_model_and_show_lists_the_generated_phrasings(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    fake_ollama.script(Reply("how do i reset my pasword\nhow can i reset my password"))
    # The model is held back until /train has replied: were the reply waiting for it, it would never come.
    released = asyncio.Event()
    chat = world.core.phrasings.chat

    async def held_chat(messages):
        await simcord_env.external_wait(released.wait(), reason="the test releases the model after /train replied")
        return await chat(messages)

    world.core.phrasings.chat = held_chat
    saved = await world.staff.slash(world.panel_channel, "train", question=QUESTION, answer="Use the reset link.")
    assert "Saved as entry **#1**" in text_of(saved)
    assert (await world.core.memory.get(world.guild.id, 1)).generated == []
    assert fake_ollama.chat_requests() == []
    released.set()

    await world.core.phrasings.wait()
    assert len(fake_ollama.chat_requests()) == 1
    shown = await world.staff.slash(world.panel_channel, "memory show", entry_id=1)
    generated = next(value for name, value in _fields(shown).items() if name.startswith("Generated phrasings"))
    assert generated == "1. how do i reset my pasword\n2. how can i reset my password"
    assert "Other phrasings" not in _fields(shown)  # staff's own phrasings are listed apart

    removed = await world.staff.slash(world.panel_channel, "memory remove-generated", entry_id=1, number=2)
    assert removed.ephemeral and "Removed 1 generated phrasing" in text_of(removed)
    entry = await world.core.memory.get(world.guild.id, 1)
    assert entry.generated == ["how do i reset my pasword"]
    shown = await world.staff.slash(world.panel_channel, "memory show", entry_id=1)
    assert "2. how can i reset my password" not in str(_fields(shown))

    missing = await world.staff.slash(world.panel_channel, "memory remove-generated", entry_id=1, number=7)
    assert missing.ephemeral and "no generated phrasing number 7" in text_of(missing)
    refused = await world.alice.slash(world.panel_channel, "memory remove-generated", entry_id=1)
    assert refused.ephemeral and "Only staff" in text_of(refused)
    assert (await world.core.memory.get(world.guild.id, 1)).generated == ["how do i reset my pasword"]

    # Answering the same question again keeps them and asks the model nothing more.
    await world.staff.slash(world.panel_channel, "train", question=QUESTION, answer="Use the new reset link.")
    await world.core.phrasings.wait()
    assert len(fake_ollama.chat_requests()) == 1
    assert (await world.core.memory.get(world.guild.id, 1)).generated == ["how do i reset my pasword"]


@GENERATION_ON
async def test_model_down_at_train_time_is_retried_by_the_upkeep_task(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    fake_ollama.script(Fail(500, "model crashed"))
    saved = await world.staff.slash(world.panel_channel, "train", question=QUESTION, answer="Use the reset link.")
    assert "Saved as entry" in text_of(saved)
    await world.core.phrasings.wait()
    assert (await world.core.memory.get(world.guild.id, 1)).generated == []

    assert len(fake_ollama.chat_requests()) == 1
    fake_ollama.script(Reply("how do i reset my pasword"))
    await world.bot.get_cog("Maintenance").upkeep()
    assert (await world.core.memory.get(world.guild.id, 1)).generated == ["how do i reset my pasword"]


async def test_generation_off_asks_the_model_nothing(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await world.staff.slash(world.panel_channel, "train", question=QUESTION, answer="Use the reset link.")
    await world.core.phrasings.wait()
    assert fake_ollama.chat_requests() == []
    shown = await world.staff.slash(world.panel_channel, "memory show", entry_id=1)
    assert not any(name.startswith("Generated") for name in _fields(shown))
