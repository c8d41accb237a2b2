"""The Ollama client against scripted faults: type, bounded time, kept text."""

from __future__ import annotations

import time

import aiohttp
import pytest

from ai.client import LLMClient
from ai.errors import LLMBusy, LLMResponseError, LLMTimeout, LLMUnavailable, ModelNotFound
from ai.factory import create_llm_client
from ai.types import ChatMessage
from tests.fakes.ollama import Fail, FakeOllama, Reply
from tests.fixtures_llm import fast_settings

MESSAGES: list[ChatMessage] = [{"role": "user", "content": "How do I reset my password?"}]


def client_for(url: str, session: aiohttp.ClientSession, **overrides: object) -> LLMClient:
    return create_llm_client(fast_settings(url, **overrides), session)


async def collect(client: LLMClient) -> tuple[list[str], BaseException | None, float]:
    """Stream an answer; return the pieces, the exception (if any) and the elapsed time."""
    pieces: list[str] = []
    started = time.monotonic()
    try:
        async for piece in client.chat_stream(MESSAGES):
            pieces.append(piece)
    except Exception as exc:
        return pieces, exc, time.monotonic() - started
    return pieces, None, time.monotonic() - started


async def test_streams_reply_in_pieces(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    fake_ollama.script(Reply("Open Settings, then Security.", chunk_size=5))
    pieces, err, _ = await collect(client_for(fake_ollama.url, http_session))
    assert err is None
    assert "".join(pieces) == "Open Settings, then Security."
    assert len(pieces) == 6


async def test_chat_returns_result_with_metrics(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    result = await client_for(fake_ollama.url, http_session).chat(MESSAGES)
    assert result.text == "This is the fake model's answer."
    assert result.done_reason == "stop"
    assert result.eval_count == 4
    assert result.duration_s < 2


async def test_request_carries_options_and_keep_alive(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    client = client_for(fake_ollama.url, http_session, num_ctx=8192, temperature=0.1, num_predict=256)
    await client.chat(MESSAGES)
    [body] = fake_ollama.chat_requests()
    assert body["model"] == "llama3"
    assert body["messages"] == MESSAGES
    assert body["stream"] is True
    assert body["keep_alive"] == "30m"
    assert body["options"] == {"num_ctx": 8192, "temperature": 0.1, "num_predict": 256}


async def test_server_down_is_unavailable_quickly(closed_port_url: str, http_session: aiohttp.ClientSession) -> None:
    pieces, err, elapsed = await collect(client_for(closed_port_url, http_session))
    assert isinstance(err, LLMUnavailable)
    assert pieces == []
    assert elapsed < 2


async def test_cold_load_within_first_token_timeout_succeeds(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Reply("Loaded and answering.", first_byte_delay=0.4))
    pieces, err, elapsed = await collect(client_for(fake_ollama.url, http_session, first_token_timeout=1.5))
    assert err is None
    assert "".join(pieces) == "Loaded and answering."
    assert 0.35 < elapsed < 2


async def test_cold_load_beyond_first_token_timeout_times_out(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Reply("too late", first_byte_delay=3))
    pieces, err, elapsed = await collect(client_for(fake_ollama.url, http_session, first_token_timeout=0.3))
    assert isinstance(err, LLMTimeout)
    assert "first token" in str(err)
    assert pieces == []
    assert elapsed < 2


async def test_slow_chunks_hit_the_gap_timeout_and_keep_text(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Reply("first part|second part", chunk_size=11, chunk_delay=2))
    pieces, err, elapsed = await collect(client_for(fake_ollama.url, http_session, chunk_timeout=0.3))
    assert isinstance(err, LLMTimeout)
    assert "chunk" in str(err)
    assert pieces == ["first part|"]
    assert elapsed < 2


async def test_total_timeout_bounds_a_trickling_answer(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Reply("x" * 100, chunk_size=1, chunk_delay=0.05))
    pieces, err, elapsed = await collect(client_for(fake_ollama.url, http_session, total_timeout=0.5))
    assert isinstance(err, LLMTimeout)
    assert "total" in str(err)
    assert 0 < len(pieces) < 100
    assert elapsed < 2


async def test_missing_model_is_not_retried(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    client = client_for(fake_ollama.url, http_session, model="mistral")
    _, err, elapsed = await collect(client)
    assert isinstance(err, ModelNotFound)
    assert err.model == "mistral"
    assert err.pull_hint == "ollama pull mistral"
    assert len(fake_ollama.chat_requests()) == 1
    assert elapsed < 2


async def test_scripted_404_maps_to_model_not_found(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Fail(404, 'model "llama3" not found, try pulling it first'))
    _, err, _ = await collect(client_for(fake_ollama.url, http_session))
    assert isinstance(err, ModelNotFound)
    assert err.pull_hint == "ollama pull llama3"
    assert len(fake_ollama.chat_requests()) == 1


async def test_busy_then_ok_is_retried(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    busy = Fail(503, "server busy, please try again.  maximum pending requests exceeded")
    fake_ollama.script(busy, busy, Reply("after the queue"))
    pieces, err, elapsed = await collect(client_for(fake_ollama.url, http_session))
    assert err is None
    assert "".join(pieces) == "after the queue"
    assert len(fake_ollama.chat_requests()) == 3
    assert elapsed < 2


async def test_busy_forever_raises_llm_busy(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    fake_ollama.script(*[Fail(503, "server busy, please try again.")] * 10)
    _, err, elapsed = await collect(client_for(fake_ollama.url, http_session, busy_retries=3))
    assert isinstance(err, LLMBusy)
    assert len(fake_ollama.chat_requests()) == 4  # first try + 3 retries
    assert elapsed < 2


async def test_other_http_errors_are_response_errors(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Fail(500, "llama runner process has terminated"))
    _, err, _ = await collect(client_for(fake_ollama.url, http_session))
    assert isinstance(err, LLMResponseError)
    assert "runner process" in str(err)
    assert len(fake_ollama.chat_requests()) == 1


@pytest.mark.parametrize(
    ("reply", "expected_pieces", "message"),
    [
        (Reply("Partial answer here", error_after_chunks=2), ["Partial ", "answer h"], "failed mid-answer"),
        (Reply("Partial answer here", truncate_after_chunks=2), ["Partial ", "answer h"], "broke off"),
        (Reply("Partial answer here", garbage=True), ["Partial "], "not JSON"),
    ],
    ids=["mid-stream-error", "truncated", "garbage"],
)
async def test_broken_streams_keep_text_already_yielded(
    fake_ollama: FakeOllama,
    http_session: aiohttp.ClientSession,
    reply: Reply,
    expected_pieces: list[str],
    message: str,
) -> None:
    fake_ollama.script(reply)
    pieces, err, elapsed = await collect(client_for(fake_ollama.url, http_session))
    assert isinstance(err, LLMResponseError)
    assert message in str(err)
    assert pieces == expected_pieces
    assert elapsed < 2


async def test_stream_closed_cleanly_without_done_is_truncated(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    # Every chunk sent, then the connection drops before the done line.
    fake_ollama.script(Reply("short", truncate_after_chunks=1))
    pieces, err, _ = await collect(client_for(fake_ollama.url, http_session))
    assert isinstance(err, LLMResponseError)
    assert pieces == ["short"]


@pytest.mark.parametrize("text", ["", "   \n  "], ids=["empty", "whitespace"])
async def test_empty_answer_is_a_response_error(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession, text: str
) -> None:
    fake_ollama.script(Reply(text))
    client = client_for(fake_ollama.url, http_session)
    with pytest.raises(LLMResponseError, match="empty"):
        await client.chat(MESSAGES)


async def test_embed_batches_and_is_deterministic(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    client = client_for(fake_ollama.url, http_session, embed_model="all-minilm")
    texts = [f"how do I reset my password {i}" for i in range(40)]
    vectors = await client.embed(texts)
    assert len(vectors) == 40
    assert all(len(v) == 64 for v in vectors)
    assert len(fake_ollama.requests_to("/api/embed")) == 2  # batches of 32
    assert vectors == await client.embed(texts)
    assert await client.embed([]) == []


async def test_embed_with_missing_model(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    client = client_for(fake_ollama.url, http_session, embed_model="nomic-embed-text")
    with pytest.raises(ModelNotFound) as info:
        await client.embed(["hello"])
    assert info.value.pull_hint == "ollama pull nomic-embed-text"
    assert client.health.available  # a missing embed model does not block chat
