"""Query embeddings have a short timeout and a remembered failure, so search never waits on them."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from ai.client import LLMClient
from ai.errors import LLMTimeout, LLMUnavailable, ModelNotFound
from ai.factory import create_llm_client
from app.runtime import LLMEmbedder
from memory.store import TrainedMemory
from tests.fakes.ollama import Fail, FakeOllama
from tests.fixtures_llm import fast_settings

GUILD = 1
MESSAGES = [{"role": "user", "content": "hi"}]
# Set only while a test wants a query embedding to time out: every other request (setup, recovery) keeps
# the production timeout, or a loaded machine makes an ordinary 0.1 s request miss it (flaky before).
SHORT_QUERY_TIMEOUT = 0.3


def embed_client(url: str, session: aiohttp.ClientSession, **overrides: object) -> LLMClient:
    values: dict[str, object] = {"embed_model": "all-minilm", "connect_timeout": 0.3, "total_timeout": 10.0}
    values.update(overrides)
    client = create_llm_client(fast_settings(url, **values), session)
    client.embed_bulk_timeout = 3.0
    return client


async def trained(client: LLMClient, memory_db) -> TrainedMemory:
    memory = TrainedMemory(memory_db, LLMEmbedder(client))
    await memory.add(GUILD, "How do I reset my password?", "Use the reset link.")
    await memory.add(GUILD, "Where is my invoice?", "On the billing page.")
    return memory


async def test_slow_embedder_does_not_hold_up_search(fake_ollama: FakeOllama, http_session, memory_db) -> None:
    client = embed_client(fake_ollama.url, http_session, down_retry_after=30.0)
    memory = await trained(client, memory_db)
    client.embed_query_timeout = SHORT_QUERY_TIMEOUT
    fake_ollama.embed_delay = 3.0
    asked = len(fake_ollama.requests_to("/api/embed"))

    started = time.perf_counter()
    matches = await memory.find_similar(GUILD, "reset my password")
    assert time.perf_counter() - started < 1.5  # connect 0.3 + query 0.3, not the 3 s answer
    assert matches[0].entry.query == "How do I reset my password?" and matches[0].semantic is None
    assert len(fake_ollama.requests_to("/api/embed")) == asked + 1

    # The timeout is remembered: the next question is lexical at once, without a request.
    started = time.perf_counter()
    matches = await memory.find_similar(GUILD, "where is my invoice")
    assert time.perf_counter() - started < 0.2
    assert matches[0].entry.query == "Where is my invoice?" and matches[0].semantic is None
    assert len(fake_ollama.requests_to("/api/embed")) == asked + 1
    assert not client.embed_health.available
    # Chat is another model: still available and answering.
    assert client.health.available
    assert (await client.chat(MESSAGES)).text
    await client.aclose()


async def test_embed_timeout_is_remembered_then_rechecked(fake_ollama: FakeOllama, http_session) -> None:
    client = embed_client(fake_ollama.url, http_session, down_retry_after=0.3)
    client.embed_query_timeout = SHORT_QUERY_TIMEOUT
    fake_ollama.embed_delay = 1.0
    with pytest.raises(LLMTimeout):
        await client.embed(["hello"])
    with pytest.raises(LLMUnavailable, match="embedding model unavailable"):
        await client.embed(["hello"])
    fake_ollama.embed_delay = 0.0
    client.embed_query_timeout = LLMClient.embed_query_timeout
    for _ in range(100):  # the background probe finds it fast again
        if client.embed_health.available:
            break
        await asyncio.sleep(0.05)
    assert client.embed_health.available
    assert len(await client.embed(["hello"])) == 1
    await client.aclose()


async def test_missing_embed_model_is_remembered_and_chat_unaffected(fake_ollama: FakeOllama, http_session) -> None:
    client = embed_client(fake_ollama.url, http_session, embed_model="nomic-embed-text", down_retry_after=30.0)
    with pytest.raises(ModelNotFound):
        await client.embed(["hello"])
    with pytest.raises(ModelNotFound, match="nomic-embed-text"):
        await client.embed(["again"])
    assert len(fake_ollama.requests_to("/api/embed")) == 1
    assert client.health.available
    assert (await client.chat(MESSAGES)).text
    await client.aclose()


async def test_server_error_while_embedding_is_not_remembered(fake_ollama: FakeOllama, http_session) -> None:
    client = embed_client(fake_ollama.url, http_session)
    fake_ollama.embed_failure = Fail(500, "oops")
    with pytest.raises(Exception, match="oops"):
        await client.embed(["hello"])
    fake_ollama.embed_failure = None
    assert len(await client.embed(["hello"])) == 1
    await client.aclose()


async def test_bulk_embedding_gets_the_longer_timeout(fake_ollama: FakeOllama, http_session) -> None:
    client = embed_client(fake_ollama.url, http_session)
    client.embed_query_timeout = SHORT_QUERY_TIMEOUT
    fake_ollama.embed_delay = 0.8  # longer than a query may wait, well within a bulk batch's time
    vectors = await client.embed([f"text {i}" for i in range(40)])
    assert len(vectors) == 40 and client.embed_health.available
    with pytest.raises(LLMTimeout):
        await client.embed(["one question"])
    await client.aclose()
