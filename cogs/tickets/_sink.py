"""Posting an answer into a ticket post: the message sink the answer pipeline writes to, and "typing…"."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import discord

from ai.delivery import TYPING_MARKER
from ai.split import append_note
from cogs._discord import NO_PINGS
from cogs.tickets._locks import AnswerCancelled
from tickets.queue_notice import QueueNotice

log = logging.getLogger(__name__)

# Seconds between two looks at the ticket while its answer streams (`ThreadSink.watch`). A model streams for
# 5-60 s; a claim or close made by another bot process on the same database then stops it within this time
# instead of at the answer's record. An answer done within this time of its first message costs no read at all
# (a saved answer, an instant model, a burst's queued answers: the pipeline's round trips stay as they were).
WATCH_EVERY = 3.0


@contextlib.asynccontextmanager
async def typing_indicator(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show "typing…" while the body runs, if Discord lets us.

    The indicator is a courtesy: a refused one (a 500, a missing permission) must not cost the answer.
    discord.py already ignores failures of the repeats; only the first request can raise.
    """
    async with contextlib.AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(channel.typing())
        except discord.HTTPException:
            log.warning("Could not show the typing indicator in channel %s", getattr(channel, "id", "?"), exc_info=True)
        yield


def _as_is(text: str) -> str:
    return text


class ThreadSink:
    """Posts an answer into a ticket thread; the first message may replace a 'you're in line' notice.

    `scrub` is applied to every answer text before it is posted (a private ticket breaks user mentions:
    there a mention would add the person to the thread). `watch` says why the answer must stop (the ticket was
    closed or taken over, as read from the database), or None; it is asked before an edit or a further message,
    at most every WATCH_EVERY seconds, counted from the answer's first message: this process's own closes and
    takeovers stop the answer at once (`TicketLocks`), the database is for the others'. No timer: a parked or
    queued answer costs nothing.
    """

    def __init__(
        self, thread: discord.Thread, *, scrub: Callable[[str], str] = _as_is,
        watch: Callable[[], Awaitable[str | None]] | None = None,
    ) -> None:  # fmt: skip
        self.thread = thread
        self.scrub = scrub
        self.watch = watch
        # When `watch` was last asked (or the answer's first message shown); the real clock, as the delivery's edit
        # throttle uses: SimCord virtualises the loop's.
        self._watched_at: float | None = None
        self.queue_notice: discord.Message | None = None
        self.messages: list[discord.Message] = []
        self.last_text: str | None = None  # what the newest message shows now
        self._place = QueueNotice()

    async def _still_wanted(self) -> None:
        """Raise AnswerCancelled if `watch` (when due) says the answer must stop."""
        if self.watch is None:
            return
        if self._watched_at is None:
            self._watched_at = time.perf_counter()  # the first message: the stream starts now
            return
        if time.perf_counter() - self._watched_at < WATCH_EVERY:
            return
        reason = await self.watch()
        self._watched_at = time.perf_counter()
        if reason is not None:
            raise AnswerCancelled(reason)

    async def send(self, text: str) -> discord.Message:
        await self._still_wanted()
        text = self.scrub(text)
        message: discord.Message | None = None
        if self.queue_notice is not None:
            notice, self.queue_notice = self.queue_notice, None
            try:
                message = await notice.edit(content=text, allowed_mentions=NO_PINGS)
            except discord.NotFound:  # someone deleted the notice: post the answer afresh
                message = None
            except discord.HTTPException as exc:
                if exc.status >= 500:  # the edit may have landed: do not risk the answer twice
                    raise
                # The notice is refused (it is only edited when the place in line changes, so this may be
                # the first edit it gets): post the answer afresh and take the notice away.
                log.warning("Could not turn the waiting notice into the answer in ticket %d", self.thread.id)
                message = None
                with contextlib.suppress(discord.HTTPException):
                    await notice.delete()
        if message is None:
            message = await self.thread.send(text, allowed_mentions=NO_PINGS)
        self.messages.append(message)
        self.last_text = text
        return message

    async def edit(self, handle: discord.Message, text: str) -> None:
        await self._still_wanted()
        text = self.scrub(text)
        await handle.edit(content=text, allowed_mentions=NO_PINGS)
        if self.messages and handle.id == self.messages[-1].id:
            self.last_text = text

    async def discard_notice(self) -> None:
        """Remove a waiting notice that no answer replaced (e.g. the ticket was closed meanwhile)."""
        if self.queue_notice is not None:
            notice, self.queue_notice = self.queue_notice, None
            with contextlib.suppress(discord.HTTPException):
                await notice.delete()

    async def abandon(self, note: str) -> None:
        """The answer was stopped: clean up what is on screen (queue notice, typing marker)."""
        await self.discard_notice()
        with contextlib.suppress(discord.HTTPException):
            if self.messages and self.last_text is not None:
                text = self.last_text.removesuffix(TYPING_MARKER)
                content = append_note(text, note)
                if len(content) > 2000:  # room for the note and a fence that closes the text's code block
                    content = append_note(text[: 2000 - len(note) - len("\n```\n")], note)
                await self.messages[-1].edit(content=content, allowed_mentions=NO_PINGS)

    async def queued(self, position: int) -> None:
        """Show or update the place in line for the model (only when it moved by a coarse step: see
        tickets/queue_notice.py)."""
        if not self._place.worth_showing(position, time.monotonic()):
            return
        await self.waiting(f"⏳ The assistant is busy with other tickets — you're #{position} in line.")

    async def waiting(self, text: str) -> None:
        """Show or update a notice that the answer is coming; the answer replaces it.

        A notice Discord refuses must not cost the answer.
        """
        try:
            if self.queue_notice is None:
                self.queue_notice = await self.thread.send(text, allowed_mentions=NO_PINGS)
            else:
                self.queue_notice = await self.queue_notice.edit(content=text, allowed_mentions=NO_PINGS)
        except discord.NotFound:
            self.queue_notice = None
        except discord.HTTPException:
            log.warning("Could not show a waiting notice in ticket %d", self.thread.id, exc_info=True)
