"""/setup: choose the ticket forum, the staff role and an optional log channel."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

if TYPE_CHECKING:
    from bot import TicketBot
from cogs._discord import NO_PINGS
from tickets.models import DEFAULT_CATEGORIES, STATUS_TAG_NAMES, GuildConfig

log = logging.getLogger(__name__)

FORUM_PERMS = (
    "view_channel", "send_messages", "send_messages_in_threads", "manage_threads", "embed_links",
    "attach_files", "read_message_history",
)  # fmt: skip
LOG_PERMS = ("view_channel", "send_messages", "embed_links", "attach_files")


def missing_permissions(channel: discord.abc.GuildChannel, me: discord.Member, names: tuple[str, ...]) -> list[str]:
    perms = channel.permissions_for(me)
    return [name.replace("_", " ").title() for name in names if not getattr(perms, name)]


class SetupCog(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    @app_commands.command(name="setup")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        forum="Forum channel where tickets are posted",
        staff_role="Role that handles tickets (pinged on hand-offs)",
        log_channel="Text channel for new-ticket notices and transcripts (optional)",
    )
    async def setup(
        self, interaction: discord.Interaction, forum: discord.ForumChannel, staff_role: discord.Role,
        log_channel: discord.TextChannel | None = None,
    ) -> None:  # fmt: skip
        """Set up support tickets on this server (admins only)."""
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        if not interaction.user.guild_permissions.manage_guild:
            await interaction.response.send_message(
                "Only members with **Manage Server** can run /setup.", ephemeral=True
            )
            return
        if staff_role.is_default() or staff_role.managed:
            await interaction.response.send_message(
                f"{staff_role.mention} can't be the staff role: pick a role that only your support team has.",
                ephemeral=True,
                allowed_mentions=NO_PINGS,
            )
            return
        me = interaction.guild.me
        problems = [f"{forum.mention}: {', '.join(m)}" for m in [missing_permissions(forum, me, FORUM_PERMS)] if m]
        if log_channel is not None:
            missing = missing_permissions(log_channel, me, LOG_PERMS)
            if missing:
                problems.append(f"{log_channel.mention}: {', '.join(missing)}")
        wanted = [*STATUS_TAG_NAMES.values(), *(c.capitalize() for c in DEFAULT_CATEGORIES)]
        existing = {tag.name.lower() for tag in forum.available_tags}
        to_create = [name for name in wanted if name.lower() not in existing]
        if to_create and not forum.permissions_for(me).manage_channels:
            problems.append(
                f"{forum.mention}: Manage Channels (needed once, to create the forum tags {', '.join(to_create)})"
            )
        if len(existing) + len(to_create) > 20:
            problems.append(f"{forum.mention} has too many tags to add {', '.join(to_create)} (Discord allows 20).")
        if problems:
            await interaction.response.send_message(
                "I can't use these channels yet. Missing permissions:\n- " + "\n- ".join(problems), ephemeral=True,
                allowed_mentions=NO_PINGS,
            )  # fmt: skip
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        for name in to_create:
            await forum.create_tag(name=name, reason="Ticket bot setup")
        # Fetched again: the cached channel does not list the tags just created.
        fetched = await forum.guild.fetch_channel(forum.id)
        assert isinstance(fetched, discord.ForumChannel)
        forum = fetched
        by_name = {tag.name.lower(): tag.id for tag in forum.available_tags}
        tag_ids = {status.value: by_name[name.lower()] for status, name in STATUS_TAG_NAMES.items()}
        tag_ids.update({f"category:{c}": by_name[c.lower()] for c in DEFAULT_CATEGORIES})
        config = GuildConfig(
            interaction.guild.id, forum.id, staff_role.id, log_channel.id if log_channel else None, tag_ids
        )
        await self.bot.core.tickets.save_config(config, discord.utils.utcnow())
        log.info("Guild %d configured: forum %d, staff role %d", interaction.guild.id, forum.id, staff_role.id)
        await interaction.followup.send(
            f"✅ Tickets are set up: posts go to {forum.mention}, {staff_role.mention} handles them"
            + (f", notices and transcripts go to {log_channel.mention}" if log_channel else "")
            + (f".\nCreated tags: {', '.join(to_create)}." if to_create else ".")
            + "\nNext: run `/ticket_panel` where users should open tickets, and teach answers with `/train`.",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(SetupCog(bot))
