"""The answer pipeline with its checks on (the default): several questions in one message, a question deep
in a long one, a model that fails before its reply could be judged. Real AnswerPipeline, TrainedMemory on
a SQLite file (the fake Ollama's hashed embeddings) and the fake Ollama as the model."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ai.check import SCHEMA
from ai.factory import create_llm_client
from app.runtime import LLMEmbedder
from app.schema import open_app_database
from memory.decision import Route, Thresholds
from memory.store import MAX_SEARCH_CHARS, TrainedMemory
from tests.fakes.ollama import FakeOllama, Reply
from tests.fixtures_llm import fast_settings
from tickets.answering import FALLBACK_NOTE, SAVED_NOTE, AnswerPipeline, AnswerRequest

GUILD = 77
REFUND_Q = "Can I get a refund?"
REFUND_A = "Unused store items can be refunded within 14 days from Settings → Store → Purchase History."
PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings → Account → Reset password, then follow the link we email you within the hour."
BAN_Q = "Why was I banned from the game?"
BAN_A = "Bans are for cheating or abuse; appeal within 30 days at the ban appeals page in the launcher."


class Sink:
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def send(self, text: str) -> int:
        self.messages.append(text)
        return len(self.messages) - 1

    async def edit(self, handle: int, text: str) -> None:
        self.messages[handle] = text


@pytest.fixture
async def pipeline(tmp_path, fake_ollama: FakeOllama) -> AsyncIterator[AnswerPipeline]:
    db = await open_app_database(tmp_path / "checks.db")
    async with aiohttp.ClientSession() as session:
        llm = create_llm_client(fast_settings(fake_ollama.url, embed_model="all-minilm"), session)
        memory = TrainedMemory(db, LLMEmbedder(llm))
        for question, answer in ((REFUND_Q, REFUND_A), (PASSWORD_Q, PASSWORD_A), (BAN_Q, BAN_A)):
            await memory.add(GUILD, question, answer)
        yield AnswerPipeline(memory=memory, llm=llm, thresholds=Thresholds(), max_context_length=6000,
                             history_messages=16)  # fmt: skip
        await llm.aclose()
    await db.close()


async def ask(pipeline: AnswerPipeline, question: str, **extra: Any) -> tuple[Any, Sink]:
    sink = Sink()
    request = AnswerRequest(
        guild_id=GUILD, question=question, history=[], user_name="alice", category="general",
        server_name="Support Server", **extra,
    )  # fmt: skip
    return await pipeline.answer(request, sink), sink


async def test_two_questions_get_two_saved_answers_in_order(pipeline, fake_ollama: FakeOllama) -> None:
    outcome, sink = await ask(pipeline, "Can I get a refund? Also, how do I reset my password?")
    shown = "\n".join(sink.messages)
    assert REFUND_A in shown and PASSWORD_A in shown and shown.index(REFUND_A) < shown.index(PASSWORD_A)
    assert outcome.route is Route.ANSWER
    assert fake_ollama.chat_requests() == []


async def test_a_confident_question_is_answered_and_the_model_gets_only_the_rest(pipeline, fake_ollama) -> None:
    fake_ollama.script(Reply(f"ANSWER: {BAN_A}"))
    outcome, sink = await ask(pipeline, "Can I get a refund? Also, my friend was banned in the game, why")
    assert REFUND_A in sink.messages[0] and "> Can I get a refund?" in sink.messages[0]
    assert sink.messages[-1] == BAN_A
    [request] = fake_ollama.chat_requests()
    asked = request["messages"][-1]["content"]
    assert "banned" in asked and "refund" not in asked, "the model answers what the saved answer did not"
    assert outcome.route is Route.LLM


async def test_the_rest_of_a_message_goes_to_staff_when_the_model_is_unsure(pipeline, fake_ollama) -> None:
    fake_ollama.script(Reply("UNSURE"))
    outcome, sink = await ask(pipeline, "Can I get a refund? Also, my friend was banned in the game, why")
    assert REFUND_A in sink.messages[0]
    assert "the rest of your message" in sink.messages[-1] and "staff" in sink.messages[-1]
    assert outcome.route is Route.STAFF, "the ticket still needs a human"
    assert outcome.model is not None and not outcome.model.delivery.guard.answered


async def test_a_question_at_character_1347_of_3000_is_found(pipeline, fake_ollama) -> None:
    story = "Yesterday evening my cousin and I played the harbour map until midnight with friends. "
    message = ((story * 40)[:1345] + ". How do I reset my password? " + story * 40)[:3000]
    assert message.index("How do I reset my password?") == 1347 > MAX_SEARCH_CHARS and len(message) == 3000
    outcome, sink = await ask(pipeline, message)
    assert outcome.route is Route.ANSWER and sink.messages[0].startswith(PASSWORD_A)
    assert fake_ollama.chat_requests() == []


async def test_a_new_tickets_subject_is_a_title_not_a_second_question(pipeline, fake_ollama) -> None:
    outcome, sink = await ask(
        pipeline, f"Password\n{PASSWORD_Q}", subject="Password", search_texts=["Password", PASSWORD_Q]
    )
    assert outcome.route is Route.ANSWER and len(sink.messages) == 1 and sink.messages[0].startswith(PASSWORD_A)


async def test_a_model_that_fails_before_its_reply_can_be_judged_falls_back(pipeline, fake_ollama) -> None:
    # Nothing is shown before a reply proves it comes from the notes; a failure before that is the
    # model's failure (fallback or staff as if it were down), not a verdict, and nothing half-shown stays.
    fake_ollama.script(Reply(f"ANSWER: {REFUND_A}", chunk_size=10, error_after_chunks=2))
    outcome, sink = await ask(pipeline, "how do i get a refund for a skin i bought?")
    assert outcome.llm_error is not None
    assert outcome.route in (Route.FALLBACK, Route.STAFF)
    if outcome.route is Route.FALLBACK:
        assert sink.messages == [f"{REFUND_A}\n{FALLBACK_NOTE}"]
    else:
        [text] = sink.messages
        assert "unavailable" in text and "ANSWER" not in text


# -- the saved-answer check (ai/check.py) ----------------------------------------------------------------


@pytest.mark.parametrize("fits", [True, False])
async def test_an_unsure_model_is_asked_about_the_best_saved_answer(pipeline, fake_ollama, fits: bool) -> None:
    pipeline.check_bar = 0.0
    fake_ollama.script(Reply("UNSURE"))
    fake_ollama.script_structured(Reply(json.dumps({"answers": fits})))
    outcome, sink = await ask(pipeline, "how do i get a refund for a skin i bought?")
    [first] = fake_ollama.chat_requests()
    [check] = fake_ollama.structured_requests()
    assert check["format"] == SCHEMA and "format" not in first
    assert "Saved answer: " + REFUND_A in check["messages"][-1]["content"]
    assert outcome.checked is fits
    if fits:
        assert outcome.route is Route.ANSWER and sink.messages == [f"{REFUND_A}\n{SAVED_NOTE}"]
    else:
        assert outcome.route is Route.STAFF and len(sink.messages) == 1 and "staff" in sink.messages[0]


async def test_no_check_below_the_bar_nor_for_a_broken_reply(pipeline, fake_ollama) -> None:
    pipeline.check_bar = 5.0  # above any confidence
    fake_ollama.script(Reply("UNSURE"))
    outcome, _ = await ask(pipeline, "how do i get a refund for a skin i bought?")
    assert outcome.route is Route.STAFF and outcome.checked is None and len(fake_ollama.chat_requests()) == 1
    pipeline.check_bar = 0.0
    fake_ollama.script(Reply("ANSWER: email refunds@made-up-store.com for a refund"))
    outcome, sink = await ask(pipeline, "how do i get a refund for a skin i bought?")
    assert outcome.route is Route.STAFF and outcome.checked is None, "an invented address is not a doubt to check"
    assert len(fake_ollama.chat_requests()) == 2 and "made-up" not in "".join(sink.messages)
