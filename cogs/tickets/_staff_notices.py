"""What staff are told about tickets, and when: the new-ticket notice with the user card, hand-offs and SLA
re-pings go through `StaffNotices.ping`, which holds the ping back outside the server's support hours (the
notice is posted at once without pinging; the ping is queued in the database and the scheduler sends it when
support opens, see `_care.py`); a claimed ticket's re-ping goes to its owner (`ping_member`). Also the opening
gates and the support-hours note the opener sees.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from cogs._discord import ping_users
from cogs.tickets._posts import notify_staff, safe_send, staff_channel
from cogs.tickets._user_card import card_for, user_card_embed, user_card_view
from tickets.care_models import PingKind
from tickets.hours import SupportHours
from tickets.models import GuildConfig, Ticket

if TYPE_CHECKING:
    from app.runtime import Core

log = logging.getLogger(__name__)


def hours_note(hours: SupportHours) -> str:
    return f"🕘 Staff are available {hours.describe()}; the assistant answers now and staff will reply when we open."


class StaffNotices:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def check_gates(
        self, guild_id: int, member: discord.User | discord.Member, *, before_form: bool = False
    ) -> None:
        """The opening gates for a member opening a ticket themselves; raises their TicketOpenError."""
        await self.core.gates.check(
            guild_id=guild_id, user_id=member.id, account_created_at=member.created_at, now=discord.utils.utcnow(),
            stage="form" if before_form else "open",
        )  # fmt: skip

    async def closed_note(self, guild_id: int) -> str:
        """What a new ticket says outside support hours ("" inside them)."""
        hours = await self.core.care.hours(guild_id)
        return "" if hours.is_open(discord.utils.utcnow()) else hours_note(hours)

    async def ping(
        self, thread: discord.Thread, config: GuildConfig, text: str, *, ticket_id: int, category: str | None,
        kind: PingKind, embed: discord.Embed | None = None, view: discord.ui.View | None = None,
    ) -> bool:  # fmt: skip
        """Ping staff now, or, outside support hours, post `text` without the ping and queue the ping for the
        opening. Returns False when the ping was held back."""
        hours = await self.core.care.hours(thread.guild.id)
        now = discord.utils.utcnow()
        if hours.is_open(now):
            await notify_staff(thread, config, text, category=category, embed=embed, view=view)
            return True
        opening = hours.next_opening(now)
        when = discord.utils.format_dt(opening, "F")
        later = f"{text}\n-# 🕘 Outside support hours ({hours.describe()}): staff will be pinged when we open, {when}."
        await notify_staff(thread, config, later, category=category, ping=False, embed=embed, view=view)
        await self.core.care.hold_ping(
            guild_id=thread.guild.id, ticket_id=ticket_id, channel_id=staff_channel(thread, config).id,
            role_id=config.staff_role_for(category), kind=kind, text=text, now=now, release_at=opening,
        )  # fmt: skip
        return False

    async def ping_member(self, thread: discord.Thread, config: GuildConfig, text: str, *, user_id: int) -> None:
        """Ping one member of staff (a claimed ticket's owner) where staff pings go: the log channel, else the
        ticket. Only sent inside support hours (the scheduler's re-pings are), so nothing is held back."""
        try:
            await staff_channel(thread, config).send(
                f"<@{user_id}> {text}", allowed_mentions=ping_users(discord.Object(user_id))
            )
        except discord.HTTPException:
            log.warning("Could not ping the owner of ticket %d", thread.id, exc_info=True)

    async def new_ticket(
        self, thread: discord.Thread, config: GuildConfig, text: str, *, ticket: Ticket, opener: discord.Member
    ) -> None:
        """The new-ticket notice, with the user card for staff: in the log channel as an embed; in the ticket
        (no log channel) behind a staff-only button, since the opener reads the ticket."""
        embed: discord.Embed | None = None
        view: discord.ui.View | None = None
        if staff_channel(thread, config) is thread:
            view = user_card_view(ticket.id)
        else:
            try:
                embed = user_card_embed(await card_for(self.core, opener, ticket))
            except Exception:
                log.exception("Could not build the user card for ticket %d", ticket.id)  # the notice goes anyway
        await self.ping(
            thread, config, text, ticket_id=ticket.id, category=ticket.category, kind=PingKind.NEW_TICKET,
            embed=embed, view=view,
        )  # fmt: skip

    async def handed_off(
        self, thread: discord.Thread, config: GuildConfig, ticket: Ticket, text: str,
        *, view: discord.ui.View | None = None,
    ) -> None:  # fmt: skip
        """A hand-off's staff ping (`view`: its saved-answer buttons); outside support hours the ticket also says
        when staff are there."""
        pinged = await self.ping(
            thread, config, text, ticket_id=ticket.id, category=ticket.category, kind=PingKind.HANDOFF, view=view
        )
        if not pinged:
            hours = await self.core.care.hours(thread.guild.id)
            await safe_send(thread, f"🕘 Staff are available {hours.describe()}; they will reply when we open.")
