"""/ticket_panel: post the persistent 'Open ticket' panel (remembered, so it follows /category changes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import reply_error
from cogs.checks import SETUP_FIRST, staff_only
from cogs.tickets import post_panel

if TYPE_CHECKING:
    from bot import TicketBot


class PanelCog(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    @app_commands.command(name="ticket_panel")
    @app_commands.guild_only()
    @app_commands.describe(channel="Where to post the panel (default: this channel)")
    @staff_only("Only staff can post the ticket panel.", needs_setup=True)
    async def ticket_panel(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        """Post a panel with an 'Open ticket' button (staff only)."""
        assert interaction.guild is not None
        config = await self.bot.core.tickets.config(interaction.guild.id)
        if config is None:
            await reply_error(interaction, SETUP_FIRST)
            return
        target = channel or interaction.channel
        if not isinstance(target, discord.TextChannel):
            await reply_error(interaction, "Pick a text channel for the panel.")
            return
        try:
            await post_panel(self.bot, target, config)
        except discord.Forbidden:
            await reply_error(
                interaction, f"I can't post in {target.mention} (need View Channel, Send Messages, Embed Links)."
            )
            return
        await interaction.response.send_message(f"✅ Panel posted in {target.mention}.", ephemeral=True)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(PanelCog(bot))
