"""Who owns a ticket: /claim, /unclaim, /transfer, and the on-call rotation's assignments.

A ticket staff claimed (or had transferred to them) keeps the assistant quiet, as when staff write in it,
until staff switch it back on with /ticket_ai enabled:true. An assignment by the on-call rotation names who
is responsible without quieting the assistant: the ticket is new and nobody has looked at it yet.
Every change is kept with its time (ticket_claims) for analytics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tickets.desk_models import ClaimAction, ClaimEvent, OnCallMember
from tickets.desk_store import DeskStore
from tickets.errors import ActionRefused
from tickets.models import Ticket


class Claims:
    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def claim(self, ticket: Ticket, *, staff_id: int, staff_name: str, now: datetime) -> Ticket:
        if ticket.claimed_by == staff_id:
            raise ActionRefused("You have already claimed this ticket.")
        if ticket.claimed_by is not None:
            raise ActionRefused(
                f"This ticket is claimed by <@{ticket.claimed_by}>. They can /unclaim it, or staff can /transfer it."
            )
        return await self._changed(ticket, ClaimAction.CLAIMED, staff_id, staff_name, by=staff_id, now=now)

    async def unclaim(self, ticket: Ticket, *, by: int, now: datetime) -> Ticket:
        if ticket.claimed_by is None:
            raise ActionRefused("Nobody has claimed this ticket.")
        return await self._changed(ticket, ClaimAction.UNCLAIMED, None, None, by=by, now=now, pause_ai=False)

    async def transfer(self, ticket: Ticket, *, to_id: int, to_name: str, by: int, now: datetime) -> Ticket:
        if ticket.claimed_by == to_id:
            raise ActionRefused(f"<@{to_id}> already owns this ticket.")
        return await self._changed(ticket, ClaimAction.TRANSFERRED, to_id, to_name, by=by, now=now)

    async def assigned(self, ticket: Ticket, *, staff_id: int, staff_name: str, now: datetime) -> Ticket:
        """The on-call rotation made `staff_id` responsible for a new ticket (the assistant still answers)."""
        return await self._changed(ticket, ClaimAction.ASSIGNED, staff_id, staff_name, by=None, now=now, pause_ai=False)

    async def history(self, ticket_id: int) -> list[ClaimEvent]:
        return await self.store.claims(ticket_id)

    async def _changed(
        self, ticket: Ticket, action: ClaimAction, staff_id: int | None, staff_name: str | None, *, by: int | None,
        now: datetime, pause_ai: bool = True,
    ) -> Ticket:  # fmt: skip
        updated = await self.store.claim_changed(
            ticket, action, staff_id=staff_id, staff_name=staff_name, by=by, now=now, pause_ai=pause_ai
        )
        if updated is None or updated.is_closed:
            raise ActionRefused("This ticket is closed.")
        return updated


def next_on_call(members: list[OnCallMember], eligible: Callable[[int], bool]) -> int | None:
    """Round robin: the eligible member whose last ticket was longest ago (never first, then by when they went
    on call). `eligible` says who may take this ticket (still on the server, staff for its category)."""
    ordered = sorted(members, key=lambda m: (m.last_turn, m.since, m.user_id))
    return next((m.user_id for m in ordered if eligible(m.user_id)), None)


class OnCall:
    """Members who opted in with /oncall on; the rotation itself is a server setting (oncall_rotation)."""

    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def set(self, guild_id: int, user_id: int, *, on: bool, now: datetime) -> bool:
        """Opt in or out; False when they already were."""
        return await self.store.set_on_call(guild_id, user_id, on=on, now=now)

    async def members(self, guild_id: int) -> list[OnCallMember]:
        return await self.store.on_call(guild_id)

    async def next_for(self, guild_id: int, eligible: Callable[[int], bool], now: datetime) -> int | None:
        """Who takes the next ticket (recorded as their latest assignment); None when nobody may."""
        chosen = next_on_call(await self.store.on_call(guild_id), eligible)
        if chosen is not None:
            await self.store.on_call_assigned(guild_id, chosen, now)
        return chosen
