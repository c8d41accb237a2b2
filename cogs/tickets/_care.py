"""The scheduler's care steps in Discord (tickets/schedule.py decides when): a staff re-ping for a ticket that
has waited too long for staff (to the staff role, or to its owner when it is claimed), a reminder to an opener
the ticket waits on, and the staff pings held back outside support hours, sent together when support opens."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

import discord

from cogs._discord import ping_role, ping_users
from cogs.tickets._staff_notices import StaffNotices
from tickets.care_models import PingKind, QueuedPing
from tickets.schedule import MAX_STAFF_REPINGS, CareAction, CareStep, due_care_actions
from tickets.service import human_duration

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

DIGEST_LIMIT = 1900


async def ticket_thread(bot: TicketBot, ticket_id: int) -> discord.Thread | None:
    channel = bot.get_channel(ticket_id)
    if channel is None:
        try:
            channel = await bot.fetch_channel(ticket_id)
        except discord.HTTPException:
            return None
    return channel if isinstance(channel, discord.Thread) else None


class CareRunner:
    def __init__(self, bot: TicketBot, notices: StaffNotices) -> None:
        self.bot = bot
        self.core = bot.core
        self.notices = notices

    async def run(self, action: CareAction) -> None:
        """Send one due nudge, if it is still due for the ticket as it is now; counted before it is sent, so
        a failure is logged and never repeated (the next one of the wait comes in its time)."""
        core = self.core
        ticket = await core.tickets.get(action.ticket.id)
        wait = await core.care.wait(action.ticket.id)
        if ticket is None or wait is None:
            return
        due = due_care_actions(
            [ticket], {ticket.id: wait}, discord.utils.utcnow(), await core.care.policy(ticket.guild_id)
        )
        if not due or (due[0].step, due[0].number) != (action.step, action.number):
            return
        action = due[0]
        config = await core.tickets.config(ticket.guild_id)
        thread = await ticket_thread(self.bot, ticket.id)
        if config is None or thread is None:
            return
        if not await core.care.nudged(action, discord.utils.utcnow()):
            return
        if action.step is CareStep.STAFF_REPING:
            how_long = f"{human_duration(action.waited_s)} (re-ping {action.number} of at most {MAX_STAFF_REPINGS})"
            if ticket.claimed_by is not None:
                # The ticket has an owner (/claim, /transfer, the on-call rotation): it is theirs to answer.
                text = f"⏰ {thread.mention}, your ticket, has waited for you for {how_long}."
                await self.notices.ping_member(thread, config, text, user_id=ticket.claimed_by)
                return
            text = f"⏰ {thread.mention} has waited for staff for {how_long}."
            await self.notices.ping(
                thread, config, text, ticket_id=ticket.id, category=ticket.category, kind=PingKind.REPING
            )
            return
        opener = discord.Object(ticket.opener_id)
        try:
            await thread.send(
                f"👋 <@{ticket.opener_id}> Is there anything else you need here? Just write if so. If everything is "
                "sorted, press **Solved** on the answer or close the ticket with `/close`.",
                allowed_mentions=ping_users(opener),
            )
        except discord.HTTPException:
            log.warning("Could not remind the opener of ticket %d", ticket.id, exc_info=True)

    async def release_held_pings(self, guild_id: int) -> None:
        """Support is open: send the pings held back while it was not, one message per channel and role,
        listing each ticket that is still open (the others are dropped)."""
        core = self.core
        now = discord.utils.utcnow()
        groups: dict[tuple[int, int], list[QueuedPing]] = defaultdict(list)
        for ping in await core.care.held_pings(guild_id):
            groups[(ping.channel_id, ping.role_id)].append(ping)
        for (channel_id, role_id), pings in groups.items():
            still_open: list[QueuedPing] = []
            for ping in pings:
                ticket = await core.tickets.get(ping.ticket_id)
                (still_open if ticket is not None and not ticket.is_closed else []).append(ping)
            dropped = [p for p in pings if p not in still_open]
            if dropped:
                await core.care.pings_released(dropped, "ticket_closed", now)
            if not still_open:
                continue
            channel = self.bot.get_channel(channel_id) or await ticket_thread(self.bot, channel_id)
            if not isinstance(channel, discord.TextChannel | discord.Thread):
                await core.care.pings_released(still_open, "failed", now)
                continue
            lines = list(dict.fromkeys(f"• {p.text}" for p in still_open))
            try:
                for chunk in _chunks(lines):
                    await channel.send(
                        f"<@&{role_id}> 🕘 Support is open. These waited for you:\n{chunk}",
                        allowed_mentions=ping_role(role_id),
                    )
            except discord.HTTPException:
                log.warning("Could not send the held staff pings of guild %d", guild_id, exc_info=True)
                await core.care.pings_released(still_open, "failed", now)
                continue
            await core.care.pings_released(still_open, "sent", now)
            log.info("Sent %d held staff ping(s) in guild %d", len(still_open), guild_id)


def _chunks(lines: list[str]) -> list[str]:
    chunks: list[str] = []
    for line in lines:
        line = line[:DIGEST_LIMIT]
        if chunks and len(chunks[-1]) + len(line) + 1 <= DIGEST_LIMIT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks
