"""Closes solved tickets after a delay and warns, then closes, idle ones: the auto-close steps the scheduler
(`_scheduler.py`) finds due. The delays are each server's settings (/settings; `.env` gives their defaults)."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from cogs._discord import NO_PINGS, ping_users
from cogs.tickets._lifecycle import TicketLifecycle
from tickets.errors import CloseError, TicketAlreadyClosed
from tickets.models import AutoCloseStep, Ticket
from tickets.service import AutoCloseAction, AutoClosePolicy, due_autoclose_actions, human_duration

if TYPE_CHECKING:
    from bot import TicketBot

log = logging.getLogger(__name__)

# After Discord refused an automatic close (e.g. Manage Threads missing), wait this long before
# trying that ticket again, and tell the ticket only once: retrying every sweep would post and
# ask the model for a summary each minute.
RETRY_FAILED_CLOSE_S = 3600


class AutoCloser:
    def __init__(self, bot: TicketBot, lifecycle: TicketLifecycle) -> None:
        self.bot = bot
        self.lifecycle = lifecycle
        self._failed: dict[int, float] = {}  # ticket id -> time.monotonic() of the refused close

    async def run(self, action: AutoCloseAction) -> None:
        """Apply one due step (the scheduler skips tickets being answered or closed right now)."""
        failed_at = self._failed.get(action.ticket.id)
        if failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_CLOSE_S:
            return
        try:
            await self._apply(action)
        except Exception:
            log.exception("Auto-close step %s failed for ticket %d", action.action, action.ticket.id)

    async def _apply(self, action: AutoCloseAction) -> None:
        core = self.bot.core
        policy = await core.tickets.autoclose_policy(action.ticket.guild_id)
        # Re-check against the ticket as it is now: the user may have written since the sweep read
        # its list (and the close checks once more under the ticket's lock).
        ticket = await core.tickets.get(action.ticket.id)
        if ticket is None or not _still_due(action.action, policy)(ticket):
            return
        config = await core.tickets.config(ticket.guild_id)
        thread = self.bot.get_channel(ticket.id)
        if thread is None:
            try:
                thread = await self.bot.fetch_channel(ticket.id)
            except discord.NotFound:
                thread = None
            except discord.HTTPException:
                # Forbidden or a Discord hiccup is not "deleted": try again on the next sweep.
                log.warning("Cannot reach ticket %d for auto-close", ticket.id, exc_info=True)
                return
        if config is None or not isinstance(thread, discord.Thread):
            # The post was deleted: record the ticket as closed so we stop trying.
            await core.tickets.closed(ticket, by=None, reason="post deleted", summary="", now=discord.utils.utcnow())
            return
        if action.action is AutoCloseStep.WARN_IDLE:
            then = (
                f" It will close in {human_duration(policy.idle_close_s)} unless someone writes here."
                if policy.idle_close_s
                else ""
            )
            await thread.send(
                f"<@{ticket.opener_id}> This ticket has been quiet for a while.{then}",
                allowed_mentions=ping_users(discord.Object(ticket.opener_id)),
            )
            await core.tickets.idle_warned(ticket, discord.utils.utcnow())
            return
        try:
            wanted = _still_due(action.action, policy)
            await self.lifecycle.closed(thread, ticket, config, closer=None, reason=action.reason, still_wanted=wanted)
        except TicketAlreadyClosed:
            return  # closed by hand while the sweep was running
        except CloseError as exc:
            log.warning("Auto-close of ticket %d failed: %s", ticket.id, exc)
            first_failure = ticket.id not in self._failed
            self._failed[ticket.id] = time.monotonic()
            if first_failure:
                with contextlib.suppress(discord.HTTPException):
                    await thread.send(f"I couldn't close this ticket automatically: {exc}", allowed_mentions=NO_PINGS)
            return
        self._failed.pop(ticket.id, None)


def _due(tickets: list[Ticket], policy: AutoClosePolicy) -> list[AutoCloseAction]:
    return due_autoclose_actions(
        tickets, discord.utils.utcnow(),
        solved_delay_s=policy.solved_delay_s, idle_warn_s=policy.idle_warn_s, idle_close_s=policy.idle_close_s,
    )  # fmt: skip


def _still_due(action: AutoCloseStep, policy: AutoClosePolicy) -> Callable[[Ticket], bool]:
    def check(ticket: Ticket) -> bool:
        due = _due([ticket], policy)
        return bool(due) and due[0].action == action

    return check
