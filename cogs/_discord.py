"""Small Discord helpers shared by the cogs: who is staff, whom a message may ping, error replies."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord

from tickets.models import GuildConfig

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


def is_staff(member: discord.abc.User, config: GuildConfig | None) -> bool:
    if not isinstance(member, discord.Member):
        return False
    perms = member.guild_permissions
    if perms.administrator or perms.manage_guild or perms.manage_threads:
        return True
    return config is not None and any(role.id == config.staff_role_id for role in member.roles)


def ping_users(*users: discord.abc.Snowflake) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, users=list(users), roles=False, replied_user=False)


def ping_role(role_id: int) -> discord.AllowedMentions:
    return discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(role_id)], replied_user=False)


def bot_of(interaction: discord.Interaction) -> TicketBot:
    # The only client that runs these cogs; a cast, because `bot` cannot be imported here at run time
    # (`python bot.py` runs it as __main__, so an isinstance check would see another class).
    return cast("TicketBot", interaction.client)


async def reply_error(interaction: discord.Interaction, text: str) -> None:
    """A short ephemeral message, whether or not the interaction was already acknowledged."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
