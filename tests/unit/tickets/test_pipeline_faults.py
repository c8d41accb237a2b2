"""The answer pipeline against a faulty model server: what the user sees, how fast, by which route.

Real pieces throughout: AnswerPipeline, TrainedMemory on a SQLite file, the LLM client from
create_llm_client talking HTTP to the fake Ollama (or to a closed port). Only the Discord side
is replaced, by a sink that records what would have been posted and when (perf_counter: real
time, generous bounds; these are correctness checks, not benchmarks).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from ai.client import LLMClient
from ai.delivery import TYPING_MARKER
from ai.errors import LLMBusy, LLMResponseError, LLMTimeout, LLMUnavailable, ModelNotFound
from ai.factory import create_llm_client
from app.schema import open_app_database
from memory.decision import Route, Thresholds
from memory.store import TrainedMemory
from tests.fakes.ollama import Fail, FakeOllama, Reply
from tests.fixtures_llm import fast_settings
from tickets.answering import BUSY_NOTE, FALLBACK_NOTE, AnswerPipeline, AnswerRequest
from tickets.pacing import RateWindow

GUILD = 4242
TRAINED_Q = "How do I reset my password?"
TRAINED_A = "Open Settings → Account → Reset password, then follow the link we email you."
# Lexical memory (no embedder): never a direct answer, but this clears the fallback bar (0.6).
QUESTION = "How can I reset my password?"
ANSWER = "To reset your password, open Settings, choose Account and press Reset password. " * 2
STOPPED_NOTE = "The AI assistant stopped before finishing this answer."
# The rig's shortest timeout (connect, first token, between chunks). A fault that needs no timeout must
# show text before any timeout could have fired; fast_settings' 0.5 s chunk timeout left a loaded machine
# too little room for the rest (SQLite, the fallback search), so the rig waits 1 s for each.
RIG_TIMEOUT = 1.0
FAST = None  # first text due before RIG_TIMEOUT


def before_any_timeout(llm: LLMClient) -> float:
    settings = llm.settings
    return min(settings.connect_timeout, settings.first_token_timeout, settings.chunk_timeout)


@dataclass
class RecordingSink:
    """A MessageSink that keeps every message and the wall time of each send/edit."""

    started: float = field(default_factory=time.perf_counter)
    messages: list[str] = field(default_factory=list)
    log: list[tuple[float, str, int, str]] = field(default_factory=list)

    async def send(self, text: str) -> int:
        assert 0 < len(text) <= 2000
        self.messages.append(text)
        self.log.append((self._now(), "send", len(self.messages) - 1, text))
        return len(self.messages) - 1

    async def edit(self, handle: Any, text: str) -> None:
        assert 0 < len(text) <= 2000
        self.messages[handle] = text
        self.log.append((self._now(), "edit", handle, text))

    def _now(self) -> float:
        return time.perf_counter() - self.started

    @property
    def first_text_at(self) -> float | None:
        return self.log[0][0] if self.log else None

    @property
    def shown(self) -> str:
        return "\n".join(self.messages)


@dataclass
class Rig:
    pipeline: AnswerPipeline
    llm: LLMClient
    memory: TrainedMemory

    async def ask(self, question: str = QUESTION) -> tuple[Any, RecordingSink]:
        sink = RecordingSink()
        request = AnswerRequest(
            guild_id=GUILD, question=question, history=[], user_name="alice", category="general",
            server_name="Support Server",
        )  # fmt: skip
        outcome = await self.pipeline.answer(request, sink)
        return outcome, sink


@pytest.fixture
async def make_rig(tmp_path) -> AsyncIterator[Any]:
    made: list[tuple[Any, aiohttp.ClientSession, LLMClient]] = []

    async def make(base_url: str, *, trained: bool, **settings: Any) -> Rig:
        db = await open_app_database(tmp_path / f"pipeline-{len(made)}.db")
        session = aiohttp.ClientSession()
        timeouts = {"connect_timeout": RIG_TIMEOUT, "first_token_timeout": RIG_TIMEOUT, "chunk_timeout": RIG_TIMEOUT}
        llm = create_llm_client(fast_settings(base_url, **{**timeouts, **settings}), session)
        made.append((db, session, llm))
        memory = TrainedMemory(db)
        if trained:
            await memory.add(GUILD, TRAINED_Q, TRAINED_A)
            await memory.add(GUILD, "What payment methods do you accept?", "Visa, Mastercard and PayPal.")
        pipeline = AnswerPipeline(
            memory=memory, llm=llm, thresholds=Thresholds(), max_context_length=6000, history_messages=16,
            server_requests_per_minute=llm.settings.server_requests_per_minute,
            checked=False,  # transport faults with free-form replies; the checks' own faults are below
        )  # fmt: skip
        return Rig(pipeline, llm, memory)

    yield make
    for db, session, llm in made:
        await llm.aclose()
        await session.close()
        await db.close()


@dataclass(frozen=True)
class Fault:
    name: str
    steps: tuple[Any, ...]  # scripted on the fake; empty for "down"
    llm_answers: bool  # the model's text reaches the user (fully or partly)
    partial: str | None  # text that was shown before a mid-stream failure, kept in the end
    error: type[Exception] | None  # the LLM error the pipeline reports
    first_text_within: tuple[float, float | None]  # bounds (s) for the first user-visible text
    down: bool = False


FAULTS = [
    Fault("down", (), False, None, LLMUnavailable, (0.0, FAST), down=True),
    Fault("slow first byte, in time", (Reply(ANSWER, first_byte_delay=0.5),), True, None, None, (0.45, 1.2)),
    Fault("slow first byte, too slow", (Reply(ANSWER, first_byte_delay=3.0),), False, None, LLMTimeout, (0.9, 2.0)),
    Fault("slow chunks", (Reply(ANSWER, chunk_size=16, chunk_delay=1.5),), True, ANSWER[:16], LLMTimeout, (0, FAST)),
    Fault(
        "404 model not found",
        (Fail(404, 'model "llama3" not found, try pulling it first'),),
        False,
        None,
        ModelNotFound,
        (0.0, FAST),
    ),
    Fault(
        "503 busy then OK",
        (Fail(503, "server busy, please try again.  maximum pending requests exceeded"), Reply(ANSWER)),
        True,
        None,
        None,
        (0.0, FAST),
    ),
    Fault(
        "error mid-stream",
        (Reply(ANSWER, chunk_size=10, error_after_chunks=3),),
        True,
        ANSWER[:30],
        LLMResponseError,
        (0.0, FAST),
    ),
    Fault(
        "truncated stream",
        (Reply(ANSWER, chunk_size=10, truncate_after_chunks=3),),
        True,
        ANSWER[:30],
        LLMResponseError,
        (0.0, FAST),
    ),
    Fault(
        "non-JSON line", (Reply(ANSWER, chunk_size=12, garbage=True),), True, ANSWER[:12], LLMResponseError, (0, FAST)
    ),
    Fault("empty answer", (Reply(""),), False, None, LLMResponseError, (0.0, FAST)),
    Fault("blank answer", (Reply("  \n  "),), False, None, LLMResponseError, (0.0, FAST)),
]


@pytest.mark.parametrize("trained", [True, False], ids=["trained-entry", "no-entry"])
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_fault(fault: Fault, trained: bool, fake_ollama: FakeOllama, closed_port_url: str, make_rig) -> None:
    rig = await make_rig(closed_port_url if fault.down else fake_ollama.url, trained=trained)
    fake_ollama.script(*fault.steps)

    outcome, sink = await rig.ask()

    # The user always gets a reply, and soon.
    assert sink.messages and all(m.strip() for m in sink.messages), sink.log
    low, high = fault.first_text_within
    high = before_any_timeout(rig.llm) if high is None else high
    assert sink.first_text_at is not None and low <= sink.first_text_at < high, sink.log
    assert not sink.messages[-1].endswith(TYPING_MARKER), "the final text must not keep the typing marker"
    if fault.error is None:
        assert outcome.llm_error is None
    else:
        assert isinstance(outcome.llm_error, fault.error), outcome.llm_error

    if fault.llm_answers:
        assert outcome.route is Route.LLM
        if fault.partial is None:
            assert [m.strip() for m in sink.messages] == [ANSWER.strip()]
        else:
            # What was already shown stays, with a short note after it.
            [final] = sink.messages
            assert final.startswith(fault.partial.rstrip()), final
            assert final.rstrip().endswith(STOPPED_NOTE), final
            assert len(final) < len(fault.partial) + 100
            shown_before = [text for _, _, _, text in sink.log[:-1]]
            assert shown_before and shown_before[0].startswith(ANSWER[:8]), "partial text was shown while streaming"
    elif trained:
        assert outcome.route is Route.FALLBACK
        assert sink.messages == [f"{TRAINED_A}\n{FALLBACK_NOTE}"]
    else:
        assert outcome.route is Route.STAFF
        [text] = sink.messages
        assert "staff" in text.lower() and "unavailable" in text.lower(), text

    # Nothing left over for the next test: every scripted step was consumed.
    assert fake_ollama.pending_steps() == 0


@pytest.mark.parametrize("trained", [True, False], ids=["trained-entry", "no-entry"])
async def test_remembered_down_answers_fast_without_a_request(trained: bool, fake_ollama: FakeOllama, make_rig):
    rig = await make_rig(fake_ollama.url, trained=trained, down_retry_after=30.0)
    port = fake_ollama.port
    fake_ollama.stop()
    first, _ = await rig.ask()
    assert first.route is (Route.FALLBACK if trained else Route.STAFF)
    assert not rig.llm.health.available

    # The server comes back on the same port, but the failure is remembered for 30 s:
    # the next message must not wait for it, nor even ask it.
    with FakeOllama(port=port) as back:
        started = time.perf_counter()
        # Another wording (so nothing can come from a cache) that still clears the fallback bar.
        second, sink = await rig.ask("How can I reset my password, please?")
        elapsed = time.perf_counter() - started
        assert second.route is first.route
        assert isinstance(second.llm_error, LLMUnavailable)
        assert sink.messages and elapsed < before_any_timeout(rig.llm), elapsed  # waited for nothing
        assert back.requests == [], "a remembered failure must not send a request"


async def test_model_missing_is_remembered_then_recovers(fake_ollama: FakeOllama, make_rig) -> None:
    rig = await make_rig(fake_ollama.url, trained=True, down_retry_after=0.3)
    fake_ollama.script(Fail(404, 'model "llama3" not found, try pulling it first'))
    first, _ = await rig.ask()
    assert first.route is Route.FALLBACK and isinstance(first.llm_error, ModelNotFound)
    calls = len(fake_ollama.chat_requests())

    started = time.perf_counter()
    second, sink = await rig.ask()
    assert time.perf_counter() - started < before_any_timeout(rig.llm)  # waited for nothing
    assert second.route is Route.FALLBACK and sink.messages[0].startswith(TRAINED_A)
    assert len(fake_ollama.chat_requests()) == calls, "no chat request while the failure is remembered"

    # The background probe (GET /api/tags) finds the model again; then the LLM answers.
    for _ in range(60):  # up to 3 s; the probe is due 0.3 s after the failure
        if rig.llm.health.available:
            break
        await asyncio.sleep(0.05)
    assert rig.llm.health.available
    assert any(r["path"] == "/api/tags" for r in fake_ollama.requests)
    fake_ollama.script(Reply(ANSWER))
    third, sink = await rig.ask()
    assert third.route is Route.LLM and [m.strip() for m in sink.messages] == [ANSWER.strip()]


async def test_a_server_past_its_model_requests_per_minute_gets_a_saved_answer(fake_ollama: FakeOllama, make_rig):
    rig = await make_rig(fake_ollama.url, trained=True, server_requests_per_minute=1)
    now = [0.0]
    rig.pipeline.server_requests = RateWindow(60.0, clock=lambda: now[0])

    first, _ = await rig.ask()
    second, sink = await rig.ask()

    assert first.route is Route.LLM
    assert second.route is Route.FALLBACK and isinstance(second.llm_error, LLMBusy)
    assert sink.messages == [f"{TRAINED_A}\n{BUSY_NOTE}"]
    assert len(fake_ollama.chat_requests()) == 1
    # Another server has its own allowance; this one gets the model again a minute later.
    other = await rig.pipeline.answer(
        AnswerRequest(
            guild_id=GUILD + 1,
            question=QUESTION,
            history=[],
            user_name="bob",
            category="general",
            server_name="Other Server",
        ),
        RecordingSink(),
    )
    assert other.route is Route.LLM and len(fake_ollama.chat_requests()) == 2
    now[0] = 60.0
    third, _ = await rig.ask()
    assert third.route is Route.LLM and len(fake_ollama.chat_requests()) == 3
