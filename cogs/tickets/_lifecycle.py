"""The ticket lifecycle on the Discord side: one method per thing that happens to a ticket.

The cog (`_cog.py`) and the views (`_views.py`) receive Discord events and call these methods; they
call the core (`TicketService` decides and records every status, the memory learns) and talk to
Discord. No SQL or HTTP here. `TicketLifecycle` owns the per-ticket locks, so everything that changes
a ticket from Discord goes through one object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from ai.errors import LLMBusy
from ai.prompt import Turn
from ai.summary import summarize_ticket
from cogs._discord import NO_PINGS, is_staff, ping_users
from cogs.tickets._archive import archive_closed, transcript_url
from cogs.tickets._locks import AnswerCancelled, TicketLocks
from cogs.tickets._posts import (
    ARCHIVE_AFTER_MINUTES,
    closing_embed,
    notify_staff,
    safe_send,
    send_to_log,
    show_status,
    tags_for,
)
from cogs.tickets._sink import ThreadSink, typing_indicator
from memory.decision import Route
from memory.models import MAX_QUERY_CHARS, MAX_RESPONSE_CHARS
from memory.text import visible_text
from tickets.answering import AnswerOutcome, AnswerRequest, conversation_before
from tickets.errors import ActionRefused, CloseError, TicketAlreadyClosed, TicketOpenError
from tickets.models import Feedback, GuildConfig, MessageRole, Ticket, TicketMessage, TicketStatus
from tickets.pacing import PendingQuestion
from tickets.service import human_duration

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

COG_NAME = "Tickets"
STAFF_ASKED = "🙋 A member of staff has been asked to help. The assistant will stay quiet in this ticket meanwhile."
# Builds the Solved / Talk to staff buttons for an answer: (ticket id, recorded route id) -> view.
AnswerButtons = Callable[[int, int], discord.ui.View]


@dataclass(frozen=True, kw_only=True)
class TicketRequest:
    """Someone asks for a ticket: from the panel (the bot creates the post) or by posting in the forum."""

    guild: discord.Guild
    opener: discord.Member
    category: str
    subject: str
    description: str
    post: discord.Thread | None = None  # the forum post the user made themselves


@dataclass(frozen=True)
class OpenedTicket:
    thread: discord.Thread
    ticket: Ticket
    new: bool  # False: the post already was a ticket (its first messages raced each other)


def lifecycle_of(client: discord.Client) -> TicketLifecycle:
    """The lifecycle of the bot an interaction arrived at (views are built by discord.py, not by us)."""
    cog = client.get_cog(COG_NAME) if isinstance(client, commands.Bot) else None
    lifecycle = getattr(cog, "lifecycle", None)
    if not isinstance(lifecycle, TicketLifecycle):
        raise RuntimeError("the tickets extension is not loaded")
    return lifecycle


class TicketLifecycle:
    def __init__(self, bot: TicketBot, *, answer_buttons: AnswerButtons) -> None:
        self.bot = bot
        self.core = bot.core
        self.locks = TicketLocks()
        self._answer_buttons = answer_buttons

    # -- opening -----------------------------------------------------------------------------

    async def opened(self, config: GuildConfig, request: TicketRequest) -> OpenedTicket:
        """The one way a ticket is opened: checks, the post, the record, the staff ping.

        Raises TicketOpenError with a message for the user; a post the user made is then closed with
        that message in it. Does not answer: the panel confirms to its user first (`first_question`).
        """
        guild, opener = request.guild, request.opener
        async with self.locks.opener(guild_id=guild.id, user_id=opener.id):
            if request.post is not None:
                existing = await self.core.tickets.get(request.post.id)
                if existing is not None:
                    return OpenedTicket(request.post, existing, new=False)
            try:
                await self.core.tickets.check_can_open(guild_id=guild.id, user_id=opener.id, now=discord.utils.utcnow())
            except TicketOpenError as refused:
                if request.post is not None:
                    await _refuse_post(request.post, str(refused))
                raise
            thread = request.post or await self._create_post(config, request)
            try:
                ticket = await self.core.tickets.ticket_opened(
                    ticket_id=thread.id, guild_id=guild.id, opener_id=opener.id, opener_name=opener.display_name,
                    category=request.category, subject=request.subject, description=request.description,
                    now=discord.utils.utcnow(),
                )  # fmt: skip
            except Exception as exc:
                if request.post is not None:
                    raise
                # A post without a ticket row would never be answered, closed or counted: take it back.
                log.exception("Recording ticket %d failed; deleting its post", thread.id)
                with contextlib.suppress(discord.HTTPException):
                    await thread.delete()
                raise TicketOpenError("Something went wrong while opening your ticket. Please try again.") from exc
            if request.post is not None:
                await _adopt_post(thread, config, request.category)
        await notify_staff(
            thread, config, f"🎫 New **{request.category}** ticket {thread.mention} from {opener.mention}."
        )
        return OpenedTicket(thread, ticket, new=True)

    async def first_question(self, opened: OpenedTicket, opener: discord.abc.User, description: str) -> None:
        """Answer what a new ticket asks (the starter message: its id is the thread's id)."""
        subject = opened.ticket.subject
        await self.answer(
            opened.thread, ticket_id=opened.ticket.id, message_id=opened.thread.id,
            question=f"{subject}\n{description}", user=opener, search_texts=(subject, description),
        )  # fmt: skip

    async def _create_post(self, config: GuildConfig, request: TicketRequest) -> discord.Thread:
        forum = request.guild.get_channel(config.forum_id)
        if not isinstance(forum, discord.ForumChannel):
            raise TicketOpenError("The ticket forum is gone. Ask an admin to run /setup again.")
        quoted = visible_text(request.description) or "_(no description)_"
        try:
            created = await forum.create_thread(
                name=request.subject[:100],
                content=f"🎫 {request.opener.mention} opened a **{request.category}** ticket.\n\n>>> {quoted}"[:2000],
                applied_tags=tags_for(forum, config, TicketStatus.OPEN, request.category),
                allowed_mentions=ping_users(request.opener),
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
            )
        except discord.Forbidden as exc:
            log.warning("Missing permissions creating a ticket in %s: %s", forum.id, exc)
            raise TicketOpenError(
                f"I don't have permission to create posts in {forum.mention}. "
                "An admin can run /setup again to see which permissions are missing."
            ) from exc
        except discord.HTTPException as exc:
            log.exception("Discord refused to create a ticket in %s", forum.id)
            raise TicketOpenError("Discord refused to create the ticket right now. Please try again.") from exc
        return created.thread

    # -- messages ----------------------------------------------------------------------------

    async def message_posted(self, message: discord.Message, thread: discord.Thread) -> None:
        """A member wrote in a thread: record it if the thread is a ticket (a post made directly in the
        forum becomes one), and answer a user's question."""
        config = await self.core.tickets.config(thread.guild.id)
        if config is None or thread.parent_id != config.forum_id:
            return
        ticket = await self.core.tickets.get(thread.id)
        if ticket is None:
            # A post made directly in the forum: its creator's first message (normally the starter) opens it.
            if thread.owner_id != message.author.id or not isinstance(message.author, discord.Member):
                return
            category = next(
                (c for c in config.categories if config.category_tag(c) in {t.id for t in thread.applied_tags}),
                "general",
            )
            request = TicketRequest(
                guild=thread.guild, opener=message.author, category=category, subject=thread.name,
                description=message.content, post=thread,
            )  # fmt: skip
            try:
                opened = await self.opened(config, request)
            except TicketOpenError:
                return  # the post says why and is closed
            if opened.new:
                await self.first_question(opened, message.author, message.content)
                return
            ticket = opened.ticket  # opened by a message just before: this one is an ordinary message
        if ticket.is_closed:
            return
        staff = is_staff(message.author, config) and message.author.id != ticket.opener_id
        before = ticket.status
        ticket = await self.core.tickets.message_posted(
            ticket, message_id=message.id, author_id=message.author.id, author_name=message.author.display_name,
            role=MessageRole.STAFF if staff else MessageRole.USER, content=message.content,
            now=discord.utils.utcnow(),
        )  # fmt: skip
        if ticket.status is not before:
            await show_status(thread, config, ticket)
        if staff or ticket.ai_paused or not visible_text(message.content):
            return
        await self.answer(
            thread, ticket_id=ticket.id, message_id=message.id, question=message.content, user=message.author
        )

    # -- answering ---------------------------------------------------------------------------

    async def answer(
        self, thread: discord.Thread, *, ticket_id: int, message_id: int, question: str, user: discord.abc.User,
        search_texts: tuple[str, ...] = (),
    ) -> None:  # fmt: skip
        """Run the answer pipeline for one user message (Discord id `message_id`) and post the result.

        Never raises. One answer at a time per ticket (the ticket lock), so replies come in the order
        the questions were asked; a close stops the answer in progress (see _locks.py). A user who
        writes while their previous message still waits for its answer, or faster than
        USER_ANSWERS_PER_MINUTE, gets one answer to all of those messages (tickets/pacing.py).
        """
        pacing = self.core.pacing
        key = (ticket_id, user.id)
        pending = pacing.join(key, message_id, question, search_texts)
        if pending is None:
            return  # folded into the answer that is already waiting for this user's earlier message
        sink = ThreadSink(thread)
        lock = self.locks.ticket(ticket_id)
        try:
            delay = pacing.delay(key, self.core.settings.user_answers_per_minute)
            if delay > 0:
                log.info(
                    "User %d writes faster than answers are allowed in ticket %d: next in %.0f s",
                    user.id, ticket_id, delay,
                )  # fmt: skip
                await sink.waiting("⏳ Got it — I'll answer your messages together in a moment.")
                await asyncio.sleep(delay)  # messages written meanwhile join this answer
            elif lock.locked():  # still answering an earlier message here: say so instead of going silent
                await sink.waiting("⏳ I'll answer this right after my current reply.")
            async with lock:
                pacing.started(key, pending)
                # Gone before answering: the notice sits above the earlier answer, so it can't become this one.
                await sink.discard_notice()
                await self._answer_now(thread, sink, ticket_id, pending, user.display_name)
        except Exception:
            log.exception("Answering in ticket %d failed (bookkeeping)", ticket_id)
        finally:
            pacing.forget(key, pending)

    async def _answer_now(
        self, thread: discord.Thread, sink: ThreadSink, ticket_id: int, pending: PendingQuestion, user_name: str
    ) -> None:
        core = self.core
        if self.locks.is_closing(ticket_id):
            return
        ticket = await core.tickets.get(ticket_id)
        config = await core.tickets.config(thread.guild.id)
        if ticket is None or config is None or ticket.is_closed or ticket.ai_paused:
            return
        n = core.settings.history_messages
        history = conversation_before(await core.tickets.messages(ticket.id, last=2 * n + 1), pending.message_id, n)
        request = AnswerRequest(
            guild_id=thread.guild.id, question=pending.question, history=history, user_name=user_name,
            category=ticket.category, server_name=thread.guild.name, search_texts=list(pending.searches),
        )  # fmt: skip
        try:
            async with typing_indicator(thread):
                outcome = await self.locks.run_answer(
                    ticket.id, core.pipeline.answer(request, sink, on_queued=sink.queued)
                )
        except AnswerCancelled:
            log.info("Answer in ticket %d stopped: the ticket is being closed", ticket.id)
            await sink.abandon("\n\n-# ⏹️ Stopped: the ticket was closed.")
            return
        except Exception:
            log.exception("Answering in ticket %d failed", ticket.id)
            sorry = "Sorry, something went wrong while I was answering. Staff will take a look."
            if sink.messages:  # keep what was shown, without the typing marker
                await sink.abandon(f"\n\n-# ⚠️ {sorry}")
            else:
                await sink.discard_notice()
                await safe_send(thread, sorry)
            current = await core.tickets.get(ticket.id)
            if current is not None and not current.is_closed:
                await self.handed_to_staff(thread, current, config, "the bot hit an error", pause_ai=False)
            return
        searches = pending.searches
        phrasing = searches[-1] if searches else pending.question
        await self.answered(thread, sink, outcome, ticket=ticket, config=config, phrasing=phrasing)

    async def answered(
        self, thread: discord.Thread, sink: ThreadSink, outcome: AnswerOutcome, *, ticket: Ticket,
        config: GuildConfig, phrasing: str,
    ) -> None:  # fmt: skip
        """The pipeline delivered `outcome`: record it, give the newest answer the buttons, update the status.

        `phrasing` is the user's own wording: it becomes a candidate alternate phrasing if they mark a
        trained answer as solved.
        """
        me = self.bot.user
        assert me is not None  # logged in: we are answering a message
        recorded = await self.core.tickets.answer_recorded(
            ticket, outcome, question=phrasing, buttons_message_id=sink.messages[-1].id if sink.messages else None,
            first_message_id=sink.messages[0].id if sink.messages else None, bot_id=me.id,
            bot_name=me.display_name, now=discord.utils.utcnow(),
        )  # fmt: skip
        if recorded.replaced is not None and recorded.replaced.message_id is not None:
            await _remove_buttons(thread, ticket.id, recorded.replaced.message_id)
        # Streaming takes a while: act on the ticket as it is now (it may have been closed meanwhile).
        current = await self.core.tickets.get(ticket.id)
        if current is None or current.is_closed:
            return
        if outcome.route is Route.STAFF:
            why = "no reliable answer was found"
            if outcome.llm_error is not None:
                busy = isinstance(outcome.llm_error, LLMBusy)
                why = "the AI assistant has too many questions" if busy else "the AI assistant is unavailable"
            await self.handed_to_staff(thread, current, config, why, pause_ai=False)
            return
        if sink.messages:
            try:
                await sink.messages[-1].edit(view=self._answer_buttons(current.id, recorded.route_id))
            except discord.HTTPException:
                log.warning("Could not add buttons to the answer in ticket %d", current.id, exc_info=True)
        updated = await self.core.tickets.answered(current, discord.utils.utcnow())
        if updated.status is not current.status:
            await show_status(thread, config, updated)

    async def handed_to_staff(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, why: str, *, pause_ai: bool
    ) -> None:
        handoff = await self.core.tickets.handed_to_staff(ticket, discord.utils.utcnow(), pause_ai=pause_ai)
        await show_status(thread, config, handoff.ticket, TicketStatus.WAITING_STAFF)
        if handoff.ping_staff:
            await notify_staff(thread, config, f"Ticket {thread.mention} needs a human ({why}).")

    # -- ratings -----------------------------------------------------------------------------

    async def rated(
        self, thread: discord.Thread, *, ticket_id: int, route_id: int | None, solved: bool, by: discord.abc.User
    ) -> str:
        """Solved / Talk to staff pressed on the answer recorded as `route_id`; returns the public reply.

        `route_id` is None for buttons posted before answers carried it: they rate the latest answer.
        Each answer is rated once, by the ticket's opener; staff pressing a button only act on the ticket.
        Raises ActionRefused when there is nothing to do.
        """
        core = self.core
        config = await core.tickets.config(thread.guild.id)
        async with self.locks.ticket(ticket_id):
            ticket = await core.tickets.get(ticket_id)
            if ticket is None or config is None or ticket.is_closed:
                raise ActionRefused("This ticket is closed.")
            route = await core.tickets.route_to_rate(ticket.id, route_id)
            if route is not None and route.feedback is not None:
                done = "marked as solved" if route.feedback is Feedback.SOLVED else "passed to staff"
                raise ActionRefused(f"This answer was already {done}.")
            # The ticket changes first (doing them twice is harmless); the rating last, so a failure
            # leaves the answer unrated and the press can simply be tried again.
            if solved:
                text = await self._solved(thread, ticket, config)
            else:
                await self.handed_to_staff(thread, ticket, config, "the user asked for staff", pause_ai=True)
                text = STAFF_ASKED
            if route is not None and by.id == ticket.opener_id:
                # The opener's reaction to one answer; a trained answer teaches the memory.
                if route.entry_id is not None and route.route in (Route.ANSWER, Route.FALLBACK):
                    await core.memory.record_feedback(
                        ticket.guild_id, route.entry_id, solved=solved, phrasing=route.question, ticket_id=ticket.id
                    )
                await core.tickets.rated(route, Feedback.SOLVED if solved else Feedback.STAFF)
            return text

    async def _solved(self, thread: discord.Thread, ticket: Ticket, config: GuildConfig) -> str:
        ticket = await self.core.tickets.resolved(ticket, discord.utils.utcnow())
        await show_status(thread, config, ticket, TicketStatus.RESOLVED)
        delay = self.core.settings.solved_close_delay_s
        when = f" This ticket will close automatically in {human_duration(delay)}." if delay else ""
        return f"🎉 Glad that helped!{when} Just write here if you need anything else."

    # -- closing -----------------------------------------------------------------------------

    async def closed(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, *, closer: discord.abc.User | None,
        reason: str, still_wanted: Callable[[Ticket], bool] | None = None,
    ) -> Ticket | None:  # fmt: skip
        """Close in Discord first, then record it, so a refused edit leaves the ticket open everywhere.

        Stops an answer being written in the ticket, then holds the ticket's lock; of two closes at
        once the second raises TicketAlreadyClosed. `ticket` only names the ticket; it is read again,
        and an automatic close passes `still_wanted` to re-check it under the lock (returns None if the
        ticket no longer qualifies, e.g. the user wrote meanwhile). Raises CloseError for the user.
        """
        with self.locks.closing(ticket.id):
            async with self.locks.ticket(ticket.id):
                current = await self.core.tickets.get(ticket.id)
                if current is None or current.is_closed:
                    raise TicketAlreadyClosed()
                if still_wanted is not None and not still_wanted(current):
                    return None
                return await self._close(thread, current, config, closer=closer, reason=reason)

    async def _close(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, *, closer: discord.abc.User | None,
        reason: str,
    ) -> Ticket:  # fmt: skip
        core = self.core
        stored = await core.tickets.messages(ticket.id)
        turns = [Turn(m.role, m.author_name, m.content) for m in stored]
        summary, _used_llm = await summarize_ticket(core.llm, ticket.subject, turns)
        embed = closing_embed(ticket, closer, reason, summary, transcript_url=transcript_url(core, ticket))
        forum = thread.parent if isinstance(thread.parent, discord.ForumChannel) else None
        closed_tags = tags_for(forum, config, TicketStatus.CLOSED, ticket.category) if forum is not None else []
        notice: discord.Message | None = None
        try:
            notice = await thread.send(embed=embed, allowed_mentions=NO_PINGS)
            await thread.edit(archived=True, locked=True, applied_tags=closed_tags)
        except discord.HTTPException as exc:
            if notice is not None:  # no "Ticket closed" may stay in a ticket that is still open
                with contextlib.suppress(discord.HTTPException):
                    await notice.delete()
            if isinstance(exc, discord.Forbidden):
                raise CloseError("I don't have permission to archive and lock this post (Manage Threads).") from exc
            log.exception("Closing ticket %d failed in Discord", ticket.id)
            raise CloseError("Discord refused to close this post right now. Please try again.") from exc
        was_resolved = ticket.status is TicketStatus.RESOLVED
        closed = await core.tickets.closed(
            ticket, by=closer.id if closer else None, reason=reason, summary=summary, now=discord.utils.utcnow()
        )
        if was_resolved:
            await self._suggest_from_staff_answer(ticket, stored)
        transcript = await archive_closed(core, thread, closed)
        await send_to_log(thread, config, closed, embed, stored, extra_files=transcript)
        return closed

    async def _suggest_from_staff_answer(self, ticket: Ticket, stored: list[TicketMessage]) -> None:
        """A solved ticket that staff answered becomes a *pending* Q&A suggestion for staff to review.

        The ticket is closed already: a refused suggestion must not keep the transcript from the log.
        """
        question = next((m.content for m in stored if m.role is MessageRole.USER), None)
        answer = next((m.content for m in reversed(stored) if m.role is MessageRole.STAFF), None)
        if not (question and answer):
            return
        try:
            await self.core.memory.suggest_qa(
                ticket.guild_id,
                question[:MAX_QUERY_CHARS],
                answer[:MAX_RESPONSE_CHARS],
                ticket_id=ticket.id,
                category=ticket.category,
            )
        except ValueError:
            log.warning("Could not suggest a Q&A pair from ticket %d", ticket.id, exc_info=True)

    async def ai_switched(self, ticket: Ticket, *, enabled: bool) -> None:
        await self.core.tickets.ai_switched(ticket, enabled=enabled, now=discord.utils.utcnow())


async def _refuse_post(post: discord.Thread, reason: str) -> None:
    with contextlib.suppress(discord.HTTPException):
        await post.send(f"{reason}\nThis post has been closed.", allowed_mentions=NO_PINGS)
    with contextlib.suppress(discord.HTTPException):
        await post.edit(archived=True, locked=True)


async def _adopt_post(post: discord.Thread, config: GuildConfig, category: str) -> None:
    """A post made directly in the forum gets what a panel post is created with: tags, archive duration."""
    forum = post.parent
    if isinstance(forum, discord.ForumChannel):
        with contextlib.suppress(discord.HTTPException):
            await post.edit(
                applied_tags=tags_for(forum, config, TicketStatus.OPEN, category),
                auto_archive_duration=ARCHIVE_AFTER_MINUTES,
            )


async def _remove_buttons(thread: discord.Thread, ticket_id: int, message_id: int) -> None:
    """Best effort: take the Solved / Talk to staff buttons off an earlier answer."""
    try:
        await thread.get_partial_message(message_id).edit(view=None)
    except discord.HTTPException:
        log.info("Could not remove the buttons of an earlier answer in ticket %d", ticket_id, exc_info=True)
