"""Ticket lifecycle: what happens when a ticket is opened, written in, answered, resolved, handed off
or closed. One method per event: it decides the ticket's new status (`next_status`) and records it.

Plain async Python over `TicketStore`; the Discord side (cogs/tickets/) translates Discord events
into these calls and never sets a status itself.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from ai.untrusted import one_line
from db.database import Params, Row, utc_iso
from memory.decision import Route
from memory.text import visible_text
from tickets.answering import AnswerOutcome
from tickets.category_store import CategoryStore
from tickets.errors import TicketOpenError
from tickets.models import (
    AutoCloseStep,
    CloseReason,
    Feedback,
    FormAnswer,
    GuildConfig,
    MessageRole,
    RecordedRoute,
    Ticket,
    TicketMessage,
    TicketMode,
    TicketSource,
    TicketStatus,
)
from tickets.server_settings import (
    IDLE_CLOSE_AFTER_WARN_HOURS,
    IDLE_WARN_HOURS,
    MAX_OPEN_TICKETS,
    SOLVED_CLOSE_DELAY_HOURS,
    TICKET_COOLDOWN_SECONDS,
    ServerSettings,
    ServerSettingsService,
)
from tickets.store import OpenLimitReached, TicketStore

log = logging.getLogger(__name__)

# What a ticket title or close reason shows when what was given has nothing visible in it.
UNTITLED = "Untitled ticket"
NO_REASON = "no reason given"


@dataclass(frozen=True)
class OpenPolicy:
    max_open: int
    cooldown_s: int

    @classmethod
    def of(cls, settings: ServerSettings) -> OpenPolicy:
        return cls(settings.get(MAX_OPEN_TICKETS), settings.get(TICKET_COOLDOWN_SECONDS))


@dataclass(frozen=True)
class AutoClosePolicy:
    """Seconds before each auto-close step (0 disables it), from a server's settings."""

    solved_delay_s: int
    idle_warn_s: int
    idle_close_s: int

    @classmethod
    def of(cls, settings: ServerSettings) -> AutoClosePolicy:
        return cls(
            settings.seconds(SOLVED_CLOSE_DELAY_HOURS),
            settings.seconds(IDLE_WARN_HOURS),
            settings.seconds(IDLE_CLOSE_AFTER_WARN_HOURS),
        )


@dataclass(frozen=True, kw_only=True)
class NewTicket:
    """What `TicketService.ticket_opened` records: the ticket, where it lives and how it was opened."""

    ticket_id: int  # the thread's id
    guild_id: int
    opener_id: int
    opener_name: str
    category: str
    subject: str
    description: str  # the opening message as the conversation's first user turn
    mode: TicketMode = TicketMode.FORUM
    source: TicketSource = TicketSource.PANEL
    opened_by: int | None = None
    starter_message_id: int | None = None
    answers: tuple[FormAnswer, ...] = ()
    ai_paused: bool = False


class TicketEvent(StrEnum):
    USER_WROTE = "user_wrote"
    STAFF_WROTE = "staff_wrote"
    ANSWERED = "answered"  # the bot's answer (not a hand-off) reached the ticket
    SOLVED = "solved"
    HANDED_TO_STAFF = "handed_to_staff"
    CLOSED = "closed"
    REOPENED = "reopened"  # /reopen of a closed ticket (tickets/reopening.py)


def next_status(status: TicketStatus, event: TicketEvent) -> TicketStatus:
    """The status a ticket in `status` has after `event` (the table test pins every pair)."""
    S = TicketStatus
    if event is TicketEvent.REOPENED:
        return S.OPEN if status is S.CLOSED else status  # only /reopen brings a closed ticket back
    if status is S.CLOSED or event is TicketEvent.CLOSED:
        return S.CLOSED  # nothing else reopens a closed ticket
    if event is TicketEvent.USER_WROTE:
        return S.OPEN if status is S.RESOLVED else status  # "solved" was premature
    if event is TicketEvent.STAFF_WROTE:
        # Staff took it: answered again (and idles normally); a later hand-off pings anew.
        return S.ANSWERED if status is S.WAITING_STAFF else status
    if event is TicketEvent.ANSWERED:
        # WAITING_STAFF here means a hand-off while the model was down; it answers again now.
        return S.ANSWERED
    if event is TicketEvent.SOLVED:
        return S.RESOLVED
    return S.WAITING_STAFF  # HANDED_TO_STAFF


@dataclass(frozen=True)
class HandOff:
    ticket: Ticket
    ping_staff: bool  # the first hand-off since staff last took the ticket


@dataclass(frozen=True)
class RecordedAnswer:
    route_id: int
    # The previous answer of the ticket, if it carries the Solved / Talk to staff buttons: only the
    # newest answer keeps them.
    replaced: RecordedRoute | None
    # The ticket right after the answer was recorded (None if it is gone): streaming takes a while, and
    # it may have been closed or handed to staff meanwhile.
    ticket: Ticket | None = None
    # An answer that is not a hand-off: the ticket after the answer reached it (`TicketService.answered`, done in
    # the same trip); None for a hand-off or a ticket gone.
    answered: Ticket | None = None


class TicketWatcher(Protocol):
    """Told of every event after it is recorded (tickets/care.py keeps whose turn it is from them).

    The events of a ticket message (the message, the answer) carry the watcher's writes in their own batch,
    so a message costs no extra trips: its state of the ticket is read with the ticket (`state_read`, `state_of`),
    and `event_writes` are the statements that record an event, decided from that state and the ticket."""

    async def ticket_event(self, ticket: Ticket, event: TicketEvent, now: datetime) -> None: ...

    def state_read(self, ticket_id: int) -> tuple[str, Params]: ...

    def state_of(self, rows: list[Row]) -> object: ...

    def event_writes(
        self, current: object, ticket: Ticket, event: TicketEvent, now: datetime, *, known: bool = True
    ) -> list[tuple[str, Params]]: ...


@dataclass(frozen=True)
class Watched:
    """What the watcher keeps about a ticket (`state`, None if nothing), read in the same trip as the ticket."""

    state: object = None


@dataclass(frozen=True)
class AnswerContext:
    """What answering a message needs: the ticket, its latest messages, its form answers. `version`: the
    ticket's count of events this process recorded when it was read (see `TicketService.is_current`)."""

    ticket: Ticket | None
    messages: list[TicketMessage]
    answers: list[FormAnswer]
    version: int = -1


class TicketService:
    def __init__(
        self, store: TicketStore, categories: CategoryStore, settings: ServerSettingsService,
        *, watcher: TicketWatcher | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.categories = categories
        self.settings = settings
        self.watcher = watcher
        self._configs: dict[int, GuildConfig | None] = {}
        # Per open ticket, how many events this process recorded in it: an answer context read together with a
        # message is used only while no other event came in between (else it is read again).
        self._versions: dict[int, int] = {}

    # -- configuration -----------------------------------------------------------------------

    async def config(self, guild_id: int) -> GuildConfig | None:
        """The server's configuration with its categories (None before /setup)."""
        # Read on every ticket message and button press, changed only by /setup and /category: cache it.
        if guild_id not in self._configs:
            config = await self.store.get_config(guild_id)
            if config is not None:
                config = replace(config, categories=await self.categories.categories(guild_id))
            self._configs[guild_id] = config
        return self._configs[guild_id]

    def forget_config(self, guild_id: int) -> None:
        """The configuration or the categories changed: read them again next time."""
        self._configs.pop(guild_id, None)

    async def save_config(self, config: GuildConfig, now: datetime) -> None:
        await self.store.save_config(config, now)
        self.forget_config(config.guild_id)

    # -- reading -----------------------------------------------------------------------------

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self.store.get_ticket(ticket_id)

    async def get_watched(self, ticket_id: int) -> tuple[Ticket | None, Watched | None]:
        """The ticket and its watcher's state of it, in one trip (for `message_posted`)."""
        if self.watcher is None:
            return await self.store.get_ticket(ticket_id), None
        ticket, rows = await self.store.ticket_with(ticket_id, self.watcher.state_read(ticket_id))
        return ticket, Watched(self.watcher.state_of(rows))

    def is_current(self, context: AnswerContext) -> bool:
        """No event was recorded in the context's ticket since it was read (by this process)."""
        return context.ticket is not None and self._versions.get(context.ticket.id, 0) == context.version

    async def messages(self, ticket_id: int, *, last: int | None = None) -> list[TicketMessage]:
        return await self.store.messages(ticket_id, last=last)

    async def unclosed(self) -> list[Ticket]:
        return await self.store.unclosed_tickets()

    async def count_open(self, guild_id: int) -> int:
        return await self.store.count_open(guild_id)

    async def routes_since(self, guild_id: int, since: datetime) -> dict[str, int]:
        return await self.store.routes_since(guild_id, since)

    async def answer_context(self, ticket_id: int, *, last: int) -> AnswerContext:
        """The ticket, its `last` messages and its form answers, read together (one trip)."""
        version = self._versions.get(ticket_id, 0)
        return AnswerContext(*await self.store.answer_context(ticket_id, last=last), version=version)

    async def form_answers(self, ticket_id: int) -> list[FormAnswer]:
        return await self.store.answers(ticket_id)

    async def autoclose_policy(self, guild_id: int) -> AutoClosePolicy:
        return AutoClosePolicy.of(await self.settings.of(guild_id))

    # -- events ------------------------------------------------------------------------------

    async def check_can_open(self, *, guild_id: int, user_id: int, now: datetime) -> None:
        """Raise TicketOpenError with the reason when the user may not open another ticket now."""
        policy = OpenPolicy.of(await self.settings.of(guild_id))
        open_count = await self.store.open_tickets_of(guild_id, user_id)
        if open_count >= policy.max_open:
            raise _limit_reached(open_count, policy.max_open)
        last = await self.store.last_opened_at(guild_id, user_id)
        if last and policy.cooldown_s:
            wait = policy.cooldown_s - (now - datetime.fromisoformat(last)).total_seconds()
            if wait > 0:
                raise TicketOpenError(
                    f"You opened a ticket a moment ago. Please wait {int(wait) + 1} s before opening another."
                )

    async def ticket_opened(self, new: NewTicket, *, now: datetime, limited: bool = False) -> Ticket:
        """Record a ticket, its form answers and its opening message (the first user turn).

        The opening message is stored under the thread's id: it comes before everything else in the
        ticket, also in a private thread, whose starter message the bot posts after creating it.
        `limited`: the member's open-ticket limit is checked again inside the write (TicketOpenError), so it holds
        when two processes open for one member at once (`check_can_open` reads before the thread is created).
        """
        # A direct forum post's title comes from Discord as typed: it may be zero-width characters only.
        subject = visible_text(new.subject) or UNTITLED
        open_limit = OpenPolicy.of(await self.settings.of(new.guild_id)).max_open if limited else None
        try:
            ticket = await self.store.create_ticket(
                ticket_id=new.ticket_id, guild_id=new.guild_id, opener_id=new.opener_id, category=new.category,
                subject=subject, mode=new.mode, source=new.source, opened_by=new.opened_by,
                starter_message_id=new.starter_message_id, answers=list(new.answers), ai_paused=new.ai_paused,
                now=now, open_limit=open_limit,
            )  # fmt: skip
        except OpenLimitReached as reached:
            raise _limit_reached(reached.open_count, reached.limit) from None
        await self.message_posted(
            ticket, message_id=new.ticket_id, author_id=new.opener_id, author_name=new.opener_name,
            role=MessageRole.USER, content=f"{subject}\n{new.description}".strip(), now=now,
            watched=Watched(),  # a new ticket: nothing kept about it yet
        )  # fmt: skip
        log.info("Ticket %d opened in guild %d (%s, %s, %s)", new.ticket_id, new.guild_id, new.category, new.mode,
                 new.source)  # fmt: skip
        return ticket

    async def message_posted(
        self, ticket: Ticket, *, message_id: int | None, author_id: int, author_name: str, role: MessageRole,
        content: str, now: datetime, watched: Watched | None = None,
    ) -> Ticket:  # fmt: skip
        """Store a message; user/staff activity resets idle tracking, a user reopens a resolved ticket,
        and staff writing in a ticket that waits for them answers it (the AI stays quiet there).

        `watched` (from `get_watched`): the watcher's writes go in the message's own trip."""
        ticket, _ = await self.message_recorded(
            ticket, message_id=message_id, author_id=author_id, author_name=author_name, role=role, content=content,
            now=now, watched=watched,
        )  # fmt: skip
        return ticket

    async def message_recorded(
        self, ticket: Ticket, *, message_id: int | None, author_id: int, author_name: str, role: MessageRole,
        content: str, now: datetime, watched: Watched | None = None, context_last: int | None = None,
    ) -> tuple[Ticket, AnswerContext | None]:  # fmt: skip
        """`message_posted`, and with `context_last` the answer's context (`answer_context`) read in the same
        trip: the message is answered at once, unless it waits its turn (then its context is read again)."""
        message = TicketMessage(ticket.id, message_id, author_id, author_name, role, content, utc_iso(now))
        self._versions[ticket.id] = version = self._versions.get(ticket.id, 0) + 1
        if role is MessageRole.BOT:
            await self.store.add_message(message)
            return ticket, None
        changes: dict[str, object] = {"last_activity_at": utc_iso(now), "idle_warned_at": None}
        event = TicketEvent.USER_WROTE if role is MessageRole.USER else TicketEvent.STAFF_WROTE
        status = next_status(ticket.status, event)
        if status is not ticket.status:
            changes["status"] = status
            if status is TicketStatus.OPEN:
                changes["resolved_at"] = None
            if event is TicketEvent.STAFF_WROTE:
                changes["staff_pinged"] = 0
        if role is MessageRole.STAFF and not ticket.ai_paused:
            changes["ai_paused"] = 1
        # The message, its ticket's update and the watcher's record of it: one transaction, one trip.
        expected = _changed(ticket, changes)
        writes = self._event_writes(watched, expected, event, now)
        updated, read = await self.store.message_recorded(
            message, now, also=writes or (), context_last=context_last, **changes
        )
        assert updated is not None
        await self._watched_after(updated, event, now, writes, watched)
        context = None if read is None else AnswerContext(updated, *read, version=version)
        return updated, context

    async def answer_recorded(
        self, ticket: Ticket, outcome: AnswerOutcome, *, question: str, buttons_message_id: int | None,
        first_message_id: int | None, bot_id: int, bot_name: str, now: datetime,
    ) -> RecordedAnswer | None:  # fmt: skip
        """Store the route an answer took and the bot's reply (its text, if any was shown).

        `question` is the user's own wording (a ticket's description rather than "subject + description"):
        it becomes a candidate alternate phrasing if they mark a trained answer as solved.
        None, and nothing recorded: by the time of the write the ticket no longer takes the assistant's answers
        (closed, claimed, staff wrote, the assistant switched off), in this process or another one.
        """
        top = outcome.decision.match
        reply = None
        if outcome.text:
            reply = TicketMessage(
                ticket.id, first_message_id, bot_id, bot_name, MessageRole.BOT, outcome.text, utc_iso(now)
            )
        self._versions[ticket.id] = self._versions.get(ticket.id, 0) + 1
        # The route, the reply and a look at the ticket as it is now: one transaction, one trip. An answer that is
        # not a hand-off has reached the ticket: its status (`answered`) and the watcher's record go with it.
        reached = outcome.route is not Route.STAFF
        status = next_status(ticket.status, TicketEvent.ANSWERED) if reached else None
        expected = replace(ticket, status=status) if status is not None else ticket
        writes = self._event_writes(Watched(), expected, TicketEvent.ANSWERED, now, known=False) if reached else None
        stored = await self.store.answer_recorded(
            ticket.id, guild_id=ticket.guild_id, message_id=buttons_message_id, route=outcome.route,
            entry_id=outcome.entry_id, score=top.score if top else None,
            detail=json.dumps({"reason": outcome.decision.reason, "question": question[:500]}), reply=reply, now=now,
            status=status, also=writes or (),
        )  # fmt: skip
        if stored is None:
            return None
        route_id, previous, current, after = stored
        if after is not None and not after.is_closed:
            await self._watched_after(after, TicketEvent.ANSWERED, now, writes, Watched(), known=False)
        replaced = previous if previous is not None and previous.has_buttons else None
        return RecordedAnswer(route_id, replaced, current, answered=after if reached else None)

    async def answered(self, ticket: Ticket, now: datetime) -> Ticket:
        """An answer (not a hand-off) reached the ticket."""
        return await self._watched(await self._transition(ticket, TicketEvent.ANSWERED, now), TicketEvent.ANSWERED, now)

    async def resolved(self, ticket: Ticket, now: datetime) -> Ticket:
        updated = await self._update(ticket, now, {"status": TicketStatus.RESOLVED, "resolved_at": utc_iso(now)})
        return await self._watched(updated, TicketEvent.SOLVED, now)

    async def handed_to_staff(self, ticket: Ticket, now: datetime, *, pause_ai: bool) -> HandOff:
        """Mark the ticket as waiting for staff; staff are pinged once per hand-off."""
        changes: dict[str, object] = {"status": TicketStatus.WAITING_STAFF, "staff_pinged": 1}
        if pause_ai:
            changes["ai_paused"] = 1
        updated = await self._watched(await self._update(ticket, now, changes), TicketEvent.HANDED_TO_STAFF, now)
        return HandOff(updated, ping_staff=not ticket.staff_pinged)

    async def ai_switched(self, ticket: Ticket, *, enabled: bool, now: datetime) -> Ticket:
        changes: dict[str, object] = {"ai_paused": int(not enabled)}
        if enabled:
            changes["staff_pinged"] = 0  # a later hand-off may ping again
        return await self._update(ticket, now, changes)

    async def idle_warned(self, ticket: Ticket, now: datetime) -> None:
        await self.store.update_ticket(ticket.id, now, idle_warned_at=utc_iso(now))

    async def closed(self, ticket: Ticket, *, by: int | None, reason: str, summary: str, now: datetime) -> Ticket:
        reason = visible_text(reason) or NO_REASON
        updated = await self._update(ticket, now, {
            "status": TicketStatus.CLOSED, "closed_at": utc_iso(now), "closed_by": by, "close_reason": reason,
            "summary": summary,
        })  # fmt: skip
        log.info("Ticket %d closed (%s)", ticket.id, one_line(reason))
        return await self._watched(updated, TicketEvent.CLOSED, now)

    # -- ratings -----------------------------------------------------------------------------

    async def route_to_rate(self, ticket_id: int, route_id: int | None) -> RecordedRoute | None:
        """The answer a Solved / Talk to staff press rates: the one it was posted with, or (buttons
        posted before answers carried their id) the ticket's latest answer."""
        route = await self.store.get_route(route_id) if route_id is not None else await self.store.last_route(ticket_id)
        return route if route is not None and route.ticket_id == ticket_id else None

    async def rated(self, route: RecordedRoute, feedback: Feedback) -> None:
        await self.store.set_feedback(route.id, feedback)

    # -- helpers -----------------------------------------------------------------------------

    async def _transition(self, ticket: Ticket, event: TicketEvent, now: datetime) -> Ticket:
        status = next_status(ticket.status, event)
        return ticket if status is ticket.status else await self._update(ticket, now, {"status": status})

    async def _watched(self, ticket: Ticket, event: TicketEvent, now: datetime) -> Ticket:
        if self.watcher is not None:
            await self.watcher.ticket_event(ticket, event, now)
        return ticket

    def _event_writes(
        self, watched: Watched | None, expected: Ticket, event: TicketEvent, now: datetime, *, known: bool = True
    ) -> list[tuple[str, Params]] | None:
        """The watcher's statements for `event`, to send with the event's own (None: no watcher, or its state was
        not read; then it is told afterwards, in trips of its own)."""
        if self.watcher is None or watched is None:
            return None
        return self.watcher.event_writes(watched.state, expected, event, now, known=known)

    async def _watched_after(
        self, ticket: Ticket, event: TicketEvent, now: datetime, writes: list[tuple[str, Params]] | None,
        watched: Watched | None, *, known: bool = True,
    ) -> None:  # fmt: skip
        """Tell the watcher of an event recorded as `ticket` is now, unless the writes sent with it were already
        the right ones: they were decided from the ticket as read before, and another event may have landed in
        between (then the watcher reads its state again and corrects it, in trips of its own)."""
        if self.watcher is None:
            return
        if writes is None or self._event_writes(watched, ticket, event, now, known=known) != writes:
            await self.watcher.ticket_event(ticket, event, now)

    async def _update(self, ticket: Ticket, now: datetime, changes: dict[str, object]) -> Ticket:
        self._versions[ticket.id] = self._versions.get(ticket.id, 0) + 1
        updated = await self.store.update_ticket(ticket.id, now, **changes)
        assert updated is not None
        if updated.is_closed:
            self._versions.pop(ticket.id, None)
        return updated


_TICKET_FLAGS = ("ai_paused", "staff_pinged")


def _changed(ticket: Ticket, changes: dict[str, object]) -> Ticket:
    """`ticket` as `TicketStore.update_ticket` with `changes` will leave it (unless another write comes first)."""
    known = {name: value for name, value in changes.items() if hasattr(ticket, name)}
    for name in _TICKET_FLAGS:
        if name in known:
            known[name] = bool(known[name])
    return replace(ticket, **known)  # type: ignore[arg-type]  # column names to their values, as the store writes them


@dataclass(frozen=True)
class AutoCloseAction:
    ticket: Ticket
    action: AutoCloseStep
    reason: str


def human_duration(seconds: int) -> str:
    """'1 hour', '3 hours', '45 minutes' — for messages that announce a delay."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def due_autoclose_actions(
    tickets: list[Ticket], now: datetime, *, solved_delay_s: int, idle_warn_s: int, idle_close_s: int
) -> list[AutoCloseAction]:
    """Which unclosed tickets need an auto-close step now.

    A delay of 0 disables that step: no solved auto-close, no idle warning, or warn-but-never-close.
    """
    actions = []
    for t in tickets:
        if t.is_closed:
            continue
        if t.status is TicketStatus.RESOLVED and t.resolved_at:
            if solved_delay_s and now - datetime.fromisoformat(t.resolved_at) >= timedelta(seconds=solved_delay_s):
                actions.append(AutoCloseAction(t, AutoCloseStep.CLOSE_SOLVED, CloseReason.SOLVED_TIMEOUT.value))
            continue
        if not idle_warn_s or t.status is TicketStatus.WAITING_STAFF:
            continue  # a ticket waiting for staff is idle through no fault of the user
        idle_for = now - datetime.fromisoformat(t.last_activity_at)
        if t.idle_warned_at is None:
            if idle_for >= timedelta(seconds=idle_warn_s):
                actions.append(AutoCloseAction(t, AutoCloseStep.WARN_IDLE, CloseReason.IDLE.value))
        elif idle_close_s and now - datetime.fromisoformat(t.idle_warned_at) >= timedelta(seconds=idle_close_s):
            actions.append(AutoCloseAction(t, AutoCloseStep.CLOSE_IDLE, CloseReason.IDLE.value))
    return actions


def _limit_reached(open_count: int, limit: int) -> TicketOpenError:
    return TicketOpenError(
        f"You already have {open_count} open ticket(s); the limit is {limit}. "
        "Please continue in an existing ticket or close one first."
    )
