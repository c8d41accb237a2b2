"""Show a streamed answer in chat messages, Discord-agnostic.

The sink posts and edits messages; this module decides when (first text at once,
then at most one edit per ``edit_interval`` to stay clear of edit rate limits), rolls
over into new messages past the length limit without breaking code fences, and keeps
what was shown when the stream fails.

With a ``StreamGuard`` (ai/guards.py) only what the guard lets through is shown: it holds
back a short tail, so a marker, an echo of the prompt or a half-written invented link never
appears. When it rejects the reply (unsure, or a check failed, possibly after some text was
shown), the model stream is dropped at once and what was shown is replaced by ``rejected_text``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Protocol

from ai.errors import LLMError, LLMResponseError
from ai.guards import GuardResult, StreamGuard
from ai.split import append_note, neutralize_mentions, split_message
from ai.untrusted import one_line

log = logging.getLogger(__name__)

TYPING_MARKER = " ▌"
DEFAULT_ERROR_NOTE = "\n\n⚠️ *The answer was interrupted.*"


class MessageSink(Protocol):
    async def send(self, text: str) -> Any:
        """Post a new message and return a handle for later edits."""

    async def edit(self, handle: Any, text: str) -> None:
        """Replace the content of a message posted by ``send``."""


# Shown in place of a streamed part that a rejected reply no longer needs (sinks cannot delete).
REMOVED_PART = "-# (removed)"


@dataclass
class DeliveryResult:
    parts: list[str]
    handles: list[Any]
    complete: bool
    error: LLMError | None
    edits: int = 0
    guard: GuardResult | None = None  # the verdict, when delivered with a guard

    @property
    def rejected(self) -> bool:
        """A guard turned the reply down: what the user sees now is the ``rejected_text``."""
        return self.guard is not None and not self.guard.answered


@dataclass
class _Shown:
    """What each posted message currently shows, so unchanged parts are not re-edited."""

    sink: MessageSink
    handles: list[Any] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    edits: int = 0

    async def show(self, parts: list[str]) -> None:
        # Parts that are no longer needed (a shorter replacement) are blanked, as sinks cannot delete.
        parts = parts + [REMOVED_PART] * (len(self.handles) - len(parts))
        for index, text in enumerate(parts):
            if index < len(self.handles):
                if self.texts[index] != text:
                    await self.sink.edit(self.handles[index], text)
                    self.texts[index] = text
                    self.edits += 1
            else:
                self.handles.append(await self.sink.send(text))
                self.texts.append(text)


def _render(text: str, limit: int, streaming: bool) -> list[str]:
    # Split for the marker's room even in the final render, so part boundaries stay put
    # between the last streaming edit and the final one.
    parts = split_message(neutralize_mentions(text), limit - len(TYPING_MARKER))
    if streaming and parts:
        parts[-1] += TYPING_MARKER
    return parts


async def deliver_stream(
    chunks: AsyncGenerator[str, None],
    sink: MessageSink,
    *,
    edit_interval: float = 1.0,
    limit: int = 2000,
    error_note: str = DEFAULT_ERROR_NOTE,
    guard: StreamGuard | None = None,
    rejected_text: str = "",
) -> DeliveryResult:
    """Stream ``chunks`` into messages; never raises LLMError (it is returned instead).

    An empty or whitespace-only answer sends nothing and returns an error. ``chunks`` is closed on
    every way out, including a message the sink fails to post and a cancellation: an abandoned
    model stream would keep its model slot and its HTTP response until the garbage collector
    happened to find it.

    With ``guard``, a reply it rejects ends as ``rejected_text`` (posted, or edited into what was
    shown) and the result's ``guard`` says why; the caller takes the staff route.
    """
    shown = _Shown(sink)
    text = ""
    error: LLMError | None = None
    # A real clock, not time.monotonic/loop.time(): the edit rate limit and the stream are
    # both in real time, and a harness that virtualises those clocks (SimCord, inside the
    # bot's tasks) would freeze the throttle: no edit at all until the final one.
    clock = time.perf_counter
    last_update = 0.0
    async with aclosing(chunks) as stream:
        try:
            async for piece in stream:
                text += piece
                visible = text if guard is None else guard.feed(piece)
                if guard is not None and guard.tripped is not None:
                    break  # no need to hear the rest: the reply is not going to be shown
                if not visible.strip():
                    continue
                now = clock()
                if not shown.handles or now - last_update >= edit_interval:
                    await shown.show(_render(visible, limit, streaming=True))
                    last_update = clock()
        except LLMError as exc:
            error = exc
    if not text.strip():
        return DeliveryResult([], [], False, error or LLMResponseError("empty answer"), shown.edits)
    verdict = guard.finish() if guard is not None else None
    if verdict is not None and not verdict.answered:
        if error is not None and guard is not None and guard.tripped is None and not shown.handles:
            # The model failed before its reply could be judged (too little of it to show): that is a
            # failure of the model, not its verdict. Nothing was posted; the caller falls back.
            return DeliveryResult([], [], False, error, shown.edits, verdict)
        log.info("reply rejected (%s): %s", verdict.verdict, one_line("; ".join(verdict.reasons)))
        parts = split_message(neutralize_mentions(rejected_text), limit) if rejected_text.strip() else []
        await shown.show(parts)
        return DeliveryResult(parts, list(shown.handles), error is None, error, shown.edits, verdict)
    if verdict is not None:
        text = verdict.text
    final = append_note(text, error_note) if error is not None else text
    parts = _render(final, limit, streaming=False)
    await shown.show(parts)
    if error is not None:
        log.info("answer interrupted after %d characters: %s", len(text), error)
    return DeliveryResult(parts, list(shown.handles), error is None, error, shown.edits, verdict)
