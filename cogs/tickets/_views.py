"""Persistent components: the panel (category select + Open ticket), the ticket form (a category's
questions), and the Solved / Talk to staff buttons that carry their ticket and answer ids in `custom_id`."""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any, Self

import discord
from discord.ext import commands

from cogs._discord import NO_PINGS, access_to, reply_error
from cogs.errors import ReportsErrors, on_ui_error, refuse
from cogs.tickets._lifecycle import lifecycle_of
from cogs.tickets._opening import QuotedMessage, TicketRequest, blacklist_gate
from memory.text import visible_text
from tickets.categories import MAX_QUESTIONS
from tickets.errors import ActionRefused, InvalidInput, UserError
from tickets.models import DEFAULT_CATEGORIES, Category, FormAnswer, QuestionStyle, TicketMode, TicketSource

log = logging.getLogger(__name__)


SUBJECT_MIN = 3
TEXT_STYLES = {QuestionStyle.SHORT: discord.TextStyle.short, QuestionStyle.PARAGRAPH: discord.TextStyle.paragraph}


def question_id(index: int) -> str:
    """custom_id of a form's question `index` (from 0): the first is the ticket's description."""
    return "description" if index == 0 else f"answer{index + 1}"


class TicketModal(discord.ui.Modal):
    """The category's form: the subject, then its questions (at most 4: a modal holds 5 inputs)."""

    on_error = on_ui_error

    def __init__(self, category: Category, *, subject: str = "", quote: QuotedMessage | None = None) -> None:
        # One custom_id per form shown: discord.py finds the form a submit belongs to by its custom_id alone.
        form_id = f"ticket:modal:{category.name}:{secrets.token_hex(6)}"
        super().__init__(title=f"New {category.label} ticket"[:45], custom_id=form_id[:100])
        self.category = category
        self.quote = quote
        self.subject: discord.ui.TextInput[TicketModal] = discord.ui.TextInput(
            label="Subject", custom_id="subject", placeholder="A short title for your question",
            min_length=SUBJECT_MIN, max_length=100, default=subject[:100] or None,
        )  # fmt: skip
        self.add_item(self.subject)
        self.questions = category.questions[:MAX_QUESTIONS]
        self.answers: list[discord.ui.TextInput[TicketModal]] = []
        for index, question in enumerate(self.questions):
            text_input: discord.ui.TextInput[TicketModal] = discord.ui.TextInput(
                label=question.label[:45], custom_id=question_id(index), placeholder=question.placeholder or None,
                required=question.required, min_length=1 if question.required else None,
                max_length=question.max_length,
                style=TEXT_STYLES[question.style],
            )  # fmt: skip
            self.answers.append(text_input)
            self.add_item(text_input)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await self._submitted(interaction)
        except UserError as refused:  # expected: the reply says why (not an error for the log)
            await refuse(interaction, refused)

    def _form(self) -> tuple[str, tuple[FormAnswer, ...]]:
        """The subject and the answers as typed, checked; raises InvalidInput."""
        # Zero-width and control characters count as nothing: they would make an invisible post title.
        subject = visible_text(self.subject.value)
        if len(subject) < SUBJECT_MIN:
            raise InvalidInput("The subject needs at least 3 characters besides spaces and invisible characters.")
        # Discord makes sure required questions get something typed; an answer with nothing visible in it
        # is kept as empty (the starter then says so) rather than refusing the whole form.
        pairs = zip(self.questions, self.answers, strict=True)
        return subject, tuple(FormAnswer(q.label, visible_text(i.value)) for q, i in pairs)

    async def _submitted(self, interaction: discord.Interaction) -> None:
        assert interaction.guild is not None and isinstance(interaction.user, discord.Member)
        lifecycle = lifecycle_of(interaction.client)
        subject, answers = self._form()
        config = await lifecycle.core.tickets.config(interaction.guild.id)
        if config is None:
            raise ActionRefused("Tickets are not set up on this server yet. Ask an admin to run /setup.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        request = TicketRequest(
            guild=interaction.guild, opener=interaction.user, category=self.category.name, subject=subject,
            description=answers[0].answer if answers else "", answers=answers, quote=self.quote,
            source=TicketSource.MESSAGE if self.quote is not None else TicketSource.PANEL,
        )  # fmt: skip
        opened = await lifecycle.opened(config, request)
        # From here on the ticket exists (post, row, staff pinged): it is answered whatever happens to
        # the confirmation, and nothing may tell the user to try again (the cooldown counts this ticket).
        await _confirm(
            interaction,
            f"✅ Your ticket is open: {opened.thread.mention}" + (f"\n{opened.note}" if opened.note else ""),
        )
        await lifecycle.first_question(opened, request)


async def _confirm(interaction: discord.Interaction, text: str) -> None:
    """Best effort: replace the deferred "thinking…" with `text`.

    If Discord refuses both ways (a 500, an expired interaction), the user still learns of the ticket:
    its starter message mentions them.
    """
    try:
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    except discord.HTTPException:
        log.warning("Could not confirm a new ticket; editing the deferred reply instead", exc_info=True)
    try:
        await interaction.edit_original_response(content=text, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("Could not confirm a new ticket at all; its starter message pings the user", exc_info=True)


def _option_description(category: Category) -> str | None:
    if category.mode is TicketMode.PRIVATE_THREAD:
        return f"🔒 Private · {category.description}".rstrip(" ·")[:100]
    return category.description[:100] or None


def category_options(categories: tuple[Category, ...]) -> list[discord.SelectOption]:
    return [
        discord.SelectOption(label=c.label, value=c.name, description=_option_description(c), emoji=c.emoji)
        for c in categories[:25]
    ]


class PanelView(discord.ui.View):
    """Registered once at start (timeout=None, fixed custom_ids) so old panels keep working; a posted
    panel's options are the server's categories (updated when they change, see `_panel.py`)."""

    on_error = on_ui_error

    def __init__(self, categories: tuple[Category, ...] = ()) -> None:
        super().__init__(timeout=None)
        # Only the registered copy has no options: discord.py routes presses by custom_id.
        self.category_select.options = category_options(categories) or [
            discord.SelectOption(label=c.capitalize(), value=c) for c in DEFAULT_CATEGORIES
        ]

    @discord.ui.select(
        cls=discord.ui.Select, custom_id="ticket:panel:category", placeholder="Choose a category to open a ticket…"
    )
    async def category_select(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await _open_modal(interaction, select.values[0] if select.values else None)

    @discord.ui.button(
        label="Open ticket", emoji="🎫", style=discord.ButtonStyle.primary, custom_id="ticket:panel:open"
    )
    async def open_button(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await _open_modal(interaction, None)


async def _open_modal(interaction: discord.Interaction, category: str | None) -> None:
    try:
        await show_ticket_form(interaction, category)
    except UserError as refused:
        await refuse(interaction, refused)


async def show_ticket_form(
    interaction: discord.Interaction, category: str | None, *, subject: str = "", quote: QuotedMessage | None = None
) -> None:
    """Answer `interaction` with the form of `category` (None: the server's default category).

    Raises UserError: not set up, a category that no longer exists, or the member may not open a ticket now.
    """
    lifecycle = lifecycle_of(interaction.client)
    if interaction.guild is None:
        raise ActionRefused("Tickets can only be opened in a server.")
    config = await lifecycle.core.tickets.config(interaction.guild.id)
    if config is None:
        raise ActionRefused("Tickets are not set up on this server yet. Ask an admin to run /setup.")
    chosen = config.default_category if category is None else config.category(category)
    if chosen is None:
        raise ActionRefused("That category no longer exists. Please pick another one.")
    # Checked before the form is shown (and again on submit): no typing for a ticket that cannot open.
    await blacklist_gate(lifecycle.core.desk, interaction.guild.id, interaction.user.id)
    await lifecycle.core.tickets.check_can_open(
        guild_id=interaction.guild.id, user_id=interaction.user.id, now=discord.utils.utcnow()
    )
    await lifecycle.notices.check_gates(interaction.guild.id, interaction.user, before_form=True)
    await interaction.response.send_modal(TicketModal(chosen, subject=subject, quote=quote))


_ID = r"(?P<id>\d+)(?::(?P<route>\d+))?"


class _TicketButton(
    ReportsErrors, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"ticket:(?:solved|staff):{_ID}"
):
    """Shared behaviour of the per-ticket buttons; the subclasses are the ones registered.

    custom_id `ticket:<action>:<ticket id>:<answer id>`; buttons posted before answers carried their
    id (`ticket:<action>:<ticket id>`) still work and rate the latest answer.
    """

    action = ""
    label, emoji, style = "", "", discord.ButtonStyle.secondary

    def __init__(self, ticket_id: int, route_id: int | None = None) -> None:
        custom_id = f"ticket:{self.action}:{ticket_id}" + (f":{route_id}" if route_id is not None else "")
        super().__init__(discord.ui.Button(label=self.label, emoji=self.emoji, style=self.style, custom_id=custom_id))
        self.ticket_id = ticket_id
        self.route_id = route_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["id"]), int(match["route"]) if match["route"] else None)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # discord.py swallows errors of dynamic items silently: report them here.
        try:
            return await self._allowed(interaction)
        except Exception as exc:
            await on_ui_error(self, interaction, exc, self)
            return False

    async def _allowed(self, interaction: discord.Interaction) -> bool:
        core = lifecycle_of(interaction.client).core
        ticket = await core.tickets.get(self.ticket_id)
        config = await core.tickets.config(interaction.guild_id or 0)
        if ticket is None or ticket.is_closed:
            await reply_error(interaction, "This ticket is closed.")
            return False
        if not access_to(interaction.user, config, ticket).opener_or_staff:
            await reply_error(interaction, "Only the person who opened this ticket (or staff) can use these buttons.")
            return False
        return True

    async def _pressed(self, interaction: discord.Interaction) -> None:
        thread = interaction.channel
        if not isinstance(thread, discord.Thread):
            await reply_error(interaction, "This ticket is no longer available.")
            return
        # Acknowledge first: an answer still being written in this ticket is waited for.
        await interaction.response.defer()
        try:
            text = await lifecycle_of(interaction.client).rated(
                thread, ticket_id=self.ticket_id, route_id=self.route_id, solved=self.action == "solved",
                by=interaction.user,
            )  # fmt: skip
        except ActionRefused as refused:
            await _drop_buttons(interaction)
            await refuse(interaction, refused)
            return
        # Only now: if the action failed, the buttons stay so it can be tried again.
        await _drop_buttons(interaction)
        await interaction.followup.send(text, allowed_mentions=NO_PINGS)
        if self.action == "solved":
            await lifecycle_of(interaction.client).ask_rating(thread, self.ticket_id, interaction.user)


async def _drop_buttons(interaction: discord.Interaction) -> None:
    try:
        await interaction.edit_original_response(view=None)
    except discord.HTTPException:
        log.warning("Could not remove the buttons from message %s", interaction.message, exc_info=True)


class SolvedButton(_TicketButton, template=rf"ticket:solved:{_ID}"):
    action = "solved"
    label, emoji, style = "Solved", "✅", discord.ButtonStyle.success


class StaffButton(_TicketButton, template=rf"ticket:staff:{_ID}"):
    action = "staff"
    label, emoji, style = "Talk to staff", "🙋", discord.ButtonStyle.secondary


def answer_view(ticket_id: int, route_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SolvedButton(ticket_id, route_id))
    view.add_item(StaffButton(ticket_id, route_id))
    return view


def register_persistent(bot: commands.Bot) -> None:
    """Old panels and answer buttons keep working after a restart."""
    bot.add_view(PanelView())
    bot.add_dynamic_items(SolvedButton, StaffButton)
