"""Every embedding model's cosines on the scale the decision's bars were chosen on (all-MiniLM-L6-v2's).

The bars of memory/decision.py, the crowding floor of memory/guild_index.py, the prompt's note floor and
memory/generated.py's MIN_SIMILARITY are absolute numbers measured with all-MiniLM-L6-v2. Another model puts
the same pairs of texts at very different cosines: multilingual-e5-small gives 0.87 between "how do i get a
refund" and "how do i reset my password" (all-MiniLM about 0.3), so its unrelated questions would clear bars
meant for paraphrases.

So the first time a model answers, the bot embeds a fixed set of support-style texts (memory/data/
scale_reference.txt: 45 topics, four user wordings each, one request) and measures where the model puts
paraphrases (pairs of one topic) and unrelated questions (pairs of two topics). The same was measured once
for all-MiniLM-L6-v2 (memory/data/scale_reference_minilm.json, by `python -m bench.scale_reference`). Matching
the two distributions quantile by quantile gives a monotone piecewise-linear map from this model's cosines to
all-MiniLM's, which every cosine of the search goes through (memory/vectors.py). Paraphrases and unrelated pairs
weigh half each, so the map is as fine where the bars are (paraphrases, the closest unrelated pairs) as in the
bulk of unrelated pairs.

A model that barely tells paraphrases from unrelated questions on the reference set cannot be mapped into
trust: its saved answers go through the model only (`CosineScale.poor`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from ai.errors import LLMError
from memory.models import Embedder

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
REFERENCE_TEXTS = DATA / "scale_reference.txt"
REFERENCE_PROFILE = DATA / "scale_reference_minilm.json"

# Quantile levels of the balanced mix of paraphrase and unrelated pairs that become the map's knots.
LEVELS = tuple(float(x) for x in np.round(np.linspace(0.01, 0.99, 50), 4))
# A map that moves no cosine by more than this (over the reference's range) is the identity: the reference
# model itself, served by another runtime (float16, another tokenizer build), lands within it.
IDENTITY_TOLERANCE = 0.02
# Below this share of (paraphrase, unrelated) pairs ranked the right way round (AUC), a model's cosines
# say too little about meaning for a saved answer to be sent on them. Measured: bench/devsets/RESULTS.md.
MIN_SEPARATION = 0.9


@cache
def reference_topics() -> tuple[tuple[str, ...], ...]:
    """The reference set: one tuple of user wordings per topic."""
    blocks = REFERENCE_TEXTS.read_text(encoding="utf-8").split("\n\n")
    topics = [tuple(line for line in b.splitlines() if line.strip() and not line.startswith("#")) for b in blocks]
    return tuple(t for t in topics if t)


def reference_texts() -> list[str]:
    return [text for topic in reference_topics() for text in topic]


def texts_digest() -> str:
    """Which reference texts a profile was measured on (a profile of other texts is not comparable)."""
    return hashlib.sha1("\n".join(reference_texts()).encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Profile:
    """Where a model puts the reference pairs: its cosine at each of LEVELS of the balanced mix of paraphrase
    and unrelated pairs, and how well it separates the two (AUC)."""

    quantiles: tuple[float, ...]
    separation: float
    paraphrase_median: float
    unrelated_median: float

    def to_json(self, model: str) -> dict[str, object]:
        return {
            "model": model,
            "texts": texts_digest(),
            "levels": list(LEVELS),
            "quantiles": [round(q, 5) for q in self.quantiles],
            "separation": round(self.separation, 5),
            "paraphrase_median": round(self.paraphrase_median, 5),
            "unrelated_median": round(self.unrelated_median, 5),
        }


def pair_cosines(vectors: np.ndarray, topics: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of every pair of one topic and of every pair of two topics."""
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    units = vectors / np.where(lengths > 0, lengths, 1.0)
    sims = units @ units.T
    label = np.asarray(topics)
    upper = np.triu(np.ones(sims.shape, dtype=bool), k=1)
    same = label[:, None] == label[None, :]
    return sims[upper & same], sims[upper & ~same]


def measure(vectors: Sequence[Sequence[float]] | np.ndarray) -> Profile:
    """The profile of a model from its vectors of `reference_texts()`, in order."""
    topics = [i for i, topic in enumerate(reference_topics()) for _ in topic]
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.shape[0] != len(topics):
        raise ValueError(f"expected {len(topics)} reference vectors, got {matrix.shape[0]}")
    same, other = pair_cosines(matrix, topics)
    values = np.concatenate([same, other])
    weights = np.concatenate([np.full(len(same), 0.5 / len(same)), np.full(len(other), 0.5 / len(other))])
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    position = np.cumsum(weights) - weights / 2
    quantiles = np.interp(LEVELS, position, values)
    # AUC: the share of (paraphrase, unrelated) pairs where the paraphrase has the higher cosine.
    ranks = np.searchsorted(np.sort(other), same, side="left")
    ties = np.searchsorted(np.sort(other), same, side="right") - ranks
    separation = float((ranks + ties / 2).sum() / (len(same) * len(other)))
    return Profile(tuple(float(q) for q in quantiles), separation, float(np.median(same)), float(np.median(other)))


@dataclass(frozen=True)
class CosineScale:
    """A model's cosines mapped onto the reference scale: `__call__` maps an array of cosines."""

    model: str
    xp: tuple[float, ...] = field(default=(), repr=False)
    fp: tuple[float, ...] = field(default=(), repr=False)
    identity: bool = True
    poor: bool = False
    native: bool = False  # EMBED_SCALE=native: not measured, taken as it is
    separation: float = 1.0
    # To show admins what the map does: this model's median unrelated cosine -> mapped, and its median paraphrase's.
    example: tuple[float, float] = (0.0, 0.0)
    paraphrase: tuple[float, float] = (0.0, 0.0)
    _x: np.ndarray = field(init=False, repr=False, compare=False)
    _f: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_x", np.asarray(self.xp, dtype=np.float32))
        object.__setattr__(self, "_f", np.asarray(self.fp, dtype=np.float32))

    def __call__(self, cosines: np.ndarray) -> np.ndarray:
        if self.identity:
            return cosines
        return np.interp(cosines, self._x, self._f).astype(np.float32)

    def one(self, cosine: float) -> float:
        return float(self(np.asarray([cosine], dtype=np.float32))[0])

    def describe(self) -> str:
        """One line for admins (`python bot.py check`, /status)."""
        if self.native:
            return f"{self.model}: cosines used as the model gives them (EMBED_SCALE=native), not calibrated"
        if self.poor:
            return (
                f"{self.model} separates paraphrases poorly (AUC {self.separation:.2f} on the reference set); "
                "saved answers are sent only through the model"
            )
        if self.identity:
            return f"{self.model}: cosine scale ≈ reference (all-MiniLM-L6-v2)"
        (same, same_to), (other, other_to) = self.paraphrase, self.example
        return (
            f"{self.model}: cosine scale calibrated to all-MiniLM's "
            f"(paraphrases {same:.2f} → {same_to:.2f}, unrelated questions {other:.2f} → {other_to:.2f})"
        )


def report(model: str, scale: CosineScale | None) -> str:
    """The admin's line about `model`'s scale: measured (`scale`), or not yet (the embedder did not answer)."""
    if scale is None:
        return f"{model}: cosine scale not measured yet (the model did not answer); keyword search until it is"
    return scale.describe()


@cache
def reference_profile() -> Profile:
    raw = json.loads(REFERENCE_PROFILE.read_text(encoding="utf-8"))
    if raw.get("texts") != texts_digest() or tuple(raw.get("levels", ())) != LEVELS:
        # Shipped together; a mismatch is a packaging mistake, and a map from it would be wrong.
        raise RuntimeError(f"{REFERENCE_PROFILE.name} was measured on other reference texts: run bench.scale_reference")
    return Profile(tuple(raw["quantiles"]), raw["separation"], raw["paraphrase_median"], raw["unrelated_median"])


def build(
    model: str, profile: Profile, reference: Profile | None = None, min_separation: float = MIN_SEPARATION
) -> CosineScale:
    """The map from `profile`'s cosines to the reference's: quantile to quantile, with (1, 1) on top (a text and
    itself), knots where the model's quantiles do not rise dropped (np.interp needs rising x)."""
    ref = reference or reference_profile()
    poor = profile.separation < min_separation
    xs: list[float] = []
    fs: list[float] = []
    for x, f in zip(profile.quantiles, ref.quantiles, strict=True):
        if x >= 1.0:
            break
        if xs and x <= xs[-1]:
            continue
        xs.append(x)
        fs.append(max(f, fs[-1]) if fs else f)
    xs.append(1.0)
    fs.append(1.0)
    x_arr, f_arr = np.asarray(xs), np.asarray(fs)
    grid = np.linspace(max(0.0, x_arr[0]), 1.0, 201)
    drift = float(np.max(np.abs(np.interp(grid, x_arr, f_arr) - grid)))
    example = (profile.unrelated_median, float(np.interp(profile.unrelated_median, x_arr, f_arr)))
    paraphrase = (profile.paraphrase_median, float(np.interp(profile.paraphrase_median, x_arr, f_arr)))
    identity = drift <= IDENTITY_TOLERANCE
    log.info(
        "Embedding model %s: paraphrase/unrelated separation %.3f, largest move of a cosine %.3f%s",
        model,
        profile.separation,
        drift,
        " (identity)" if identity else "",
    )
    if poor:
        log.warning(
            "Embedding model %s separates paraphrases poorly (AUC %.2f < %.2f on the reference set): "
            "saved answers are sent only through the model",
            model,
            profile.separation,
            min_separation,
        )
    return CosineScale(
        model,
        tuple(xs),
        tuple(fs),
        identity=identity,
        poor=poor,
        separation=profile.separation,
        example=example,
        paraphrase=paraphrase,
    )


class Calibrations:
    """The map of each embedding model the bot has used (by name), measured the first time the model answers:
    one request embedding the reference texts. A model switch measures the new model; a failed request is
    tried again on the next search (meanwhile the search is lexical, as when the embedder is down)."""

    def __init__(
        self, embedder: Embedder, reference: Profile | None = None, min_separation: float = MIN_SEPARATION
    ) -> None:
        self._embedder = embedder
        self._task: asyncio.Task[CosineScale | None] | None = None
        # The reference model's profile (None: the shipped all-MiniLM one) and the separation a model needs.
        self._reference = reference
        self._min_separation = min_separation
        self._known: dict[str, CosineScale] = {}
        self._lock = asyncio.Lock()

    def current(self) -> CosineScale | None:
        """The configured model's map, if it has been measured."""
        model = self._embedder.model
        if getattr(self._embedder, "native_scale", False):
            # One object per model: a new one on each search would look like a new scale to every index.
            return self._known.setdefault(f"native:{model}", CosineScale(model, native=True))
        return self._known.get(model)

    async def ready(self, wait: float) -> CosineScale | None:
        """The configured model's map; if it is not measured yet, the measurement starts and is waited for up to
        `wait` seconds. A slow embedding server must not hold up a question: after that the search is lexical
        and the measurement goes on in the background."""
        found = self.current()
        if found is not None:
            return found
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._measure_logged())
        try:
            return await asyncio.wait_for(asyncio.shield(self._task), wait)
        except TimeoutError:
            return None

    async def _measure_logged(self) -> CosineScale | None:
        try:
            return await self.get()
        except Exception:  # a search must not fail because of it; the next one tries again
            log.exception("Measuring the scale of embedding model %s failed", self._embedder.model)
            return None

    async def get(self) -> CosineScale | None:
        """The configured model's map, measured now if it is not yet (None while the model cannot answer)."""
        model = self._embedder.model
        found = self.current()
        if found is not None:
            return found
        async with self._lock:  # concurrent first searches share one measurement
            found = self._known.get(model)
            if found is not None:
                return found
            texts = reference_texts()
            try:
                vectors = await self._embedder.embed(texts)
                profile = measure(vectors)
            except LLMError as exc:
                log.debug("Cannot calibrate embedding model %s yet: %s", model, exc)
                return None
            except ValueError as exc:  # vectors missing or of several sizes: not a model we can use
                log.warning("Embedding model %s returned unusable reference vectors: %s", model, exc)
                return None
            found = build(model, profile, self._reference, self._min_separation)
            self._known[model] = found
            return found
