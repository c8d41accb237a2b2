"""Typed rows of the ticket side of the database."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from memory.decision import Route


class TicketStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    WAITING_STAFF = "waiting_staff"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Forum tag names; at most 20 chars each (Discord limit).
STATUS_TAG_NAMES: dict[TicketStatus, str] = {
    TicketStatus.OPEN: "Open",
    TicketStatus.ANSWERED: "Answered",
    TicketStatus.WAITING_STAFF: "Waiting for staff",
    TicketStatus.RESOLVED: "Resolved",
    TicketStatus.CLOSED: "Closed",
}
DEFAULT_CATEGORIES: tuple[str, ...] = ("billing", "technical", "general")


class MessageRole(StrEnum):
    """Who wrote a ticket message (stored as its value)."""

    USER = "user"
    STAFF = "staff"
    BOT = "bot"


class Feedback(StrEnum):
    """What the opener did with an answer (stored in `interactions.feedback`)."""

    SOLVED = "solved"
    STAFF = "staff"  # asked for staff instead


class AutoCloseStep(StrEnum):
    CLOSE_SOLVED = "close_solved"
    WARN_IDLE = "warn_idle"
    CLOSE_IDLE = "close_idle"


class CloseReason(StrEnum):
    BY_USER = "closed by user"
    BY_STAFF = "closed by staff"
    SOLVED_TIMEOUT = "solved, closed automatically"
    IDLE = "no activity"


@dataclass(frozen=True)
class GuildConfig:
    guild_id: int
    forum_id: int
    staff_role_id: int
    log_channel_id: int | None
    tag_ids: dict[str, int] = field(default_factory=dict)  # status value or category -> tag id
    categories: tuple[str, ...] = DEFAULT_CATEGORIES

    def status_tag(self, status: TicketStatus) -> int | None:
        return self.tag_ids.get(status.value)

    def category_tag(self, category: str) -> int | None:
        return self.tag_ids.get(f"category:{category}")


@dataclass(frozen=True)
class Ticket:
    id: int
    guild_id: int
    opener_id: int
    category: str
    subject: str
    status: TicketStatus
    ai_paused: bool
    staff_pinged: bool
    created_at: str
    updated_at: str
    last_activity_at: str
    resolved_at: str | None
    idle_warned_at: str | None
    closed_at: str | None
    closed_by: int | None
    close_reason: str | None
    summary: str | None

    @property
    def is_closed(self) -> bool:
        return self.status is TicketStatus.CLOSED


@dataclass(frozen=True)
class TicketMessage:
    ticket_id: int
    message_id: int | None
    author_id: int
    author_name: str
    role: MessageRole
    content: str
    created_at: str


@dataclass(frozen=True)
class RecordedRoute:
    """One answer given in a ticket, as recorded in `interactions`."""

    id: int
    ticket_id: int | None
    message_id: int | None  # the message that carries the buttons
    route: Route
    entry_id: int | None
    detail: str | None
    feedback: Feedback | None

    @property
    def has_buttons(self) -> bool:
        """Whether the answer was posted with the Solved / Talk to staff buttons (a hand-off is not)."""
        return self.route is not Route.STAFF

    @property
    def question(self) -> str | None:
        """The user's own wording of what this answer answered."""
        value = json.loads(self.detail or "{}").get("question")
        return value if isinstance(value, str) else None
