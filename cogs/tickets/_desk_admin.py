"""The staff desk's server-wide commands: /blacklist add|remove|list (staff of the server) and /oncall on|off
(staff of the server or of a category: whoever may take tickets of some category)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS, is_staff, whole_lines
from cogs.checks import NotSetUp, NotStaff, require_staff
from tickets.models import GuildConfig

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

SERVER_STAFF_ONLY = "Only staff can manage the blacklist."


class BlacklistGroup(app_commands.Group, name="blacklist", description="Members who may not open tickets",
                     guild_only=True):  # fmt: skip
    def __init__(self, bot: TicketBot) -> None:
        super().__init__()
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        await require_staff(interaction, SERVER_STAFF_ONLY, needs_setup=True)
        return True

    @app_commands.command(name="add")
    @app_commands.describe(member="Who may no longer open tickets", reason="Why (for staff; not shown to them)")
    async def add(
        self, interaction: discord.Interaction, member: discord.Member,
        reason: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:  # fmt: skip
        """Stop a member from opening tickets, by any way (staff)."""
        if member.bot or member.id == interaction.user.id:
            await _reply(interaction, "Pick a member other than yourself and the bots.")
            return
        config = await self.bot.core.tickets.config(interaction.guild_id or 0)
        if is_staff(member, config):
            await _reply(interaction, f"{member.mention} is staff: take away their staff role first.")
            return
        new = await self.bot.core.desk.blacklist.add(
            member.guild.id, member.id, reason=reason or "", by=interaction.user.id, now=discord.utils.utcnow()
        )
        done = "is now on the blacklist" if new else "was on the blacklist already; the reason is updated"
        await _reply(interaction, f"⛔ {member.mention} {done}. Their open tickets stay open.")

    @app_commands.command(name="remove")
    @app_commands.describe(member="Who may open tickets again")
    async def remove(self, interaction: discord.Interaction, member: discord.User) -> None:
        """Let a member open tickets again (staff)."""
        await self.bot.core.desk.blacklist.remove(interaction.guild_id or 0, member.id)
        await _reply(interaction, f"✅ {member.mention} may open tickets again.")

    @app_commands.command(name="list")
    async def list_entries(self, interaction: discord.Interaction) -> None:
        """Who is on the blacklist, since when and why (staff)."""
        entries = await self.bot.core.desk.blacklist.entries(interaction.guild_id or 0)
        lines = [
            f"<@{e.user_id}> · {discord.utils.format_dt(datetime.fromisoformat(e.created_at), 'd')} · by "
            f"<@{e.added_by}>" + (f" · {discord.utils.escape_markdown(e.reason)}" if e.reason else "")
            for e in entries
        ]
        embed = discord.Embed(title="⛔ Blacklist", description=whole_lines(lines) or "Nobody is on it.")
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)


def _staff_somewhere(user: discord.abc.User, config: GuildConfig) -> bool:
    return is_staff(user, config) or any(is_staff(user, config, category=c.name) for c in config.categories)


async def _reply(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


class OnCallCog(commands.Cog, name="On call"):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    @app_commands.command(name="oncall")
    @app_commands.guild_only()
    @app_commands.describe(state="on: new tickets may be assigned to you in turn; off: not any more")
    async def oncall(self, interaction: discord.Interaction, state: Literal["on", "off"]) -> None:
        """Go on or off call for the rotation of new tickets (staff)."""
        core = self.bot.core
        config = await core.tickets.config(interaction.guild_id or 0)
        if config is None:
            raise NotSetUp("Run /setup first to choose the ticket forum and staff role.")
        if not _staff_somewhere(interaction.user, config):
            raise NotStaff("Only staff can go on call.")
        on = state == "on"
        changed = await core.desk.oncall.set(config.guild_id, interaction.user.id, on=on, now=discord.utils.utcnow())
        text = ("📟 You are on call" if on else "🔕 You are off call") + ("" if changed else " (as you were)") + "."
        if on and not await core.desk.rotation_on(config.guild_id):
            text += " The rotation is off on this server: an admin turns it on with `/settings set oncall_rotation on`."
        await _reply(interaction, text)
