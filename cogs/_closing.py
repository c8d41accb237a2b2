"""Closing a ticket in Discord: closing embed, transcript to the log channel, archive + lock."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from ai.prompt import Turn
from ai.summary import summarize_ticket
from cogs._discord import NO_PINGS, tags_for
from cogs._locks import closing, ticket_lock
from memory.models import MAX_QUERY_CHARS, MAX_RESPONSE_CHARS
from tickets.errors import CloseError, TicketAlreadyClosed
from tickets.models import GuildConfig, MessageRole, Ticket, TicketMessage, TicketStatus
from tickets.transcript import render_markdown

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


async def close_ticket(
    bot: TicketBot, thread: discord.Thread, ticket: Ticket, config: GuildConfig, *, closer: discord.abc.User | None,
    reason: str, still_wanted: Callable[[Ticket], bool] | None = None,
) -> Ticket | None:  # fmt: skip
    """Close in Discord first, then record it, so a refused edit leaves the ticket open everywhere.

    Stops an answer being written in the ticket, then holds the ticket's lock; of two closes at
    once the second raises TicketAlreadyClosed. `ticket` only names the ticket; it is read again,
    and an automatic close passes `still_wanted` to re-check it under the lock (returns None if the
    ticket no longer qualifies, e.g. the user wrote meanwhile).
    """
    with closing(ticket.id):
        async with ticket_lock(ticket.id):
            current = await bot.core.tickets.get(ticket.id)
            if current is None or current.is_closed:
                raise TicketAlreadyClosed()
            if still_wanted is not None and not still_wanted(current):
                return None
            return await _close(bot, thread, current, config, closer=closer, reason=reason)


async def _close(
    bot: TicketBot, thread: discord.Thread, ticket: Ticket, config: GuildConfig, *, closer: discord.abc.User | None,
    reason: str,
) -> Ticket:  # fmt: skip
    core = bot.core
    stored = await core.tickets.messages(ticket.id)
    turns = [Turn(m.role, m.author_name, m.content) for m in stored]
    summary, _used_llm = await summarize_ticket(core.llm, ticket.subject, turns)
    embed = closing_embed(ticket, closer, reason, summary)
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
        await _suggest_from_staff_answer(bot, ticket, stored)
    await send_to_log(bot, thread, config, closed, embed, stored)
    return closed


def closing_embed(ticket: Ticket, closer: discord.abc.User | None, reason: str, summary: str) -> discord.Embed:
    embed = discord.Embed(title=f"🔒 Ticket closed: {ticket.subject}"[:256], colour=discord.Colour.dark_grey())
    embed.add_field(name="Closed by", value=closer.mention if closer else "automatically", inline=True)
    embed.add_field(name="Reason", value=(reason or "—")[:1024], inline=True)
    embed.add_field(name="Summary", value=(summary or "—")[:1024], inline=False)
    embed.set_footer(text=f"Ticket {ticket.id} · {ticket.category}")
    return embed


async def send_to_log(
    bot: TicketBot, thread: discord.Thread, config: GuildConfig, ticket: Ticket, embed: discord.Embed,
    messages: list[TicketMessage],
) -> None:  # fmt: skip
    if not config.log_channel_id:
        return
    channel = thread.guild.get_channel(config.log_channel_id)
    if not isinstance(channel, discord.TextChannel):
        log.warning("Log channel %s of guild %d is gone", config.log_channel_id, config.guild_id)
        return
    text = render_markdown(ticket, messages, guild_name=thread.guild.name)
    file = discord.File(io.BytesIO(text.encode("utf-8")), filename=f"ticket-{ticket.id}.md")
    log_embed = embed.copy()
    log_embed.description = f"Post: {thread.mention}"
    try:
        await channel.send(embed=log_embed, file=file, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("Could not send the transcript of ticket %d to the log channel", ticket.id, exc_info=True)


async def _suggest_from_staff_answer(bot: TicketBot, ticket: Ticket, stored: list[TicketMessage]) -> None:
    """A solved ticket that staff answered becomes a *pending* Q&A suggestion for staff to review.

    The ticket is closed already: a refused suggestion must not keep the transcript from the log.
    """
    question = next((m.content for m in stored if m.role is MessageRole.USER), None)
    answer = next((m.content for m in reversed(stored) if m.role is MessageRole.STAFF), None)
    if not (question and answer):
        return
    try:
        await bot.core.memory.suggest_qa(
            ticket.guild_id,
            question[:MAX_QUERY_CHARS],
            answer[:MAX_RESPONSE_CHARS],
            ticket_id=ticket.id,
            category=ticket.category,
        )
    except ValueError:
        log.warning("Could not suggest a Q&A pair from ticket %d", ticket.id, exc_info=True)
