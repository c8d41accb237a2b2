"""A ticket's priority (low, normal, high, urgent): set by staff with /priority, or raised by the urgency
detection (tickets/urgency.py). Staff have the last word: once they set a priority, nothing automatic
changes it again; the detection only ever raises one it set itself (or the default).
Every change is kept with its source and time (ticket_priority_changes)."""

from __future__ import annotations

from datetime import datetime

from tickets.desk_models import Priority, PriorityChange, PrioritySource, UrgencyFlag
from tickets.desk_store import DeskStore
from tickets.errors import ActionRefused
from tickets.models import Ticket

TITLE_MAX = 100


def title_for(subject: str, priority: Priority) -> str:
    """The thread title showing a priority other than normal (where there is no tag to show it)."""
    prefix = "" if priority is Priority.NORMAL else f"[{priority.label}] "
    return f"{prefix}{subject}"[:TITLE_MAX]


def automatic_raise(ticket: Ticket, flag: UrgencyFlag) -> Priority | None:
    """The priority the detection raises `ticket` to for `flag`; None when it must not (staff set it, or it is
    as high already)."""
    if ticket.priority_source is PrioritySource.STAFF:
        return None
    wanted = flag.priority
    return wanted if wanted.rank > ticket.priority.rank else None


class Priorities:
    def __init__(self, store: DeskStore) -> None:
        self.store = store

    async def set_by_staff(self, ticket: Ticket, priority: Priority, *, by: int, now: datetime) -> Ticket:
        """Staff's choice, kept from now on (also when it is the level the ticket already had)."""
        if ticket.priority is priority and ticket.priority_source is PrioritySource.STAFF:
            raise ActionRefused(f"This ticket's priority is already {priority.label.lower()}.")
        updated = await self.store.priority_changed(
            ticket, priority, source=PrioritySource.STAFF, by=by, reason="set by staff", now=now
        )
        if updated is None or updated.is_closed:
            raise ActionRefused("This ticket is closed.")
        return updated

    async def flagged(self, ticket: Ticket, flag: UrgencyFlag, *, reason: str, now: datetime) -> Ticket | None:
        """The detection found `flag`: store it and raise the priority if it may. Returns the ticket when its
        priority changed, None when only the flag was stored (or the ticket is closed)."""
        raised = automatic_raise(ticket, flag)
        if raised is None:
            await self.store.update(ticket.id, now, flag=flag.value)
            return None
        updated = await self.store.priority_changed(
            ticket, raised, source=PrioritySource.AUTO, by=None, reason=reason[:200], now=now, flag=flag.value
        )
        return updated if updated is not None and not updated.is_closed else None

    async def history(self, ticket_id: int) -> list[PriorityChange]:
        return await self.store.priority_changes(ticket_id)
