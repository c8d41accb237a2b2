"""Fixtures for the fake Ollama / OpenAI-compatible servers."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from ai.settings import LLMSettings
from app.settings import default_llm_settings
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    """A running FakeOllama (own thread, real clock); ``fake_ollama.url`` for LLMSettings."""
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def closed_port_url() -> str:
    """http://127.0.0.1:<port> with nothing listening (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def fast_settings(base_url: str, **overrides: Any) -> LLMSettings:
    """LLMSettings with timeouts small enough for tests (correctness bounds, not benchmarks), no
    embedding model and no per-server request cap unless a test asks for them."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "embed_model": None,
        # The fake's hashed vectors are used as they are: the tests were written on their cosines (memory/scale.py).
        "embed_scale": "native",
        "server_requests_per_minute": 0,
        "connect_timeout": 1.0,
        "first_token_timeout": 1.0,
        "chunk_timeout": 0.5,
        "total_timeout": 5.0,
        "busy_backoff": 0.01,
        "down_retry_after": 0.3,
    }
    values.update(overrides)
    return default_llm_settings(**values)
