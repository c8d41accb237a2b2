"""Adapts the LLM client's `/api/embed` to the memory's `Embedder` protocol."""

from __future__ import annotations

from ai.client import LLMClient


class LLMEmbedder:
    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.model = client.settings.embed_model or ""

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.client.embed(texts)
