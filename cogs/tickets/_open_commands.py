"""The other ways of opening a ticket, through the same opening path as the panel:

- the message menu **Open ticket from this message** (any member): the ticket quotes the message as text
  (its author is named, never mentioned); the member picks the category (a select, when the server has
  more than one) and fills in its form, the subject prefilled from the message;
- **/ticket_open member subject [category] [details]** (staff for that category): a ticket for a member.
  Members' limits and cooldown do not apply (they stop members spamming; staff act on purpose); the
  assistant stays quiet in it until `/ticket_ai enabled:true`, as in a ticket staff have written in.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS, bot_of
from cogs.checks import staff_for_category
from cogs.errors import on_ui_error, refuse
from cogs.tickets._lifecycle import lifecycle_of
from cogs.tickets._opening import QuotedMessage, TicketRequest, blacklist_gate
from cogs.tickets._views import category_options, show_ticket_form
from memory.text import visible_text
from tickets.errors import ActionRefused, InvalidInput, UserError
from tickets.models import GuildConfig, TicketSource

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

MENU_NAME = "Open ticket from this message"
NOT_SET_UP = "Tickets are not set up on this server yet. Ask an admin to run /setup."


def quote_of(message: discord.Message) -> QuotedMessage:
    content = message.content or ("_(attachments only)_" if message.attachments else "_(no text)_")
    return QuotedMessage(message.author.display_name, message.channel.id, message.jump_url, content)


def subject_from(message: discord.Message) -> str:
    first_line = next((line for line in message.content.splitlines() if visible_text(line)), "")
    return visible_text(first_line)[:100] or f"About a message by {message.author.display_name}"[:100]


class CategoryPick(discord.ui.View):
    """An ephemeral select: which category the ticket from a message goes to (then its form)."""

    on_error = on_ui_error

    def __init__(self, config: GuildConfig, message: discord.Message) -> None:
        super().__init__(timeout=600)
        self.subject = subject_from(message)
        self.quote = quote_of(message)
        self.pick.options = category_options(config.categories)

    @discord.ui.select(cls=discord.ui.Select, placeholder="Which kind of ticket is this?")
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        try:
            await show_ticket_form(interaction, select.values[0], subject=self.subject, quote=self.quote)
        except UserError as refused:
            await refuse(interaction, refused)


class OpeningCog(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=MENU_NAME, callback=self.open_from_message)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def open_from_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Open a ticket about this message (any member): it is quoted in the ticket."""
        try:
            config = await self._config(interaction)
            if len(config.categories) == 1:
                await show_ticket_form(
                    interaction, config.categories[0].name, subject=subject_from(message), quote=quote_of(message)
                )
                return
            # Checked before the select too: no choosing for a ticket that cannot open.
            await blacklist_gate(bot_of(interaction).core.desk, config.guild_id, interaction.user.id)
            await bot_of(interaction).core.tickets.check_can_open(
                guild_id=config.guild_id, user_id=interaction.user.id, now=discord.utils.utcnow()
            )
            await lifecycle_of(self.bot).notices.check_gates(config.guild_id, interaction.user, before_form=True)
        except UserError as refused:
            await refuse(interaction, refused)
            return
        await interaction.response.send_message(
            "Which kind of ticket should this message open?", view=CategoryPick(config, message), ephemeral=True
        )

    @app_commands.command(name="ticket_open")
    @app_commands.guild_only()
    @app_commands.describe(
        member="Who the ticket is for (they become its opener)",
        subject="The ticket's title",
        category="Its category (default: the server's default category)",
        details="What the ticket is about (shown in it; optional)",
    )
    @staff_for_category("Only staff can open a ticket for someone else.")
    async def ticket_open(
        self, interaction: discord.Interaction, member: discord.Member, subject: app_commands.Range[str, 3, 100],
        category: str | None = None, details: app_commands.Range[str, 1, 1500] | None = None,
    ) -> None:  # fmt: skip
        """Open a ticket for a member (staff only)."""
        try:
            config = await self._config(interaction)
            chosen = config.default_category if category is None else config.category(category)
            if chosen is None:
                raise InvalidInput(f"There is no category “{(category or '')[:40]}”.")
            if member.bot:
                raise InvalidInput("Tickets are for members, not bots.")
            if len(visible_text(subject)) < 3:
                raise InvalidInput("The subject needs at least 3 characters besides spaces and invisible characters.")
        except UserError as refused:
            await refuse(interaction, refused)
            return
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        await interaction.response.defer(ephemeral=True, thinking=True)
        request = TicketRequest(
            guild=interaction.guild, opener=member, category=chosen.name, subject=visible_text(subject),
            description=visible_text(details), source=TicketSource.STAFF, opened_by=interaction.user,
        )  # fmt: skip
        try:
            opened = await lifecycle_of(self.bot).opened(config, request)
        except UserError as refused:
            await refuse(interaction, refused)
            return
        await interaction.followup.send(
            f"✅ Opened {opened.thread.mention} for {member.mention}. The assistant stays quiet there until "
            "`/ticket_ai enabled:true`.",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )

    @ticket_open.autocomplete("category")
    async def _category_names(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        config = await self.bot.core.tickets.config(interaction.guild_id or 0)
        names = config.categories if config else ()
        return [app_commands.Choice(name=c.label, value=c.name) for c in names if typed.lower() in c.label.lower()][:25]

    async def _config(self, interaction: discord.Interaction) -> GuildConfig:
        config = await self.bot.core.tickets.config(interaction.guild_id or 0)
        if config is None or not config.categories:
            raise ActionRefused(NOT_SET_UP)
        return config
