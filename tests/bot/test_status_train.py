"""/status and /train through SimCord."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ai.factory import create_model_pool
from ai.settings import ServerSpec
from tests.fakes.ollama import FakeOllama
from tests.sim import make_world, text_of


def _embed_fields(result) -> dict[str, str]:
    message = result.followups[-1] if result.followups else result.response
    return {f.name: f.value for f in message.embeds[0].fields}


async def test_status_with_ollama_up(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await world.staff.slash(world.panel_channel, "train", question="Where is my invoice?", answer="Billing → Invoices.")
    result = await world.staff.slash(world.panel_channel, "status")
    assert result.ephemeral
    fields = _embed_fields(result)
    assert "reachable" in fields["Model server"] and "version 0.6.2" in fields["Model server"]
    assert "`llama3` ✅ pulled" in fields["Model server"]
    assert "1 trained entries" in fields["Database"] and "0 open tickets" in fields["Database"]
    # The tests run the fake's hashed vectors as they are (EMBED_SCALE=native, tests/conftest.py).
    assert "all-minilm: cosines used as the model gives them" in fields["Embeddings"]


@pytest.mark.bot_env(EMBED_SCALE="auto")
async def test_status_says_when_the_embedding_model_cannot_be_trusted_with_saved_answers(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    fields = _embed_fields(await world.staff.slash(world.panel_channel, "status"))
    # Measured against all-MiniLM's reference set, the fake's hashed trigrams tell paraphrases apart poorly.
    assert "all-minilm separates paraphrases poorly" in fields["Embeddings"]
    assert "saved answers are sent only through the model" in fields["Embeddings"]


async def test_status_with_ollama_down_and_model_missing(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    fake_ollama.stop()
    fields = _embed_fields(await world.staff.slash(world.panel_channel, "status"))
    assert "unreachable" in fields["Model server"]


async def test_status_shows_missing_embed_model(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    fake_ollama.models = ["llama3:latest"]
    fields = _embed_fields(await world.staff.slash(world.panel_channel, "status"))
    assert "ollama pull all-minilm" in fields["Embeddings"]


async def test_status_names_the_pull_command_for_a_missing_model(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    fake_ollama.models = ["all-minilm:latest"]
    fields = _embed_fields(await world.staff.slash(world.panel_channel, "status"))
    assert "ollama pull llama3" in fields["Model server"]


async def test_staff_commands_refuse_members_and_work_for_the_staff_role(simcord_env):
    world = await make_world(simcord_env)
    for command, options in (("status", {}), ("train", {"question": "q?", "answer": "a"}), ("ticket_panel", {})):
        refused = await world.alice.slash(world.panel_channel, command, **options)
        assert refused.ephemeral and "Only staff" in text_of(refused), command
    # the staff role has no Discord permissions at all: membership alone makes staff
    ok = await world.staff.slash(world.panel_channel, "status")
    assert ok.ephemeral and _embed_fields(ok)


async def test_setup_refuses_everyone_as_staff_role(simcord_env):
    world = await make_world(simcord_env, setup=False)
    result = await world.admin.slash(
        world.panel_channel, "setup", forum=world.forum, staff_role=world.guild.default_role
    )
    assert result.ephemeral and "can't be the staff role" in text_of(result)
    assert await world.core.tickets.config(world.guild.id) is None


async def test_train_validation_errors(simcord_env):
    world = await make_world(simcord_env)
    cases = [
        ({"question": "   ", "answer": "fine"}, "question is empty"),
        ({"question": "fine?", "answer": "  "}, "answer is empty"),
        ({"question": "q" * 301, "answer": "a"}, "limit is 300"),
        ({"question": "q?", "answer": "a" * 1901}, "limit is 1900"),
    ]
    for options, expected in cases:
        result = await world.staff.slash(world.panel_channel, "train", **options)
        assert result.ephemeral and expected in text_of(result), (options, text_of(result))
    assert await world.core.memory.count(world.guild.id) == 0
    ok = await world.staff.slash(world.panel_channel, "train", question="Where is my invoice?", answer="Billing page.")
    assert "entry **#1**" in text_of(ok)


async def test_memory_list_edit_delete(simcord_env):
    world = await make_world(simcord_env)
    await world.staff.slash(world.panel_channel, "train", question="Where is my invoice?", answer="Billing page.")
    listed = await world.staff.slash(world.panel_channel, "memory list")
    assert "Where is my invoice?" in listed.response.embeds[0].description
    edited = await world.staff.slash(world.panel_channel, "memory edit", entry_id=1, answer="Billing → Invoices.")
    assert "updated" in text_of(edited)
    assert (await world.core.memory.get(world.guild.id, 1)).response == "Billing → Invoices."
    missing = await world.staff.slash(world.panel_channel, "memory delete", entry_id=99)
    assert "no entry #99" in text_of(missing)
    await world.staff.slash(world.panel_channel, "memory delete", entry_id=1)
    assert await world.core.memory.count(world.guild.id) == 0


@pytest.mark.bot_env(LLM_BACKEND="openai", LLM_URL="fake_openai", EMBED_BACKEND="ollama", EMBED_URL="fake_ollama")
async def test_status_shows_a_separate_embedding_server(simcord_env, fake_ollama, fake_openai):
    world = await make_world(simcord_env)
    fields = _embed_fields(await world.staff.slash(world.panel_channel, "status"))
    assert "`llama3` ✅ pulled" in fields["Model server"]
    assert f"`{fake_ollama.url}` (ollama) ✅ reachable" in fields["Embeddings"]
    assert fake_openai.requests_to("/v1/embeddings") == [] and fake_ollama.chat_requests() == []

    fake_ollama.stop()  # embeddings down, chat up
    fields = _embed_fields(await world.staff.slash(world.panel_channel, "status"))
    assert "✅ reachable" in fields["Model server"]
    assert f"`{fake_ollama.url}` (ollama) ❌ unreachable" in fields["Embeddings"]
    assert "keyword search only until one is back" in fields["Embeddings"]


async def test_status_lists_every_server_of_a_pool(simcord_env, fake_ollama):
    with FakeOllama() as second:
        world = await make_world(simcord_env)
        await world.core.llm.aclose()  # the same bot, its model servers now a pool of two
        world.core.llm = create_model_pool(
            replace(
                world.core.settings.llm,
                servers=(ServerSpec(fake_ollama.url, 2), ServerSpec(second.url, 1)),
                embed_urls=(fake_ollama.url, second.url),
            ),
            world.core.http_session,
        )
        second.stop()
        fields = _embed_fields(await world.staff.slash(world.panel_channel, "status"))
    value = fields["Model servers"]
    assert f"✅ `{fake_ollama.url}` reachable (version 0.6.2) · `llama3` ✅ pulled · 0/2 busy" in value
    assert f"❌ `{second.url}` unreachable" in value
