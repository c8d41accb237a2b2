"""The ticket panel: what it shows, and keeping the panels already posted in step with the categories.

/ticket_panel records each panel it posts; when a category is added, changed or removed, or the support
hours change (/settings), every panel of the server is edited to offer the categories as they are now and
to say when staff are there. A panel that cannot be edited (deleted,
or the bot lost access) is forgotten or left; choosing a category that no longer exists from it gets a
clear refusal (`show_ticket_form`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from cogs._discord import NO_PINGS
from cogs.tickets._views import PanelView
from tickets.hours import SupportHours
from tickets.models import GuildConfig, TicketMode

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


def panel_embed(config: GuildConfig, hours: SupportHours | None = None) -> discord.Embed:
    """The panel's text; with support hours (not "always"), when staff are there and what happens outside them."""
    modes = {c.mode for c in config.categories}
    if modes == {TicketMode.PRIVATE_THREAD}:
        where = "Your ticket is a private thread that only you and staff can see"
    elif TicketMode.PRIVATE_THREAD in modes:
        where = (
            f"Your ticket becomes a post in <#{config.forum_id}>, or, in the categories marked 🔒, a private "
            "thread that only you and staff can see"
        )
    else:
        where = f"Your ticket becomes a post in <#{config.forum_id}>"
    description = (
        f"Pick a category below or press **Open ticket**. {where}; our assistant answers right away and "
        "staff step in when needed."
    )
    if hours is not None and not hours.always:
        description += (
            f"\n\n🕘 Staff are available {hours.describe()}. Outside these hours you can still open a ticket: "
            "the assistant answers, and staff reply when we open."
        )
    return discord.Embed(title="Need help? Open a ticket", description=description, colour=discord.Colour.blurple())


async def post_panel(bot: TicketBot, channel: discord.TextChannel, config: GuildConfig) -> discord.Message:
    """Post a panel and remember it (to update it when the categories change). Raises discord.HTTPException."""
    hours = await bot.core.care.hours(config.guild_id)
    message = await channel.send(
        embed=panel_embed(config, hours), view=PanelView(config.categories), allowed_mentions=NO_PINGS
    )
    await bot.core.categories.panel_posted(
        guild_id=config.guild_id, channel_id=channel.id, message_id=message.id, now=discord.utils.utcnow()
    )
    return message


async def refresh_panels(bot: TicketBot, config: GuildConfig) -> int:
    """Edit every panel posted on the server to offer its categories as they are now; returns how many
    were updated. Best effort: a panel that is gone is forgotten, one that cannot be edited is logged."""
    updated = 0
    hours = await bot.core.care.hours(config.guild_id)
    for channel_id, message_id in await bot.core.categories.panels(config.guild_id):
        channel = bot.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            await bot.core.categories.panel_gone(message_id)
            continue
        try:
            await channel.get_partial_message(message_id).edit(
                embed=panel_embed(config, hours), view=PanelView(config.categories), allowed_mentions=NO_PINGS
            )
            updated += 1
        except discord.NotFound:
            await bot.core.categories.panel_gone(message_id)
        except discord.HTTPException:
            log.warning("Could not update panel %d in channel %d", message_id, channel_id, exc_info=True)
    return updated
