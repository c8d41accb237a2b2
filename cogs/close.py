"""/close and /ticket_ai: actions inside a ticket post."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._closing import close_ticket
from cogs._discord import NO_PINGS, is_staff, reply_error
from memory.text import visible_text
from tickets.errors import CloseError
from tickets.models import CloseReason

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class CloseCog(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    async def _ticket_here(self, interaction: discord.Interaction):
        core = self.bot.core
        thread = interaction.channel
        config = await core.tickets.config(interaction.guild_id or 0)
        ticket = await core.tickets.get(thread.id) if isinstance(thread, discord.Thread) else None
        if config is None or ticket is None:
            await reply_error(interaction, "This command only works inside a ticket post.")
            return None
        if ticket.is_closed:
            await reply_error(interaction, "This ticket is already closed.")
            return None
        return thread, ticket, config

    @app_commands.command(name="close")
    @app_commands.guild_only()
    @app_commands.describe(reason="Why the ticket is closed (shown in the closing message and the log)")
    async def close(
        self, interaction: discord.Interaction, reason: app_commands.Range[str, 1, 300] | None = None
    ) -> None:
        """Close this ticket (its opener or staff)."""
        found = await self._ticket_here(interaction)
        if found is None:
            return
        thread, ticket, config = found
        staff = is_staff(interaction.user, config)
        if interaction.user.id != ticket.opener_id and not staff:
            await reply_error(interaction, "Only the person who opened this ticket or staff can close it.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        default = CloseReason.BY_STAFF if staff and interaction.user.id != ticket.opener_id else CloseReason.BY_USER
        try:
            await close_ticket(
                self.bot, thread, ticket, config, closer=interaction.user, reason=visible_text(reason) or default.value
            )
        except CloseError as exc:
            await reply_error(interaction, str(exc))
            return
        await interaction.followup.send("🔒 Ticket closed.", ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="ticket_ai")
    @app_commands.guild_only()
    @app_commands.describe(enabled="Let the assistant answer in this ticket again (true) or keep it quiet (false)")
    async def ticket_ai(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Turn the AI assistant on or off in this ticket (staff only)."""
        found = await self._ticket_here(interaction)
        if found is None:
            return
        _thread, ticket, config = found
        if not is_staff(interaction.user, config):
            await reply_error(interaction, "Only staff can switch the assistant in a ticket.")
            return
        await self.bot.core.tickets.ai_switched(ticket, enabled=enabled, now=discord.utils.utcnow())
        state = "will answer again" if enabled else "will stay quiet"
        await interaction.response.send_message(f"🤖 The assistant {state} in this ticket.", allowed_mentions=NO_PINGS)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(CloseCog(bot))
