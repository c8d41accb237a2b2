"""/ticket_panel: post the persistent 'Open ticket' panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS, reply_error
from cogs.checks import SETUP_FIRST, staff_only
from cogs.tickets import PanelView

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
        embed = discord.Embed(
            title="Need help? Open a ticket",
            description=(
                "Pick a category below or press **Open ticket**. Your ticket becomes a post in "
                f"<#{config.forum_id}>; our assistant answers right away and staff step in when needed."
            ),
            colour=discord.Colour.blurple(),
        )
        try:
            await target.send(embed=embed, view=PanelView(config.categories), allowed_mentions=NO_PINGS)
        except discord.Forbidden:
            await reply_error(
                interaction, f"I can't post in {target.mention} (need View Channel, Send Messages, Embed Links)."
            )
            return
        await interaction.response.send_message(f"✅ Panel posted in {target.mention}.", ephemeral=True)


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(PanelCog(bot))
