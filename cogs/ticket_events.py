"""Listens to messages in ticket posts and hands them to the lifecycle functions in `_flow`."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from cogs import _flow
from cogs._discord import NO_PINGS, is_staff, set_status_tag, tags_for
from cogs._locks import open_lock
from memory.text import visible_text
from tickets.errors import TicketOpenError
from tickets.models import GuildConfig, MessageRole, Ticket, TicketStatus

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class TicketEvents(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or not isinstance(message.channel, discord.Thread):
            return
        try:
            await self._ticket_message(message, message.channel)
        except Exception:
            log.exception("Handling message %d in thread %d failed", message.id, message.channel.id)
            with contextlib.suppress(discord.HTTPException):
                await message.channel.send(
                    "Sorry, something went wrong on my side. Staff can still help here.", allowed_mentions=NO_PINGS
                )

    async def _ticket_message(self, message: discord.Message, thread: discord.Thread) -> None:
        core = self.bot.core
        config = await core.tickets.config(thread.guild.id)
        if config is None or thread.parent_id != config.forum_id:
            return
        ticket = await core.tickets.get(thread.id)
        if ticket is None:
            # A post made directly in the forum: its creator's first message (normally the starter) opens it.
            if thread.owner_id == message.author.id:
                ticket = await self._direct_post(message, thread, config)
            if ticket is None:
                return
        if ticket.is_closed:
            return
        staff = is_staff(message.author, config) and message.author.id != ticket.opener_id
        before = ticket.status
        ticket = await core.tickets.message_posted(
            ticket, message_id=message.id, author_id=message.author.id, author_name=message.author.display_name,
            role=MessageRole.STAFF if staff else MessageRole.USER, content=message.content, now=discord.utils.utcnow(),
        )  # fmt: skip
        if ticket.status is not before:
            await set_status_tag(thread, config, ticket, ticket.status)
        if staff or ticket.ai_paused or not visible_text(message.content):
            return
        await _flow.answer_in_ticket(self.bot, thread, ticket.id, message.id, message.content, message.author)

    async def _direct_post(
        self, message: discord.Message, thread: discord.Thread, config: GuildConfig
    ) -> Ticket | None:
        """Open (or refuse) a ticket for a post made directly in the forum and answer it; returns None.

        If a message that arrived just before opened it meanwhile, returns that ticket instead: this
        message is then an ordinary message in it.
        """
        async with open_lock(thread.guild.id, message.author.id):
            existing = await self.bot.core.tickets.get(thread.id)
            if existing is not None:
                return existing
            ticket = await self._record_direct_post(message, thread, config)
        if ticket is not None:
            # The starter message's id is the thread's id; the ticket's first stored message has it.
            await _flow.answer_in_ticket(
                self.bot, thread, ticket.id, ticket.id, f"{ticket.subject}\n{message.content}", message.author
            )  # fmt: skip
        return None

    async def _record_direct_post(
        self, message: discord.Message, thread: discord.Thread, config: GuildConfig
    ) -> Ticket | None:
        core = self.bot.core
        assert isinstance(message.author, discord.Member)
        try:
            await core.tickets.check_can_open(thread.guild.id, message.author.id, discord.utils.utcnow())
        except TicketOpenError as refused:
            with contextlib.suppress(discord.HTTPException):
                await thread.send(f"{refused}\nThis post has been closed.", allowed_mentions=NO_PINGS)
            with contextlib.suppress(discord.HTTPException):
                await thread.edit(archived=True, locked=True)
            return None
        category = next(
            (c for c in config.categories if config.category_tag(c) in {t.id for t in thread.applied_tags}), "general"
        )
        ticket = await core.tickets.ticket_opened(
            ticket_id=thread.id, guild_id=thread.guild.id, opener_id=message.author.id,
            opener_name=message.author.display_name, category=category, subject=thread.name,
            description=message.content, now=discord.utils.utcnow(),
        )  # fmt: skip
        forum = thread.parent
        if isinstance(forum, discord.ForumChannel):
            with contextlib.suppress(discord.HTTPException):
                # Discord's default (24 h) would archive a quiet ticket before our idle warning at 48 h.
                await thread.edit(
                    applied_tags=tags_for(forum, config, TicketStatus.OPEN, category), auto_archive_duration=10080
                )
        await _flow.notify_staff(
            self.bot, thread, config, f"🎫 New **{category}** ticket {thread.mention} from {message.author.mention}."
        )
        return ticket


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(TicketEvents(bot))
