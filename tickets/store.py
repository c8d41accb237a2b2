"""SQL for guild configuration, tickets, their messages and the answer routes taken."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from db.database import Database, Params, Row, utc_iso
from memory.decision import Route
from tickets.desk_models import Priority, PrioritySource, UrgencyFlag
from tickets.models import (
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


class TicketStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- guild configuration -------------------------------------------------
    async def get_config(self, guild_id: int) -> GuildConfig | None:
        """The server's configuration without its categories (`CategoryStore` reads those)."""
        row = await self.db.fetchone("SELECT * FROM guild_config WHERE guild_id = :guild_id", {"guild_id": guild_id})
        if row is None:
            return None
        return GuildConfig(
            guild_id=row["guild_id"],
            forum_id=row["forum_id"],
            staff_role_id=row["staff_role_id"],
            log_channel_id=row["log_channel_id"],
            tag_ids={k: int(v) for k, v in json.loads(row["tag_ids"]).items()},
            private_channel_id=row["private_channel_id"],
        )

    async def save_config(self, config: GuildConfig, now: datetime) -> None:
        # The `categories` column is what servers had before categories were rows (migration 2): unused.
        await self.db.run(
            """INSERT INTO guild_config (guild_id, forum_id, staff_role_id, log_channel_id, tag_ids,
                                         private_channel_id, updated_at)
               VALUES (:guild_id, :forum_id, :staff_role_id, :log_channel_id, :tag_ids, :private_channel_id, :now)
               ON CONFLICT (guild_id) DO UPDATE SET
                 forum_id = excluded.forum_id, staff_role_id = excluded.staff_role_id,
                 log_channel_id = excluded.log_channel_id, tag_ids = excluded.tag_ids,
                 private_channel_id = excluded.private_channel_id, updated_at = excluded.updated_at""",
            {
                "guild_id": config.guild_id,
                "forum_id": config.forum_id,
                "staff_role_id": config.staff_role_id,
                "log_channel_id": config.log_channel_id,
                "tag_ids": json.dumps(config.tag_ids),
                "private_channel_id": config.private_channel_id,
                "now": utc_iso(now),
            },
        )

    # --- tickets ----------------------------------------------------------------
    async def create_ticket(
        self, *, ticket_id: int, guild_id: int, opener_id: int, category: str, subject: str, now: datetime,
        mode: TicketMode = TicketMode.FORUM, source: TicketSource = TicketSource.PANEL, opened_by: int | None = None,
        starter_message_id: int | None = None, answers: list[FormAnswer] | None = None, ai_paused: bool = False,
        open_limit: int | None = None,
    ) -> Ticket:  # fmt: skip
        """The ticket row and its form answers, together or not at all.

        `open_limit`: refuse (OpenLimitReached) when the opener already has that many unclosed tickets, counted in
        the same write transaction. Write transactions run one at a time (SQLite's writer, PostgreSQL's write
        lock: db/postgres.py), so two processes opening for one member at once cannot both pass the limit.
        """
        async with self.db.transaction():
            if open_limit is not None:
                open_count = await self.open_tickets_of(guild_id, opener_id)
                if open_count >= open_limit:
                    raise OpenLimitReached(open_count, open_limit)
            await self.db.run(
                """INSERT INTO tickets (id, guild_id, opener_id, category, subject, status, created_at,
                                        updated_at, last_activity_at, mode, source, opened_by, starter_message_id,
                                        ai_paused)
                   VALUES (:id, :guild_id, :opener_id, :category, :subject, 'open', :now, :now, :now, :mode,
                           :source, :opened_by, :starter_message_id, :ai_paused)""",
                {
                    "id": ticket_id,
                    "guild_id": guild_id,
                    "opener_id": opener_id,
                    "category": category,
                    "subject": subject,
                    "now": utc_iso(now),
                    "mode": mode.value,
                    "source": source.value,
                    "opened_by": opened_by,
                    "starter_message_id": starter_message_id,
                    "ai_paused": int(ai_paused),
                },
            )
            for position, answer in enumerate(answers or [], start=1):
                await self.db.run(
                    """INSERT INTO ticket_answers (ticket_id, position, question, answer)
                       VALUES (:ticket_id, :position, :question, :answer)""",
                    {"ticket_id": ticket_id, "position": position, "question": answer.question,
                     "answer": answer.answer},
                )  # fmt: skip
        ticket = await self.get_ticket(ticket_id)
        assert ticket is not None
        return ticket

    async def answers(self, ticket_id: int) -> list[FormAnswer]:
        """The form answers given when the ticket was opened, in the form's order."""
        rows = await self.db.fetchall(_ANSWERS_SQL, {"ticket_id": ticket_id})
        return [FormAnswer(row["question"], row["answer"]) for row in rows]

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        row = await self.db.fetchone("SELECT * FROM tickets WHERE id = :id", {"id": ticket_id})
        return _ticket(row) if row else None

    async def open_tickets_of(self, guild_id: int, user_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM tickets WHERE guild_id = :guild_id AND opener_id = :user_id AND status != 'closed'",
            {"guild_id": guild_id, "user_id": user_id},
        )
        return row[0] if row else 0

    async def last_opened_at(self, guild_id: int, user_id: int) -> str | None:
        row = await self.db.fetchone(
            "SELECT MAX(created_at) FROM tickets WHERE guild_id = :guild_id AND opener_id = :user_id",
            {"guild_id": guild_id, "user_id": user_id},
        )
        return row[0] if row else None

    async def unclosed_tickets(self) -> list[Ticket]:
        return [
            _ticket(row) for row in await self.db.fetchall("SELECT * FROM tickets WHERE status != 'closed' ORDER BY id")
        ]

    async def update_ticket(self, ticket_id: int, now: datetime, **fields: object) -> Ticket | None:
        """Set the given columns (validated names only) and bump `updated_at`; returns the fresh row.

        A closed ticket stays closed: only an update that itself closes the ticket applies to a
        row already closed, so a late status write (e.g. a message handled while the ticket was
        being closed) cannot reopen it.
        """
        update, select = _ticket_update(ticket_id, now, fields)
        _, rows = await self.db.batch([update, select])
        return _ticket(rows[0]) if rows else None

    async def message_recorded(
        self, message: TicketMessage, now: datetime, *, also: Sequence[Step] = (), context_last: int | None = None,
        **fields: object,
    ) -> tuple[Ticket | None, tuple[list[TicketMessage], list[FormAnswer]] | None]:  # fmt: skip
        """Store a message and update its ticket (`update_ticket`), with the statements `also` (the watcher's), in
        one transaction and one trip to the database; returns the fresh ticket and, given `context_last`, its
        `last` messages and its form answers as `answer_context` reads them."""
        update, select = _ticket_update(message.ticket_id, now, fields)
        steps = [_message_insert(message), update, *also, select]
        if context_last is not None:
            steps += _context_reads(message.ticket_id, context_last)
        results = await self.db.batch(steps)
        if context_last is None:
            rows = results[-1]
            return (_ticket(rows[0]) if rows else None), None
        rows, messages, answers = results[-3:]
        context = [_message(r) for r in messages], [FormAnswer(r["question"], r["answer"]) for r in answers]
        return (_ticket(rows[0]) if rows else None), context

    async def ticket_with(self, ticket_id: int, read: Step) -> tuple[Ticket | None, list[Row]]:
        """The ticket and the rows of `read` (the watcher's state of it), in one trip."""
        tickets, rows = await self.db.batch([_ticket_select(ticket_id), read], write=False)
        return (_ticket(tickets[0]) if tickets else None), rows

    async def answer_context(
        self, ticket_id: int, *, last: int
    ) -> tuple[Ticket | None, list[TicketMessage], list[FormAnswer]]:
        """What answering a message needs, read in one trip: the ticket, its `last` messages, its form."""
        tickets, messages, answers = await self.db.batch(
            [_ticket_select(ticket_id), *_context_reads(ticket_id, last)], write=False
        )
        return (
            _ticket(tickets[0]) if tickets else None,
            [_message(r) for r in messages],
            [FormAnswer(r["question"], r["answer"]) for r in answers],
        )

    async def count_open(self, guild_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM tickets WHERE guild_id = :guild_id AND status != 'closed'", {"guild_id": guild_id}
        )
        return row[0] if row else 0

    # --- messages ---------------------------------------------------------------
    async def add_message(self, message: TicketMessage) -> None:
        await self.db.run(*_message_insert(message))

    async def messages(self, ticket_id: int, *, last: int | None = None) -> list[TicketMessage]:
        sql = (
            "SELECT * FROM ticket_messages WHERE ticket_id = :ticket_id ORDER BY id" if last is None else _MESSAGES_SQL
        )
        rows = await self.db.fetchall(sql, {"ticket_id": ticket_id, "last": last})
        return [_message(r) for r in rows]

    # --- interactions (answer routes and feedback) ----------------------------------
    async def record_route(
        self,
        *,
        guild_id: int,
        ticket_id: int | None,
        message_id: int | None,
        route: Route,
        entry_id: int | None,
        score: float | None,
        detail: str,
        now: datetime,
    ) -> int:
        return await self.db.insert(
            *_route_insert(guild_id, ticket_id, message_id, route, entry_id, score, detail, now)
        )

    async def answer_recorded(
        self, ticket_id: int, *, guild_id: int, message_id: int | None, route: Route, entry_id: int | None,
        score: float | None, detail: str, reply: TicketMessage | None, now: datetime,
        status: TicketStatus | None = None, also: Sequence[Step] = (),
    ) -> tuple[int, RecordedRoute | None, Ticket | None, Ticket | None] | None:  # fmt: skip
        """Record an answer's route and the bot's reply (if any) in one transaction and one trip; returns
        the route's id, the ticket's previous route, and the ticket as it is now.

        `status` (the answer reached the ticket): then also set it, unless the ticket is closed or has it already,
        run the statements `also` (the watcher's), and return the ticket after that as well (else None).

        None, and nothing written: the ticket no longer wants the assistant's answer (closed, or the assistant
        paused: claimed, staff wrote, switched off), checked in the same transaction as the writes, so it holds
        against a claim or a close from another process that lands while the answer was being written."""
        steps = [
            (f"SELECT {_ROUTE_COLUMNS} FROM interactions WHERE ticket_id = :ticket_id ORDER BY id DESC LIMIT 1",
             {"ticket_id": ticket_id}),
            _route_insert(guild_id, ticket_id, message_id, route, entry_id, score, detail, now),
        ]  # fmt: skip
        if reply is not None:
            steps.append(_message_insert(reply))
        steps.append(_ticket_select(ticket_id))
        if status is not None:
            steps.append((
                "UPDATE tickets SET status = :status, updated_at = :now "
                "WHERE id = :id AND status != 'closed' AND status != :status",
                {"status": status.value, "now": utc_iso(now), "id": ticket_id},
            ))  # fmt: skip
            steps += [*also, _ticket_select(ticket_id)]
        results = await self.db.batch(steps, only_if=_answer_wanted(ticket_id))
        if not results:
            return None
        previous, inserted = results[0], results[1]
        if status is None:
            ticket, after = results[-1], []
        else:
            ticket, after = results[-3 - len(also)], results[-1]
        return (
            int(inserted[0][0]),
            _route(previous[0]) if previous else None,
            _ticket(ticket[0]) if ticket else None,
            _ticket(after[0]) if after else None,
        )

    async def last_route(self, ticket_id: int) -> RecordedRoute | None:
        """The latest answer given in a ticket."""
        row = await self.db.fetchone(
            f"SELECT {_ROUTE_COLUMNS} FROM interactions WHERE ticket_id = :ticket_id ORDER BY id DESC LIMIT 1",
            {"ticket_id": ticket_id},
        )
        return _route(row) if row else None

    async def get_route(self, interaction_id: int) -> RecordedRoute | None:
        """One recorded answer, e.g. to credit the very answer whose button was pressed."""
        row = await self.db.fetchone(
            f"SELECT {_ROUTE_COLUMNS} FROM interactions WHERE id = :id", {"id": interaction_id}
        )
        return _route(row) if row else None

    async def set_feedback(self, interaction_id: int, feedback: Feedback) -> None:
        await self.db.run(
            "UPDATE interactions SET feedback = :feedback WHERE id = :id",
            {"feedback": feedback.value, "id": interaction_id},
        )

    async def routes_since(self, guild_id: int, since: datetime) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT route, COUNT(*) FROM interactions WHERE guild_id = :guild_id AND created_at >= :since "
            "GROUP BY route",
            {"guild_id": guild_id, "since": utc_iso(since)},
        )
        return {route: n for route, n in rows}


_ROUTE_COLUMNS = "id, ticket_id, message_id, route, entry_id, detail, feedback"


def _route(row: Row) -> RecordedRoute:
    return RecordedRoute(
        id=row["id"],
        ticket_id=row["ticket_id"],
        message_id=row["message_id"],
        route=Route(row["route"]),
        entry_id=row["entry_id"],
        detail=row["detail"],
        feedback=Feedback(row["feedback"]) if row["feedback"] else None,
    )


def _ticket(row: Row) -> Ticket:
    return Ticket(
        id=row["id"],
        guild_id=row["guild_id"],
        opener_id=row["opener_id"],
        category=row["category"],
        subject=row["subject"],
        status=TicketStatus(row["status"]),
        ai_paused=bool(row["ai_paused"]),
        staff_pinged=bool(row["staff_pinged"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_activity_at=row["last_activity_at"],
        resolved_at=row["resolved_at"],
        idle_warned_at=row["idle_warned_at"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        close_reason=row["close_reason"],
        summary=row["summary"],
        mode=TicketMode(row["mode"]),
        source=TicketSource(row["source"]) if row["source"] else None,
        opened_by=row["opened_by"],
        starter_message_id=row["starter_message_id"],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
        priority=Priority(row["priority"]),
        priority_source=PrioritySource(row["priority_source"]) if row["priority_source"] else None,
        flag=UrgencyFlag(row["flag"]) if row["flag"] else None,
    )


Step = tuple[str, Params]


def _ticket_select(ticket_id: int) -> Step:
    return "SELECT * FROM tickets WHERE id = :id", {"id": ticket_id}


def _answer_wanted(ticket_id: int) -> Step:
    """The ticket still takes the assistant's answers: not closed, the assistant not paused in it."""
    return "SELECT 1 FROM tickets WHERE id = :id AND status != 'closed' AND ai_paused = 0", {"id": ticket_id}


def _context_reads(ticket_id: int, last: int) -> list[Step]:
    return [(_MESSAGES_SQL, {"ticket_id": ticket_id, "last": last}), (_ANSWERS_SQL, {"ticket_id": ticket_id})]


_MESSAGES_SQL = (
    "SELECT * FROM (SELECT * FROM ticket_messages WHERE ticket_id = :ticket_id ORDER BY id DESC LIMIT :last) "
    "AS recent ORDER BY id"
)
_ANSWERS_SQL = "SELECT question, answer FROM ticket_answers WHERE ticket_id = :ticket_id ORDER BY position"
_TICKET_FIELDS = {
    "status", "ai_paused", "staff_pinged", "resolved_at", "idle_warned_at", "closed_at",
    "closed_by", "close_reason", "summary", "last_activity_at", "category",
}  # fmt: skip


def _ticket_update(ticket_id: int, now: datetime, fields: dict[str, object]) -> tuple[tuple[str, Params], ...]:
    """The UPDATE of `TicketStore.update_ticket` and the SELECT of the fresh row."""
    unknown = set(fields) - _TICKET_FIELDS
    if unknown:
        raise ValueError(f"unknown ticket fields: {sorted(unknown)}")
    fields = {**fields, "updated_at": utc_iso(now)}
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    values = {name: v.value if isinstance(v, TicketStatus) else v for name, v in fields.items()}
    closing = fields.get("status") == TicketStatus.CLOSED
    guard = "" if closing else " AND status != 'closed'"
    return (
        (f"UPDATE tickets SET {assignments} WHERE id = :id{guard}", {**values, "id": ticket_id}),
        ("SELECT * FROM tickets WHERE id = :id", {"id": ticket_id}),
    )


def _message_insert(message: TicketMessage) -> tuple[str, Params]:
    return (
        """INSERT INTO ticket_messages (ticket_id, message_id, author_id, author_name, role, content, created_at)
           VALUES (:ticket_id, :message_id, :author_id, :author_name, :role, :content, :created_at)""",
        {
            "ticket_id": message.ticket_id,
            "message_id": message.message_id,
            "author_id": message.author_id,
            "author_name": message.author_name,
            "role": message.role.value,
            "content": message.content,
            "created_at": message.created_at,
        },
    )


def _message(r: Row) -> TicketMessage:
    return TicketMessage(
        ticket_id=r["ticket_id"],
        message_id=r["message_id"],
        author_id=r["author_id"],
        author_name=r["author_name"],
        role=MessageRole(r["role"]),
        content=r["content"],
        created_at=r["created_at"],
    )


def _route_insert(
    guild_id: int, ticket_id: int | None, message_id: int | None, route: Route, entry_id: int | None,
    score: float | None, detail: str, now: datetime,
) -> tuple[str, Params]:  # fmt: skip
    return (
        """INSERT INTO interactions (guild_id, ticket_id, message_id, route, entry_id, score, detail, created_at)
           VALUES (:guild_id, :ticket_id, :message_id, :route, :entry_id, :score, :detail, :now) RETURNING id""",
        {
            "guild_id": guild_id,
            "ticket_id": ticket_id,
            "message_id": message_id,
            "route": route.value,
            "entry_id": entry_id,
            "score": score,
            "detail": detail,
            "now": utc_iso(now),
        },
    )


class OpenLimitReached(Exception):
    """The opener has `open_count` unclosed tickets, the limit is `limit` (`TicketStore.create_ticket`)."""

    def __init__(self, open_count: int, limit: int) -> None:
        super().__init__(f"{open_count} open tickets, limit {limit}")
        self.open_count, self.limit = open_count, limit
