"""server_status: up, model missing (with a pull hint), down; it never raises."""

from __future__ import annotations

import aiohttp

from ai.client import same_model
from ai.factory import create_llm_client
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.fixtures_llm import fast_settings


def test_model_names_match_latest_tag() -> None:
    assert same_model("llama3", "llama3:latest")
    assert same_model("llama3:latest", "llama3")
    assert not same_model("llama3", "llama3:8b")
    assert same_model("library/llama3", "library/llama3:latest")


async def test_status_up(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    client = create_llm_client(fast_settings(fake_ollama.url, embed_model="all-minilm"), http_session)
    await client.chat([{"role": "user", "content": "warm up"}])
    status = await client.server_status()
    assert status.reachable
    assert status.version == "0.6.2"
    assert status.model_available
    assert status.embed_model_available is True
    assert status.models == ["llama3:latest", "all-minilm:latest"]
    assert status.loaded_models == ["llama3:latest"]
    assert status.error is None and status.pull_hint is None


async def test_status_model_missing(http_session: aiohttp.ClientSession) -> None:
    with FakeOllama(models=["all-minilm:latest"]) as fake:
        client = create_llm_client(fast_settings(fake.url, embed_model="nomic-embed-text"), http_session)
        status = await client.server_status()
        await client.aclose()
    assert status.reachable
    assert not status.model_available
    assert status.embed_model_available is False
    assert status.pull_hint == "ollama pull llama3 && ollama pull nomic-embed-text"
    assert "llama3" in (status.error or "")
    assert not client.health.available  # chat now fails fast with ModelNotFound


async def test_status_down(closed_port_url: str, http_session: aiohttp.ClientSession) -> None:
    client = create_llm_client(fast_settings(closed_port_url), http_session)
    status = await client.server_status()
    await client.aclose()
    assert not status.reachable
    assert status.error
    assert status.version is None and status.models == []
    assert not client.health.available


async def test_openai_status_names_no_ollama_commands(http_session: aiohttp.ClientSession) -> None:
    with FakeOpenAI(models=["llama3"]) as fake:
        client = create_llm_client(
            fast_settings(fake.url, backend="openai", model="qwen", embed_model="nomic-embed-text"), http_session
        )
        status = await client.server_status()
        await client.aclose()
    assert status.reachable and not status.model_available and status.embed_model_available is False
    assert status.pull_hint is None and status.embed_pull_hint is None
    assert "not listed by the server" in (status.error or "")
    assert client.health.available, "a single-model server may serve a model it does not list"


async def test_unreachable_status_says_how_to_start_the_backend(
    http_session: aiohttp.ClientSession, closed_port_url: str
) -> None:
    ollama = create_llm_client(fast_settings(closed_port_url), http_session)
    openai = create_llm_client(fast_settings(closed_port_url, backend="openai"), http_session)
    ollama_status, openai_status = await ollama.server_status(), await openai.server_status()
    await ollama.aclose()
    await openai.aclose()
    assert not ollama_status.reachable and ollama_status.start_hint == "start it with: ollama serve"
    assert not openai_status.reachable and "ollama" not in openai_status.start_hint
    assert not ollama.health.available, "an unreachable server is remembered as down"
