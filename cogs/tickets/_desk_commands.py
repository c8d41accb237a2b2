"""The staff desk's commands inside a ticket: /claim, /unclaim, /transfer, /add, /remove, /rename, /priority,
/note, /notes, /close_request (staff for the ticket's category), and /reopen (the opener or staff).

Thin: each command finds its ticket, defers privately, calls `TicketLifecycle` (its `staff`, `reopener` and
`close_requests` collaborators) and posts what it returns: what everyone may know in the ticket (names as
text), the rest as a private reply. Refusals are UserErrors, shown privately by cogs/errors.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs._discord import NO_PINGS, is_staff
from cogs.checks import ticket_staff_only
from cogs.tickets._desk_views import register_desk_views
from cogs.tickets._lifecycle import TicketLifecycle, lifecycle_of
from db.dialect import stored_id
from tickets.desk_models import Priority
from tickets.errors import ActionRefused, InvalidInput
from tickets.models import GuildConfig, Ticket

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

STAFF_ONLY = "Only staff for this ticket's category can do that."


class DeskCog(commands.Cog, name="Staff desk"):
    def __init__(self, bot: TicketBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        register_desk_views(self.bot)

    @property
    def lifecycle(self) -> TicketLifecycle:
        return lifecycle_of(self.bot)

    # -- owning a ticket --------------------------------------------------------------------------------

    @app_commands.command(name="claim")
    @app_commands.guild_only()
    @ticket_staff_only(STAFF_ONLY)
    async def claim(self, interaction: discord.Interaction) -> None:
        """Take this ticket: everyone sees it is yours, and the assistant stays quiet (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        text = await self.lifecycle.staff.claim(thread, ticket, config, interaction.user)
        await self._public(interaction, thread, text)

    @app_commands.command(name="unclaim")
    @app_commands.guild_only()
    @ticket_staff_only(STAFF_ONLY)
    async def unclaim(self, interaction: discord.Interaction) -> None:
        """Release this ticket so another member of staff can claim it (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        text = await self.lifecycle.staff.unclaim(thread, ticket, config, interaction.user)
        await self._public(interaction, thread, text)

    @app_commands.command(name="transfer")
    @app_commands.guild_only()
    @app_commands.describe(member="Staff for this ticket's category who take it over")
    @ticket_staff_only(STAFF_ONLY)
    async def transfer(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Hand this ticket to another member of staff (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        text = await self.lifecycle.staff.transfer(thread, ticket, config, interaction.user, member)
        await self._public(interaction, thread, text)

    # -- who is in it -----------------------------------------------------------------------------------

    @app_commands.command(name="add")
    @app_commands.guild_only()
    @app_commands.describe(member="Who to let into this ticket")
    @ticket_staff_only(STAFF_ONLY)
    async def add(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Add a member to this ticket (a private ticket: they can see it; a forum post: they follow it) (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        text = await self.lifecycle.staff.add_member(thread, ticket, config, interaction.user, member)
        await self._public(interaction, thread, text)

    @app_commands.command(name="remove")
    @app_commands.guild_only()
    @app_commands.describe(member="Who to take out of this ticket")
    @ticket_staff_only(STAFF_ONLY)
    async def remove(self, interaction: discord.Interaction, member: discord.Member) -> None:
        """Remove a member from this ticket (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        text = await self.lifecycle.staff.remove_member(thread, ticket, config, interaction.user, member)
        await self._public(interaction, thread, text)

    # -- title, priority, notes ---------------------------------------------------------------------------

    @app_commands.command(name="rename")
    @app_commands.guild_only()
    @app_commands.describe(title="The ticket's new title")
    @ticket_staff_only(STAFF_ONLY)
    async def rename(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 100]) -> None:
        """Give this ticket a new title (Discord allows about 2 renames per 10 minutes) (staff)."""
        thread, ticket, config = await self._here(interaction)
        await self._public(interaction, thread, await self.lifecycle.staff.rename(thread, ticket, config, title))

    @app_commands.command(name="priority")
    @app_commands.guild_only()
    @app_commands.describe(level="low, normal, high or urgent")
    @ticket_staff_only(STAFF_ONLY)
    async def priority(
        self, interaction: discord.Interaction, level: Literal["low", "normal", "high", "urgent"]
    ) -> None:
        """Set this ticket's priority; automatic urgency flags never change it afterwards (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        text = await self.lifecycle.staff.set_priority(thread, ticket, config, interaction.user, Priority(level))
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="note")
    @app_commands.guild_only()
    @app_commands.describe(text="The note: only staff ever see it")
    @ticket_staff_only(STAFF_ONLY)
    async def note(self, interaction: discord.Interaction, text: app_commands.Range[str, 1, 1000]) -> None:
        """Write an internal note on this ticket: never shown to the opener or the assistant (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        reply = await self.lifecycle.staff.note(thread, ticket, config, interaction.user, text)
        await interaction.followup.send(reply, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="notes")
    @app_commands.guild_only()
    @ticket_staff_only(STAFF_ONLY)
    async def notes(self, interaction: discord.Interaction) -> None:
        """This ticket's internal notes, privately (staff)."""
        _thread, ticket, _config = await self._here(interaction, closed_ok=True)
        embed = await self.lifecycle.staff.notes_embed(ticket)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_PINGS)

    # -- closing and reopening ------------------------------------------------------------------------------

    @app_commands.command(name="close_request")
    @app_commands.guild_only()
    @app_commands.describe(reason="Why you think it can close (shown to the opener)")
    @ticket_staff_only(STAFF_ONLY)
    async def close_request(
        self, interaction: discord.Interaction, reason: app_commands.Range[str, 1, 300] | None = None
    ) -> None:
        """Ask the opener whether this ticket can close: buttons for them; it closes by itself if ignored (staff)."""
        thread, ticket, config = await self._here(interaction)
        assert isinstance(interaction.user, discord.Member)
        text = await self.lifecycle.close_requests.request(thread, ticket, config, interaction.user, reason or "")
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="reopen")
    @app_commands.guild_only()
    @app_commands.describe(ticket="The closed ticket (default: the one this is used in)")
    async def reopen(self, interaction: discord.Interaction, ticket: str | None = None) -> None:
        """Reopen a closed ticket, within the time this server allows (its opener or staff)."""
        config = await self._config(interaction)
        if ticket is None and not isinstance(interaction.channel, discord.Thread):
            raise InvalidInput("Use /reopen in the ticket, or pick the ticket in its option.")
        ticket_id = interaction.channel_id if ticket is None else _ticket_id(ticket)
        assert isinstance(interaction.user, discord.Member) and ticket_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        thread, _reopened = await self.lifecycle.reopener.reopen(ticket_id, config, interaction.user)
        await interaction.followup.send(f"🔓 Reopened {thread.mention}.", ephemeral=True, allowed_mentions=NO_PINGS)

    @reopen.autocomplete("ticket")
    async def _closed_tickets(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        config = await self.bot.core.tickets.config(interaction.guild_id or 0)
        if config is None:
            return []
        mine = None if is_staff(interaction.user, config) else interaction.user.id
        found = await self.bot.core.desk.reopening.reopenable(
            config.guild_id, opener_id=mine, now=discord.utils.utcnow()
        )
        return [
            app_commands.Choice(name=f"{t.subject} (#{t.id})"[:100], value=str(t.id))
            for t in found
            if typed.lower() in t.subject.lower() or typed in str(t.id)
        ][:25]

    # -- helpers ------------------------------------------------------------------------------------------

    async def _config(self, interaction: discord.Interaction) -> GuildConfig:
        config = await self.bot.core.tickets.config(interaction.guild_id or 0)
        if config is None:
            raise ActionRefused("Tickets are not set up on this server yet. Ask an admin to run /setup.")
        return config

    async def _here(
        self, interaction: discord.Interaction, *, closed_ok: bool = False
    ) -> tuple[discord.Thread, Ticket, GuildConfig]:
        """The ticket the command is used in, after deferring privately; raises ActionRefused."""
        config = await self._config(interaction)
        thread = interaction.channel
        ticket = await self.bot.core.tickets.get(thread.id) if isinstance(thread, discord.Thread) else None
        if ticket is None or not isinstance(thread, discord.Thread) or ticket.guild_id != config.guild_id:
            raise ActionRefused("This command only works inside a ticket.")
        if ticket.is_closed and not closed_ok:
            raise ActionRefused("This ticket is closed. `/reopen` brings it back.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        return thread, ticket, config

    async def _public(self, interaction: discord.Interaction, thread: discord.Thread, text: str) -> None:
        """Say `text` in the ticket (the bot's own words: it names people as text) and confirm privately."""
        try:
            await thread.send(text, allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.warning("Could not post in ticket %d", thread.id, exc_info=True)
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.followup.send("✅ Done.", ephemeral=True, allowed_mentions=NO_PINGS)


def _ticket_id(value: str) -> int:
    found = stored_id(value.strip().lstrip("#").split("/")[-1])  # "²" or 30 digits are no ticket's id
    if found is None:
        raise InvalidInput("Pick the ticket from the list (or give its id).")
    return found
