"""/setup: choose the ticket forum, the channel of private tickets, the staff role and a log channel.

Checks the bot's permissions in each channel and names what is missing (storing nothing then); creates
the forum's tags; in the private tickets' channel it gives itself and the staff roles the overwrites
they need when it may (cogs/_channel_setup.py). A server set up for the first time gets the default
categories (Billing, Technical, General: forum posts).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._channel_setup import (
    FORUM_PERMS,
    LOG_PERMS,
    PrivateChannelPlan,
    apply_private_channel,
    create_desk_tags,
    desk_tag_ids,
    missing_permissions,
    permission_name,
    plan_private_channel,
)
from cogs._discord import NO_PINGS
from tickets.categories import default_categories
from tickets.models import STATUS_TAG_NAMES, Category, GuildConfig, TicketMode

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


def forum_problems(forum: discord.ForumChannel, me: discord.Member, wanted_tags: list[str]) -> list[str]:
    problems = []
    missing = missing_permissions(forum, me, FORUM_PERMS)
    if missing:
        problems.append(f"{forum.mention}: {', '.join(map(permission_name, missing))}")
    existing = {tag.name.lower() for tag in forum.available_tags}
    to_create = [name for name in wanted_tags if name.lower() not in existing]
    if to_create and not forum.permissions_for(me).manage_channels:
        problems.append(
            f"{forum.mention}: Manage Channels (needed once, to create the forum tags {', '.join(to_create)})"
        )
    if len(existing) + len(to_create) > 20:
        problems.append(f"{forum.mention} has too many tags to add {', '.join(to_create)} (Discord allows 20).")
    return problems


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
        private_channel="Text channel whose private threads hold private tickets (for private categories)",
    )
    async def setup(
        self, interaction: discord.Interaction, forum: discord.ForumChannel, staff_role: discord.Role,
        log_channel: discord.TextChannel | None = None, private_channel: discord.TextChannel | None = None,
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
        guild, me = interaction.guild, interaction.guild.me
        categories = await self.bot.core.categories.of(guild.id) or tuple(default_categories(guild.id))
        forum_categories = [c for c in categories if c.mode is TicketMode.FORUM]
        wanted_tags = [*STATUS_TAG_NAMES.values(), *(c.label[:20] for c in forum_categories)]
        problems = forum_problems(forum, me, wanted_tags)
        if log_channel is not None:
            missing = missing_permissions(log_channel, me, LOG_PERMS)
            if missing:
                problems.append(f"{log_channel.mention}: {', '.join(map(permission_name, missing))}")
        plan = self._private_plan(guild, private_channel, staff_role, categories, problems)
        if problems:
            await interaction.response.send_message(
                "I can't use these channels yet. Missing permissions:\n- " + "\n- ".join(problems), ephemeral=True,
                allowed_mentions=NO_PINGS,
            )  # fmt: skip
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        created = await self._create_tags(forum, wanted_tags)
        taken = {tag.name.lower() for tag in forum.available_tags} | {name.lower() for name in created}
        desk_created, no_room = await create_desk_tags(forum, taken)
        created += desk_created
        if plan is not None:
            await apply_private_channel(plan, me)
        # Fetched again: the cached channel does not list the tags just created.
        fetched = await guild.fetch_channel(forum.id)
        assert isinstance(fetched, discord.ForumChannel)
        config = GuildConfig(
            guild.id, forum.id, staff_role.id, log_channel.id if log_channel else None,
            tag_ids=_tag_ids(fetched, forum_categories) | desk_tag_ids(fetched),
            private_channel_id=private_channel.id if private_channel else None,
        )  # fmt: skip
        await self.bot.core.tickets.save_config(config, discord.utils.utcnow())
        await self.bot.core.categories.seed_defaults(guild.id, discord.utils.utcnow())
        log.info("Guild %d configured: forum %d, staff role %d", guild.id, forum.id, staff_role.id)
        await interaction.followup.send(
            _summary(forum, staff_role, log_channel, private_channel, created, plan)
            + (f"\nNo room in the forum for the tags {', '.join(no_room)}: priority shows in post titles." if no_room
               else ""),
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )  # fmt: skip

    def _private_plan(
        self, guild: discord.Guild, channel: discord.TextChannel | None, staff_role: discord.Role,
        categories: tuple[Category, ...], problems: list[str],
    ) -> PrivateChannelPlan | None:  # fmt: skip
        private = [c for c in categories if c.mode is TicketMode.PRIVATE_THREAD]
        if channel is None:
            if private:
                names = ", ".join(c.label for c in private)
                problems.append(
                    f"private_channel: the categories {names} open private threads; choose their channel too "
                    "(or make them forum categories with /category edit)."
                )
            return None
        roles = [staff_role, *(guild.get_role(c.staff_role_id) for c in private if c.staff_role_id)]
        plan = plan_private_channel(channel, guild.me, [r for r in roles if r is not None])
        problems += plan.problems
        return plan

    async def _create_tags(self, forum: discord.ForumChannel, wanted: list[str]) -> list[str]:
        existing = {tag.name.lower() for tag in forum.available_tags}
        to_create = list(dict.fromkeys(name for name in wanted if name.lower() not in existing))
        for name in to_create:
            await forum.create_tag(name=name, reason="Ticket bot setup")
        return to_create


def _tag_ids(forum: discord.ForumChannel, categories: list[Category]) -> dict[str, int]:
    by_name = {tag.name.lower(): tag.id for tag in forum.available_tags}
    tag_ids = {status.value: by_name[name.lower()] for status, name in STATUS_TAG_NAMES.items()}
    tag_ids.update(
        {f"category:{c.name}": by_name[c.label[:20].lower()] for c in categories if c.label[:20].lower() in by_name}
    )
    return tag_ids


def _summary(
    forum: discord.ForumChannel, staff_role: discord.Role, log_channel: discord.TextChannel | None,
    private_channel: discord.TextChannel | None, created: list[str], plan: PrivateChannelPlan | None,
) -> str:  # fmt: skip
    text = (
        f"✅ Tickets are set up: posts go to {forum.mention}, {staff_role.mention} handles them"
        + (f", notices and transcripts go to {log_channel.mention}" if log_channel else "")
        + (f", private tickets are private threads in {private_channel.mention}" if private_channel else "")
        + (f".\nCreated tags: {', '.join(created)}." if created else ".")
    )
    if plan is not None:
        text += "".join(f"\nI {line}." for line in plan.done())
        text += "".join(f"\n⚠️ {warning}" for warning in plan.warnings)
    return text + (
        "\nNext: run `/ticket_panel` where users should open tickets, shape the categories with `/category`, "
        "and teach answers with `/train`."
    )


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(SetupCog(bot))
