"""Small Discord helpers shared by the cogs: who is staff, whom a message may ping, error replies."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord

from tickets.access import Actor, TicketAccess, ticket_access
from tickets.access import is_staff as staff_by_rules
from tickets.models import GuildConfig, Ticket

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()


def actor_of(user: discord.abc.User) -> Actor | None:
    """The member as the access rules (tickets/access.py) see them; None outside a server."""
    if not isinstance(user, discord.Member):
        return None
    perms = user.guild_permissions
    return Actor(
        id=user.id,
        role_ids=frozenset(role.id for role in user.roles),
        moderator=perms.administrator or perms.manage_guild or perms.manage_threads,
    )


def is_staff(member: discord.abc.User, config: GuildConfig | None, *, category: str | None = None) -> bool:
    """Staff of the server, or (with `category`) staff for that category's tickets: see tickets/access.py."""
    return staff_by_rules(actor_of(member), config, category=category)


async def fetched_is_staff(guild: discord.Guild, user_id: int, config: GuildConfig) -> bool:
    """Whether `user_id` is staff of `guild` as Discord has the member now (fetched: without the members intent a
    cached member's roles may be stale). Someone no longer in the server is not; a failed fetch is logged and
    counts as not staff (the dashboard refuses rather than trusting an unknown answer)."""
    try:
        member = await guild.fetch_member(user_id)
    except discord.NotFound:
        return False
    except discord.HTTPException:
        log.warning("Could not check whether %d is staff in %d", user_id, guild.id, exc_info=True)
        return False
    return is_staff(member, config)


def access_to(member: discord.abc.User, config: GuildConfig | None, ticket: Ticket) -> TicketAccess:
    """How `member` stands to `ticket` (opener, staff for its category, or other): the one rule."""
    return ticket_access(actor_of(member), config, ticket)


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


def whole_lines(lines: list[str], limit: int = 4096, more: str = "… and {n} more") -> str:
    """As many of `lines` as fit in `limit` characters (an embed's description holds 4,096), each whole, and a last
    line saying how many were left out: a cut inside a line would leave half a mention or a reason's start."""
    whole = "\n".join(lines)
    if len(whole) <= limit:
        return whole
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        rest = len(lines) - index - 1
        room = limit - used - (len(more.format(n=rest)) + 1 if rest else 0)
        if len(line) + (1 if kept else 0) > room:
            left = len(lines) - index
            note = more.format(n=left)
            while kept and used + len(note) + 1 > limit:
                used -= len(kept.pop()) + 1
                left += 1
                note = more.format(n=left)
            return "\n".join([*kept, note])
        used += len(line) + (1 if kept else 0)
        kept.append(line)
    return "\n".join(kept)
