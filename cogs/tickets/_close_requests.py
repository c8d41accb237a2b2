"""/close_request on the Discord side: the question with the opener's buttons (Close it / Keep it open), the
answers, and the closing of requests nobody answered (`sweep`, run by each scheduler round, so a restart loses
nothing: the request and when it is due are stored). Recorded by tickets/close_requests.py."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from cogs._discord import NO_PINGS, ping_users
from cogs.tickets._closing import TicketCloser
from cogs.tickets._locks import TicketLocks
from cogs.tickets._places import place_of
from cogs.tickets._posts import notify_staff
from cogs.tickets._staff import name_of
from tickets.desk_models import CloseRequest, CloseRequestStatus
from tickets.errors import ActionRefused, CloseError, TicketAlreadyClosed
from tickets.models import GuildConfig, Ticket

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

# Builds the opener's buttons for a close request: request id -> view (cogs/tickets/_desk_views.py).
CloseRequestButtons = Callable[[int], discord.ui.View]
ACCEPTED = "close request accepted"
EXPIRED = "close request not answered"
RETRY_FAILED_CLOSE_S = 3600


class CloseRequester:
    def __init__(self, bot: TicketBot, closer: TicketCloser, locks: TicketLocks, buttons: CloseRequestButtons) -> None:
        self.bot = bot
        self.core = bot.core
        self.closer = closer
        self.locks = locks
        self.buttons = buttons
        self._failed: dict[int, float] = {}  # request id -> time.monotonic() of a close Discord refused

    async def request(
        self, thread: discord.Thread, ticket: Ticket, config: GuildConfig, by: discord.Member, reason: str
    ) -> str:
        desk = self.core.desk
        request = await desk.close_requests.requested(ticket, by=by.id, reason=reason, now=discord.utils.utcnow())
        why = f": {place_of(ticket).scrub(request.reason)}" if request.reason else ""
        when = ""
        if request.due_at:
            due = datetime.fromisoformat(request.due_at)
            when = f" Without an answer it closes by itself {discord.utils.format_dt(due, 'R')}."
        text = (
            f"<@{ticket.opener_id}> **{name_of(by)}** asks whether this ticket can be closed{why}. Close it if your "
            f"question is answered, or keep it open if you still need help.{when}"
        )
        try:
            opener = discord.Object(ticket.opener_id)
            message = await thread.send(text[:2000], view=self.buttons(request.id), allowed_mentions=ping_users(opener))
        except discord.HTTPException as exc:
            await desk.close_requests.settle(request, CloseRequestStatus.CANCELLED, by=None, now=discord.utils.utcnow())
            raise ActionRefused("Discord refused to post the close request. Please try again.") from exc
        await desk.close_requests.shown(request, message.id)
        return "✅ Asked the opener whether the ticket can close."

    async def answered(
        self, thread: discord.Thread, request_id: int, *, accept: bool, by: discord.abc.User,
        message: discord.Message | None,
    ) -> str | None:  # fmt: skip
        """The opener pressed a button; returns what to post (None: the closing message says it all).
        Raises ActionRefused."""
        desk = self.core.desk
        request = await desk.close_requests.get(request_id)
        if request is None:
            raise ActionRefused("This close request no longer exists.")
        ticket = await self.core.tickets.get(request.ticket_id)
        config = await self.core.tickets.config(request.guild_id)
        if ticket is None or config is None or ticket.is_closed:
            await desk.close_requests.settle(request, CloseRequestStatus.CANCELLED, by=None, now=discord.utils.utcnow())
            raise ActionRefused("This ticket is closed.")
        if by.id != ticket.opener_id:
            raise ActionRefused("Only the person who opened this ticket can answer this question.")
        if request.status is not CloseRequestStatus.PENDING:
            raise ActionRefused("This close request was answered already.")
        if not accept:
            if self.locks.is_closing(ticket.id):  # "Close it" was pressed first and is closing the ticket
                raise ActionRefused("This close request was answered already.")
            if not await desk.close_requests.settle(
                request, CloseRequestStatus.DECLINED, by=by.id, now=discord.utils.utcnow()
            ):
                raise ActionRefused("This close request was answered already.")
            await _drop_buttons(message)
            asker = f"<@{request.requested_by}>"
            await notify_staff(thread, config, f"{asker}: {name_of(by)} wants to keep {thread.mention} open.",
                               category=ticket.category)  # fmt: skip
            return f"👍 **{name_of(by)}** wants to keep this ticket open."
        # Marked as closing from here, so that "Keep it open" pressed meanwhile is refused; and read again, in case
        # that was pressed first (both buttons at once: one answer counts).
        with self.locks.closing(ticket.id):
            current = await desk.close_requests.get(request_id)
            if current is None or current.status is not CloseRequestStatus.PENDING:
                raise ActionRefused("This close request was answered already.")
            await _drop_buttons(message)  # before the close: an archived thread's messages can't be edited
            try:
                await self.closer.closed(thread, ticket, config, closer=by, reason=_reason(ACCEPTED, request))
            except CloseError:
                with contextlib.suppress(discord.HTTPException):
                    if message is not None:
                        await message.edit(view=self.buttons(request.id))
                raise
        await desk.close_requests.settle(request, CloseRequestStatus.ACCEPTED, by=by.id, now=discord.utils.utcnow())
        return None

    async def sweep(self) -> None:
        """Close the tickets whose close request nobody answered in time (each scheduler round calls this)."""
        for request in await self.core.desk.close_requests.due(discord.utils.utcnow()):
            if not self.core.settings.shards.owns(request.guild_id):
                continue  # another process runs the servers on its shards (SHARD_IDS)
            failed_at = self._failed.get(request.id)
            if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_CLOSE_S:
                continue
            try:
                await self._expire(request)
            except Exception:
                log.exception("Closing ticket %d after an unanswered close request failed", request.ticket_id)

    async def _expire(self, request: CloseRequest) -> None:
        desk = self.core.desk
        ticket = await self.core.tickets.get(request.ticket_id)
        config = await self.core.tickets.config(request.guild_id)
        if ticket is None or config is None or ticket.is_closed:
            await desk.close_requests.settle(request, CloseRequestStatus.CANCELLED, by=None, now=discord.utils.utcnow())
            return
        if self.locks.ticket(ticket.id).locked():
            return  # being answered or closed right now: next sweep
        thread = self.bot.get_channel(ticket.id)
        if not isinstance(thread, discord.Thread):
            with contextlib.suppress(discord.HTTPException):
                thread = await self.bot.fetch_channel(ticket.id)
        if not isinstance(thread, discord.Thread):
            return  # the scheduler records a deleted thread as closed; this request is cancelled then
        if request.message_id is not None:
            await _drop_buttons(thread.get_partial_message(request.message_id))
        try:
            await self.closer.closed(thread, ticket, config, closer=None, reason=_reason(EXPIRED, request))
        except TicketAlreadyClosed:
            await desk.close_requests.settle(request, CloseRequestStatus.CANCELLED, by=None, now=discord.utils.utcnow())
            return
        except CloseError as exc:
            log.warning("Could not close ticket %d after its close request: %s", ticket.id, exc)
            self._failed[request.id] = time.monotonic()
            return
        await desk.close_requests.settle(request, CloseRequestStatus.EXPIRED, by=None, now=discord.utils.utcnow())
        self._failed.pop(request.id, None)


def _reason(outcome: str, request: CloseRequest) -> str:
    return f"{outcome}: {request.reason}"[:300] if request.reason else outcome


async def _drop_buttons(message: discord.Message | discord.PartialMessage | None) -> None:
    if message is None:
        return
    try:
        await message.edit(view=None, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.info("Could not take the buttons off close request message %d", message.id, exc_info=True)
