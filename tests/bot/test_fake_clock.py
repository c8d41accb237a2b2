"""The fakes keep real time even when time.monotonic is virtualised (as under SimCord)."""

from __future__ import annotations

import json
import time
import urllib.request

import aiohttp
import discord
import pytest

from ai.factory import create_llm_client
from tests.fakes.ollama import FakeOllama, Reply
from tests.fixtures_llm import fast_settings


@pytest.fixture
def simcord_bot() -> discord.Client:
    """A bare bot: this module only needs SimCord's clocks, not the ticket bot."""
    return discord.Client(intents=discord.Intents.default())


def timed_chat(url: str) -> tuple[list[dict], float]:
    """A blocking /api/chat call, timed with perf_counter (never patched)."""
    body = json.dumps({"model": "llama3", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = urllib.request.Request(f"{url}/api/chat", data=body, headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=5) as response:
        lines = [json.loads(line) for line in response.read().splitlines()]
    return lines, time.perf_counter() - started


def test_delays_are_real_when_monotonic_is_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    # A frozen clock would make any loop reading time.monotonic sleep forever.
    with FakeOllama() as fake:
        monkeypatch.setattr(time, "monotonic", lambda: 1000.0)
        fake.script(Reply("slow but real", chunk_size=4, first_byte_delay=0.2, chunk_delay=0.05))
        lines, elapsed = timed_chat(fake.url)
        monkeypatch.undo()
    assert "".join(line["message"]["content"] for line in lines) == "slow but real"
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop"
    assert 0.35 <= elapsed < 2


async def test_fake_and_client_under_simcord(simcord_env: object, fake_ollama: FakeOllama) -> None:
    assert getattr(time.monotonic, "__name__", "") == "_clock_monotonic"  # SimCord's clock is installed
    fake_ollama.script(Reply("real time", first_byte_delay=0.2))
    _, elapsed = timed_chat(fake_ollama.url)
    assert 0.2 <= elapsed < 2

    fake_ollama.script(Reply("through the client", first_byte_delay=0.2))
    async with aiohttp.ClientSession() as session:
        client = create_llm_client(fast_settings(fake_ollama.url), session)
        started = time.perf_counter()
        result = await client.chat([{"role": "user", "content": "hi"}])
        await client.aclose()
    assert result.text == "through the client"
    assert time.perf_counter() - started < 2
