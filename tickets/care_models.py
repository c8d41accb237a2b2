"""Typed rows of the "ticket_care" tables (tickets/care_migrations.py): ratings, held-back staff pings,
and what the user card shows of a member's earlier tickets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RatingPlace(StrEnum):
    """Where the opener was asked for a rating."""

    TICKET = "ticket"  # in the ticket, while they can still use it (when they mark it solved)
    DM = "dm"  # by direct message, once the ticket is closed (locked: its buttons no longer work)


@dataclass(frozen=True)
class Rating:
    ticket_id: int
    guild_id: int
    opener_id: int
    stars: int | None  # None: asked, not rated
    rated_at: str | None
    comment: str | None
    commented_at: str | None
    log_channel_id: int | None  # the closing summary in the log channel
    log_message_id: int | None

    @property
    def rated(self) -> bool:
        return self.stars is not None


class PingKind(StrEnum):
    """Why staff are pinged (stored with a ping held back outside support hours)."""

    NEW_TICKET = "new_ticket"
    HANDOFF = "handoff"
    REPING = "reping"


@dataclass(frozen=True)
class QueuedPing:
    id: int
    guild_id: int
    ticket_id: int
    channel_id: int
    role_id: int
    kind: PingKind
    text: str
    queued_at: str


@dataclass(frozen=True)
class PastTicket:
    """One of a member's earlier tickets, as the user card lists it."""

    id: int
    subject: str
    category: str
    status: str
    created_at: str
    closed_at: str | None
    close_reason: str | None
    stars: int | None


@dataclass(frozen=True)
class TicketHistory:
    """A member's earlier tickets on a server: how many, how many are open, the latest, their ratings."""

    total: int
    open_now: int
    recent: tuple[PastTicket, ...]
    average_stars: float | None
