"""SQL of the staff desk: the desk's columns of a ticket (claimer, priority, flag, subject) and the history
tables of tickets/migrations.py migration 3 (claims, priority changes, notes, members, reopenings, close
requests), the blacklist and the on-call rotation. Portable SQL: named parameters, RETURNING, ON CONFLICT."""

from __future__ import annotations

from datetime import datetime

from db.database import Database, Row, utc_iso
from tickets.desk_models import (
    BlacklistEntry,
    ClaimAction,
    ClaimEvent,
    CloseRequest,
    CloseRequestStatus,
    Note,
    OnCallMember,
    Priority,
    PriorityChange,
    PrioritySource,
)
from tickets.models import Ticket, TicketStatus
from tickets.store import TicketStore

# The ticket columns the desk changes (TicketStore.update_ticket changes the lifecycle's own).
DESK_FIELDS = frozenset({"claimed_by", "claimed_at", "priority", "priority_source", "flag", "ai_paused", "subject"})


class DeskStore:
    def __init__(self, db: Database, tickets: TicketStore) -> None:
        self.db = db
        self.tickets = tickets

    # -- the ticket's own columns ---------------------------------------------------------------------

    async def update(self, ticket_id: int, now: datetime, **fields: object) -> Ticket | None:
        """Set desk columns of an unclosed ticket; returns the fresh row (unchanged if it is closed)."""
        unknown = set(fields) - DESK_FIELDS
        if unknown:
            raise ValueError(f"unknown desk fields: {sorted(unknown)}")
        fields["updated_at"] = utc_iso(now)
        assignments = ", ".join(f"{name} = :{name}" for name in fields)
        await self.db.run(
            f"UPDATE tickets SET {assignments} WHERE id = :id AND status != 'closed'", {**fields, "id": ticket_id}
        )
        return await self.tickets.get_ticket(ticket_id)

    # -- claims ---------------------------------------------------------------------------------------

    async def claim_changed(
        self, ticket: Ticket, action: ClaimAction, *, staff_id: int | None, staff_name: str | None,
        by: int | None, now: datetime, pause_ai: bool,
    ) -> Ticket | None:  # fmt: skip
        """The ticket's claimer and the event, together."""
        fields: dict[str, object] = {
            "claimed_by": staff_id, "claimed_at": utc_iso(now) if staff_id is not None else None,
        }  # fmt: skip
        if pause_ai:
            fields["ai_paused"] = 1
        async with self.db.transaction():
            updated = await self.update(ticket.id, now, **fields)
            await self.db.run(
                """INSERT INTO ticket_claims (ticket_id, guild_id, action, staff_id, staff_name, by_id, created_at)
                   VALUES (:ticket_id, :guild_id, :action, :staff_id, :staff_name, :by_id, :now)""",
                {"ticket_id": ticket.id, "guild_id": ticket.guild_id, "action": action.value, "staff_id": staff_id,
                 "staff_name": staff_name, "by_id": by, "now": utc_iso(now)},
            )  # fmt: skip
        return updated

    async def claims(self, ticket_id: int) -> list[ClaimEvent]:
        rows = await self.db.fetchall(
            "SELECT * FROM ticket_claims WHERE ticket_id = :ticket_id ORDER BY id", {"ticket_id": ticket_id}
        )
        return [
            ClaimEvent(r["ticket_id"], ClaimAction(r["action"]), r["staff_id"], r["staff_name"], r["by_id"],
                       r["created_at"])
            for r in rows
        ]  # fmt: skip

    # -- priority -------------------------------------------------------------------------------------

    async def priority_changed(
        self, ticket: Ticket, priority: Priority, *, source: PrioritySource, by: int | None, reason: str,
        now: datetime, flag: str | None = None,
    ) -> Ticket | None:  # fmt: skip
        fields: dict[str, object] = {"priority": priority.value, "priority_source": source.value}
        if flag is not None:
            fields["flag"] = flag
        async with self.db.transaction():
            updated = await self.update(ticket.id, now, **fields)
            await self.db.run(
                """INSERT INTO ticket_priority_changes (ticket_id, guild_id, priority, previous, source, by_id, reason,
                                                       created_at)
                   VALUES (:ticket_id, :guild_id, :priority, :previous, :source, :by_id, :reason, :now)""",
                {"ticket_id": ticket.id, "guild_id": ticket.guild_id, "priority": priority.value,
                 "previous": ticket.priority.value, "source": source.value, "by_id": by, "reason": reason,
                 "now": utc_iso(now)},
            )  # fmt: skip
        return updated

    async def priority_changes(self, ticket_id: int) -> list[PriorityChange]:
        rows = await self.db.fetchall(
            "SELECT * FROM ticket_priority_changes WHERE ticket_id = :ticket_id ORDER BY id", {"ticket_id": ticket_id}
        )
        return [
            PriorityChange(r["ticket_id"], Priority(r["priority"]), Priority(r["previous"]),
                           PrioritySource(r["source"]), r["by_id"], r["reason"], r["created_at"])
            for r in rows
        ]  # fmt: skip

    # -- notes ----------------------------------------------------------------------------------------

    async def add_note(self, ticket: Ticket, *, author_id: int, author_name: str, content: str, now: datetime) -> Note:
        note_id = await self.db.insert(
            """INSERT INTO ticket_notes (ticket_id, guild_id, author_id, author_name, content, created_at)
               VALUES (:ticket_id, :guild_id, :author_id, :author_name, :content, :now) RETURNING id""",
            {"ticket_id": ticket.id, "guild_id": ticket.guild_id, "author_id": author_id,
             "author_name": author_name, "content": content, "now": utc_iso(now)},
        )  # fmt: skip
        return Note(note_id, ticket.id, author_id, author_name, content, utc_iso(now))

    async def notes(self, ticket_id: int) -> list[Note]:
        rows = await self.db.fetchall(
            "SELECT * FROM ticket_notes WHERE ticket_id = :ticket_id ORDER BY id", {"ticket_id": ticket_id}
        )
        return [
            Note(r["id"], r["ticket_id"], r["author_id"], r["author_name"], r["content"], r["created_at"]) for r in rows
        ]

    # -- members --------------------------------------------------------------------------------------

    async def member_changed(self, ticket_id: int, user_id: int, *, added: bool, by: int, now: datetime) -> None:
        await self.db.run(
            """INSERT INTO ticket_member_changes (ticket_id, user_id, action, by_id, created_at)
               VALUES (:ticket_id, :user_id, :action, :by_id, :now)""",
            {"ticket_id": ticket_id, "user_id": user_id, "action": "added" if added else "removed", "by_id": by,
             "now": utc_iso(now)},
        )  # fmt: skip

    async def members(self, ticket_id: int) -> list[int]:
        """Who was added with /add and not removed since, in the order they were added."""
        rows = await self.db.fetchall(
            """SELECT user_id, action FROM ticket_member_changes WHERE ticket_id = :ticket_id ORDER BY id""",
            {"ticket_id": ticket_id},
        )
        current: dict[int, bool] = {}
        for r in rows:
            current.pop(r["user_id"], None)
            current[r["user_id"]] = r["action"] == "added"
        return [user_id for user_id, added in current.items() if added]

    # -- reopening ------------------------------------------------------------------------------------

    async def reopen(self, ticket: Ticket, *, status: TicketStatus, by: int, now: datetime) -> Ticket | None:
        """Reopen a closed ticket: its close is kept in ticket_reopenings, its row of ticket_facts (which holds
        closed tickets only, computed once) is deleted. None when it was not closed any more."""
        at = utc_iso(now)
        async with self.db.transaction():
            changed = await self.db.run_rowcount(
                """UPDATE tickets SET status = :status, closed_at = NULL, closed_by = NULL, close_reason = NULL,
                                      summary = NULL, resolved_at = NULL, idle_warned_at = NULL, staff_pinged = 0,
                                      last_activity_at = :now, updated_at = :now
                   WHERE id = :id AND status = 'closed'""",
                {"status": status.value, "now": at, "id": ticket.id},
            )
            if not changed:
                return None
            await self.db.run(
                """INSERT INTO ticket_reopenings (ticket_id, guild_id, by_id, closed_at, close_reason, created_at)
                   VALUES (:ticket_id, :guild_id, :by_id, :closed_at, :close_reason, :now)""",
                {"ticket_id": ticket.id, "guild_id": ticket.guild_id, "by_id": by,
                 "closed_at": ticket.closed_at or at, "close_reason": ticket.close_reason, "now": at},
            )  # fmt: skip
            await self.db.run("DELETE FROM ticket_facts WHERE ticket_id = :id", {"id": ticket.id})
        return await self.tickets.get_ticket(ticket.id)

    async def closed_since(
        self, guild_id: int, since: datetime, *, opener_id: int | None, limit: int = 25
    ) -> list[Ticket]:
        """Tickets closed at or after `since`, the latest first (of one opener, or of everyone)."""
        mine = " AND opener_id = :opener_id" if opener_id is not None else ""
        rows = await self.db.fetchall(
            f"""SELECT id FROM tickets WHERE guild_id = :guild_id AND status = 'closed' AND closed_at >= :since{mine}
                ORDER BY closed_at DESC LIMIT :limit""",
            {"guild_id": guild_id, "since": utc_iso(since), "opener_id": opener_id, "limit": limit},
        )
        found = [await self.tickets.get_ticket(r["id"]) for r in rows]
        return [t for t in found if t is not None]

    async def reopenings(self, ticket_id: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT * FROM ticket_reopenings WHERE ticket_id = :ticket_id ORDER BY id", {"ticket_id": ticket_id}
        )

    # -- close requests -------------------------------------------------------------------------------

    async def add_close_request(
        self, ticket: Ticket, *, by: int, reason: str, now: datetime, due_at: datetime | None
    ) -> CloseRequest:
        request_id = await self.db.insert(
            """INSERT INTO ticket_close_requests (ticket_id, guild_id, requested_by, reason, status, created_at, due_at)
               VALUES (:ticket_id, :guild_id, :by, :reason, 'pending', :now, :due_at) RETURNING id""",
            {"ticket_id": ticket.id, "guild_id": ticket.guild_id, "by": by, "reason": reason, "now": utc_iso(now),
             "due_at": utc_iso(due_at) if due_at else None},
        )  # fmt: skip
        found = await self.close_request(request_id)
        assert found is not None
        return found

    async def set_close_request_message(self, request_id: int, message_id: int) -> None:
        await self.db.run(
            "UPDATE ticket_close_requests SET message_id = :message_id WHERE id = :id",
            {"message_id": message_id, "id": request_id},
        )

    async def close_request(self, request_id: int) -> CloseRequest | None:
        row = await self.db.fetchone("SELECT * FROM ticket_close_requests WHERE id = :id", {"id": request_id})
        return _close_request(row) if row else None

    async def pending_close_request(self, ticket_id: int) -> CloseRequest | None:
        row = await self.db.fetchone(
            "SELECT * FROM ticket_close_requests WHERE ticket_id = :ticket_id AND status = 'pending' "
            "ORDER BY id DESC LIMIT 1",
            {"ticket_id": ticket_id},
        )
        return _close_request(row) if row else None

    async def due_close_requests(self, now: datetime) -> list[CloseRequest]:
        rows = await self.db.fetchall(
            "SELECT * FROM ticket_close_requests WHERE status = 'pending' AND due_at <= :now ORDER BY due_at, id",
            {"now": utc_iso(now)},
        )
        return [_close_request(r) for r in rows]

    async def answer_close_request(
        self, request_id: int, status: CloseRequestStatus, *, by: int | None, now: datetime
    ) -> bool:
        """Settle a pending request; False when it was settled already (two presses at once)."""
        changed = await self.db.run_rowcount(
            """UPDATE ticket_close_requests SET status = :status, answered_by = :by, answered_at = :now
               WHERE id = :id AND status = 'pending'""",
            {"status": status.value, "by": by, "now": utc_iso(now), "id": request_id},
        )
        return changed > 0

    # -- blacklist ------------------------------------------------------------------------------------

    async def blacklist_entry(self, guild_id: int, user_id: int) -> BlacklistEntry | None:
        row = await self.db.fetchone(
            "SELECT * FROM ticket_blacklist WHERE guild_id = :guild_id AND user_id = :user_id",
            {"guild_id": guild_id, "user_id": user_id},
        )
        return _blacklist_entry(row) if row else None

    async def blacklist_add(self, guild_id: int, user_id: int, *, reason: str, by: int, now: datetime) -> None:
        await self.db.run(
            """INSERT INTO ticket_blacklist (guild_id, user_id, reason, added_by, created_at)
               VALUES (:guild_id, :user_id, :reason, :by, :now)
               ON CONFLICT (guild_id, user_id) DO UPDATE SET
                 reason = excluded.reason, added_by = excluded.added_by, created_at = excluded.created_at""",
            {"guild_id": guild_id, "user_id": user_id, "reason": reason, "by": by, "now": utc_iso(now)},
        )

    async def blacklist_remove(self, guild_id: int, user_id: int) -> bool:
        changed = await self.db.run_rowcount(
            "DELETE FROM ticket_blacklist WHERE guild_id = :guild_id AND user_id = :user_id",
            {"guild_id": guild_id, "user_id": user_id},
        )
        return changed > 0

    async def blacklist(self, guild_id: int) -> list[BlacklistEntry]:
        rows = await self.db.fetchall(
            "SELECT * FROM ticket_blacklist WHERE guild_id = :guild_id ORDER BY created_at, user_id",
            {"guild_id": guild_id},
        )
        return [_blacklist_entry(r) for r in rows]

    # -- on call --------------------------------------------------------------------------------------

    async def set_on_call(self, guild_id: int, user_id: int, *, on: bool, now: datetime) -> bool:
        """Opt in or out; False when nothing changed."""
        if on:
            changed = await self.db.run_rowcount(
                """INSERT INTO oncall_staff (guild_id, user_id, since) VALUES (:guild_id, :user_id, :now)
                   ON CONFLICT (guild_id, user_id) DO NOTHING""",
                {"guild_id": guild_id, "user_id": user_id, "now": utc_iso(now)},
            )
        else:
            changed = await self.db.run_rowcount(
                "DELETE FROM oncall_staff WHERE guild_id = :guild_id AND user_id = :user_id",
                {"guild_id": guild_id, "user_id": user_id},
            )
        return changed > 0

    async def on_call(self, guild_id: int) -> list[OnCallMember]:
        rows = await self.db.fetchall(
            """SELECT user_id, since, last_turn, last_assigned_at FROM oncall_staff WHERE guild_id = :guild_id
               ORDER BY since, user_id""",
            {"guild_id": guild_id},
        )
        return [OnCallMember(r["user_id"], r["since"], r["last_assigned_at"], r["last_turn"]) for r in rows]

    async def on_call_assigned(self, guild_id: int, user_id: int, now: datetime) -> None:
        # A counter, not the time: tickets opened within the same second still go round.
        await self.db.run(
            """UPDATE oncall_staff SET last_assigned_at = :now,
                 last_turn = (SELECT MAX(last_turn) FROM oncall_staff WHERE guild_id = :guild_id) + 1
               WHERE guild_id = :guild_id AND user_id = :user_id""",
            {"guild_id": guild_id, "user_id": user_id, "now": utc_iso(now)},
        )


def _close_request(row: Row) -> CloseRequest:
    return CloseRequest(
        id=row["id"], ticket_id=row["ticket_id"], guild_id=row["guild_id"], requested_by=row["requested_by"],
        reason=row["reason"], status=CloseRequestStatus(row["status"]), created_at=row["created_at"],
        due_at=row["due_at"], message_id=row["message_id"], answered_by=row["answered_by"],
        answered_at=row["answered_at"],
    )  # fmt: skip


def _blacklist_entry(row: Row) -> BlacklistEntry:
    return BlacklistEntry(row["guild_id"], row["user_id"], row["reason"], row["added_by"], row["created_at"])
