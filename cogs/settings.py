"""/settings view|set|reset: the server's own settings (Manage Server). The keys, their kinds and
defaults are the registry in tickets/server_settings.py; nothing here knows a particular setting (those the
panel shows, `SHOWN_ON_PANEL`, edit the panels already posted)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from cogs._discord import NO_PINGS
from cogs.checks import require_manage_server
from cogs.tickets import refresh_panels
from tickets.server_settings import SHOWN_ON_PANEL

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

ADMINS_ONLY = "Only members with Manage Server can change the server's settings."


class SettingsGroup(
    app_commands.Group,
    name="settings",
    description="This server's ticket settings",
    guild_only=True,
    default_permissions=discord.Permissions(manage_guild=True),
):
    def __init__(self, bot: TicketBot) -> None:
        super().__init__()
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        require_manage_server(interaction, ADMINS_ONLY)
        return True

    @app_commands.command(name="view")
    async def view(self, interaction: discord.Interaction) -> None:
        """Show every setting: its value here, its default and what it means."""
        service = self.bot.core.server_settings
        current = await service.of(interaction.guild_id or 0)
        lines = []
        for setting in service.registry:
            value = setting.show(current.get(setting))
            where = "set here" if current.is_set(setting) else "default"
            lines.append(f"**{setting.key}** = `{value}` ({where}; {setting.accepts})\n-# {setting.description}")
        embed = discord.Embed(title="Server settings", description="\n".join(lines)[:4096] or "No settings.")
        embed.set_footer(text="/settings set key value · /settings reset key")
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="set")
    @app_commands.describe(key="The setting (see /settings view)", value="Its new value")
    async def set_value(
        self, interaction: discord.Interaction, key: str, value: app_commands.Range[str, 1, 200]
    ) -> None:
        """Change one setting for this server."""
        setting, parsed = await self.bot.core.server_settings.set(
            interaction.guild_id or 0, key, value, by=interaction.user.id, now=discord.utils.utcnow()
        )
        await interaction.response.send_message(
            f"✅ **{setting.key}** is now `{setting.show(parsed)}`.", ephemeral=True, allowed_mentions=NO_PINGS
        )
        await self._refresh_panels(interaction.guild_id or 0, setting.key)

    @app_commands.command(name="reset")
    @app_commands.describe(key="The setting to set back to its default")
    async def reset(self, interaction: discord.Interaction, key: str) -> None:
        """Set one setting back to its default."""
        service = self.bot.core.server_settings
        setting = await service.reset(interaction.guild_id or 0, key)
        default = (await service.of(interaction.guild_id or 0)).get(setting)
        await interaction.response.send_message(
            f"↩️ **{setting.key}** is back to its default, `{setting.show(default)}`.", ephemeral=True,
            allowed_mentions=NO_PINGS,
        )  # fmt: skip
        await self._refresh_panels(interaction.guild_id or 0, setting.key)

    async def _refresh_panels(self, guild_id: int, key: str) -> None:
        """Edit the posted panels when `key` is shown on them (after the reply: editing takes a request each;
        refresh_panels logs the ones Discord refuses)."""
        if key not in SHOWN_ON_PANEL:
            return
        config = await self.bot.core.tickets.config(guild_id)
        if config is not None:
            await refresh_panels(self.bot, config)

    @set_value.autocomplete("key")
    @reset.autocomplete("key")
    async def _keys(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        registry = self.bot.core.server_settings.registry
        return [app_commands.Choice(name=s.key, value=s.key) for s in registry if typed.lower() in s.key][:25]


async def setup(bot: TicketBot) -> None:
    bot.tree.add_command(SettingsGroup(bot))
