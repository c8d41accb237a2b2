"""The user card for staff on each new ticket (tickets/user_card.py): an embed with the new-ticket notice in
the log channel. Without a log channel that notice is posted in the ticket, which its opener reads (a forum
post is even public): there the card stays behind a **User card** button that shows it privately to staff
and refuses everyone else."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Self

import discord

from ai.untrusted import without_bidi
from cogs._discord import access_to, bot_of, reply_error
from cogs.errors import ReportsErrors
from tickets.models import Ticket
from tickets.user_card import UserCard, age_text, outcome_text

if TYPE_CHECKING:
    from app.runtime import Core

log = logging.getLogger(__name__)

STAFF_ONLY = "Only staff can see the user card."


def _when(iso: str) -> str:
    return discord.utils.format_dt(discord.utils.parse_time(iso), "d")


def user_card_embed(card: UserCard) -> discord.Embed:
    embed = discord.Embed(title=without_bidi(f"👤 {card.member_name}")[:256], colour=discord.Colour.teal())
    embed.add_field(name="Account age", value=age_text(card.account_age_s), inline=True)
    on_server = age_text(card.on_server_s) if card.on_server_s is not None else "unknown"
    embed.add_field(name="On this server", value=on_server, inline=True)
    history = card.history
    summary = f"{history.total} earlier" + (f", {history.open_now} still open" if history.open_now else "")
    if history.average_stars is not None:
        summary += f", rated {history.average_stars:.1f}/5 on average"
    embed.add_field(name="Tickets", value=summary, inline=True)
    lines = []
    for past in history.recent:
        subject = discord.utils.escape_markdown(past.subject)[:60]
        lines.append(f"• <#{past.id}> {_when(past.created_at)} **{subject}** ({past.category}) — {outcome_text(past)}")
    if lines:
        embed.add_field(name="Latest tickets", value="\n".join(lines)[:1024], inline=False)
    embed.set_footer(text=f"User {card.member_id} · shown to staff only")
    return embed


async def card_for(core: Core, member: discord.Member, ticket: Ticket) -> UserCard:
    return await core.user_cards.card(
        guild_id=ticket.guild_id, member_id=member.id, member_name=member.display_name,
        account_created_at=member.created_at, joined_at=member.joined_at, ticket_id=ticket.id,
        now=discord.utils.utcnow(),
    )  # fmt: skip


class UserCardButton(
    ReportsErrors, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ticket:usercard:(?P<id>\d+)"
):
    """Shows the opener's card privately to staff for the ticket's category; anyone else is refused."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="User card (staff)", emoji="👤", style=discord.ButtonStyle.secondary,
                custom_id=f"ticket:usercard:{ticket_id}",
            )
        )  # fmt: skip
        self.ticket_id = ticket_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["id"]))

    async def _pressed(self, interaction: discord.Interaction) -> None:
        core = bot_of(interaction).core
        ticket = await core.tickets.get(self.ticket_id)
        config = await core.tickets.config(interaction.guild_id or 0)
        if ticket is None or interaction.guild is None or not access_to(interaction.user, config, ticket).is_staff:
            await reply_error(interaction, STAFF_ONLY)
            return
        member = interaction.guild.get_member(ticket.opener_id)
        if member is None:
            try:
                member = await interaction.guild.fetch_member(ticket.opener_id)
            except discord.NotFound:
                await reply_error(interaction, "The member who opened this ticket has left the server.")
                return
        embed = user_card_embed(await card_for(core, member, ticket))
        await interaction.response.send_message(embed=embed, ephemeral=True)


def user_card_view(ticket_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(UserCardButton(ticket_id))
    return view
