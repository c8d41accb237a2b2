"""Receives the Discord events of tickets and defers to `TicketLifecycle`: messages in tickets,
/close, /ticket_ai, the persistent panel and answer buttons, rating and user-card buttons, and the scheduler."""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS, access_to, reply_error
from cogs.checks import ticket_staff_only
from cogs.errors import refuse
from cogs.tickets._desk_views import close_request_view
from cogs.tickets._lifecycle import COG_NAME, TicketLifecycle
from cogs.tickets._rating import register_rating
from cogs.tickets._saved_reply_views import SavedReplyButton, saved_replies_view
from cogs.tickets._scheduler import Scheduler
from cogs.tickets._user_card import UserCardButton
from cogs.tickets._views import answer_view, register_persistent
from memory.text import visible_text
from tickets.errors import ActionRefused, CloseError
from tickets.models import CloseReason, GuildConfig, Ticket

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class TicketCog(commands.Cog, name=COG_NAME):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        self.lifecycle = TicketLifecycle(
            bot, answer_buttons=answer_view, close_request_buttons=close_request_view,
            saved_reply_buttons=saved_replies_view,
        )  # fmt: skip
        self.scheduler = Scheduler(bot, self.lifecycle)

    async def cog_load(self) -> None:
        register_persistent(self.bot)
        register_rating(self.bot)
        self.bot.add_dynamic_items(UserCardButton, SavedReplyButton)
        self.scheduler.start()

    async def cog_unload(self) -> None:
        self.scheduler.stop()
        self.lifecycle.titles.close()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or message.guild is None or not isinstance(message.channel, discord.Thread):
            return
        try:
            await self.lifecycle.message_posted(message, message.channel)
        except Exception:
            log.exception("Handling message %d in thread %d failed", message.id, message.channel.id)
            with contextlib.suppress(discord.HTTPException):
                await message.channel.send(
                    "Sorry, something went wrong on my side. Staff can still help here.", allowed_mentions=NO_PINGS
                )

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        try:
            await self.lifecycle.thread_deleted(payload.thread_id)
        except Exception:
            log.exception("Handling the deletion of thread %d failed", payload.thread_id)

    @app_commands.command(name="close")
    @app_commands.guild_only()
    @app_commands.describe(reason="Why the ticket is closed (shown in the closing message and the log)")
    async def close(
        self, interaction: discord.Interaction, reason: app_commands.Range[str, 1, 300] | None = None
    ) -> None:
        """Close this ticket (its opener or staff)."""
        try:
            thread, ticket, config = await self._ticket_here(interaction)
        except ActionRefused as refused:
            await refuse(interaction, refused)
            return
        access = access_to(interaction.user, config, ticket)
        if not access.opener_or_staff:
            await reply_error(interaction, "Only the person who opened this ticket or staff can close it.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        default = CloseReason.BY_STAFF if access.is_staff and not access.is_opener else CloseReason.BY_USER
        try:
            await self.lifecycle.closed(
                thread, ticket, config, closer=interaction.user, reason=visible_text(reason) or default.value
            )
        except CloseError as refused:
            await refuse(interaction, refused)
            return
        await interaction.followup.send("🔒 Ticket closed.", ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="ticket_ai")
    @app_commands.guild_only()
    @app_commands.describe(enabled="Let the assistant answer in this ticket again (true) or keep it quiet (false)")
    @ticket_staff_only("Only staff can switch the assistant in a ticket.")
    async def ticket_ai(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Turn the AI assistant on or off in this ticket (staff only)."""
        try:
            _thread, ticket, _config = await self._ticket_here(interaction)
        except ActionRefused as refused:
            await refuse(interaction, refused)
            return
        await self.lifecycle.ai_switched(ticket, enabled=enabled)
        state = "will answer again" if enabled else "will stay quiet"
        await interaction.response.send_message(f"🤖 The assistant {state} in this ticket.", allowed_mentions=NO_PINGS)

    async def _ticket_here(self, interaction: discord.Interaction) -> tuple[discord.Thread, Ticket, GuildConfig]:
        core = self.bot.core
        thread = interaction.channel
        config = await core.tickets.config(interaction.guild_id or 0)
        ticket = await core.tickets.get(thread.id) if isinstance(thread, discord.Thread) else None
        if config is None or ticket is None or not isinstance(thread, discord.Thread):
            raise ActionRefused("This command only works inside a ticket.")
        if ticket.is_closed:
            raise ActionRefused("This ticket is already closed.")
        return thread, ticket, config
