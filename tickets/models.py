"""Typed rows of the ticket side of the database."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

from memory.decision import Route
from tickets.desk_models import Priority, PrioritySource, UrgencyFlag


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
# The categories a server starts with (what the panel offered before categories were data).
DEFAULT_CATEGORIES: tuple[str, ...] = ("billing", "technical", "general")


class TicketMode(StrEnum):
    """Where a category's tickets live in Discord."""

    FORUM = "forum"  # a post in the ticket forum: public to everyone who can see the forum
    PRIVATE_THREAD = "private_thread"  # a private thread in a text channel: the opener, added members, staff


class TicketSource(StrEnum):
    """How a ticket was opened (stored, for the dashboard)."""

    PANEL = "panel"
    POST = "post"  # a post made directly in the forum
    MESSAGE = "message"  # "Open ticket from this message"
    STAFF = "staff"  # /ticket_open: staff on behalf of a member


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


class QuestionStyle(StrEnum):
    SHORT = "short"
    PARAGRAPH = "paragraph"


@dataclass(frozen=True)
class FormQuestion:
    """One question of a category's form (a text input of the ticket modal)."""

    label: str
    placeholder: str = ""
    required: bool = True
    style: QuestionStyle = QuestionStyle.PARAGRAPH
    max_length: int = 1500


# What every ticket form asked before forms were configurable; the default categories ask it.
DESCRIBE_THE_PROBLEM = FormQuestion(
    label="Describe the problem",
    placeholder="What happened, what did you expect, what have you tried?",
    required=True,
    style=QuestionStyle.PARAGRAPH,
    max_length=1500,
)


@dataclass(frozen=True)
class Category:
    """A kind of ticket a server offers: its panel option, where its tickets live, who handles them,
    and the questions its form asks (the subject is always asked first)."""

    guild_id: int
    name: str  # the key: lowercase, stored in `tickets.category`
    label: str  # as shown (the panel option, the forum tag)
    emoji: str | None = None
    description: str = ""
    mode: TicketMode = TicketMode.FORUM
    staff_role_id: int | None = None  # None: the server's staff role
    questions: tuple[FormQuestion, ...] = (DESCRIBE_THE_PROBLEM,)
    position: int = 0


@dataclass(frozen=True)
class FormAnswer:
    """What the opener answered to one question of the form (stored with the ticket)."""

    question: str  # the question's label when the ticket was opened
    answer: str


@dataclass(frozen=True)
class GuildConfig:
    guild_id: int
    forum_id: int
    staff_role_id: int
    log_channel_id: int | None
    tag_ids: dict[str, int] = field(default_factory=dict)  # status value or "category:<name>" -> forum tag id
    private_channel_id: int | None = None  # the text channel of private-thread tickets
    categories: tuple[Category, ...] = ()  # in panel order; read with the configuration, saved by CategoryService

    def status_tag(self, status: TicketStatus) -> int | None:
        return self.tag_ids.get(status.value)

    def category_tag(self, category: str) -> int | None:
        return self.tag_ids.get(f"category:{category}")

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name.lower()), None)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    @property
    def default_category(self) -> Category | None:
        """What "Open ticket" (no category chosen) opens: "general" if the server has it, else the first."""
        return self.category("general") or (self.categories[0] if self.categories else None)

    def staff_role_for(self, category: str | None) -> int:
        """The role pinged for a category's tickets: its own staff role, else the server's."""
        found = self.category(category) if category else None
        return found.staff_role_id if found is not None and found.staff_role_id else self.staff_role_id

    def mode_of(self, category: str) -> TicketMode:
        found = self.category(category)
        return found.mode if found is not None else TicketMode.FORUM


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
    mode: TicketMode = TicketMode.FORUM
    source: TicketSource | None = None  # None: opened before the source was recorded
    opened_by: int | None = None  # who opened it when not the opener (staff, /ticket_open)
    starter_message_id: int | None = None  # the bot's first message; a forum post's has the thread's id
    # The staff desk (tickets/desk_models.py): who owns the ticket, how urgent it is.
    claimed_by: int | None = None
    claimed_at: str | None = None
    priority: Priority = Priority.NORMAL
    priority_source: PrioritySource | None = None  # None: never set
    flag: UrgencyFlag | None = None  # what the urgency detection found

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
