"""Fail-fast memory of a down server, and the fair concurrency queue."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import aiohttp
import pytest

from ai.errors import LLMUnavailable, ModelNotFound
from ai.factory import create_llm_client
from tests.fakes.ollama import FakeOllama, Reply
from tests.fixtures_llm import fast_settings
from tests.waiting import wait_until

MESSAGES = [{"role": "user", "content": "hi"}]


async def test_down_server_is_remembered_then_recovers(http_session: aiohttp.ClientSession) -> None:
    fake = FakeOllama().start()
    url = fake.url
    fake.stop()  # the port is now closed: the server is "down"
    client = create_llm_client(fast_settings(url, down_retry_after=0.3), http_session)
    with pytest.raises(LLMUnavailable):
        await client.chat(MESSAGES)
    assert not client.health.available
    assert client.health.last_error

    revived = FakeOllama(port=int(url.rsplit(":", 1)[1])).start()
    try:
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match="retrying"):
            await client.chat(MESSAGES)
        # Failed fast (before it could even have waited to connect), without touching the network.
        assert time.monotonic() - started < client.settings.connect_timeout
        assert revived.requests == []

        # The background probe runs after down_retry_after (waited for: a fixed 0.6 s was flaky under load).
        await wait_until(lambda: client.health.available, "the background probe found the server back")
        assert client.health.available
        assert revived.requests[0]["path"] == "/api/tags"
        result = await client.chat(MESSAGES)
        assert result.text
    finally:
        await client.aclose()
        revived.stop()


async def test_request_after_expiry_probes_by_itself(closed_port_url: str, http_session: aiohttp.ClientSession) -> None:
    client = create_llm_client(fast_settings(closed_port_url, down_retry_after=0.2), http_session)
    with pytest.raises(LLMUnavailable):
        await client.chat(MESSAGES)
    checked = client.health.checked_at
    await client.health.aclose()  # stop the background probe: the request must probe itself
    await asyncio.sleep(0.25)
    with pytest.raises(LLMUnavailable, match="cannot reach"):
        await client.chat(MESSAGES)
    assert client.health.checked_at is not None and checked is not None
    assert client.health.checked_at > checked
    await client.aclose()


async def test_missing_model_is_remembered(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    client = create_llm_client(fast_settings(fake_ollama.url, model="qwen2", down_retry_after=5), http_session)
    with pytest.raises(ModelNotFound):
        await client.chat(MESSAGES)
    with pytest.raises(ModelNotFound) as info:
        await client.chat(MESSAGES)
    assert info.value.pull_hint == "ollama pull qwen2"
    assert len(fake_ollama.chat_requests()) == 1
    await client.aclose()


async def test_pulled_model_recovers_on_probe(http_session: aiohttp.ClientSession) -> None:
    with FakeOllama(models=["llama3:latest"]) as fake:
        client = create_llm_client(fast_settings(fake.url, model="qwen2", down_retry_after=0.2), http_session)
        with pytest.raises(ModelNotFound):
            await client.chat(MESSAGES)
        fake.models.append("qwen2:latest")  # "ollama pull qwen2"
        await wait_until(lambda: client.health.available, "the background probe found the model")
        assert client.health.available
        assert (await client.chat(MESSAGES)).text
        await client.aclose()


async def test_queue_is_fair_and_bounded(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    # The test decides when each answer ends (held replies) and waits for what it expects before the next
    # step: timed delays let a loaded machine end two answers together or reorder arrivals (flaky before).
    holds = [threading.Event() for _ in range(5)]
    fake_ollama.script(*[Reply(f"answer {i}", hold=holds[i]) for i in range(5)])
    client = create_llm_client(fast_settings(fake_ollama.url, max_concurrency=2), http_session)
    positions: dict[int, list[int]] = {i: [] for i in range(5)}
    lengths: list[int] = []

    async def ask(i: int) -> str:
        async def on_queued(position: int) -> None:
            positions[i].append(position)
            lengths.append(client.queue_length)

        messages = [{"role": "user", "content": f"question {i}"}]
        return (await client.chat(messages, on_queued=on_queued)).text

    def sent(count: int) -> Callable[[], bool]:
        return lambda: len(fake_ollama.chat_requests()) == count

    tasks = []
    try:
        for i in range(5):  # fix the arrival order: each one is in flight or in line before the next comes
            tasks.append(asyncio.create_task(ask(i)))
            if i < 2:
                await wait_until(sent(i + 1), f"question {i} reached the server")
            else:
                await wait_until(lambda i=i: positions[i] == [i - 1], f"question {i} queued at {i - 1}")
        for i in range(5):  # the line moves one place per finished answer
            holds[i].set()
            if i + 2 < 5:
                await wait_until(sent(i + 3), f"question {i + 2} was let through")
                await wait_until(
                    lambda i=i: all(len(positions[j]) == i + 2 for j in range(i + 3, 5)), "the waiters heard the move"
                )
        results = await asyncio.gather(*tasks)
    finally:
        for hold in holds:
            hold.set()

    assert fake_ollama.max_in_flight == 2
    arrival = [body["messages"][0]["content"] for body in fake_ollama.chat_requests()]
    assert arrival == [f"question {i}" for i in range(5)]
    # each waiter hears its place on arrival and again whenever the line moves
    assert positions == {0: [], 1: [], 2: [1], 3: [2, 1], 4: [3, 2, 1]}
    assert lengths[:3] == [1, 2, 3]  # queue length as each one arrived
    assert sorted(results) == [f"answer {i}" for i in range(5)]
    assert client.queue_length == 0


async def test_cancelled_waiter_leaves_the_queue(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    fake_ollama.script(Reply("slow", first_byte_delay=0.3), Reply("next"))
    client = create_llm_client(fast_settings(fake_ollama.url, max_concurrency=1), http_session)
    first = asyncio.create_task(client.chat(MESSAGES))
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(client.chat(MESSAGES))
    await asyncio.sleep(0.05)
    assert client.queue_length == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert client.queue_length == 0
    assert (await first).text == "slow"
    assert (await asyncio.wait_for(client.chat(MESSAGES), 2)).text == "next"
