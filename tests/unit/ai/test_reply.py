"""answer_with_model against the fake Ollama: notes, prompt, stream, guards, what the user sees."""

from __future__ import annotations

from typing import Any

import aiohttp

from ai.factory import create_llm_client
from ai.guards import Verdict
from ai.prompt import KnowledgeItem, Turn
from ai.reply import ModelTurn, answer_with_model
from tests.fakes.ollama import FakeOllama, Reply
from tests.fixtures_llm import fast_settings
from tests.unit.ai.recording_sink import RecordingSink

REFUND = KnowledgeItem(
    1,
    "How do I request a refund?",
    "Unused store items can be refunded within 14 days: Settings → Store → Purchase History → Request Refund.",
    "billing",
    0.55,
)
GIFT = KnowledgeItem(2, "Where do I redeem a gift code?", "Redeem codes at example.com/redeem.", "billing", 0.31)
HANDOFF = "Staff will help you soon."


def turn(question: str = "can i get my money back for a skin", **overrides: Any) -> ModelTurn:
    values: dict[str, Any] = {
        "question": question,
        "history": [Turn("user", "mika", "hi, bought a skin yesterday")],
        "knowledge": [REFUND, GIFT],
        "server_name": "Starfall",
        "user_name": "mika",
        "category": "billing",
    }
    values.update(overrides)
    return ModelTurn(**values)


async def ask(fake: FakeOllama, session: aiohttp.ClientSession, t: ModelTurn) -> tuple[Any, RecordingSink]:
    sink = RecordingSink()
    llm = create_llm_client(fast_settings(fake.url), session)
    reply = await answer_with_model(llm, t, sink, rejected_text=HANDOFF, edit_interval=0)
    return reply, sink


async def test_answer_from_the_notes_is_shown_without_the_marker(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Reply(f"ANSWER: {REFUND.response}", chunk_size=5))
    reply, sink = await ask(fake_ollama, http_session, turn())
    assert reply is not None and not reply.rejected
    assert reply.delivery.guard.verdict is Verdict.ANSWERED
    assert sink.messages == [REFUND.response]
    [body] = fake_ollama.chat_requests()
    assert body["think"] is False
    system = body["messages"][0]["content"]
    assert "Note 1 (best match)\nQuestion: How do I request a refund?" in system
    assert body["messages"][1]["content"] == "mika wrote:\nhi, bought a skin yesterday"
    assert body["messages"][-1]["content"] == "mika wrote:\ncan i get my money back for a skin"


async def test_no_notes_above_the_floor_means_no_model_call(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    low = [KnowledgeItem(1, "q", "a", "faq", 0.1)]
    off = [KnowledgeItem(1, "q", "a", "faq", 0.9, off_topic="names steam")]
    for knowledge in (low, off, []):
        reply, sink = await ask(fake_ollama, http_session, turn("what time is it in tokyo", knowledge=knowledge))
        assert reply is None and sink.shown == []
    assert fake_ollama.chat_requests() == []


async def test_unsure_reaches_the_user_only_as_the_handoff(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(Reply("UNSURE", chunk_size=2))
    reply, sink = await ask(fake_ollama, http_session, turn())
    assert reply is not None and reply.rejected
    assert reply.delivery.guard.verdict is Verdict.UNSURE
    assert sink.shown == [HANDOFF]


async def test_echo_invented_link_and_thinking_never_reach_the_user(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    fake_ollama.script(
        Reply(f"ANSWER: {REFUND.response}\n\nNote 2\nQuestion: {GIFT.query}\nAnswer: {GIFT.response}", chunk_size=7),
        Reply("ANSWER: Refunds within 14 days at https://refunds.example.net/form, just fill it in.", chunk_size=6),
        Reply(f"<think>User wants money back. Note 1 fits.</think>ANSWER: {REFUND.response}", chunk_size=6),
    )
    reply, sink = await ask(fake_ollama, http_session, turn())
    assert reply is not None and reply.rejected and reply.delivery.guard.verdict is Verdict.FAILED
    assert sink.messages == [HANDOFF] and not any("Note 2" in text or "Question" in text for text in sink.shown)

    reply, sink = await ask(fake_ollama, http_session, turn())
    assert reply is not None and reply.rejected
    assert not any("refunds.example.net" in text for text in sink.shown)

    reply, sink = await ask(fake_ollama, http_session, turn())
    assert reply is not None and not reply.rejected
    assert sink.messages == [REFUND.response] and not any("think" in text for text in sink.shown)


async def test_asked_again_the_notes_answer_given_again_is_shown(
    fake_ollama: FakeOllama, http_session: aiohttp.ClientSession
) -> None:
    # The bot's earlier answer is in the history; the same answer from the same note is still from the note,
    # not "only repeating" the conversation (it was judged FAILED and handed to staff).
    history = [
        Turn("user", "mika", "can i get my money back for a skin"),
        Turn("bot", "Starfall", REFUND.response),
    ]
    fake_ollama.script(Reply(f"ANSWER: {REFUND.response}", chunk_size=9))
    reply, sink = await ask(fake_ollama, http_session, turn("hello?? how do i get my money back", history=history))
    assert reply is not None and not reply.rejected, reply.delivery.guard
    assert sink.messages == [REFUND.response]
