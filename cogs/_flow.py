"""Discord side of the ticket lifecycle: open, answer, hand to staff, resolve.

Cogs and buttons call these; they call the core (`bot.core`) and talk to Discord.
No SQL or HTTP here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import discord

from ai.errors import LLMBusy
from cogs._buttons import answer_view
from cogs._discord import NO_PINGS, ThreadSink, ping_role, ping_users, set_status_tag, tags_for, typing_indicator
from cogs._locks import AnswerCancelled, is_closing, open_lock, run_answer, ticket_lock
from memory.decision import Route
from memory.text import visible_text
from tickets.answering import AnswerOutcome, AnswerRequest, conversation_before
from tickets.errors import ActionRefused, TicketOpenError
from tickets.models import Feedback, GuildConfig, RecordedRoute, Ticket, TicketStatus
from tickets.service import human_duration

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


async def open_ticket(
    bot: TicketBot, guild: discord.Guild, user: discord.Member, config: GuildConfig, category: str,
    subject: str, description: str,
) -> tuple[discord.Thread, Ticket]:  # fmt: skip
    """Create the forum post and record it; raises TicketOpenError with a message for the user."""
    core = bot.core
    forum = guild.get_channel(config.forum_id)
    if not isinstance(forum, discord.ForumChannel):
        raise TicketOpenError("The ticket forum is gone. Ask an admin to run /setup again.")
    async with open_lock(guild.id, user.id):
        await core.tickets.check_can_open(guild.id, user.id, discord.utils.utcnow())
        quoted = visible_text(description) or "_(no description)_"
        try:
            created = await forum.create_thread(
                name=subject[:100],
                content=f"🎫 {user.mention} opened a **{category}** ticket.\n\n>>> {quoted}"[:2000],
                applied_tags=tags_for(forum, config, TicketStatus.OPEN, category),
                allowed_mentions=ping_users(user),
                # Discord's default (24 h) would archive a quiet ticket before our idle warning at 48 h.
                auto_archive_duration=10080,
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
        try:
            ticket = await core.tickets.ticket_opened(
                ticket_id=created.thread.id, guild_id=guild.id, opener_id=user.id, opener_name=user.display_name,
                category=category, subject=subject, description=description, now=discord.utils.utcnow(),
            )  # fmt: skip
        except Exception as exc:
            # A post without a ticket row would never be answered, closed or counted: take it back.
            log.exception("Recording ticket %d failed; deleting its post", created.thread.id)
            with contextlib.suppress(discord.HTTPException):
                await created.thread.delete()
            raise TicketOpenError("Something went wrong while opening your ticket. Please try again.") from exc
    await notify_staff(
        bot, created.thread, config, f"🎫 New **{category}** ticket {created.thread.mention} from {user.mention}."
    )
    return created.thread, ticket


async def notify_staff(bot: TicketBot, thread: discord.Thread, config: GuildConfig, text: str) -> None:
    """Ping the staff role in the log channel if there is one, else in the ticket itself."""
    target: discord.abc.Messageable = thread
    if config.log_channel_id:
        log_channel = thread.guild.get_channel(config.log_channel_id)
        if isinstance(log_channel, discord.TextChannel):
            target = log_channel
    try:
        await target.send(f"<@&{config.staff_role_id}> {text}", allowed_mentions=ping_role(config.staff_role_id))
    except discord.HTTPException:
        log.warning("Could not notify staff about ticket %d", thread.id, exc_info=True)


async def answer_in_ticket(
    bot: TicketBot,
    thread: discord.Thread,
    ticket_id: int,
    message_id: int,
    question: str,
    user: discord.abc.User,
    search_texts: tuple[str, ...] = (),
) -> None:
    """Run the answer pipeline for one user message (Discord id `message_id`) and post the result.

    Never raises. One answer at a time per ticket (the ticket lock), so replies come in the order
    the questions were asked; a close stops the answer in progress (see cogs/_locks.py).
    A user who writes while their previous message still waits for its answer, or faster than
    USER_ANSWERS_PER_MINUTE, gets one answer to all of those messages (tickets/pacing.py).
    """
    core = bot.core
    key = (ticket_id, user.id)
    pending = core.pacing.join(key, message_id, question, search_texts)
    if pending is None:
        return  # folded into the answer that is already waiting for this user's earlier message
    sink = ThreadSink(thread)
    lock = ticket_lock(ticket_id)
    try:
        delay = core.pacing.delay(key, core.settings.user_answers_per_minute)
        if delay > 0:
            log.info(
                "User %d writes faster than answers are allowed in ticket %d: next in %.0f s", user.id, ticket_id, delay
            )
            await sink.waiting("⏳ Got it — I'll answer your messages together in a moment.")
            await asyncio.sleep(delay)  # messages written meanwhile join this answer
        elif lock.locked():  # still answering an earlier message here: say so instead of going silent
            await sink.waiting("⏳ I'll answer this right after my current reply.")
        async with lock:
            core.pacing.started(key, pending)
            # Gone before answering: the notice sits above the earlier answer, so it can't become this one.
            await sink.discard_notice()
            await _answer(
                bot, thread, ticket_id, pending.message_id, pending.question, user.display_name, pending.searches,
                sink,
            )  # fmt: skip
    except Exception:
        log.exception("Answering in ticket %d failed (bookkeeping)", ticket_id)
    finally:
        core.pacing.forget(key, pending)


async def _answer(
    bot: TicketBot, thread: discord.Thread, ticket_id: int, message_id: int, question: str, user_name: str,
    search_texts: tuple[str, ...], sink: ThreadSink,
) -> None:  # fmt: skip
    core = bot.core
    if is_closing(ticket_id):
        return
    ticket = await core.tickets.get(ticket_id)
    config = await core.tickets.config(thread.guild.id)
    if ticket is None or config is None or ticket.is_closed or ticket.ai_paused:
        return
    n = core.settings.history_messages
    history = conversation_before(await core.tickets.messages(ticket.id, last=2 * n + 1), message_id, n)
    request = AnswerRequest(
        guild_id=thread.guild.id, question=question, history=history, user_name=user_name,
        category=ticket.category, server_name=thread.guild.name, search_texts=list(search_texts),
    )  # fmt: skip
    try:
        async with typing_indicator(thread):
            outcome = await run_answer(ticket.id, core.pipeline.answer(request, sink, on_queued=sink.queued))
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
            await _safe_send(thread, sorry)
        ticket = await core.tickets.get(ticket.id)
        if ticket is not None and not ticket.is_closed:
            await hand_to_staff(bot, thread, ticket, config, "the bot hit an error", pause_ai=False)
        return
    route_id = await _record_answer(bot, thread, ticket, outcome, sink, search_texts[-1] if search_texts else question)
    # Streaming takes a while: act on the ticket as it is now (it may have been closed meanwhile).
    ticket = await core.tickets.get(ticket.id)
    if ticket is None or ticket.is_closed:
        return
    if outcome.route is Route.STAFF:
        why = "no reliable answer was found"
        if outcome.llm_error is not None:
            busy = isinstance(outcome.llm_error, LLMBusy)
            why = "the AI assistant has too many questions" if busy else "the AI assistant is unavailable"
        await hand_to_staff(bot, thread, ticket, config, why, pause_ai=False)
        return
    if sink.messages:
        try:
            await sink.messages[-1].edit(view=answer_view(ticket.id, route_id))
        except discord.HTTPException:
            log.warning("Could not add buttons to the answer in ticket %d", ticket.id, exc_info=True)
    before = ticket.status
    ticket = await core.tickets.answered(ticket, discord.utils.utcnow())
    if ticket.status is not before:
        await set_status_tag(thread, config, ticket, ticket.status)


async def _record_answer(
    bot: TicketBot, thread: discord.Thread, ticket: Ticket, outcome: AnswerOutcome, sink: ThreadSink, phrasing: str
) -> int:
    """Store the route and the bot's reply; the previous answer's buttons go (only the newest keeps them)."""
    me = bot.user
    assert me is not None  # logged in: we are answering a message
    top = outcome.decision.match
    recorded = await bot.core.tickets.answer_recorded(
        ticket, route=outcome.route, entry_id=outcome.entry_id, score=top.score if top else None,
        reason=outcome.decision.reason, question=phrasing, text=outcome.text,
        buttons_message_id=sink.messages[-1].id if sink.messages else None,
        first_message_id=sink.messages[0].id if sink.messages else None, bot_id=me.id, bot_name=me.display_name,
        now=discord.utils.utcnow(),
    )  # fmt: skip
    if recorded.replaced is not None:
        await _remove_buttons(thread, ticket.id, recorded.replaced)
    return recorded.route_id


async def _remove_buttons(thread: discord.Thread, ticket_id: int, route: RecordedRoute) -> None:
    """Best effort: take the Solved / Talk to staff buttons off an earlier answer."""
    if route.message_id is None:
        return
    try:
        await thread.get_partial_message(route.message_id).edit(view=None)
    except discord.HTTPException:
        log.info("Could not remove the buttons of an earlier answer in ticket %d", ticket_id, exc_info=True)


async def hand_to_staff(
    bot: TicketBot, thread: discord.Thread, ticket: Ticket, config: GuildConfig, why: str, *, pause_ai: bool
) -> None:
    handoff = await bot.core.tickets.handed_to_staff(ticket, discord.utils.utcnow(), pause_ai=pause_ai)
    await set_status_tag(thread, config, handoff.ticket, TicketStatus.WAITING_STAFF)
    if handoff.ping_staff:
        await notify_staff(bot, thread, config, f"Ticket {thread.mention} needs a human ({why}).")


async def answer_rated(
    bot: TicketBot, thread: discord.Thread, ticket_id: int, route_id: int | None, *, solved: bool,
    by: discord.abc.User,
) -> str:  # fmt: skip
    """Solved / Talk to staff pressed on the answer recorded as `route_id`; returns the public reply.

    `route_id` is None for buttons posted before answers carried it: they rate the latest answer.
    Each answer is rated once, by the ticket's opener; staff pressing a button only act on the ticket.
    Raises ActionRefused when there is nothing to do.
    """
    core = bot.core
    config = await core.tickets.config(thread.guild.id)
    async with ticket_lock(ticket_id):
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
            text = await mark_solved(bot, thread, ticket, config)
        else:
            text = await request_staff(bot, thread, ticket, config)
        if route is not None and by.id == ticket.opener_id:
            await _feedback(bot, ticket, route, solved=solved)
        return text


async def mark_solved(bot: TicketBot, thread: discord.Thread, ticket: Ticket, config: GuildConfig) -> str:
    core = bot.core
    ticket = await core.tickets.resolved(ticket, discord.utils.utcnow())
    await set_status_tag(thread, config, ticket, TicketStatus.RESOLVED)
    delay = core.settings.solved_close_delay_s
    when = f" This ticket will close automatically in {human_duration(delay)}." if delay else ""
    return f"🎉 Glad that helped!{when} Just write here if you need anything else."


async def request_staff(bot: TicketBot, thread: discord.Thread, ticket: Ticket, config: GuildConfig) -> str:
    await hand_to_staff(bot, thread, ticket, config, "the user asked for staff", pause_ai=True)
    return "🙋 A member of staff has been asked to help. The assistant will stay quiet in this ticket meanwhile."


async def _feedback(bot: TicketBot, ticket: Ticket, route: RecordedRoute, *, solved: bool) -> None:
    """Record the opener's reaction to one answer; a trained answer teaches the memory."""
    if route.entry_id is not None and route.route in (Route.ANSWER, Route.FALLBACK):
        await bot.core.memory.record_feedback(
            ticket.guild_id, route.entry_id, solved=solved, phrasing=route.question, ticket_id=ticket.id
        )
    await bot.core.tickets.rated(route, Feedback.SOLVED if solved else Feedback.STAFF)


async def _safe_send(thread: discord.Thread, text: str) -> None:
    try:
        await thread.send(text, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("Could not post in ticket %d", thread.id, exc_info=True)
