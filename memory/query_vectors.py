"""Query embeddings with a small LRU cache; None (never an exception) when the embedder is down."""

from __future__ import annotations

import logging
from collections import OrderedDict

from ai.errors import LLMError
from memory.models import Embedder

log = logging.getLogger(__name__)

CACHE_SIZE = 512


class QueryVectors:
    def __init__(self, embedder: Embedder, size: int = CACHE_SIZE) -> None:
        self._embedder = embedder
        self._size = size
        self._cache: OrderedDict[tuple[str, str], list[float]] = OrderedDict()

    async def get_many(self, texts: list[str]) -> list[list[float] | None]:
        """Vectors for `texts` in order; the uncached ones are embedded in one request."""
        # Keyed by model too: after a model switch old vectors would be from another space.
        model = self._embedder.model
        found: dict[str, list[float]] = {}
        for text in texts:
            cached = self._cache.get((model, text))
            if cached is not None:
                self._cache.move_to_end((model, text))
                found[text] = cached
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found.update(await self._embed(model, missing))
        return [found.get(text) for text in texts]

    async def _embed(self, model: str, texts: list[str]) -> dict[str, list[float]]:
        try:
            vectors = await self._embedder.embed(texts)
        except LLMError as exc:
            # The embedder (the LLM client's embed_health) remembers a failure and fails
            # fast, so asking again on the next question costs nothing.
            log.debug("Query embedding unavailable, searching lexically: %s", exc)
            return {}
        if len(vectors) != len(texts) or not all(vectors):
            log.warning("Embedder returned %d vectors for %d queries", len(vectors), len(texts))
            return {}
        for text, vector in zip(texts, vectors, strict=True):
            self._cache[(model, text)] = vector
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return dict(zip(texts, vectors, strict=True))
