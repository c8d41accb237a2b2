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

    async def get(self, text: str) -> list[float] | None:
        # Keyed by model too: after a model switch old vectors would be from another space.
        key = (self._embedder.model, text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            vectors = await self._embedder.embed([text])
        except LLMError as exc:
            # The embedder (the LLM client's Health) remembers it is down and fails fast,
            # so asking again on the next question costs nothing.
            log.debug("Query embedding unavailable, searching lexically: %s", exc)
            return None
        if len(vectors) != 1 or not vectors[0]:
            log.warning("Embedder returned %d vectors for one query", len(vectors))
            return None
        self._cache[key] = vectors[0]
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return vectors[0]
