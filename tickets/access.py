"""Who may do what with a ticket: the one rule every command and button asks.

- **Staff for a category**: anyone with Manage Threads, Manage Server or Administrator (server-wide), a
  member of the server's staff role (every category), or a member of the category's own staff role
  (that category only).
- **Staff of the server** (commands that are not about one ticket: /ticket_panel, /train, /memory,
  /status): the server-wide permissions or the server's staff role. A category's staff role alone does
  not make someone server staff.
- **Opener**: the member a ticket was opened for (also when staff opened it for them).
- **Other member**: everyone else.

Someone can be both opener and staff (staff opening their own ticket); `standing` then says STAFF.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tickets.models import GuildConfig, Ticket


@dataclass(frozen=True)
class Actor:
    """A member as the rules see them (built from a discord.Member on the Discord side)."""

    id: int
    role_ids: frozenset[int]
    moderator: bool  # Manage Threads, Manage Server or Administrator on the server


class Standing(StrEnum):
    STAFF = "staff"
    OPENER = "opener"
    OTHER = "other"


@dataclass(frozen=True)
class TicketAccess:
    is_opener: bool
    is_staff: bool

    @property
    def standing(self) -> Standing:
        if self.is_staff:
            return Standing.STAFF
        return Standing.OPENER if self.is_opener else Standing.OTHER

    @property
    def opener_or_staff(self) -> bool:
        return self.is_opener or self.is_staff


def is_staff(actor: Actor | None, config: GuildConfig | None, *, category: str | None = None) -> bool:
    """Staff of the server (`category` None) or staff for that category's tickets."""
    if actor is None:
        return False
    if actor.moderator:
        return True
    if config is None:
        return False
    if config.staff_role_id in actor.role_ids:
        return True
    found = config.category(category) if category else None
    return found is not None and found.staff_role_id is not None and found.staff_role_id in actor.role_ids


def ticket_access(actor: Actor | None, config: GuildConfig | None, ticket: Ticket) -> TicketAccess:
    """How `actor` stands to `ticket`: its opener, staff for its category, both, or neither."""
    return TicketAccess(
        is_opener=actor is not None and actor.id == ticket.opener_id,
        is_staff=is_staff(actor, config, category=ticket.category),
    )
