"""`python bot.py search` decides through the answer pipeline, so it cannot drift from the bot."""

from __future__ import annotations

from typing import cast

from ai.client import LLMClient
from memory.decision import Thresholds
from memory.io import import_bytes
from memory.store import TrainedMemory
from tickets.answering import AnswerPipeline, search_batch

GUILD = 1
CSV = (
    "query,response,category,alternates\n"
    "How do I reset my password?,Use the reset link.,technical,forgot password|lost login\n"
    "Where is my invoice?,On the billing page.,billing,\n"
    ",No question here,general,\n"
    "Refund?,,billing,\n"
    '"Multi-line, quoted",Yes,general,\n'
)


def _pipeline(memory: TrainedMemory, thresholds: Thresholds) -> AnswerPipeline:
    # Deciding never talks to the model: whether it is available is given to search_batch.
    no_model = cast(LLMClient, None)
    return AnswerPipeline(
        memory=memory, llm=no_model, thresholds=thresholds, max_context_length=6000, history_messages=16
    )


async def test_search_batch_reports_decision_and_matches(memory):
    await import_bytes(memory, GUILD, CSV.encode(), "faq.csv")
    loose = Thresholds(direct=0.5, margin_floor=0.0)
    (exact, unknown) = await search_batch(
        _pipeline(memory, loose), GUILD, ["How do I reset my password?", "zzz qqq"], llm_available=False
    )
    assert exact["decision"] == "answer" and exact["matches"][0]["query"] == "How do I reset my password?"
    assert set(exact["matches"][0]) == {"id", "query", "response", "category", "score"}
    assert len(exact["matches"]) == 3
    assert unknown["decision"] == "staff"
    (llm,) = await search_batch(_pipeline(memory, loose), GUILD, ["zzz qqq"], llm_available=True)
    assert llm["decision"] == "llm"


async def test_search_batch_reports_fallback_apart_from_staff(memory):
    await import_bytes(memory, GUILD, CSV.encode(), "faq.csv")
    # Nothing is answered directly; a close match clears the fallback bar, an unknown one does not.
    never_direct = Thresholds(direct=9.0, fallback=0.5)
    close, unknown = await search_batch(
        _pipeline(memory, never_direct), GUILD, ["How do I reset my password?", "zzz qqq"], llm_available=False
    )
    assert close["decision"] == "fallback" and close["matches"][0]["query"] == "How do I reset my password?"
    assert unknown["decision"] == "staff"
    (llm,) = await search_batch(
        _pipeline(memory, never_direct), GUILD, ["How do I reset my password?"], llm_available=True
    )
    assert llm["decision"] == "llm"
