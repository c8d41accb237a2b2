"""deliver_stream with a StreamGuard: only checked text is shown; a rejected reply is replaced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from ai.delivery import REMOVED_PART, TYPING_MARKER, deliver_stream
from ai.errors import LLMResponseError
from ai.guards import StreamGuard, Verdict
from ai.prompt import KnowledgeItem
from tests.unit.ai.recording_sink import RecordingSink

NOTE = KnowledgeItem(
    1,
    "How do I request a refund?",
    "Unused store items can be refunded within 14 days: Settings → Store → Purchase History → Request Refund. "
    "Console purchases are refunded by the console store, and each account gets three self-service refunds a year.",
    "billing",
)
ASK = "can i get my money back for a skin"
HANDOFF = "I couldn't find a reliable answer. Staff will help soon."


@dataclass
class Stream:
    """Yields `text` in small pieces; remembers how far it was read and whether it was closed."""

    text: str
    size: int = 4
    error: Exception | None = None
    read: int = 0
    closed: bool = False

    async def __call__(self) -> AsyncGenerator[str]:
        try:
            for i in range(0, len(self.text), self.size):
                await asyncio.sleep(0)
                self.read = i + self.size
                yield self.text[i : i + self.size]
            if self.error is not None:
                raise self.error
        finally:
            self.closed = True


def guard() -> StreamGuard:
    return StreamGuard([NOTE], ASK)


async def test_answered_reply_is_shown_without_its_marker() -> None:
    sink = RecordingSink()
    result = await deliver_stream(
        Stream(f"ANSWER: {NOTE.response}")(), sink, edit_interval=0, guard=guard(), rejected_text=HANDOFF
    )
    assert result.guard is not None and result.guard.verdict is Verdict.ANSWERED
    assert not result.rejected and result.complete
    assert sink.messages == [NOTE.response]
    assert all("ANSWER" not in text for text in sink.shown)
    assert all(NOTE.response.startswith(text.removesuffix(TYPING_MARKER)) for text in sink.shown)


async def test_unsure_shows_only_the_handoff_and_stops_reading_the_model() -> None:
    stream = Stream("UNSURE" + " and then the model rambles on about nothing in particular" * 20)
    sink = RecordingSink()
    result = await deliver_stream(stream(), sink, edit_interval=0, guard=guard(), rejected_text=HANDOFF)
    assert result.rejected and result.guard is not None and result.guard.verdict is Verdict.UNSURE
    assert sink.shown == [HANDOFF]
    assert stream.closed and stream.read < len(stream.text) // 4


async def test_an_echo_is_never_shown_and_the_text_before_it_is_replaced() -> None:
    reply = f"ANSWER: {NOTE.response} More below.\nQuestion: How do I reset my password?\nAnswer: Use /reset."
    sink = RecordingSink()
    result = await deliver_stream(Stream(reply)(), sink, edit_interval=0, guard=guard(), rejected_text=HANDOFF)
    assert result.rejected and result.guard is not None and result.guard.verdict is Verdict.FAILED
    assert not any("Question" in text or "/reset" in text for text in sink.shown)
    assert len(sink.shown) > 1  # part of the answer was on screen before the echo began
    assert sink.messages == [HANDOFF]


async def test_rejected_after_streaming_replaces_every_part() -> None:
    # The note over and over (two messages' worth), then a tail of the model's own words: rejected
    # once most of what it says is not in the notes, after both messages were shown.
    tail = "Then recalibrate every thumbstick module, flush cached shaders, reseat memory and reinstall drivers."
    reply = "ANSWER: " + " ".join([NOTE.response] * 12) + " " + tail
    sink = RecordingSink()
    result = await deliver_stream(
        Stream(reply, size=50)(), sink, edit_interval=0, limit=2000, guard=guard(), rejected_text=HANDOFF
    )
    assert result.rejected and result.guard is not None and result.guard.verdict is Verdict.UNSURE
    assert len(sink.messages) == 2  # the answer took two messages...
    assert sink.messages == [HANDOFF, REMOVED_PART]  # ...both replaced


async def test_without_rejected_text_nothing_is_posted_when_nothing_was_shown() -> None:
    sink = RecordingSink()
    result = await deliver_stream(Stream("UNSURE")(), sink, guard=guard())
    assert result.rejected and result.handles == [] and sink.shown == []


async def test_a_broken_stream_keeps_a_checked_answer_with_the_error_note() -> None:
    sink = RecordingSink()
    stream = Stream(f"ANSWER: {NOTE.response}", error=LLMResponseError("broke"))
    result = await deliver_stream(stream(), sink, edit_interval=0, guard=guard(), error_note="\n\n(cut)")
    assert result.guard is not None and result.guard.answered
    assert not result.complete and isinstance(result.error, LLMResponseError)
    assert sink.messages == [NOTE.response + "\n\n(cut)"]
