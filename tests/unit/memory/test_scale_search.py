"""Through the real store and search, embeddings from the fake Ollama: a model whose cosines are squeezed towards 1
(like multilingual-e5) sends a wrong saved answer on the bars as they are, and none once its scale is mapped."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from ai.factory import create_llm_client
from app.runtime import LLMEmbedder
from memory import scale
from memory.decision import Route, Thresholds, decide
from memory.store import TrainedMemory
from tests.fakes.ollama import FakeOllama, compressed_embed_fn, default_embed_fn
from tests.fixtures_llm import fast_settings

GUILD = 1
QUESTION = "How do I reset my password?"
ANSWER = "Use the reset link on the login page."
# Nothing to do with resetting a password, and every word is everyday English that no veto catches.
UNRELATED = "can i change my username"


@pytest.fixture
def squeezed_ollama() -> Iterator[FakeOllama]:
    with FakeOllama(embed_fn=compressed_embed_fn(2.0)) as fake:
        yield fake


def _memory(fake: FakeOllama, session: aiohttp.ClientSession, db, embed_scale: str) -> TrainedMemory:
    settings = fast_settings(fake.url, embed_model="all-minilm", embed_scale=embed_scale, total_timeout=10.0)
    embedder = LLMEmbedder(create_llm_client(settings, session))
    # In this test the fake's plain hashed vectors play the reference model (the bars' scale): the squeezed
    # server must be mapped back onto them. They separate the reference topics less well than all-MiniLM.
    reference = scale.measure(default_embed_fn(scale.reference_texts()))
    return TrainedMemory(db, embedder, scale.Calibrations(embedder, reference=reference, min_separation=0.7))


async def _route(memory: TrainedMemory, text: str) -> Route:
    return decide(await memory.find_similar(GUILD, text), llm_available=True, thresholds=Thresholds()).route


async def test_a_squeezed_scale_sends_a_wrong_saved_answer_unless_it_is_mapped(
    squeezed_ollama: FakeOllama, http_session, memory_db
) -> None:
    raw = _memory(squeezed_ollama, http_session, memory_db, "native")
    await raw.add(GUILD, QUESTION, ANSWER)
    await raw.warm(GUILD)
    assert await _route(raw, UNRELATED) == Route.ANSWER  # the failure: the bars read squeezed cosines

    mapped = _memory(squeezed_ollama, http_session, memory_db, "auto")
    await mapped.warm(GUILD)  # measures the model's scale: one request of the reference texts
    calibration = mapped.embedding_scale()
    assert calibration is not None and not calibration.identity and not calibration.poor
    before, after = calibration.example
    assert before > 0.75 and after < 0.2  # unrelated questions: squeezed near 1, mapped back near 0
    assert await _route(mapped, UNRELATED) == Route.LLM
    assert await _route(mapped, "how do i reset my password") == Route.ANSWER  # the right one still is
    sent = [t for r in squeezed_ollama.requests_to("/api/embed") for t in r["input"] if isinstance(r["input"], list)]
    reference = set(scale.reference_texts())
    assert sum(text in reference for text in sent) == len(reference)  # measured once (the client's batches of 32)


async def test_a_model_that_separates_poorly_against_the_shipped_reference_sends_no_saved_answer(
    fake_ollama: FakeOllama, http_session, memory_db
) -> None:
    settings = fast_settings(fake_ollama.url, embed_model="all-minilm", embed_scale="auto", total_timeout=10.0)
    memory = TrainedMemory(memory_db, LLMEmbedder(create_llm_client(settings, http_session)))
    await memory.add(GUILD, QUESTION, ANSWER)
    assert scale.report("all-minilm", memory.embedding_scale()).endswith("keyword search until it is")
    await memory.warm(GUILD)
    # The fake's hashed trigrams know spelling, not meaning: against all-MiniLM's reference they are flagged.
    calibration = memory.embedding_scale()
    assert calibration is not None and calibration.poor
    assert "separates paraphrases poorly" in scale.report("all-minilm", calibration)
    assert await _route(memory, "how do i reset my password") == Route.LLM
    down = decide(
        await memory.find_similar(GUILD, "how do i reset my password"), llm_available=False, thresholds=Thresholds()
    )
    assert down.route == Route.STAFF
