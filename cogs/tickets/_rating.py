"""The opener's rating (tickets/ratings.py) in Discord: 1–5 buttons, then an optional comment form.

Where the opener is asked:
- **in the ticket** when they mark it **Solved**: the ticket is still open (it closes by itself after
  `solved_close_delay_hours`), so the buttons work there;
- **by DM** when the ticket closes without a rating: a closed ticket is archived and locked, and Discord
  disables buttons in locked threads. DMs may be closed (Discord error 50007): the prompt is then recorded
  as not delivered, and the close goes on as ever.

The buttons are `DynamicItem`s carrying the ticket id, so they work after a restart; the stars are stored at
the press (the comment form can be dismissed). The closing summary in the log channel is edited to show the
rating and the comment as they arrive.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Self

import discord
from discord.ext import commands

from ai.split import unmask_links
from cogs._discord import NO_PINGS, bot_of
from cogs.errors import on_ui_error, refuse
from tickets.care_models import Rating, RatingPlace
from tickets.models import Ticket
from tickets.ratings import COMMENT_LIMIT, STAR_WORDS, RatingRefused, stars_text

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

DMS_CLOSED = 50007
RATING_FIELD = "Rating"
COMMENT_FIELD = "Comment"


def rating_view(ticket_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for stars in range(1, 6):
        view.add_item(RatingButton(ticket_id, stars))
    return view


class RatingButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ticket:rate:(?P<id>\d+):(?P<stars>[1-5])"
):
    def __init__(self, ticket_id: int, stars: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"{stars} ★", style=discord.ButtonStyle.secondary, custom_id=f"ticket:rate:{ticket_id}:{stars}"
            )
        )
        self.ticket_id = ticket_id
        self.stars = stars

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["id"]), int(match["stars"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            ticket = await _ticket(interaction, self.ticket_id)
            rating = await bot_of(interaction).core.ratings.rate(
                ticket, user_id=interaction.user.id, stars=self.stars, now=discord.utils.utcnow()
            )
            # The stars are kept whatever happens to the form: it is optional and may be dismissed.
            await interaction.response.send_modal(CommentModal(ticket.id, self.stars))
            await RatingPrompter(bot_of(interaction)).show_in_summary(rating)
        except RatingRefused as refused:
            await refuse(interaction, refused)
        except Exception as exc:
            await on_ui_error(self, interaction, exc, self)


class CommentModal(discord.ui.Modal):
    on_error = on_ui_error

    def __init__(self, ticket_id: int, stars: int) -> None:
        super().__init__(
            title=f"Thanks for the {stars} ★ — anything to add?"[:45], custom_id=f"ticket:comment:{ticket_id}"
        )
        self.ticket_id = ticket_id
        self.stars = stars
        self.comment: discord.ui.TextInput[CommentModal] = discord.ui.TextInput(
            label="Comment (optional)", custom_id="comment", style=discord.TextStyle.paragraph, required=False,
            max_length=COMMENT_LIMIT, placeholder="What went well, what could be better?",
        )  # fmt: skip
        self.add_item(self.comment)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            ticket = await _ticket(interaction, self.ticket_id)
            rating = await bot_of(interaction).core.ratings.comment(
                ticket, user_id=interaction.user.id, text=self.comment.value or "", now=discord.utils.utcnow()
            )
        except RatingRefused as refused:
            await refuse(interaction, refused)
            return
        thanks = f"⭐ Thank you! You rated this ticket {stars_text(self.stars)}."
        if interaction.message is not None:
            # The prompt becomes the thanks: no buttons left to press twice.
            await interaction.response.edit_message(content=thanks, view=None, embed=None)
        else:
            await interaction.response.send_message(thanks, ephemeral=True, allowed_mentions=NO_PINGS)
        if rating.comment:
            await RatingPrompter(bot_of(interaction)).show_in_summary(rating)


async def _ticket(interaction: discord.Interaction, ticket_id: int) -> Ticket:
    ticket = await bot_of(interaction).core.tickets.get(ticket_id)
    if ticket is None:
        raise RatingRefused("This ticket no longer exists.")
    return ticket


def _ask_text(ticket: Ticket, guild_name: str, *, closed: bool) -> str:
    subject = discord.utils.escape_markdown(ticket.subject)[:100]
    scale = ", ".join(f"{n} = {word}" for n, word in STAR_WORDS.items() if n in (1, 5))
    if closed:
        where = discord.utils.escape_markdown(guild_name)[:100]
        return (
            f"⭐ Your ticket **{subject}** on **{where}** is closed. How did we do? Rate the help you got ({scale}); "
            "you can add a comment after."
        )
    return f"⭐ How did we do? Rate the help you got ({scale}); you can add a comment after. This is optional."


class RatingPrompter:
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        self.core = bot.core

    async def ask_in_ticket(self, thread: discord.Thread, ticket: Ticket) -> None:
        """The opener marked the ticket solved: ask while its buttons still work. Never raises."""
        try:
            if not await self.core.ratings.wants_prompt(ticket):
                return
            text = _ask_text(ticket, thread.guild.name, closed=False)
            message = await thread.send(text, view=rating_view(ticket.id), allowed_mentions=NO_PINGS)
            await self.core.ratings.prompted(
                ticket, RatingPlace.TICKET, delivered=True, now=discord.utils.utcnow(), channel_id=thread.id,
                message_id=message.id,
            )  # fmt: skip
        except Exception:
            log.exception("Could not ask for a rating in ticket %d", ticket.id)

    async def after_close(self, ticket: Ticket, guild: discord.Guild, summary: discord.Message | None) -> None:
        """Remember the log channel's summary (edited with the rating), then ask by DM if the ticket is
        unrated. Never raises: nothing here may fail a close."""
        try:
            now = discord.utils.utcnow()
            if summary is not None:
                await self.core.ratings.summary_logged(
                    ticket, channel_id=summary.channel.id, message_id=summary.id, now=now
                )
                rating = await self.core.ratings.get(ticket.id)
                if rating is not None and rating.rated:
                    await self.show_in_summary(rating)
            if await self.core.ratings.wants_prompt(ticket):
                await self._ask_by_dm(ticket, guild)
        except Exception:
            log.exception("Could not ask for a rating of ticket %d", ticket.id)

    async def _ask_by_dm(self, ticket: Ticket, guild: discord.Guild) -> None:
        now = discord.utils.utcnow()
        try:
            user = self.bot.get_user(ticket.opener_id) or await self.bot.fetch_user(ticket.opener_id)
            message = await user.send(
                _ask_text(ticket, guild.name, closed=True), view=rating_view(ticket.id), allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as exc:
            # 50007: the member does not take DMs from this server's members or from bots.
            level = logging.INFO if exc.code == DMS_CLOSED else logging.WARNING
            log.log(level, "Could not DM the rating prompt of ticket %d (%s)", ticket.id, exc.code)
            await self.core.ratings.prompted(ticket, RatingPlace.DM, delivered=False, error_code=exc.code, now=now)
            return
        await self.core.ratings.prompted(
            ticket, RatingPlace.DM, delivered=True, now=now, channel_id=message.channel.id, message_id=message.id
        )

    async def show_in_summary(self, rating: Rating) -> None:
        """Edit the closing summary in the log channel to show the rating (and comment). Best effort."""
        if rating.log_channel_id is None or rating.log_message_id is None or rating.stars is None:
            return
        channel = self.bot.get_channel(rating.log_channel_id)
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            message = await channel.fetch_message(rating.log_message_id)
            if not message.embeds:
                return
            embed = message.embeds[0]
            keep = [f for f in embed.fields if f.name not in (RATING_FIELD, COMMENT_FIELD)]
            embed.clear_fields()
            for f in keep:
                embed.add_field(name=f.name, value=f.value, inline=f.inline)
            embed.add_field(name=RATING_FIELD, value=stars_text(rating.stars), inline=True)
            if rating.comment:
                # The opener's words on the bot's card, read by staff: a masked link there shows its address.
                embed.add_field(name=COMMENT_FIELD, value=unmask_links(rating.comment)[:1024], inline=False)
            await message.edit(embed=embed, allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.warning("Could not show the rating of ticket %d in the log channel", rating.ticket_id, exc_info=True)


def register_rating(bot: discord.Client) -> None:
    """Rating buttons in tickets and DMs keep working after a restart."""
    if isinstance(bot, commands.Bot):
        bot.add_dynamic_items(RatingButton)
