"""Phrasings the model proposes for trained questions: stored apart, filtered, removable, retried."""

from __future__ import annotations

import asyncio

import aiohttp

from ai.factory import create_llm_client
from app.runtime import LLMEmbedder
from memory.generated import PhrasingGenerator, parse_paraphrases
from memory.store import TrainedMemory
from tests.fakes.ollama import Fail, FakeOllama, Reply
from tests.fixtures_llm import fast_settings

GUILD = 1
PASSWORD = "How do I reset my password?"
INVOICE = "Where can I download my invoice?"


async def setup(fake: FakeOllama, session: aiohttp.ClientSession, db) -> tuple[TrainedMemory, PhrasingGenerator]:
    """A memory embedding through the fake server, and a generator chatting with it."""
    client = create_llm_client(fast_settings(fake.url, model="llama3", embed_model="all-minilm"), session)

    async def chat(messages):
        return (await client.chat(messages)).text

    memory = TrainedMemory(db, LLMEmbedder(client))
    return memory, PhrasingGenerator(memory, chat, "llama3")


def test_parse_strips_list_markers_and_drops_the_question_markup_cut_offs_and_repeats() -> None:
    reply = (
        "1. how do i reset my pasword\n"
        "- forgot password pls\n"
        '"reset pw??"\n'
        "How do I reset my password?\n"  # the question itself
        "FORGOT PASSWORD PLS\n"  # the same as the second, once normalised
        "<knowledge>reset my password</knowledge>\n"
        "how do i reset my\n"  # cut off
        "order still not here after a week\n"  # copied from the prompt's example
        "\u200b\n" + "x" * 200 + "\n"
    )
    assert parse_paraphrases(reply, PASSWORD) == ["how do i reset my pasword", "forgot password pls", "reset pw??"]


async def test_generated_phrasings_are_stored_apart_and_searched(fake_ollama, http_session, memory_db) -> None:
    memory, generator = await setup(fake_ollama, http_session, memory_db)
    entry = await memory.add(GUILD, PASSWORD, "Use the reset link.", alternates=["i forgot my password"])
    await memory.add(GUILD, INVOICE, "Billing → Invoices.")
    fake_ollama.script(Reply("how do i reset my pasword\nhow can i reset my password"))

    outcome = await generator.generate(GUILD, entry.id)

    assert outcome.stored == ["how do i reset my pasword", "how can i reset my password"] and not outcome.pending
    stored = await memory.get(GUILD, entry.id)
    assert stored is not None
    assert stored.generated == ["how do i reset my pasword", "how can i reset my password"]
    assert stored.alternates == ["i forgot my password"]  # staff's phrasings untouched
    # Asked with the entry's question, in the prompt.
    assert PASSWORD in fake_ollama.chat_requests()[-1]["messages"][-1]["content"]
    # Searched like an alternate, by a fresh process too (read back from SQLite).
    fresh = TrainedMemory(memory_db, memory.embedder)
    best = (await fresh.find_similar(GUILD, "how can i reset my password"))[0]
    assert best.entry.id == entry.id and best.phrasing == "how can i reset my password"
    # Done for this entry; the other one is still to do.
    assert [entry_id for _, entry_id in await memory.generation_pending(GUILD)] == [entry.id + 1]


async def test_a_phrasing_closer_to_another_entry_is_dropped(fake_ollama, http_session, memory_db) -> None:
    memory, generator = await setup(fake_ollama, http_session, memory_db)
    entry = await memory.add(GUILD, PASSWORD, "Use the reset link.")
    invoice = await memory.add(GUILD, INVOICE, "Billing → Invoices.")
    # The model drifted: the second line asks the invoice question, the third nothing of ours.
    fake_ollama.script(Reply("how do i reset my pasword\nwhere can i download my invoices\nwhat time is it in tokyo"))

    outcome = await generator.generate(GUILD, entry.id)

    assert outcome.stored == ["how do i reset my pasword"]
    # The invoice question still finds the invoice entry first: nothing was stolen from it.
    best = (await memory.find_similar(GUILD, "where can i download my invoices"))[0]
    assert best.entry.id == invoice.id


async def test_a_phrasing_already_trained_is_not_stored_again(fake_ollama, http_session, memory_db) -> None:
    memory, generator = await setup(fake_ollama, http_session, memory_db)
    entry = await memory.add(GUILD, PASSWORD, "Use the reset link.", alternates=["how can i reset my password"])
    fake_ollama.script(Reply("How can I reset my password??\nhow do i reset my pasword"))

    assert (await generator.generate(GUILD, entry.id)).stored == ["how do i reset my pasword"]


async def test_model_down_generates_nothing_and_the_entry_is_retried(fake_ollama, http_session, memory_db) -> None:
    memory, generator = await setup(fake_ollama, http_session, memory_db)
    entry = await memory.add(GUILD, PASSWORD, "Use the reset link.")
    fake_ollama.script(Fail(500, "model crashed"))

    assert (await generator.backfill()) == 0
    stored = await memory.get(GUILD, entry.id)
    assert stored is not None and stored.generated == []
    assert await memory.generation_pending(GUILD) == [(GUILD, entry.id)]

    # Back up: the next upkeep run generates for it, and then it is done.
    fake_ollama.script(Reply("how do i reset my pasword"))
    assert (await generator.backfill()) == 1
    stored = await memory.get(GUILD, entry.id)
    assert stored is not None and stored.generated == ["how do i reset my pasword"]
    assert not await memory.generation_pending(GUILD)
    assert (await generator.backfill()) == 0  # nothing asked again
    assert len(fake_ollama.chat_requests()) == 2


async def test_embeddings_down_keeps_the_entry_pending(fake_ollama, http_session, memory_db) -> None:
    memory, generator = await setup(fake_ollama, http_session, memory_db)
    entry = await memory.add(GUILD, PASSWORD, "Use the reset link.")
    fake_ollama.embed_failure = Fail(500, "embedding model crashed")
    fake_ollama.script(Reply("how do i reset my pasword"))

    assert (await generator.generate(GUILD, entry.id)).pending
    assert (await memory.get(GUILD, entry.id)).generated == []
    assert await memory.generation_pending(GUILD) == [(GUILD, entry.id)]


async def test_removed_phrasings_stay_removed_until_the_question_changes(fake_ollama, http_session, memory_db) -> None:
    memory, generator = await setup(fake_ollama, http_session, memory_db)
    entry = await memory.add(GUILD, PASSWORD, "Use the reset link.")
    fake_ollama.script(Reply("how do i reset my pasword\nhow can i reset my password"))
    await generator.generate(GUILD, entry.id)
    await memory.find_similar(GUILD, "warm the index")

    assert await memory.remove_generated(GUILD, entry.id, 1) == 1
    stored = await memory.get(GUILD, entry.id)
    assert stored is not None and stored.generated == ["how can i reset my password"]
    best = (await memory.find_similar(GUILD, "how do i reset my pasword"))[0]
    assert best.phrasing != "how do i reset my pasword"  # gone from the loaded index too
    assert await memory.remove_generated(GUILD, entry.id, 5) == 0
    assert not await memory.generation_pending(GUILD)  # not generated again

    # Other edits keep them; a new question drops them and makes the entry pending again.
    await memory.update(GUILD, entry.id, response="Use the new reset link.")
    assert (await memory.get(GUILD, entry.id)).generated == ["how can i reset my password"]
    await memory.update(GUILD, entry.id, query="How do I change my password?")
    assert (await memory.get(GUILD, entry.id)).generated == []
    assert await memory.generation_pending(GUILD) == [(GUILD, entry.id)]
    assert await memory.delete(GUILD, entry.id)
    assert not await memory.generation_pending(GUILD)


async def test_phrasings_for_an_old_question_are_not_stored(fake_ollama, http_session, memory_db) -> None:
    memory, generator = await setup(fake_ollama, http_session, memory_db)
    entry = await memory.add(GUILD, PASSWORD, "Use the reset link.")
    fake_ollama.script(Reply("how do i reset my pasword", first_byte_delay=0.3))
    task = generator.request(GUILD, entry.id)
    assert task is not None and not task.done()  # in the background
    await asyncio.sleep(0.05)
    await memory.update(GUILD, entry.id, query="How do I change my e-mail address?")
    await generator.wait()

    stored = await memory.get(GUILD, entry.id)
    assert stored is not None and stored.generated == []
    assert await memory.generation_pending(GUILD) == [(GUILD, entry.id)]


async def test_without_a_model_or_embeddings_nothing_is_requested(fake_ollama, memory_db, hashed_embedder) -> None:
    async def chat(messages):
        raise AssertionError("the model must not be asked")

    lexical = TrainedMemory(memory_db)
    entry = await lexical.add(GUILD, PASSWORD, "Use the reset link.")
    assert PhrasingGenerator(lexical, chat).request(GUILD, entry.id) is None
    assert PhrasingGenerator(TrainedMemory(memory_db, hashed_embedder), None).request(GUILD, entry.id) is None
    assert await PhrasingGenerator(lexical, chat).backfill() == 0
