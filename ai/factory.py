"""Builds the client for the configured backend. Imported by the application wiring (app/runtime.py)
and tools, never by ai/ itself: the backends import the base client, so the base cannot import them."""

from __future__ import annotations

import aiohttp

from ai.client import LLMClient
from ai.ollama import OllamaClient
from ai.openai_compat import OpenAIClient
from ai.settings import LLMSettings

BACKENDS: dict[str, type[LLMClient]] = {"ollama": OllamaClient, "openai": OpenAIClient}


def create_llm_client(settings: LLMSettings, session: aiohttp.ClientSession) -> LLMClient:
    """The client for ``settings.backend``; the caller owns and closes ``session``."""
    try:
        backend = BACKENDS[settings.backend]
    except KeyError:
        raise ValueError(f"unknown LLM backend {settings.backend!r}") from None
    return backend(settings, session)
