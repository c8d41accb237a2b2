"""The hand-off notice's saved-answer buttons; a press goes to `SavedReplies.send` (`_saved_replies.py`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Self

import discord

from cogs._discord import NO_PINGS, access_to, bot_of, reply_error
from cogs.errors import ReportsErrors, refuse
from cogs.tickets._lifecycle import lifecycle_of
from cogs.tickets._saved_replies import STAFF_ONLY
from tickets.errors import ActionRefused
from tickets.suggested_replies import SuggestedReply


class SavedReplyButton(
    ReportsErrors, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ticket:saved:(?P<id>\d+):(?P<entry>\d+)"
):
    """One saved answer offered with a hand-off; custom_id `ticket:saved:<ticket id>:<entry id>`."""

    def __init__(self, ticket_id: int, entry_id: int, label: str = "Send saved answer") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, emoji="💾", style=discord.ButtonStyle.secondary,
                custom_id=f"ticket:saved:{ticket_id}:{entry_id}",
            )
        )  # fmt: skip
        self.ticket_id = ticket_id
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["id"]), int(match["entry"]))

    async def _pressed(self, interaction: discord.Interaction) -> None:
        core = bot_of(interaction).core
        ticket = await core.tickets.get(self.ticket_id)
        config = await core.tickets.config(interaction.guild_id or 0)
        member = interaction.user
        if ticket is None or not isinstance(member, discord.Member) or not access_to(member, config, ticket).is_staff:
            await reply_error(interaction, STAFF_ONLY)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = await lifecycle_of(interaction.client).saved_replies.send(
                self.ticket_id, self.entry_id, member, interaction.message
            )
        except ActionRefused as refused:
            await refuse(interaction, refused)
            return
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


def saved_replies_view(ticket_id: int, replies: Sequence[SuggestedReply]) -> discord.ui.View | None:
    if not replies:
        return None
    view = discord.ui.View(timeout=None)
    for reply in replies:
        view.add_item(SavedReplyButton(ticket_id, reply.entry_id, reply.label))
    return view
