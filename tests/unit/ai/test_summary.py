"""Ticket summaries: extractive fallback and the bounded LLM path."""

from __future__ import annotations

import time

import aiohttp

from ai.factory import create_llm_client
from ai.prompt import Turn
from ai.summary import extractive_summary, summarize_ticket
from tests.fakes.ollama import FakeOllama, Reply
from tests.fixtures_llm import fast_settings

TURNS = [
    Turn("user", "alice", "My order #123 never arrived. " * 10),
    Turn("bot", "Helper", "Sorry to hear that, staff will check."),
    Turn("staff", "Bob", "Resent the parcel with tracking number ABC."),
    Turn("user", "alice", "thanks!"),
]


def test_extractive_summary_within_limit() -> None:
    summary = extractive_summary("Missing order", TURNS, limit=200)
    assert len(summary) <= 200
    assert summary.startswith("Subject: Missing order")
    assert "alice" in summary and "Resent the parcel" in summary
    assert extractive_summary("Empty", []) == "Subject: Empty\nNo messages."


async def test_llm_summary(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    fake_ollama.script(Reply("Alice's order was lost; staff resent it with tracking."))
    client = create_llm_client(fast_settings(fake_ollama.url), http_session)
    summary, used_llm = await summarize_ticket(client, "Missing order", TURNS)
    assert used_llm and summary.startswith("Alice's order")
    sent = fake_ollama.chat_requests()[0]["messages"]
    assert "<transcript>" in sent[1]["content"] and "[staff] Bob" in sent[1]["content"]


async def test_falls_back_when_down(closed_port_url: str, http_session: aiohttp.ClientSession) -> None:
    client = create_llm_client(fast_settings(closed_port_url), http_session)
    summary, used_llm = await summarize_ticket(client, "Missing order", TURNS)
    assert not used_llm and summary.startswith("Subject: Missing order")
    await client.aclose()


async def test_falls_back_within_bounded_time(fake_ollama: FakeOllama, http_session: aiohttp.ClientSession) -> None:
    fake_ollama.script(Reply("late", first_byte_delay=3))
    client = create_llm_client(fast_settings(fake_ollama.url, first_token_timeout=10), http_session)
    started = time.monotonic()
    summary, used_llm = await summarize_ticket(client, "Missing order", TURNS, timeout=0.3)
    assert not used_llm and summary
    assert time.monotonic() - started < 2
