"""Closing a ticket: the closing message with a summary, the thread archived and locked in its place,
the record, a suggestion for the memory, and the transcript in the log channel."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from ai.prompt import Turn
from ai.summary import summarize_ticket
from cogs._discord import NO_PINGS
from cogs.tickets._archive import archive_closed, transcript_url
from cogs.tickets._locks import TicketLocks
from cogs.tickets._places import place_of
from cogs.tickets._posts import closing_embed, send_to_log
from cogs.tickets._rating import RatingPrompter
from memory.models import MAX_QUERY_CHARS, MAX_RESPONSE_CHARS
from tickets.errors import TicketAlreadyClosed
from tickets.models import GuildConfig, MessageRole, Ticket, TicketMessage, TicketStatus

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)
THREAD_DELETED = "thread deleted"


class TicketCloser:
    def __init__(self, bot: TicketBot, locks: TicketLocks) -> None:
        self.bot = bot
        self.core = bot.core
        self.locks = locks

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
                closed = await self._close(thread, current, config, closer=closer, reason=reason)
                self.locks.closed(ticket.id)
                return closed

    async def thread_deleted(self, thread_id: int) -> None:
        """The ticket's thread is gone (a moderator deleted it): record the ticket as closed, stopping an answer
        being written in it, so it no longer counts against its opener's open tickets nor waits for anyone.
        Nothing is posted (there is nowhere to post it) and no transcript is made (its messages are gone)."""
        with self.locks.closing(thread_id):
            async with self.locks.ticket(thread_id):
                ticket = await self.core.tickets.get(thread_id)
                if ticket is None or ticket.is_closed:
                    return
                await self.core.tickets.closed(
                    ticket, by=None, reason=THREAD_DELETED, summary="", now=discord.utils.utcnow()
                )
                self.locks.closed(thread_id)

    async def _close(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, *, closer: discord.abc.User | None,
        reason: str,
    ) -> Ticket:  # fmt: skip
        core = self.core
        place = place_of(ticket)
        stored = await core.tickets.messages(ticket.id)
        turns = [Turn(m.role, m.author_name, m.content) for m in stored]
        summary, _used_llm = await summarize_ticket(core.llm, ticket.subject, turns)
        embed = closing_embed(ticket, closer, reason, summary, transcript_url=transcript_url(core, ticket))
        notice: discord.Message | None = None
        try:
            notice = await thread.send(embed=embed, allowed_mentions=NO_PINGS)
            await place.close(thread, config, ticket)
        except discord.HTTPException as exc:
            # Nothing may say "closed" in a ticket that is still open.
            if notice is not None:
                with contextlib.suppress(discord.HTTPException):
                    await notice.delete()
            if not isinstance(exc, discord.Forbidden):
                log.exception("Closing ticket %d failed in Discord", ticket.id)
            raise place.close_refused(exc) from exc
        was_resolved = ticket.status is TicketStatus.RESOLVED
        closed = await core.tickets.closed(
            ticket, by=closer.id if closer else None, reason=reason, summary=summary, now=discord.utils.utcnow()
        )
        if was_resolved:
            await self._suggest_from_staff_answer(ticket, stored)
        transcript = await archive_closed(core, thread, closed)
        answers = await core.tickets.form_answers(ticket.id)
        summary_message = await send_to_log(thread, config, closed, embed, stored, answers, extra_files=transcript)
        await RatingPrompter(self.bot).after_close(closed, thread.guild, summary_message)
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
