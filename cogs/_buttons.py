"""Persistent components: the panel (category select + Open ticket), the ticket modal,
and the Solved / Talk to staff buttons that carry their ticket id in `custom_id`."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from cogs._discord import NO_PINGS, bot_of, is_staff, reply_error

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


class TicketModal(discord.ui.Modal):
    subject: discord.ui.TextInput[TicketModal] = discord.ui.TextInput(
        label="Subject",
        custom_id="subject",
        placeholder="A short title for your question",
        min_length=3,
        max_length=100,
    )
    description: discord.ui.TextInput[TicketModal] = discord.ui.TextInput(
        label="Describe the problem",
        custom_id="description",
        style=discord.TextStyle.paragraph,
        placeholder="What happened, what did you expect, what have you tried?",
        min_length=1,
        max_length=1500,
    )

    def __init__(self, category: str) -> None:
        super().__init__(title=f"New {category} ticket"[:45], custom_id=f"ticket:modal:{category}"[:100])
        self.category = category

    async def on_submit(self, interaction: discord.Interaction) -> None:
        # Imported here: _flow imports this module for answer_view.
        from cogs import _flow

        bot = bot_of(interaction)
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        config = await bot.core.tickets.config(interaction.guild.id)
        if config is None:
            await reply_error(interaction, "Tickets are not set up on this server yet. Ask an admin to run /setup.")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            thread, ticket = await _flow.open_ticket(
                bot, interaction.guild, interaction.user, config, self.category,
                self.subject.value.strip(), self.description.value.strip(),
            )  # fmt: skip
        except _flow.TicketOpenError as exc:
            await reply_error(interaction, str(exc))
            return
        await interaction.followup.send(
            f"✅ Your ticket is open: {thread.mention}", ephemeral=True, allowed_mentions=NO_PINGS
        )
        subject, description = self.subject.value.strip(), self.description.value.strip()
        await _flow.answer_in_ticket(
            bot, thread, ticket.id, f"{subject}\n{description}", interaction.user.display_name, (subject, description)
        )


class PanelView(discord.ui.View):
    """Registered once at start (timeout=None, fixed custom_ids) so old panels keep working."""

    def __init__(self, categories: tuple[str, ...] = ("billing", "technical", "general")) -> None:
        super().__init__(timeout=None)
        self.category_select.options = [
            discord.SelectOption(label=c.capitalize(), value=c, description=f"Open a {c} ticket") for c in categories
        ]

    @discord.ui.select(custom_id="ticket:panel:category", placeholder="Choose a category to open a ticket…")
    async def category_select(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await _open_modal(interaction, select.values[0] if select.values else "general")

    @discord.ui.button(
        label="Open ticket", emoji="🎫", style=discord.ButtonStyle.primary, custom_id="ticket:panel:open"
    )
    async def open_button(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await _open_modal(interaction, "general")


async def _open_modal(interaction: discord.Interaction, category: str) -> None:
    bot = bot_of(interaction)
    if interaction.guild is None:
        await reply_error(interaction, "Tickets can only be opened in a server.")
        return
    config = await bot.core.tickets.config(interaction.guild.id)
    if config is None:
        await reply_error(interaction, "Tickets are not set up on this server yet. Ask an admin to run /setup.")
        return
    if category not in config.categories:
        category = "general" if "general" in config.categories else config.categories[0]
    reason = await bot.core.tickets.why_cannot_open(interaction.guild.id, interaction.user.id, discord.utils.utcnow())
    if reason:
        await reply_error(interaction, reason)
        return
    await interaction.response.send_modal(TicketModal(category))


class _TicketButton:
    """Shared behaviour of the per-ticket buttons (mixed into DynamicItem subclasses)."""

    action = ""

    def __init__(self, ticket_id: int, label: str, emoji: str, style: discord.ButtonStyle) -> None:
        super().__init__(  # type: ignore[call-arg]  # DynamicItem.__init__ via the MRO
            discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"ticket:{self.action}:{ticket_id}")
        )
        self.ticket_id = ticket_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        bot = bot_of(interaction)
        ticket = await bot.core.store.get_ticket(self.ticket_id)
        config = await bot.core.tickets.config(interaction.guild_id or 0)
        if ticket is None or ticket.is_closed:
            await reply_error(interaction, "This ticket is closed.")
            return False
        if interaction.user.id != ticket.opener_id and not is_staff(interaction.user, config):
            await reply_error(interaction, "Only the person who opened this ticket (or staff) can use these buttons.")
            return False
        return True

    async def callback(self, interaction: discord.Interaction) -> None:
        from cogs import _flow

        bot = bot_of(interaction)
        ticket = await bot.core.store.get_ticket(self.ticket_id)
        config = await bot.core.tickets.config(interaction.guild_id or 0)
        thread = interaction.channel
        if ticket is None or config is None or not isinstance(thread, discord.Thread):
            await reply_error(interaction, "This ticket is no longer available.")
            return
        # Acknowledge first: the hand-off/feedback work touches the DB and Discord several times.
        await interaction.response.edit_message(view=None)
        action = _flow.mark_solved if self.action == "solved" else _flow.request_staff
        text = await action(bot, thread, ticket, config)
        await interaction.followup.send(text, allowed_mentions=NO_PINGS)


class SolvedButton(
    _TicketButton, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ticket:solved:(?P<id>\d+)"
):
    action = "solved"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(ticket_id, "Solved", "✅", discord.ButtonStyle.success)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> SolvedButton:
        return cls(int(match["id"]))


class StaffButton(_TicketButton, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ticket:staff:(?P<id>\d+)"):
    action = "staff"

    def __init__(self, ticket_id: int) -> None:
        super().__init__(ticket_id, "Talk to staff", "🙋", discord.ButtonStyle.secondary)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str]
    ) -> StaffButton:
        return cls(int(match["id"]))


def answer_view(ticket_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SolvedButton(ticket_id))
    view.add_item(StaffButton(ticket_id))
    return view


def register_persistent(bot: TicketBot) -> None:
    bot.add_view(PanelView())
    bot.add_dynamic_items(SolvedButton, StaffButton)
