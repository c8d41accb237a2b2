"""The map of an embedding model's cosines onto the reference scale (memory/scale.py)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
import pytest

from ai.errors import LLMUnavailable
from memory import scale
from memory.decision import Route, Thresholds, decide
from memory.models import Entry, Match

GRID = np.linspace(-1.0, 1.0, 401, dtype=np.float32)


def compressed(profile: scale.Profile, low: float = 0.8) -> scale.Profile:
    """The reference's profile as a model that squeezes every cosine into [low, 1] would give it."""
    return replace(profile, quantiles=tuple(low + (1 - low) * q for q in profile.quantiles))


def test_the_reference_model_maps_to_the_identity_also_through_another_runtime() -> None:
    reference = scale.reference_profile()
    assert scale.build("all-minilm", reference).identity
    # Served by another runtime (float16 weights, another tokenizer build): cosines move by a few thousandths.
    wobbly = replace(
        reference, quantiles=tuple(q + (0.004 if i % 2 else -0.004) for i, q in enumerate(reference.quantiles))
    )
    mapped = scale.build("all-minilm:22m", wobbly)
    assert mapped.identity and not mapped.poor
    assert np.array_equal(mapped(GRID), GRID)
    assert "≈ reference" in mapped.describe()


def test_a_compressed_scale_is_expanded_monotone_and_clipped() -> None:
    reference = scale.reference_profile()
    mapped = scale.build("squeezed", compressed(reference))
    assert not mapped.identity and not mapped.poor
    out = mapped(GRID)
    assert np.all(np.diff(out) >= 0)  # monotone: the order of matches never changes
    assert mapped.one(1.0) == pytest.approx(1.0)  # a text and itself
    assert mapped.one(-1.0) == mapped.one(0.0) == pytest.approx(reference.quantiles[0], abs=1e-6)  # clipped below
    # Each of the model's quantiles lands on the reference's: the squeeze is undone.
    for q_model, q_ref in zip(compressed(reference).quantiles, reference.quantiles, strict=True):
        assert mapped.one(q_model) == pytest.approx(q_ref, abs=1e-3)
    # An unrelated pair at the squeezed model's median cosine is no longer "close".
    assert mapped.one(0.8 + 0.2 * reference.unrelated_median) == pytest.approx(reference.unrelated_median, abs=0.01)
    assert "calibrated" in mapped.describe()


def test_knots_where_the_model_does_not_rise_are_dropped() -> None:
    reference = scale.reference_profile()
    flat = replace(reference, quantiles=tuple(max(q, 0.5) for q in reference.quantiles))
    mapped = scale.build("flat-bottom", flat)
    assert all(b > a for a, b in zip(mapped.xp, mapped.xp[1:], strict=False))
    assert np.all(np.diff(mapped(GRID)) >= 0)


def _topic_vectors(noise: float, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    topics = scale.reference_topics()
    centres = rng.normal(size=(len(topics), 64))
    return np.stack([centres[i] + noise * rng.normal(size=64) for i, topic in enumerate(topics) for _ in topic])


def test_measure_tells_a_model_that_separates_topics_from_one_that_does_not() -> None:
    sharp = scale.measure(_topic_vectors(noise=0.3))
    assert sharp.separation > 0.99 and sharp.paraphrase_median > sharp.unrelated_median
    blurred = scale.measure(_topic_vectors(noise=30.0))
    assert blurred.separation < 0.7
    poor = scale.build("blurred", blurred)
    assert poor.poor and "separates paraphrases poorly" in poor.describe()
    with pytest.raises(ValueError):
        scale.measure(_topic_vectors(noise=0.3)[:-1])


class _Embedder:
    """Answers with reference-like vectors, after failing `down` times; counts its requests."""

    def __init__(self, model: str = "e5-like", down: int = 0) -> None:
        self.model = model
        self.down = down
        self.requests = 0

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.requests += 1
        await asyncio.sleep(0)
        if self.down:
            self.down -= 1
            raise LLMUnavailable("connection refused")
        assert texts == scale.reference_texts()
        return _topic_vectors(noise=0.3).tolist()


async def test_one_request_per_model_retried_after_a_failure_and_again_after_a_switch() -> None:
    embedder = _Embedder(down=1)
    calibrations = scale.Calibrations(embedder)
    assert await calibrations.get() is None  # down: no map, and nothing remembered
    assert calibrations.current() is None
    first = await asyncio.gather(*(calibrations.get() for _ in range(3)))
    assert embedder.requests == 2 and first[0] is not None and first[0] is first[1] is first[2]
    assert calibrations.current() is first[0]
    embedder.model = "bge-m3"
    assert calibrations.current() is None
    second = await calibrations.get()
    assert second is not None and second.model == "bge-m3" and embedder.requests == 3


class _SlowEmbedder(_Embedder):
    async def embed(self, texts: list[str]) -> list[list[float]]:
        await asyncio.sleep(0.5)
        return await super().embed(texts)


async def test_a_search_waits_a_little_for_the_measurement_and_then_goes_on_without_it() -> None:
    embedder = _SlowEmbedder()
    calibrations = scale.Calibrations(embedder)
    assert await calibrations.ready(0.05) is None  # not waited for: the search is lexical this time
    found = await calibrations.ready(2.0)  # the same measurement, still running, waited for
    assert found is not None and embedder.requests == 1
    assert await calibrations.ready(0.0) is found


async def test_a_declared_native_scale_is_not_measured() -> None:
    embedder = _Embedder()
    embedder.native_scale = True  # type: ignore[attr-defined]
    calibrations = scale.Calibrations(embedder)
    found = await calibrations.get()
    assert found is not None and found.native and found.identity and embedder.requests == 0
    assert await calibrations.ready(0.0) is found  # the same object every time: indexes keep their crowding
    assert "EMBED_SCALE=native" in found.describe()


def test_a_model_that_separates_poorly_sends_no_saved_answer_not_even_as_the_fallback() -> None:
    entry = Entry(1, 1, "How do I reset my password?", "Use the link.", "general", [], None, "", "", 0, 1.0)
    match = Match(entry, 0.97, 1.0, 0.97, entry.query, answer_semantic=0.6, coverage=1.0)
    assert decide([match], llm_available=True, thresholds=Thresholds()).route == Route.ANSWER
    match.weak_embeddings = True
    assert decide([match], llm_available=True, thresholds=Thresholds()).route == Route.LLM
    down = decide([match], llm_available=False, thresholds=Thresholds())
    assert down.route == Route.STAFF and "separates paraphrases poorly" in down.reason
