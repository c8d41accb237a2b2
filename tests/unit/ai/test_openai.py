"""The OpenAI-compatible backend against the fake SSE server."""

from __future__ import annotations

import aiohttp
import pytest

from ai.errors import LLMBusy, LLMResponseError, LLMUnavailable, ModelNotFound
from ai.factory import create_llm_client
from ai.settings import LLMSettings
from tests.fakes.openai import Fail, FakeOpenAI, Reply
from tests.fixtures_llm import fast_settings

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]


def settings(url: str, **overrides: object) -> LLMSettings:
    return fast_settings(url, backend="openai", **overrides)


@pytest.mark.parametrize("suffix", ["", "/v1", "/v1/"])
async def test_streams_with_or_without_v1_suffix(
    fake_openai: FakeOpenAI, http_session: aiohttp.ClientSession, suffix: str
) -> None:
    fake_openai.script(Reply("Hello from llama.cpp", chunk_size=4))
    client = create_llm_client(settings(fake_openai.url + suffix), http_session)
    pieces = [piece async for piece in client.chat_stream(MESSAGES)]
    assert "".join(pieces) == "Hello from llama.cpp"
    [body] = fake_openai.chat_requests()
    assert body["stream"] is True
    assert body["max_tokens"] == 512 and body["temperature"] == 0.3
    assert body["messages"] == MESSAGES


async def test_chat_result(fake_openai: FakeOpenAI, http_session: aiohttp.ClientSession) -> None:
    result = await create_llm_client(settings(fake_openai.url), http_session).chat(MESSAGES)
    assert result.text == "This is the fake model's answer."
    assert result.done_reason == "stop"
    assert result.eval_count == 4


async def test_api_key_is_sent_as_bearer(http_session: aiohttp.ClientSession) -> None:
    with FakeOpenAI(api_key="sk-secret") as fake:
        good = create_llm_client(settings(fake.url, api_key="sk-secret"), http_session)
        assert (await good.chat(MESSAGES)).text
        assert fake.requests[-1]["headers"]["Authorization"] == "Bearer sk-secret"
        bad = create_llm_client(settings(fake.url, api_key="wrong"), http_session)
        with pytest.raises(LLMResponseError, match="authentication"):
            await bad.chat(MESSAGES)
    assert "sk-secret" not in repr(good.settings)


async def test_model_not_found_and_busy(fake_openai: FakeOpenAI, http_session: aiohttp.ClientSession) -> None:
    missing = create_llm_client(settings(fake_openai.url, model="gpt-4"), http_session)
    with pytest.raises(ModelNotFound, match="does not exist"):
        await missing.chat(MESSAGES)
    assert len(fake_openai.chat_requests()) == 1

    fake_openai.script(Fail(503, "Loading model"), Reply("ready now"))
    client = create_llm_client(settings(fake_openai.url), http_session)
    assert (await client.chat(MESSAGES)).text == "ready now"

    fake_openai.script(*[Fail(503, "Loading model")] * 5)
    with pytest.raises(LLMBusy):
        await create_llm_client(settings(fake_openai.url, busy_retries=2), http_session).chat(MESSAGES)


@pytest.mark.parametrize(
    ("reply", "kept", "message"),
    [
        (Reply("Partial answer", error_after_chunks=1), ["Partial "], "failed mid-answer"),
        (Reply("Partial answer", truncate_after_chunks=1), ["Partial "], "broke off|ended"),
        (Reply("Partial answer", garbage=True), ["Partial "], "not JSON"),
        (Reply("  "), [], "empty"),
    ],
    ids=["mid-stream-error", "truncated", "garbage", "empty"],
)
async def test_broken_streams(
    fake_openai: FakeOpenAI, http_session: aiohttp.ClientSession, reply: Reply, kept: list[str], message: str
) -> None:
    fake_openai.script(reply)
    client = create_llm_client(settings(fake_openai.url), http_session)
    pieces: list[str] = []
    with pytest.raises(LLMResponseError, match=message):
        async for piece in client.chat_stream(MESSAGES):
            pieces.append(piece)
    assert [p for p in pieces if p.strip()] == kept


async def test_embeddings(fake_openai: FakeOpenAI, http_session: aiohttp.ClientSession) -> None:
    client = create_llm_client(settings(fake_openai.url, embed_model="all-minilm"), http_session)
    vectors = await client.embed(["reset password", "reset my password", "billing"])
    assert len(vectors) == 3
    same = sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True))
    other = sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True))
    assert same > other


async def test_embeddings_are_batched_in_order(fake_openai: FakeOpenAI, http_session: aiohttp.ClientSession) -> None:
    client = create_llm_client(settings(fake_openai.url, embed_model="all-minilm"), http_session)
    texts = [f"question number {i}" for i in range(40)]
    vectors = await client.embed(texts)
    assert len(fake_openai.requests_to("/v1/embeddings")) == 2  # batches of 32, shared with Ollama
    assert vectors == await client.embed(texts[:5]) + await client.embed(texts[5:])


async def test_server_status(
    fake_openai: FakeOpenAI, closed_port_url: str, http_session: aiohttp.ClientSession
) -> None:
    status = await create_llm_client(settings(fake_openai.url, embed_model="bge"), http_session).server_status()
    assert status.reachable and status.model_available
    assert status.embed_model_available is False
    assert status.models == ["llama3", "all-minilm"]

    down = create_llm_client(settings(closed_port_url), http_session)
    status = await down.server_status()
    assert not status.reachable and status.error
    with pytest.raises(LLMUnavailable):
        await down.chat(MESSAGES)
    await down.aclose()
