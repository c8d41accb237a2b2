"""Builds the client for the configured backend, and the pool of them the bot uses. Imported by the
application wiring (app/runtime.py) and tools, never by ai/ itself: the backends import the base client,
so the base cannot import them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp

from ai.client import LLMClient
from ai.ollama import OllamaClient
from ai.openai_compat import OpenAIClient
from ai.pool import ModelPool
from ai.settings import LLMSettings

BACKENDS: dict[str, type[LLMClient]] = {"ollama": OllamaClient, "openai": OpenAIClient}


def create_llm_client(settings: LLMSettings, session: aiohttp.ClientSession) -> LLMClient:
    """The client for ``settings.backend``; the caller owns and closes ``session``."""
    try:
        backend = BACKENDS[settings.backend]
    except KeyError:
        raise ValueError(f"unknown LLM backend {settings.backend!r}") from None
    return backend(settings, session)


def create_model_pool(settings: LLMSettings, session: aiohttp.ClientSession) -> ModelPool:
    """One client per chat server and per embedding server; the chat servers' own clients embed when
    embeddings are not configured elsewhere (so one server keeps one health memory, as before)."""
    one: dict[str, Any] = {"servers": (), "embed_backend": None, "embed_urls": ()}
    chat = [
        create_llm_client(replace(settings, base_url=s.url, max_concurrency=s.max_concurrency, **one), session)
        for s in settings.chat_servers
    ]
    if settings.embeds_on_chat_servers:
        return ModelPool(settings, chat, chat)
    # An embedding-only server's "model" is the embedding model, so its health probe looks for that one.
    embed_model = settings.embed_model or settings.model
    embed = [
        create_llm_client(
            replace(settings, backend=settings.embed_server_backend, base_url=url, model=embed_model, **one), session
        )
        for url in settings.embed_server_urls
    ]
    return ModelPool(settings, chat, embed)
