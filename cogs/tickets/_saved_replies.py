"""Sending a saved answer offered with a hand-off (tickets/suggested_replies.py; the buttons are in
`_saved_reply_views.py`): staff for the ticket's category press one to post that saved answer in the ticket in
their name. It counts as staff writing there (the ticket is answered, the assistant stays quiet), and the
user's question is proposed as another phrasing of the entry."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from cogs._discord import NO_PINGS, access_to
from cogs.tickets._locks import TicketLocks
from cogs.tickets._places import place_of
from tickets.errors import ActionRefused
from tickets.models import MessageRole
from tickets.suggested_replies import phrasing_to_learn, saved_reply_parts

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

STAFF_ONLY = "Only staff for this ticket's category can send a saved answer."
SENT_MARK = "✅ Saved answer sent"


class SavedReplies:
    def __init__(self, bot: TicketBot, locks: TicketLocks) -> None:
        self.core = bot.core
        self.locks = locks

    async def send(self, ticket_id: int, entry_id: int, by: discord.Member, notice: discord.Message | None) -> str:
        """Post entry `entry_id`'s answer in ticket `ticket_id` for `by` (staff); returns what to tell them.
        Raises ActionRefused: the ticket is closed, the entry is gone, or this notice already sent one."""
        core, guild = self.core, by.guild
        async with self.locks.ticket(ticket_id):
            ticket = await core.tickets.get(ticket_id)
            config = await core.tickets.config(guild.id)
            if ticket is None or ticket.guild_id != guild.id or ticket.is_closed or config is None:
                raise ActionRefused("This ticket is closed.")
            if not access_to(by, config, ticket).is_staff:
                raise ActionRefused(STAFF_ONLY)
            if notice is not None and await _already_used(notice):
                raise ActionRefused("A saved answer was already sent from this notice.")
            entry = await core.memory.get(guild.id, entry_id)
            if entry is None:
                raise ActionRefused("That saved answer no longer exists (it was deleted or retrained).")
            thread = guild.get_thread(ticket_id)
            if thread is None:
                raise ActionRefused("This ticket's thread is no longer available.")
            earlier = await core.tickets.messages(ticket_id, last=20)
            parts = saved_reply_parts(entry, by.display_name)
            first = None
            for part in parts:
                sent = await thread.send(part, allowed_mentions=NO_PINGS)
                first = first or sent
            updated = await core.tickets.message_posted(
                ticket, message_id=first.id if first else None, author_id=by.id, author_name=by.display_name,
                role=MessageRole.STAFF, content="\n".join(parts), now=discord.utils.utcnow(),
            )  # fmt: skip
            self.locks.taken_over(ticket_id)  # as if staff wrote: an answer still on its way stops
            if updated.status is not ticket.status:
                await place_of(updated).show_status(thread, config, updated)
            phrasing = phrasing_to_learn(earlier)
            proposed = phrasing and await core.memory.propose_phrasing(
                guild.id, entry_id, phrasing, ticket_id=ticket_id
            )
        if notice is not None:
            await _mark_used(notice, by)
        text = f"Sent the saved answer to “{entry.query[:80]}” in {thread.mention}."
        if proposed:
            text += " The user's wording is proposed as another phrasing of it: review it with `/memory suggestions`."
        return text


async def _already_used(notice: discord.Message) -> bool:
    """Whether the notice (read again: another press may have used it meanwhile) no longer offers answers."""
    try:
        current = await notice.channel.fetch_message(notice.id)
    except discord.HTTPException:
        return False  # cannot tell: the entry and ticket checks still hold
    items = discord.ui.View.from_message(current).children
    offers = any(isinstance(i, discord.ui.Button) and (i.custom_id or "").startswith("ticket:saved:") for i in items)
    return SENT_MARK in current.content or not offers


async def _mark_used(notice: discord.Message, by: discord.Member) -> None:
    try:
        content = f"{notice.content}\n{SENT_MARK} by {by.mention}."
        await notice.edit(content=content[:2000], view=None, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("Could not mark hand-off notice %d as used", notice.id, exc_info=True)
