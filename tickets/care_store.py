"""SQL of the "ticket_care" tables: ratings and their prompts, waits, held-back pings, the care log, gate
refusals; and the two reads of `tickets` the opening gates and the user card need. Portable SQL (named parameters)."""

from __future__ import annotations

from datetime import datetime

from db.database import Database, Params, Row, utc_iso
from tickets.care_models import PastTicket, PingKind, QueuedPing, Rating, RatingPlace, TicketHistory
from tickets.schedule import Wait, WaitingOn


class CareStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- ratings ------------------------------------------------------------------------------
    async def rating(self, ticket_id: int) -> Rating | None:
        row = await self.db.fetchone("SELECT * FROM ticket_ratings WHERE ticket_id = :id", {"id": ticket_id})
        return _rating(row) if row else None

    async def ensure_rating(self, *, ticket_id: int, guild_id: int, opener_id: int, now: datetime) -> None:
        await self.db.run(
            """INSERT INTO ticket_ratings (ticket_id, guild_id, opener_id, created_at)
               VALUES (:ticket_id, :guild_id, :opener_id, :now) ON CONFLICT (ticket_id) DO NOTHING""",
            {"ticket_id": ticket_id, "guild_id": guild_id, "opener_id": opener_id, "now": utc_iso(now)},
        )

    async def add_prompt(
        self, *, ticket_id: int, guild_id: int, place: RatingPlace, delivered: bool, error_code: int | None,
        channel_id: int | None, message_id: int | None, now: datetime,
    ) -> None:  # fmt: skip
        await self.db.run(
            """INSERT INTO rating_prompts (ticket_id, guild_id, place, delivered, error_code, channel_id, message_id,
                                           created_at)
               VALUES (:ticket_id, :guild_id, :place, :delivered, :error_code, :channel_id, :message_id, :now)""",
            {"ticket_id": ticket_id, "guild_id": guild_id, "place": place.value, "delivered": int(delivered),
             "error_code": error_code, "channel_id": channel_id, "message_id": message_id, "now": utc_iso(now)},
        )  # fmt: skip

    async def prompts(self, ticket_id: int) -> list[tuple[RatingPlace, bool, int | None]]:
        rows = await self.db.fetchall(
            "SELECT place, delivered, error_code FROM rating_prompts WHERE ticket_id = :id ORDER BY id",
            {"id": ticket_id},
        )
        return [(RatingPlace(r["place"]), bool(r["delivered"]), r["error_code"]) for r in rows]

    async def set_stars(self, ticket_id: int, stars: int, now: datetime) -> bool:
        """Rate once: False when the ticket was rated already (the first press wins)."""
        changed = await self.db.run_rowcount(
            "UPDATE ticket_ratings SET stars = :stars, rated_at = :now WHERE ticket_id = :id AND stars IS NULL",
            {"stars": stars, "now": utc_iso(now), "id": ticket_id},
        )
        return changed == 1

    async def set_comment(self, ticket_id: int, comment: str, now: datetime) -> bool:
        changed = await self.db.run_rowcount(
            """UPDATE ticket_ratings SET comment = :comment, commented_at = :now
               WHERE ticket_id = :id AND stars IS NOT NULL AND comment IS NULL""",
            {"comment": comment, "now": utc_iso(now), "id": ticket_id},
        )
        return changed == 1

    async def set_log_message(self, ticket_id: int, channel_id: int, message_id: int) -> None:
        await self.db.run(
            "UPDATE ticket_ratings SET log_channel_id = :channel, log_message_id = :message WHERE ticket_id = :id",
            {"channel": channel_id, "message": message_id, "id": ticket_id},
        )

    # --- waits --------------------------------------------------------------------------------
    async def wait(self, ticket_id: int) -> Wait | None:
        return wait_of(await self.db.fetchall(*wait_read(ticket_id)))

    async def waits(self, guild_id: int) -> dict[int, Wait]:
        rows = await self.db.fetchall("SELECT * FROM ticket_waits WHERE guild_id = :g", {"g": guild_id})
        return {row["ticket_id"]: _wait(row) for row in rows}

    async def apply(self, steps: list[tuple[str, Params]]) -> None:
        for step in steps:
            await self.db.run(*step)

    async def put_wait(self, wait: Wait) -> None:
        await self.db.run(*wait_put(wait))

    async def delete_wait(self, ticket_id: int) -> None:
        await self.db.run(*wait_delete(ticket_id))

    async def count_nudge(self, wait: Wait, now: datetime) -> bool:
        """Count one nudge of this very wait (same start, same count): False when it changed meanwhile."""
        changed = await self.db.run_rowcount(
            """UPDATE ticket_waits SET nudges = nudges + 1, last_nudge_at = :now
               WHERE ticket_id = :id AND since = :since AND waiting_on = :on AND nudges = :nudges""",
            {"now": utc_iso(now), "id": wait.ticket_id, "since": wait.since, "on": wait.on.value,
             "nudges": wait.nudges},
        )  # fmt: skip
        return changed == 1

    async def log_event(
        self, *, guild_id: int, ticket_id: int, kind: str, number: int, waited_s: int | None, now: datetime
    ) -> None:
        await self.db.run(
            """INSERT INTO care_events (guild_id, ticket_id, kind, number, waited_s, created_at)
               VALUES (:guild_id, :ticket_id, :kind, :number, :waited_s, :now)""",
            {"guild_id": guild_id, "ticket_id": ticket_id, "kind": kind, "number": number, "waited_s": waited_s,
             "now": utc_iso(now)},
        )  # fmt: skip

    async def events(self, ticket_id: int) -> list[tuple[str, int, int | None]]:
        rows = await self.db.fetchall(
            "SELECT kind, number, waited_s FROM care_events WHERE ticket_id = :id ORDER BY id", {"id": ticket_id}
        )
        return [(r["kind"], r["number"], r["waited_s"]) for r in rows]

    async def log_refusal(self, *, guild_id: int, user_id: int, gate: str, stage: str, now: datetime) -> None:
        await self.db.run(
            """INSERT INTO gate_refusals (guild_id, user_id, gate, stage, created_at)
               VALUES (:guild_id, :user_id, :gate, :stage, :now)""",
            {"guild_id": guild_id, "user_id": user_id, "gate": gate, "stage": stage, "now": utc_iso(now)},
        )

    async def refusals(self, guild_id: int) -> list[tuple[int, str, str]]:
        rows = await self.db.fetchall(
            "SELECT user_id, gate, stage FROM gate_refusals WHERE guild_id = :g ORDER BY id", {"g": guild_id}
        )
        return [(r["user_id"], r["gate"], r["stage"]) for r in rows]

    # --- pings held back outside support hours -------------------------------------------------
    async def queue_ping(
        self, *, guild_id: int, ticket_id: int, channel_id: int, role_id: int, kind: PingKind, text: str,
        now: datetime, release_at: datetime,
    ) -> None:  # fmt: skip
        await self.db.run(
            """INSERT INTO queued_pings (guild_id, ticket_id, channel_id, role_id, kind, text, queued_at, release_at)
               VALUES (:guild_id, :ticket_id, :channel_id, :role_id, :kind, :text, :now, :release_at)""",
            {"guild_id": guild_id, "ticket_id": ticket_id, "channel_id": channel_id, "role_id": role_id,
             "kind": kind.value, "text": text, "now": utc_iso(now), "release_at": utc_iso(release_at)},
        )  # fmt: skip

    async def guilds_with_queued_pings(self) -> list[int]:
        rows = await self.db.fetchall("SELECT DISTINCT guild_id FROM queued_pings WHERE sent_at IS NULL")
        return [r[0] for r in rows]

    async def queued_pings(self, guild_id: int) -> list[QueuedPing]:
        rows = await self.db.fetchall(
            "SELECT * FROM queued_pings WHERE sent_at IS NULL AND guild_id = :g ORDER BY id", {"g": guild_id}
        )
        return [
            QueuedPing(r["id"], r["guild_id"], r["ticket_id"], r["channel_id"], r["role_id"], PingKind(r["kind"]),
                       r["text"], r["queued_at"])
            for r in rows
        ]  # fmt: skip

    async def pings_done(self, ids: list[int], outcome: str, now: datetime) -> None:
        for ping_id in ids:
            await self.db.run(
                "UPDATE queued_pings SET sent_at = :now, outcome = :outcome WHERE id = :id AND sent_at IS NULL",
                {"now": utc_iso(now), "outcome": outcome, "id": ping_id},
            )

    # --- reads of tickets: the gates and the user card ------------------------------------------
    async def opened_since(self, guild_id: int, since: datetime) -> tuple[int, str | None]:
        """Tickets members opened (not staff for them) since `since`: how many, and the oldest one's time."""
        row = await self.db.fetchone(
            """SELECT COUNT(*), MIN(created_at) FROM tickets
               WHERE guild_id = :g AND created_at >= :since AND (source IS NULL OR source != 'staff')""",
            {"g": guild_id, "since": utc_iso(since)},
        )
        return (row[0], row[1]) if row else (0, None)

    async def history(self, guild_id: int, user_id: int, *, exclude: int, limit: int) -> TicketHistory:
        params = {"g": guild_id, "u": user_id, "exclude": exclude, "limit": limit}
        counts = await self.db.fetchone(
            """SELECT COUNT(*), SUM(CASE WHEN status != 'closed' THEN 1 ELSE 0 END) FROM tickets
               WHERE guild_id = :g AND opener_id = :u AND id != :exclude""",
            params,
        )
        rows = await self.db.fetchall(
            """SELECT t.id, t.subject, t.category, t.status, t.created_at, t.closed_at, t.close_reason, r.stars
               FROM tickets t LEFT JOIN ticket_ratings r ON r.ticket_id = t.id
               WHERE t.guild_id = :g AND t.opener_id = :u AND t.id != :exclude
               ORDER BY t.created_at DESC, t.id DESC LIMIT :limit""",
            params,
        )
        stars = await self.db.fetchone(
            """SELECT AVG(r.stars) FROM ticket_ratings r
               WHERE r.guild_id = :g AND r.opener_id = :u AND r.ticket_id != :exclude AND r.stars IS NOT NULL""",
            params,
        )
        recent = tuple(
            PastTicket(r["id"], r["subject"], r["category"], r["status"], r["created_at"], r["closed_at"],
                       r["close_reason"], r["stars"])
            for r in rows
        )  # fmt: skip
        total, open_now = (counts[0], counts[1] or 0) if counts else (0, 0)
        return TicketHistory(total, open_now, recent, float(stars[0]) if stars and stars[0] is not None else None)


def _rating(row: Row) -> Rating:
    return Rating(
        ticket_id=row["ticket_id"], guild_id=row["guild_id"], opener_id=row["opener_id"], stars=row["stars"],
        rated_at=row["rated_at"], comment=row["comment"], commented_at=row["commented_at"],
        log_channel_id=row["log_channel_id"], log_message_id=row["log_message_id"],
    )  # fmt: skip


# The statements of the waits, for `TicketStore` to send in the same trip as the ticket event they follow.


def wait_read(ticket_id: int) -> tuple[str, Params]:
    return "SELECT * FROM ticket_waits WHERE ticket_id = :id", {"id": ticket_id}


def wait_of(rows: list[Row]) -> Wait | None:
    return _wait(rows[0]) if rows else None


def wait_put(wait: Wait) -> tuple[str, Params]:
    """Store `wait`, unless its ticket is closed by then (a wait sent with the event, in one batch, was decided
    from the ticket as it was read before: a close that landed in between wins)."""
    return (
        """INSERT INTO ticket_waits (ticket_id, guild_id, waiting_on, since, nudges, last_nudge_at)
           SELECT :ticket_id, :guild_id, :on, :since, :nudges, :last
           WHERE EXISTS (SELECT 1 FROM tickets WHERE id = :ticket_id AND status != 'closed')
           ON CONFLICT (ticket_id) DO UPDATE SET waiting_on = excluded.waiting_on, since = excluded.since,
             nudges = excluded.nudges, last_nudge_at = excluded.last_nudge_at""",
        {"ticket_id": wait.ticket_id, "guild_id": wait.guild_id, "on": wait.on.value, "since": wait.since,
         "nudges": wait.nudges, "last": wait.last_nudge_at},
    )  # fmt: skip


def wait_delete(ticket_id: int) -> tuple[str, Params]:
    return "DELETE FROM ticket_waits WHERE ticket_id = :id", {"id": ticket_id}


def _wait(row: Row) -> Wait:
    return Wait(
        ticket_id=row["ticket_id"], guild_id=row["guild_id"], on=WaitingOn(row["waiting_on"]), since=row["since"],
        nudges=row["nudges"], last_nudge_at=row["last_nudge_at"],
    )  # fmt: skip
