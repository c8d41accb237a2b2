"""EMBED_URL / EMBED_BACKEND / EMBED_MODEL: a chat server without embeddings paired with an embedding
server; each request reaches the right one, and either can be down while the other works."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import aiohttp
import pytest

from ai.errors import LLMUnavailable
from ai.factory import create_model_pool
from ai.pool import ModelPool
from app.settings import load_settings
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def chat_only() -> Iterator[FakeOpenAI]:
    """A llama.cpp-like server: serves the chat model, has no embedding model."""
    with FakeOpenAI(models=["llama3"]) as fake:
        yield fake


def split_pool(chat_url: str, embed_url: str, session: aiohttp.ClientSession, **env: str) -> ModelPool:
    settings = load_settings(
        {
            "LLM_BACKEND": "openai",
            "LLM_URL": chat_url,
            "EMBED_BACKEND": "ollama",
            "EMBED_URL": embed_url,
            "EMBED_MODEL": "all-minilm",
            "LLM_CONNECT_TIMEOUT": "1",
            **env,
        }
    )
    return create_model_pool(settings.llm, session)


async def test_chat_and_embeddings_reach_their_own_servers(
    chat_only: FakeOpenAI, fake_ollama: FakeOllama, http_session
) -> None:
    pool = split_pool(chat_only.url, fake_ollama.url, http_session)
    assert (await pool.chat(MESSAGES)).text
    vectors = await pool.embed(["reset my password", "where is my invoice"])
    assert len(vectors) == 2 and all(vectors)
    assert [r["path"] for r in chat_only.requests] == ["/v1/chat/completions"]
    assert [r["path"] for r in fake_ollama.requests] == ["/api/embed"]
    assert fake_ollama.requests_to("/api/embed")[0]["model"] == "all-minilm"
    await pool.aclose()


async def test_the_embedding_server_down_leaves_chat_working(chat_only: FakeOpenAI, closed_port_url, http_session):
    pool = split_pool(chat_only.url, closed_port_url, http_session)
    with pytest.raises(LLMUnavailable):
        await pool.embed(["hello"])
    assert not pool.embed_health.available and pool.health.available
    assert (await pool.chat(MESSAGES)).text
    status = await pool.status()
    assert status.reachable and status.chat[0].status.model_available
    [embed] = status.embed
    assert embed.url == closed_port_url and not embed.status.reachable and not embed.healthy
    await pool.aclose()


async def test_the_chat_server_down_leaves_embeddings_working(fake_ollama: FakeOllama, closed_port_url, http_session):
    pool = split_pool(closed_port_url, fake_ollama.url, http_session)
    with pytest.raises(LLMUnavailable):
        await pool.chat(MESSAGES)
    assert not pool.health.available and pool.embed_health.available
    assert len(await pool.embed(["hello"])) == 1
    status = await pool.status()
    assert not status.reachable
    assert status.embed[0].status.reachable and status.embed[0].status.embed_model_available
    await pool.aclose()


async def test_a_second_embedding_server_takes_over(fake_ollama: FakeOllama, closed_port_url, http_session):
    with ExitStack() as stack:
        chat = stack.enter_context(FakeOpenAI(models=["llama3"]))
        pool = split_pool(chat.url, f"{closed_port_url},{fake_ollama.url}", http_session)
        assert len(await pool.embed(["hello"])) == 1  # the first is down: asked the second
        assert not pool.embed_servers[0].embed_health.available and pool.embed_health.available
        assert len(await pool.embed(["again"])) == 1
        assert len(fake_ollama.requests_to("/api/embed")) == 2
        await pool.aclose()


def test_settings_default_to_the_chat_server_and_keep_the_old_names() -> None:
    same = load_settings({"LLM_URL": "http://gpu:11434", "OLLAMA_EMBED_MODEL": "nomic-embed-text"}).llm
    assert same.embed_model == "nomic-embed-text" and same.embeds_on_chat_servers
    assert same.embed_server_urls == ("http://gpu:11434",) and same.embed_server_backend == "ollama"
    assert load_settings({"LLM_EMBED_MODEL": "old", "EMBED_MODEL": "new"}).llm.embed_model == "new"
    assert load_settings({"LLM_EMBED_MODEL": "old", "OLLAMA_EMBED_MODEL": "older"}).llm.embed_model == "old"
    # Another kind of embedding server without a URL: that backend's usual address, not the chat server's.
    other = load_settings({"LLM_BACKEND": "openai", "LLM_URL": "http://gpu:8000", "EMBED_BACKEND": "ollama"}).llm
    assert other.embed_server_urls == ("http://127.0.0.1:11434",) and not other.embeds_on_chat_servers
