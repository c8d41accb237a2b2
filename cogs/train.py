"""/train and the 'Train from this message' context menu: staff teach the memory."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS, bot_of
from cogs.checks import staff_only
from cogs.errors import on_ui_error, refuse
from memory.models import MAX_QUERY_CHARS, MAX_RESPONSE_CHARS, validate_pair
from tickets.errors import InvalidInput

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)


async def category_choices(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for a trained entry's category: the server's ticket categories."""
    config = await bot_of(interaction).core.tickets.config(interaction.guild_id or 0)
    categories = config.categories if config else ()
    return [app_commands.Choice(name=c.label, value=c.name) for c in categories if typed.lower() in c.name][:25]


async def checked_category(interaction: discord.Interaction, category: str | None) -> str | None:
    """The category key for a trained entry (None: keep / the default); raises InvalidInput for an unknown one."""
    if category is None:
        return None
    config = await bot_of(interaction).core.tickets.config(interaction.guild_id or 0)
    found = config.category(category) if config else None
    if found is None:
        known = ", ".join(c.label for c in config.categories) if config else "none yet (run /setup)"
        raise InvalidInput(f"There is no category “{category[:40]}”. Categories: {known}.")
    return found.name


def check_pair(question: str | None, answer: str | None) -> None:
    """Raise InvalidInput saying what is wrong with a Q&A pair (None = keep that part)."""
    try:
        validate_pair(question, answer)
    except ValueError as exc:
        raise InvalidInput(f"The {exc}.") from None


TEACHERS_ONLY = "Only staff can teach the assistant."


class TrainFromMessage(discord.ui.Modal, title="Train from this message"):
    question: discord.ui.TextInput[TrainFromMessage] = discord.ui.TextInput(
        label="Question", custom_id="question", max_length=MAX_QUERY_CHARS
    )
    answer: discord.ui.TextInput[TrainFromMessage] = discord.ui.TextInput(
        label="Answer", custom_id="answer", style=discord.TextStyle.paragraph, max_length=MAX_RESPONSE_CHARS
    )

    on_error = on_ui_error

    def __init__(self, question: str, answer: str) -> None:
        super().__init__()
        self.question.default = question[:MAX_QUERY_CHARS]
        self.answer.default = answer[:MAX_RESPONSE_CHARS]

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await save_pair(interaction, self.question.value, self.answer.value, None)


async def save_pair(interaction: discord.Interaction, question: str, answer: str, category: str | None) -> None:
    """Save a Q&A pair; a question that is already trained (same wording once normalised) gets the
    new answer instead of a second entry, which would compete with it and block direct answers."""
    try:
        check_pair(question, answer)
    except InvalidInput as refused:
        await refuse(interaction, refused)
        return
    # Saving embeds the question through the model server, which can take longer than Discord's
    # 3-second limit for a first response (cold embedding model, busy server).
    await interaction.response.defer(ephemeral=True, thinking=True)
    memory, guild_id = bot_of(interaction).core.memory, interaction.guild_id or 0
    existing = await memory.get_by_query(guild_id, question.strip())
    if existing is not None:
        entry = await memory.update(guild_id, existing.id, response=answer, category=category)
        assert entry is not None
        text = f"✏️ Updated entry **#{entry.id}** ({entry.category}): that question was already trained."
    else:
        entry = await memory.add(
            guild_id, question.strip(), answer.strip(), category or "general", created_by=interaction.user.id
        )
        text = f"✅ Saved as entry **#{entry.id}** ({entry.category}). Similar questions will get this answer."
    # Phrasings for the question are generated in the background: the reply does not wait for the model.
    bot_of(interaction).core.phrasings.request(guild_id, entry.id)
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)


class TrainCog(commands.Cog):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Train from this message", callback=self.train_from_message)
        self.menu.guild_only = True

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.command(name="train")
    @app_commands.guild_only()
    @app_commands.describe(question="What users ask", answer="The answer to send", category="Ticket category")
    @app_commands.autocomplete(category=category_choices)
    @staff_only(TEACHERS_ONLY)
    async def train(
        self, interaction: discord.Interaction, question: str, answer: str, category: str | None = None
    ) -> None:
        """Teach the assistant a question and its answer (staff only)."""
        await save_pair(interaction, question, answer, await checked_category(interaction, category))

    @staff_only(TEACHERS_ONLY)
    async def train_from_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Turn a staff reply (and the question before it) into a trained Q&A pair."""
        question = ""
        if isinstance(message.channel, discord.Thread):
            stored = await self.bot.core.tickets.messages(message.channel.id)
            before = [
                m for m in stored if m.role == "user" and (message.id is None or (m.message_id or 0) < message.id)
            ]
            question = before[-1].content if before else ""
        await interaction.response.send_modal(TrainFromMessage(question, message.content))


async def setup(bot: TicketBot) -> None:
    await bot.add_cog(TrainCog(bot))
