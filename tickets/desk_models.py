"""Typed values of the staff desk (issue 10): priority, urgency flags, claims, notes, close requests,
the blacklist and the on-call rotation. Stored by tickets/desk_store.py."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def emoji(self) -> str:
        return _EMOJI[self]


_RANKS = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
_EMOJI = {Priority.LOW: "🔵", Priority.NORMAL: "⚪", Priority.HIGH: "🟠", Priority.URGENT: "🔴"}


# Forum tags the staff desk uses when the forum has room for them (/setup creates them after the status and
# category tags): keys of GuildConfig.tag_ids → tag names (at most 20 characters). Normal priority has none.
CLAIMED_TAG = "claimed"
DESK_TAG_NAMES: dict[str, str] = {
    "priority:urgent": "Urgent",
    "priority:high": "High priority",
    CLAIMED_TAG: "Claimed",
    "priority:low": "Low priority",
}


def priority_tag(priority: Priority) -> str:
    """The tag_ids key of a priority's forum tag."""
    return f"priority:{priority.value}"


class PrioritySource(StrEnum):
    """Who set a ticket's priority: the urgency detection, or staff (whose choice is never undone)."""

    AUTO = "auto"
    STAFF = "staff"


class UrgencyFlag(StrEnum):
    """What the urgency detection found in a ticket (tickets/urgency.py)."""

    URGENT = "urgent"
    ANGRY = "angry"

    @property
    def priority(self) -> Priority:
        """The priority a ticket flagged so is raised to (never lowered)."""
        return Priority.URGENT if self is UrgencyFlag.URGENT else Priority.HIGH


class ClaimAction(StrEnum):
    CLAIMED = "claimed"
    UNCLAIMED = "unclaimed"
    TRANSFERRED = "transferred"
    ASSIGNED = "assigned"  # by the on-call rotation


class CloseRequestStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"  # the opener pressed Close
    DECLINED = "declined"  # the opener pressed Keep open
    EXPIRED = "expired"  # nobody answered in time: the ticket was closed
    CANCELLED = "cancelled"  # the ticket was closed another way first


@dataclass(frozen=True)
class ClaimEvent:
    ticket_id: int
    action: ClaimAction
    staff_id: int | None  # who holds the ticket afterwards (None once unclaimed)
    staff_name: str | None
    by_id: int | None  # None: the on-call rotation
    created_at: str


@dataclass(frozen=True)
class PriorityChange:
    ticket_id: int
    priority: Priority
    previous: Priority
    source: PrioritySource
    by_id: int | None  # None: automatic
    reason: str
    created_at: str


@dataclass(frozen=True)
class Note:
    id: int
    ticket_id: int
    author_id: int
    author_name: str
    content: str
    created_at: str


@dataclass(frozen=True)
class CloseRequest:
    id: int
    ticket_id: int
    guild_id: int
    requested_by: int
    reason: str
    status: CloseRequestStatus
    created_at: str
    due_at: str | None  # None: it never closes the ticket by itself
    message_id: int | None = None
    answered_by: int | None = None
    answered_at: str | None = None


@dataclass(frozen=True)
class BlacklistEntry:
    guild_id: int
    user_id: int
    reason: str
    added_by: int
    created_at: str


@dataclass(frozen=True)
class OnCallMember:
    user_id: int
    since: str
    last_assigned_at: str | None
    last_turn: int = 0  # the rotation's counter when they last got a ticket (0: never)
