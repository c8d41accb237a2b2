"""A deterministic embedder from hashed character n-grams: for tests and offline smoke runs.

It knows nothing of meaning (only spelling), but it honours the Embedder protocol exactly,
so every code path that handles vectors runs without a model server.
"""

from __future__ import annotations

import hashlib
import logging

import numpy as np

from memory.text import normalise

log = logging.getLogger(__name__)

DIM = 256


def hashed_vectors(texts: list[str], dim: int = DIM) -> list[list[float]]:
    rows = []
    for text in texts:
        vector = np.zeros(dim, dtype=np.float32)
        padded = f" {normalise(text)} "
        for i in range(len(padded) - 2):
            digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
            bucket = int.from_bytes(digest, "little")
            vector[bucket % dim] += 1.0 if bucket & 1 << 31 else -1.0
        length = float(np.linalg.norm(vector))
        rows.append((vector / length if length else vector).tolist())
    return rows


class HashedEmbedder:
    """Embedder protocol over `hashed_vectors`; `calls` counts batches (tests check batching)."""

    # Its cosines are used as they are (memory/scale.py): the tests' expectations were written on them, and measured
    # against the reference set it separates paraphrases poorly (spelling is all it knows).
    native_scale = True

    def __init__(self, model: str = "hashed-trigrams", dim: int = DIM) -> None:
        self.model = model
        self.dim = dim
        self.calls: list[list[str]] = []

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return hashed_vectors(texts, self.dim)
