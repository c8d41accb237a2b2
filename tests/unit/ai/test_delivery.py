"""deliver_stream with an in-memory sink and scripted chunk timings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ai.delivery import TYPING_MARKER, deliver_stream
from ai.errors import LLMError, LLMResponseError, LLMTimeout


@dataclass
class MemorySink:
    messages: list[str] = field(default_factory=list)
    log: list[tuple[str, int, str]] = field(default_factory=list)

    async def send(self, text: str) -> Any:
        assert len(text) <= 2000
        self.messages.append(text)
        self.log.append(("send", len(self.messages) - 1, text))
        return len(self.messages) - 1

    async def edit(self, handle: Any, text: str) -> None:
        assert len(text) <= 2000
        self.messages[handle] = text
        self.log.append(("edit", handle, text))


async def chunks(pieces: list[str], delay: float = 0.0, error: LLMError | None = None) -> AsyncGenerator[str, None]:
    for piece in pieces:
        await asyncio.sleep(delay)
        yield piece
    if error is not None:
        raise error


async def test_first_text_posted_at_once_then_throttled_edits() -> None:
    sink = MemorySink()
    result = await deliver_stream(chunks(["Hel", "lo", " wor", "ld"] * 10, delay=0.02), sink, edit_interval=0.2)
    assert result.complete and result.error is None
    assert sink.log[0] == ("send", 0, "Hel" + TYPING_MARKER)
    # ~0.8 s of streaming at one edit per 0.2 s, plus the final edit.
    assert 2 <= result.edits <= 6
    assert sink.messages == ["Hello world" * 10]
    assert result.parts == sink.messages and result.handles == [0]


async def test_rollover_past_limit_uses_new_messages() -> None:
    sink = MemorySink()
    paragraphs = [f"Paragraph {i}: " + "lorem ipsum " * 40 + "\n\n" for i in range(12)]
    result = await deliver_stream(chunks(paragraphs), sink, edit_interval=0)
    assert result.complete
    assert len(sink.messages) >= 3
    assert all(len(m) <= 2000 and not m.endswith(TYPING_MARKER) for m in sink.messages)
    assert "".join(m.replace("\n", "") for m in sink.messages).replace(" ", "") == "".join(paragraphs).replace(
        "\n", ""
    ).replace(" ", "")
    assert result.handles == list(range(len(sink.messages)))


async def test_code_block_rollover_keeps_fences_balanced() -> None:
    code = "```python\n" + "".join(f"print('line {i}')\n" for i in range(200)) + "```\n"
    sink = MemorySink()
    result = await deliver_stream(chunks([code[i : i + 50] for i in range(0, len(code), 50)]), sink, edit_interval=0)
    assert result.complete and len(sink.messages) >= 2
    for message in sink.messages:
        assert message.count("```") % 2 == 0
        assert message.startswith("```python")


async def test_error_mid_stream_keeps_text_and_adds_note() -> None:
    sink = MemorySink()
    err = LLMTimeout("no chunk within 30 s")
    result = await deliver_stream(chunks(["Partial ", "answer"], error=err), sink, error_note="(cut off)")
    assert not result.complete and result.error is err
    assert sink.messages == ["Partial answer\n(cut off)"]


async def test_error_inside_code_block_closes_it_before_the_note() -> None:
    sink = MemorySink()
    result = await deliver_stream(chunks(["```sh\necho hi\n"], error=LLMResponseError("x")), sink)
    assert sink.messages[0].startswith("```sh\necho hi\n```")
    assert "interrupted" in sink.messages[0]
    assert result.error is not None


async def test_empty_answer_sends_nothing() -> None:
    sink = MemorySink()
    result = await deliver_stream(chunks(["  ", "\n"]), sink)
    assert sink.messages == [] and result.handles == []
    assert isinstance(result.error, LLMResponseError) and not result.complete

    err = LLMTimeout("first token")
    result = await deliver_stream(chunks([], error=err), sink)
    assert sink.messages == [] and result.error is err


async def test_mentions_are_neutralized() -> None:
    sink = MemorySink()
    await deliver_stream(chunks(["Hey @every", "one, ask <@&42>"]), sink)
    assert "@everyone" not in sink.messages[0] and "<@&" not in sink.messages[0]


async def test_a_sink_failure_closes_the_stream_at_once() -> None:
    closed: list[bool] = []

    async def stream() -> AsyncGenerator[str, None]:
        try:
            yield "Hello"
            yield " world"
        finally:
            closed.append(True)  # where the model slot and the HTTP response are given back

    class RefusingSink(MemorySink):
        async def send(self, text: str) -> Any:
            raise RuntimeError("Discord said 500")

    with pytest.raises(RuntimeError):
        await deliver_stream(stream(), RefusingSink())
    assert closed == [True], "the stream was left for the garbage collector to close"


async def test_a_cancelled_delivery_closes_the_stream() -> None:
    closed: list[bool] = []
    posted = asyncio.Event()

    async def stream() -> AsyncGenerator[str, None]:
        try:
            yield "Hello"
            yield " world"
        finally:
            closed.append(True)

    class SlowSink(MemorySink):
        async def send(self, text: str) -> Any:
            posted.set()
            await asyncio.sleep(10)

    task = asyncio.ensure_future(deliver_stream(stream(), SlowSink()))
    await posted.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True]
