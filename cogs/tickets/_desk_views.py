"""The opener's buttons on a close request (Close it / Keep it open): persistent dynamic items carrying the
request's id in `custom_id` (`ticket:closereq:<close|keep>:<request id>`), so they keep working after a
restart; registered by the staff desk cog."""

from __future__ import annotations

import logging
import re
from typing import Any, Self

import discord
from discord.ext import commands

from cogs._discord import NO_PINGS, reply_error
from cogs.errors import ReportsErrors
from cogs.tickets._lifecycle import lifecycle_of

log = logging.getLogger(__name__)


class _CloseRequestButton(
    ReportsErrors, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ticket:closereq:(?:close|keep):\d+"
):
    action = ""
    label, emoji, style = "", "", discord.ButtonStyle.secondary

    def __init__(self, request_id: int) -> None:
        custom_id = f"ticket:closereq:{self.action}:{request_id}"
        super().__init__(discord.ui.Button(label=self.label, emoji=self.emoji, style=self.style, custom_id=custom_id))
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["id"]))

    async def _pressed(self, interaction: discord.Interaction) -> None:
        thread = interaction.channel
        if not isinstance(thread, discord.Thread):
            await reply_error(interaction, "This ticket is no longer available.")
            return
        await interaction.response.defer()
        text = await lifecycle_of(interaction.client).close_requests.answered(
            thread, self.request_id, accept=self.action == "close", by=interaction.user, message=interaction.message
        )
        if text:
            await interaction.followup.send(text, allowed_mentions=NO_PINGS)


class CloseRequestClose(_CloseRequestButton, template=r"ticket:closereq:close:(?P<id>\d+)"):
    action = "close"
    label, emoji, style = "Close it", "🔒", discord.ButtonStyle.success


class CloseRequestKeep(_CloseRequestButton, template=r"ticket:closereq:keep:(?P<id>\d+)"):
    action = "keep"
    label, emoji, style = "Keep it open", "💬", discord.ButtonStyle.secondary


def close_request_view(request_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CloseRequestClose(request_id))
    view.add_item(CloseRequestKeep(request_id))
    return view


def register_desk_views(bot: commands.Bot) -> None:
    bot.add_dynamic_items(CloseRequestClose, CloseRequestKeep)
