"""The ticket lifecycle on the Discord side: one method per thing that happens to a ticket.

The cogs and the views (`_views.py`) receive Discord events and call these methods; they call the
core (`TicketService` decides and records every status, the memory learns) and talk to Discord
through the ticket's place (`_places.py`: forum post or private thread). No SQL or HTTP here.
`TicketLifecycle` owns the per-ticket locks, so everything that changes a ticket from Discord goes
through one object; opening (`_opening.py`) and closing (`_closing.py`) are collaborators it holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from ai.errors import LLMBusy
from cogs._discord import is_staff
from cogs.tickets._close_requests import CloseRequestButtons, CloseRequester
from cogs.tickets._closing import TicketCloser
from cogs.tickets._locks import CLOSED, TAKEN_OVER, AnswerCancelled, TicketLocks
from cogs.tickets._opening import OpenedTicket, TicketOpener, TicketRequest
from cogs.tickets._places import place_of, place_of_thread
from cogs.tickets._posts import safe_send
from cogs.tickets._rating import RatingPrompter
from cogs.tickets._reopen import Reopener
from cogs.tickets._saved_replies import SavedReplies
from cogs.tickets._sink import ThreadSink, typing_indicator
from cogs.tickets._staff import StaffActions
from cogs.tickets._staff_notices import StaffNotices
from cogs.tickets._titles import TitleKeeper
from memory.decision import Route
from memory.text import visible_text
from tickets.answering import AnswerOutcome, AnswerRequest, conversation_before
from tickets.errors import ActionRefused, TicketOpenError
from tickets.models import Feedback, GuildConfig, MessageRole, Ticket, TicketStatus
from tickets.pacing import PendingQuestion
from tickets.service import AnswerContext, Watched, human_duration
from tickets.suggested_replies import SuggestedReply, suggested_replies

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

COG_NAME = "Tickets"
STAFF_ASKED = "🙋 A member of staff has been asked to help. The assistant will stay quiet in this ticket meanwhile."
# Builds the Solved / Talk to staff buttons for an answer: (ticket id, recorded route id) -> view.
AnswerButtons = Callable[[int, int], discord.ui.View]
# Builds a hand-off notice's saved-answer buttons: (ticket id, the answers offered) -> view, or None for none.
SavedReplyButtons = Callable[[int, Sequence[SuggestedReply]], discord.ui.View | None]


def lifecycle_of(client: discord.Client) -> TicketLifecycle:
    """The lifecycle of the bot an interaction arrived at (views are built by discord.py, not by us)."""
    cog = client.get_cog(COG_NAME) if isinstance(client, commands.Bot) else None
    lifecycle = getattr(cog, "lifecycle", None)
    if not isinstance(lifecycle, TicketLifecycle):
        raise RuntimeError("the tickets extension is not loaded")
    return lifecycle


class TicketLifecycle:
    def __init__(
        self, bot: TicketBot, *, answer_buttons: AnswerButtons, close_request_buttons: CloseRequestButtons,
        saved_reply_buttons: SavedReplyButtons,
    ) -> None:  # fmt: skip
        self.bot = bot
        self.core = bot.core
        self.locks = TicketLocks()
        self.notices = StaffNotices(bot.core)  # staff pings (support hours), the user card, the opening gates
        self.opener = TicketOpener(bot.core.tickets, self.locks, bot.core.desk, notices=self.notices)
        self.closer = TicketCloser(bot, self.locks)
        self._answer_buttons = answer_buttons
        self._saved_reply_buttons = saved_reply_buttons
        # The staff desk (issue 10): claims, members, titles, priority, notes, urgency; reopening; close requests.
        self.titles = TitleKeeper()
        self.staff = StaffActions(bot, self.titles, self.locks)
        self.reopener = Reopener(bot, self.locks)
        self.close_requests = CloseRequester(bot, self.closer, self.locks, close_request_buttons)
        self.saved_replies = SavedReplies(bot, self.locks)  # the hand-off notice's saved-answer buttons

    # -- opening -----------------------------------------------------------------------------

    async def opened(self, config: GuildConfig, request: TicketRequest) -> OpenedTicket:
        """The one way a ticket is opened (`TicketOpener.opened`): every way of opening builds a request.
        A new ticket goes to whoever is on call, when the server rotates."""
        opened = await self.opener.opened(config, request)
        if opened.new:
            try:
                await self.staff.assign_on_call(opened.thread, opened.ticket, config)
            except Exception:
                log.exception("Assigning ticket %d to staff on call failed", opened.ticket.id)
        return opened

    async def first_question(self, opened: OpenedTicket, request: TicketRequest) -> None:
        """Answer what a new ticket asks (its opening message: stored under the thread's id)."""
        subject, text = opened.ticket.subject, request.opening_text
        await self.answer(
            opened.thread, ticket_id=opened.ticket.id, message_id=opened.thread.id, question=f"{subject}\n{text}",
            user=request.opener, search_texts=(subject, text),
        )  # fmt: skip
        # After the answer, so it never waits for this: is the ticket urgent, or its opener angry?
        try:
            await self.staff.opening_assessed(opened.thread, opened.ticket.id, f"{subject}\n{text}")
        except Exception:
            log.exception("Assessing the urgency of ticket %d failed", opened.ticket.id)

    # -- messages ----------------------------------------------------------------------------

    async def message_posted(self, message: discord.Message, thread: discord.Thread) -> None:
        """A member wrote in a thread: record it if the thread is a ticket (a post made directly in the
        forum becomes one), and answer a user's question."""
        config = await self.core.tickets.config(thread.guild.id)
        if config is None or thread.parent_id not in (config.forum_id, config.private_channel_id):
            return
        # A thread's messages are recorded in the order Discord delivered them (the arrival lock is first come,
        # first served; the database is not on PostgreSQL). It is released just before `answer` and
        # `first_question`, which queue the question (pacing) before their first await: the next message of the
        # thread is queued after this one, and does not wait for this one's answer.
        first: tuple[OpenedTicket, TicketRequest] | None = None
        recorded: tuple[Ticket, bool, AnswerContext | None, int] | None = None
        async with self.locks.arrival(thread.id):
            ticket, watched = await self.core.tickets.get_watched(thread.id)
            if ticket is None:
                if thread.parent_id != config.forum_id:
                    return  # a thread someone made in the private tickets' channel is not a ticket
                first = await self._direct_post(message, thread, config)
                if first is None:
                    return
                # opened by a message just before: this one is an ordinary message
                ticket, watched = first[0].ticket, None
            if first is None or not first[0].new:
                recorded = await self._recorded(message, thread, config, ticket, watched)
        if first is not None and first[0].new:
            await self.first_question(*first)
            return
        if recorded is None:
            return
        ticket, staff, context, takeovers = recorded
        if staff or ticket.ai_paused or not visible_text(message.content):
            return
        await self.answer(
            thread, ticket_id=ticket.id, message_id=message.id, question=message.content, user=message.author,
            context=context, takeovers=takeovers,
        )  # fmt: skip

    async def _recorded(
        self, message: discord.Message, thread: discord.Thread, config: GuildConfig, ticket: Ticket,
        watched: Watched | None,
    ) -> tuple[Ticket, bool, AnswerContext | None, int] | None:  # fmt: skip
        """Store a message of a ticket and show what it changed: the ticket, whether staff wrote it, the
        context of its answer when it was read with the record, and the count of staff takeovers (`TicketLocks`)
        read before the record (one after it stops the answer). None: the ticket is closed."""
        if ticket.is_closed:
            return None
        staff = is_staff(message.author, config, category=ticket.category) and message.author.id != ticket.opener_id
        before = ticket.status
        # A message answered at once gets its answer's context in the same trip as its record.
        answering = not staff and not ticket.ai_paused and bool(visible_text(message.content))
        at_once = answering and not self.locks.ticket(ticket.id).locked()
        takeovers = self.locks.takeovers(ticket.id)
        ticket, context = await self.core.tickets.message_recorded(
            ticket, message_id=message.id, author_id=message.author.id, author_name=message.author.display_name,
            role=MessageRole.STAFF if staff else MessageRole.USER, content=message.content,
            now=discord.utils.utcnow(), watched=watched, context_last=self._context_size() if at_once else None,
        )  # fmt: skip
        if staff:
            self.locks.taken_over(ticket.id)  # staff are answering here: the assistant's answer in progress stops
        if ticket.status is not before:
            await place_of(ticket).show_status(thread, config, ticket)
        if not staff:
            await self.staff.message_assessed(thread, ticket, message.content)
        return ticket, staff, context, takeovers

    async def _direct_post(
        self, message: discord.Message, thread: discord.Thread, config: GuildConfig
    ) -> tuple[OpenedTicket, TicketRequest] | None:
        """A post made directly in the forum: its creator's first message (normally the starter) opens it,
        in the category whose tag it wears (else the default one); the caller answers a new one (`first_question`).
        None: it is not, or cannot be, a ticket."""
        default = config.default_category
        if thread.owner_id != message.author.id or not isinstance(message.author, discord.Member) or default is None:
            return None
        tags = {t.id for t in thread.applied_tags}
        category = next((c for c in config.categories if config.category_tag(c.name) in tags), default)
        request = TicketRequest(
            guild=thread.guild, opener=message.author, category=category.name, subject=thread.name,
            description=message.content, post=thread,
        )  # fmt: skip
        try:
            opened = await self.opened(config, request)
        except TicketOpenError:
            return None  # the post says why and is closed
        return opened, request

    # -- answering ---------------------------------------------------------------------------

    async def answer(
        self, thread: discord.Thread, *, ticket_id: int, message_id: int, question: str, user: discord.abc.User,
        search_texts: tuple[str, ...] = (), context: AnswerContext | None = None, takeovers: int | None = None,
    ) -> None:  # fmt: skip
        """Run the answer pipeline for one user message (Discord id `message_id`) and post the result.
        `context`: read with the message; used if nothing happened in the ticket since. `takeovers`: the count of
        staff takeovers (`TicketLocks.takeovers`) read before the message was recorded, with `context`.

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
        sink = ThreadSink(thread, scrub=place_of_thread(thread).scrub, watch=lambda: self._taken_elsewhere(ticket_id))
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
                context = takeovers = None
            elif lock.locked():  # still answering an earlier message here: say so instead of going silent
                await sink.waiting("⏳ I'll answer this right after my current reply.")
            async with lock:
                pacing.started(key, pending)
                # Gone before answering: the notice sits above the earlier answer, so it can't become this one.
                await sink.discard_notice()
                await self._answer_now(thread, sink, ticket_id, pending, user.display_name, context, takeovers)
        except Exception:
            log.exception("Answering in ticket %d failed (bookkeeping)", ticket_id)
        finally:
            pacing.forget(key, pending)

    async def _taken_elsewhere(self, ticket_id: int) -> str | None:
        """Why an answer being shown must stop, as the database says (another bot process may have closed or
        claimed the ticket): CLOSED, TAKEN_OVER or None."""
        ticket = await self.core.tickets.get(ticket_id)
        if ticket is None or ticket.is_closed:
            return CLOSED
        return TAKEN_OVER if ticket.ai_paused else None

    def _context_size(self) -> int:
        return 2 * self.core.settings.history_messages + 1

    async def _answer_now(
        self, thread: discord.Thread, sink: ThreadSink, ticket_id: int, pending: PendingQuestion, user_name: str,
        context: AnswerContext | None = None, takeovers: int | None = None,
    ) -> None:  # fmt: skip
        core = self.core
        if self.locks.is_closing(ticket_id):
            return
        n = core.settings.history_messages
        # The context read with the message stands while nothing happened in the ticket since (a claim is not
        # an event of `core.tickets`: its takeover count says so); else the ticket is read again.
        if (
            context is None or takeovers is None or not core.tickets.is_current(context)
            or takeovers != self.locks.takeovers(ticket_id)
        ):  # fmt: skip
            takeovers = self.locks.takeovers(ticket_id)
            context = await core.tickets.answer_context(ticket_id, last=self._context_size())
        ticket, messages, answers = context.ticket, context.messages, context.answers
        config = await core.tickets.config(thread.guild.id)
        if ticket is None or config is None or ticket.is_closed or ticket.ai_paused:
            return
        history = conversation_before(messages, pending.message_id, n)
        request = AnswerRequest(
            guild_id=thread.guild.id, question=pending.question, history=history, user_name=user_name,
            category=ticket.category, server_name=thread.guild.name, search_texts=list(pending.searches),
            # The first answer opened the conversation (it is in the history); the others are context.
            form=[(a.question, a.answer) for a in answers[1:]],
            subject=ticket.subject if pending.message_id == thread.id else "",  # the opening: "subject\ntext"
        )  # fmt: skip
        try:
            async with typing_indicator(thread):
                outcome = await self.locks.run_answer(
                    ticket.id, core.pipeline.answer(request, sink, on_queued=sink.queued), takeovers=takeovers
                )
        except AnswerCancelled as stopped:
            log.info("Answer in ticket %d stopped: %s", ticket.id, stopped.reason)
            await sink.abandon(_stopped_note(stopped.reason))
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
            if current is not None and not current.is_closed and not current.ai_paused:  # not taken meanwhile
                await self.handed_to_staff(thread, current, config, "the bot hit an error", pause_ai=False)
            return
        searches = pending.searches
        phrasing = searches[-1] if searches else pending.question
        await self.answered(thread, sink, outcome, ticket=ticket, config=config, phrasing=phrasing, takeovers=takeovers)

    async def answered(
        self, thread: discord.Thread, sink: ThreadSink, outcome: AnswerOutcome, *, ticket: Ticket,
        config: GuildConfig, phrasing: str, takeovers: int | None = None,
    ) -> None:  # fmt: skip
        """The pipeline delivered `outcome`: record it, give the newest answer the buttons, update the status.

        `phrasing` is the user's own wording: it becomes a candidate alternate phrasing if they mark a
        trained answer as solved. The record checks that the ticket still takes answers (another process may have
        claimed or closed it meanwhile); if not, nothing is recorded and what was shown says it was stopped.
        `takeovers`: the count the answer started with; after a takeover since (in this process), the ticket is
        read again before its status is shown, and it is not handed to staff: they have it.
        """
        if outcome.canned:
            return  # a reply to "thanks!" or "hello" is not an answer: nothing to record or rate
        me = self.bot.user
        assert me is not None  # logged in: we are answering a message
        recorded = await self.core.tickets.answer_recorded(
            ticket, outcome, question=phrasing, buttons_message_id=sink.messages[-1].id if sink.messages else None,
            first_message_id=sink.messages[0].id if sink.messages else None, bot_id=me.id,
            bot_name=me.display_name, now=discord.utils.utcnow(),
        )  # fmt: skip
        if recorded is None:
            latest = await self.core.tickets.get(ticket.id)
            reason = CLOSED if latest is None or latest.is_closed else TAKEN_OVER
            log.info("Answer in ticket %d not recorded: %s meanwhile", ticket.id, reason)
            await sink.abandon(_stopped_note(reason))
            return
        if recorded.replaced is not None and recorded.replaced.message_id is not None:
            await _remove_buttons(thread, ticket.id, recorded.replaced.message_id)
        # Streaming takes a while: act on the ticket as it is now (it may have been closed meanwhile).
        current = recorded.ticket
        if takeovers is not None and takeovers != self.locks.takeovers(ticket.id):
            # Staff took it after the answer was recorded: show the ticket as they left it, not as the record read it.
            current = await self.core.tickets.get(ticket.id)
        if current is None or current.is_closed:
            return
        if outcome.route is Route.STAFF:
            if current.ai_paused:
                return  # staff took the ticket after the hand-off text was recorded: no hand-off, no ping
            why = "no reliable answer was found"
            if outcome.llm_error is not None:
                busy = isinstance(outcome.llm_error, LLMBusy)
                why = "the AI assistant has too many questions" if busy else "the AI assistant is unavailable"
            offered = suggested_replies(outcome.matches)
            await self.handed_to_staff(thread, current, config, why, pause_ai=False, offered=offered)
            return
        if sink.messages:
            try:
                await sink.messages[-1].edit(view=self._answer_buttons(current.id, recorded.route_id))
            except discord.HTTPException:
                log.warning("Could not add buttons to the answer in ticket %d", current.id, exc_info=True)
        updated = recorded.answered or await self.core.tickets.answered(current, discord.utils.utcnow())
        if updated.status is not current.status:
            await place_of(updated).show_status(thread, config, updated)

    async def handed_to_staff(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, why: str, *, pause_ai: bool,
        offered: Sequence[SuggestedReply] = (),
    ) -> None:  # fmt: skip
        """Hand the ticket to staff; `offered`: saved answers the notice lets staff send with one press."""
        handoff = await self.core.tickets.handed_to_staff(ticket, discord.utils.utcnow(), pause_ai=pause_ai)
        await place_of(ticket).show_status(thread, config, handoff.ticket, TicketStatus.WAITING_STAFF)
        if handoff.ping_staff:
            text = f"Ticket {thread.mention} needs a human ({why})."
            if offered:
                text += "\nClosest saved answers (press one to send it in the ticket):"
            view = self._saved_reply_buttons(handoff.ticket.id, offered)
            await self.notices.handed_off(thread, config, handoff.ticket, text, view=view)

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

    async def ask_rating(self, thread: discord.Thread, ticket_id: int, by: discord.abc.User) -> None:
        """The opener marked their ticket solved: ask them for a rating while its buttons still work."""
        ticket = await self.core.tickets.get(ticket_id)
        if ticket is not None and by.id == ticket.opener_id and ticket.status is TicketStatus.RESOLVED:
            await RatingPrompter(self.bot).ask_in_ticket(thread, ticket)

    async def _solved(self, thread: discord.Thread, ticket: Ticket, config: GuildConfig) -> str:
        ticket = await self.core.tickets.resolved(ticket, discord.utils.utcnow())
        await place_of(ticket).show_status(thread, config, ticket, TicketStatus.RESOLVED)
        delay = (await self.core.tickets.autoclose_policy(ticket.guild_id)).solved_delay_s
        when = f" This ticket will close automatically in {human_duration(delay)}." if delay else ""
        return f"🎉 Glad that helped!{when} Just write here if you need anything else."

    # -- closing -----------------------------------------------------------------------------

    async def closed(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, *, closer: discord.abc.User | None,
        reason: str, still_wanted: Callable[[Ticket], bool] | None = None,
    ) -> Ticket | None:  # fmt: skip
        """Close a ticket (`TicketCloser.closed`); raises CloseError for the user."""
        return await self.closer.closed(thread, ticket, config, closer=closer, reason=reason, still_wanted=still_wanted)

    async def thread_deleted(self, thread_id: int) -> None:
        """A thread was deleted: if it was an open ticket, it is closed (`TicketCloser.thread_deleted`)."""
        await self.closer.thread_deleted(thread_id)

    async def ai_switched(self, ticket: Ticket, *, enabled: bool) -> None:
        await self.core.tickets.ai_switched(ticket, enabled=enabled, now=discord.utils.utcnow())
        if not enabled:
            self.locks.taken_over(ticket.id)  # quiet now: not after the answer being written


def _stopped_note(reason: str) -> str:
    return f"\n\n-# ⏹️ Stopped: {reason}."


async def _remove_buttons(thread: discord.Thread, ticket_id: int, message_id: int) -> None:
    """Best effort: take the Solved / Talk to staff buttons off an earlier answer."""
    try:
        await thread.get_partial_message(message_id).edit(view=None)
    except discord.HTTPException:
        log.info("Could not remove the buttons of an earlier answer in ticket %d", ticket_id, exc_info=True)
