"""/reopen on the Discord side: the thread unarchived and unlocked through its place (tags or card as the
ticket had them), then the record (tickets/reopening.py); Discord first, so a refused unarchive leaves the
ticket closed everywhere."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import discord

from cogs._discord import access_to
from cogs.tickets._locks import TicketLocks
from cogs.tickets._places import place_of
from cogs.tickets._posts import safe_send
from cogs.tickets._staff import name_of
from tickets.errors import ActionRefused
from tickets.models import GuildConfig, Ticket, TicketStatus

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class Reopener:
    def __init__(self, bot: TicketBot, locks: TicketLocks) -> None:
        self.bot = bot
        self.core = bot.core
        self.locks = locks

    async def reopen(self, ticket_id: int, config: GuildConfig, by: discord.Member) -> tuple[discord.Thread, Ticket]:
        """Reopen a closed ticket for its opener or staff for its category; raises ActionRefused."""
        desk = self.core.desk
        ticket = await self.core.tickets.get(ticket_id)
        if ticket is None or ticket.guild_id != config.guild_id:
            raise ActionRefused("There is no such ticket on this server.")
        access = access_to(by, config, ticket)
        if not access.opener_or_staff:
            raise ActionRefused("Only the person who opened this ticket or staff can reopen it.")
        if not access.is_staff:
            await desk.blacklist.check(ticket.guild_id, by.id)
        await desk.reopening.check(ticket, discord.utils.utcnow())
        thread = await self._thread(ticket.id)
        async with self.locks.ticket(ticket.id):
            current = await self.core.tickets.get(ticket.id)
            assert current is not None
            await desk.reopening.check(current, discord.utils.utcnow())  # reopened meanwhile?
            place = place_of(current)
            try:
                await place.reopen(thread, config, replace(current, status=TicketStatus.OPEN))
            except discord.HTTPException as exc:
                log.warning("Discord refused to reopen ticket %d", ticket.id, exc_info=True)
                raise ActionRefused(
                    f"Discord refused to reopen this {place.noun}: I need Manage Threads in its channel."
                ) from exc
            reopened = await desk.reopening.reopened(current, by=by.id, now=discord.utils.utcnow())
        await safe_send(thread, f"🔓 **{name_of(by)}** reopened this ticket.")
        log.info("Ticket %d reopened by %d", ticket.id, by.id)
        return thread, reopened

    async def _thread(self, ticket_id: int) -> discord.Thread:
        """The ticket's thread (archived threads are not in the cache)."""
        found = self.bot.get_channel(ticket_id)
        if found is None:
            try:
                found = await self.bot.fetch_channel(ticket_id)
            except discord.NotFound:
                found = None
            except discord.HTTPException as exc:
                raise ActionRefused("Discord did not let me reach this ticket right now. Please try again.") from exc
        if not isinstance(found, discord.Thread):
            raise ActionRefused("This ticket's thread was deleted; it can't be reopened.")
        return found
