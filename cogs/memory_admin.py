"""/memory …: staff browse, edit, delete, import and review what the assistant has been taught."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from ai.split import unmask_links
from ai.untrusted import without_bidi
from cogs._discord import NO_PINGS, reply_error
from cogs.checks import require_staff
from cogs.errors import refuse
from cogs.train import TEACHERS_ONLY, category_choices, check_pair, checked_category
from memory.io import import_bytes
from tickets.errors import InvalidInput

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)
PAGE = 10
MAX_IMPORT_BYTES = 2_000_000


def _short(text: str, n: int = 80) -> str:
    """One line of an entry or a suggestion (whose question is a user's words) as text: no markup, no masked link."""
    text = unmask_links(" ".join(text.split()))
    return discord.utils.escape_markdown(text if len(text) <= n else text[: n - 1] + "…")


class MemoryGroup(
    app_commands.Group,
    name="memory",
    description="Manage the assistant's trained answers",
    guild_only=True,
):
    def __init__(self, bot: TicketBot) -> None:
        super().__init__()
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        await require_staff(interaction, TEACHERS_ONLY)
        return True

    @app_commands.command(name="list")
    @app_commands.describe(page="Page number (10 entries a page)")
    async def list_entries(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 10_000] = 1
    ) -> None:
        """List trained entries."""
        memory, guild = self.bot.core.memory, interaction.guild_id or 0
        total = await memory.count(guild)
        pages = max(1, -(-total // PAGE))
        if page > pages:
            await reply_error(interaction, f"There are only {pages} page(s).")
            return
        entries = await memory.list_entries(guild, offset=(page - 1) * PAGE, limit=PAGE)
        lines = [f"**#{e.id}** [{e.category}] {_short(e.query)} — used {e.usage_count}×" for e in entries]
        embed = discord.Embed(
            title=f"Trained answers ({total})", description="\n".join(lines) or "Nothing trained yet. Use /train."
        )
        embed.set_footer(text=f"Page {page}/{pages}")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction, entry_id: int) -> None:
        """Show one trained entry in full."""
        entry = await self.bot.core.memory.get(interaction.guild_id or 0, entry_id)
        if entry is None:
            await reply_error(interaction, f"There is no entry #{entry_id}.")
            return
        # An imported entry's category is any text of its file: an embed title holds 256 characters.
        title = without_bidi(f"Entry #{entry.id} · {entry.category}")[:256]
        embed = discord.Embed(title=title, description=entry.response[:4096])
        embed.add_field(name="Question", value=entry.query[:1024], inline=False)
        if entry.alternates:
            embed.add_field(
                name="Other phrasings", value="\n".join(_short(a) for a in entry.alternates)[:1024], inline=False
            )
        if entry.generated:
            lines = [f"{n}. {_short(text)}" for n, text in enumerate(entry.generated, 1)]
            embed.add_field(
                name="Generated phrasings (by the model; remove with /memory remove-generated)",
                value="\n".join(lines)[:1024],
                inline=False,
            )
        embed.set_footer(
            text=f"Used {entry.usage_count}× · confidence {entry.confidence:.2f} · updated {entry.updated_at}"
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="edit")
    @app_commands.autocomplete(category=category_choices)
    async def edit(
        self, interaction: discord.Interaction, entry_id: int, question: str | None = None, answer: str | None = None,
        category: str | None = None,
    ) -> None:  # fmt: skip
        """Change the question, answer or category of an entry."""
        memory, guild = self.bot.core.memory, interaction.guild_id or 0
        current = await memory.get(guild, entry_id)
        if current is None:
            await reply_error(interaction, f"There is no entry #{entry_id}.")
            return
        try:
            check_pair(question, answer)
            category = await checked_category(interaction, category)
        except InvalidInput as refused:
            await refuse(interaction, refused)
            return
        if question is not None:
            # Two entries with one question would compete and neither would be answered directly.
            other = await memory.get_by_query(guild, question.strip())
            if other is not None and other.id != entry_id:
                await reply_error(interaction, f"Entry #{other.id} already has that question; edit that one instead.")
                return
        await interaction.response.defer(ephemeral=True, thinking=True)  # a new question is re-embedded
        await memory.update(guild, entry_id, query=question, response=answer, category=category)
        self.bot.core.phrasings.request(guild, entry_id)  # a new question gets new generated phrasings
        await interaction.followup.send(f"✏️ Entry #{entry_id} updated.", ephemeral=True)

    @app_commands.command(name="remove-generated")
    @app_commands.describe(
        entry_id="The entry", number="Which generated phrasing (as /memory show numbers them); all when left out"
    )
    async def remove_generated(
        self, interaction: discord.Interaction, entry_id: int, number: app_commands.Range[int, 1, 100] | None = None
    ) -> None:
        """Remove phrasings the model generated for an entry."""
        guild = interaction.guild_id or 0
        if await self.bot.core.memory.get(guild, entry_id) is None:
            await reply_error(interaction, f"There is no entry #{entry_id}.")
            return
        removed = await self.bot.core.memory.remove_generated(guild, entry_id, number)
        if not removed:
            which = f"number {number}" if number is not None else "any"
            await reply_error(interaction, f"Entry #{entry_id} has no generated phrasing {which}.")
            return
        await interaction.response.send_message(
            f"🗑️ Removed {removed} generated phrasing(s) of entry #{entry_id}.", ephemeral=True
        )

    @app_commands.command(name="delete")
    async def delete(self, interaction: discord.Interaction, entry_id: int) -> None:
        """Delete an entry."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await self.bot.core.memory.delete(interaction.guild_id or 0, entry_id):
            await interaction.followup.send(f"🗑️ Entry #{entry_id} deleted.", ephemeral=True)
        else:
            await reply_error(interaction, f"There is no entry #{entry_id}.")

    @app_commands.command(name="import")
    @app_commands.describe(file="CSV or JSONL with query, response, category (optional alternates)")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        """Import Q&A pairs from a CSV or JSONL file."""
        if not file.filename.lower().endswith((".csv", ".jsonl")):
            await reply_error(interaction, "Attach a .csv or .jsonl file.")
            return
        if file.size > MAX_IMPORT_BYTES:
            await reply_error(interaction, f"The file is too large ({file.size} bytes; limit {MAX_IMPORT_BYTES}).")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await file.read()
        report = await import_bytes(
            self.bot.core.memory, interaction.guild_id or 0, data, file.filename, created_by=interaction.user.id
        )
        # New questions get their generated phrasings in the background.
        self.bot.core.phrasings.request_backfill(interaction.guild_id or 0)
        text = f"Imported: {report.added} added, {report.updated} updated, {report.skipped} unchanged."
        if report.errors:
            text += f"\n{len(report.errors)} row(s) skipped:\n" + "\n".join(report.errors[:15])
        await interaction.followup.send(text[:2000], ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="suggestions")
    async def suggestions(self, interaction: discord.Interaction) -> None:
        """Pending Q&A pairs proposed from solved tickets."""
        pending = await self.bot.core.memory.list_suggestions(interaction.guild_id or 0, limit=PAGE)
        lines = [f"**S{s.id}** ({s.kind}) {_short(s.query)} → {_short(s.response or '', 60)}" for s in pending]
        text = "\n".join(lines) or "No pending suggestions."
        await interaction.response.send_message(
            text + "\nApprove with `/memory approve`, reject with `/memory reject`.", ephemeral=True
        )

    @app_commands.command(name="approve")
    @app_commands.describe(
        suggestion_id="The S-number", question="Edit the question first", answer="Edit the answer first"
    )
    async def approve(
        self,
        interaction: discord.Interaction,
        suggestion_id: int,
        question: str | None = None,
        answer: str | None = None,
    ) -> None:
        """Approve a pending suggestion (optionally edited) into the trained memory."""
        try:
            check_pair(question, answer)
        except InvalidInput as refused:
            await refuse(interaction, refused)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # approving embeds the question
        entry = await self.bot.core.memory.approve_suggestion(
            interaction.guild_id or 0, suggestion_id, by=interaction.user.id, query=question, response=answer
        )
        if entry is None:
            await reply_error(interaction, f"There is no pending suggestion S{suggestion_id}.")
            return
        self.bot.core.phrasings.request(interaction.guild_id or 0, entry.id)
        await interaction.followup.send(f"✅ Suggestion S{suggestion_id} saved as entry #{entry.id}.", ephemeral=True)

    @app_commands.command(name="reject")
    async def reject(self, interaction: discord.Interaction, suggestion_id: int) -> None:
        """Reject a pending suggestion."""
        if await self.bot.core.memory.reject_suggestion(
            interaction.guild_id or 0, suggestion_id, by=interaction.user.id
        ):
            await interaction.response.send_message(f"Suggestion S{suggestion_id} rejected.", ephemeral=True)
        else:
            await reply_error(interaction, f"There is no pending suggestion S{suggestion_id}.")


async def setup(bot: TicketBot) -> None:
    bot.tree.add_command(MemoryGroup(bot))
