"""What the dashboard and /stats show about support, computed from what is stored (SQL in
tickets/analytics_sql.py). Every result is a dataclass; durations are seconds; times are UTC.

Issue 10's data is asked for through `Capabilities` and the methods marked "issue 10". Claims (who owns a
ticket, and the per-staff count of claims), priority and staff notes are recorded by the staff desk
(tickets/desk_store.py), ratings by ticket care (tickets/ratings.py: average, 1–5 distribution, per staff, the
list's filter); all are answered. `Capabilities` still says what a database records: on one that does not
record something, the dashboard hides that filter and shows "—".
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from rapidfuzz import fuzz, process

from db.database import Database, Row, utc_iso
from db.dialect import stored_id
from memory.decision import Route
from tickets import analytics_sql as sql
from tickets.desk_models import Priority
from tickets.models import TicketStatus

PAGE_SIZE = 50
FACTS_BATCH = 1000  # closed tickets whose facts are computed at a time
# Rows per INSERT: SQLite binds named parameters more slowly the more a statement has (50 rows = 700).
FACTS_PER_INSERT = 50
GAP_SCAN = 500  # newest unanswered questions grouped on the Memory page
GAP_SIMILARITY = 72  # rapidfuzz token_set_ratio to join a group


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime  # exclusive

    @classmethod
    def last_days(cls, days: int, now: datetime) -> Period:
        end = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
        return cls(end - timedelta(days=days), end)

    @classmethod
    def between(cls, first: date, last: date) -> Period:
        return cls(
            datetime.combine(first, datetime.min.time(), UTC),
            datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
        )

    @property
    def days(self) -> list[str]:
        out, day = [], self.since.date()
        while day < self.until.date():
            out.append(day.isoformat())
            day += timedelta(days=1)
        return out

    @property
    def params(self) -> dict[str, str]:
        return {"since": utc_iso(self.since), "until": utc_iso(self.until)}


@dataclass(frozen=True)
class Capabilities:
    """Which of issue 10's data this database records (the dashboard hides what it does not)."""

    claims: bool = True  # the staff desk: claimed_by, ticket_claims
    priority: bool = True  # tickets.priority, ticket_priority_changes
    ratings: bool = True  # ticket_ratings (ticket care)
    notes: bool = True  # ticket_notes


@dataclass(frozen=True)
class Durations:
    count: int
    median_s: float | None
    p90_s: float | None

    @classmethod
    def of(cls, values: list[float]) -> Durations:
        if not values:
            return cls(0, None, None)
        ordered = sorted(values)
        # p90 by nearest rank: a value that really occurred, and no interpolation surprises on few tickets
        return cls(len(ordered), statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1])


@dataclass(frozen=True)
class DayRow:
    day: str
    opened: int
    closed: int
    backlog: int  # open at the end of the day


@dataclass(frozen=True)
class Deflection:
    closed: int
    confirmed: int  # closed without any staff message, the opener pressed Solved
    assumed: int  # closed without any staff message, no Solved
    with_staff: int

    @property
    def rate(self) -> float | None:
        return (self.confirmed + self.assumed) / self.closed if self.closed else None


@dataclass(frozen=True)
class RouteRow:
    route: str
    answers: int
    solved: int  # the opener pressed Solved on it
    to_staff: int  # the opener pressed Talk to staff on it


@dataclass(frozen=True)
class RatingSummary:
    """Issue 10: ratings 1–5 with a comment."""

    count: int
    average: float | None
    distribution: dict[int, int]


@dataclass(frozen=True)
class StaffRow:
    staff_id: int
    name: str
    first_responses: int
    closed: int
    claimed: int | None = None  # issue 10
    average_rating: float | None = None  # issue 10


@dataclass(frozen=True)
class AnalyticsReport:
    guild_id: int
    period: Period
    days: list[DayRow]
    first_bot: Durations
    first_staff: Durations
    resolution: Durations
    deflection: Deflection
    routes: list[RouteRow]
    staff: list[StaffRow]
    heatmap: list[list[int]]  # [weekday Monday=0][hour UTC]
    close_reasons: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    ratings: RatingSummary | None  # None: this database does not record ratings (`Capabilities`)

    @property
    def opened(self) -> int:
        return sum(d.opened for d in self.days)

    @property
    def closed(self) -> int:
        return sum(d.closed for d in self.days)

    @property
    def backlog_now(self) -> int:
        return self.days[-1].backlog if self.days else 0

    @property
    def answers(self) -> int:
        return sum(r.answers for r in self.routes)

    @property
    def saved_answer_hit_rate(self) -> float | None:
        """Share of the assistant's decisions that sent a saved answer directly."""
        direct = sum(r.answers for r in self.routes if r.route == Route.ANSWER)
        return direct / self.answers if self.answers else None


@dataclass(frozen=True)
class TicketFilter:
    status: str | None = None
    category: str | None = None
    route: str | None = None
    opener: str | None = None  # a user id or a display name
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None  # full text over subjects and messages
    only_opener_id: int | None = None  # an opener's own view
    # issue 10: each refused while this database does not record it (`Capabilities`)
    priority: str | None = None
    claimer_id: int | None = None
    claimer: str | None = None  # who claimed it: a user id or a name
    rating: int | None = None


@dataclass(frozen=True)
class TicketRow:
    id: int
    subject: str
    category: str
    status: str
    opener_id: int
    opener_name: str
    created_at: str
    closed_at: str | None
    close_reason: str | None
    priority: str = "normal"
    claimer_id: int | None = None
    claimer_name: str | None = None


@dataclass(frozen=True)
class TicketPage:
    rows: list[TicketRow]
    total: int
    page: int
    pages: int


@dataclass
class GapGroup:
    question: str  # the first (newest) wording
    count: int
    ticket_ids: list[int] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    routes: Counter[str] = field(default_factory=Counter)
    first_ticket_id: int | None = None
    asked_at: str = ""


class UnsupportedFilter(ValueError):
    """A filter this database cannot answer: on data it does not record (issue 10), or a rating not 1–5."""


def fts_query(text: str, engine: str = "sqlite") -> str | None:
    """The user's words as an FTS5 query (PostgreSQL: a tsquery): every word must appear (prefixes match),
    operators are inert."""
    words = re.findall(r"\w+", text.lower())[:12]
    if engine == "postgresql":
        return " & ".join(f"'{w}':*" for w in words) or None
    return " ".join(f'"{w}"*' for w in words) or None


class TicketAnalytics:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.capabilities = Capabilities()

    # -- the Analytics page ---------------------------------------------------------------------------

    async def report(self, guild_id: int, period: Period) -> AnalyticsReport:
        await self._record_closed_facts(guild_id)
        p = {"guild_id": guild_id, **period.params}
        opened = {r["day"]: r["n"] for r in await self.db.fetchall(sql.OPENED_PER_DAY, p)}
        closed = {r["day"]: r["n"] for r in await self.db.fetchall(sql.CLOSED_PER_DAY, p)}
        at = {"guild_id": guild_id, "at": p["since"]}
        opened_before = await self.db.fetchone(sql.OPENED_BEFORE, at)
        closed_before = await self.db.fetchone(sql.CLOSED_BEFORE, at)
        backlog = (opened_before[0] if opened_before else 0) - (closed_before[0] if closed_before else 0)
        days = []
        for day in period.days:
            backlog += opened.get(day, 0) - closed.get(day, 0)
            days.append(DayRow(day, opened.get(day, 0), closed.get(day, 0), backlog))
        first_bot, first_staff, resolution, first_by, names = await self._durations(p)
        deflection, close_reasons, closers = await self._closed(p)
        claimed: Counter[int] = Counter()
        for r in await self.db.fetchall(sql.CLAIMS_PER_STAFF, p):
            claimed[r["staff_id"]] = r["n"]
            names.setdefault(r["staff_id"], r["name"] or str(r["staff_id"]))
        return AnalyticsReport(
            guild_id=guild_id, period=period, days=days, first_bot=first_bot, first_staff=first_staff,
            resolution=resolution, deflection=deflection, routes=await self.routes(guild_id, period),
            staff=await self._rated(_staff_rows(first_by, closers, names, claimed), p), heatmap=await self._heatmap(p),
            close_reasons=close_reasons,
            categories=[(r["category"], r["n"]) for r in await self.db.fetchall(sql.CATEGORIES, p)],
            ratings=await self.rating_summary(guild_id, period) if self.capabilities.ratings else None,
        )  # fmt: skip

    async def routes(self, guild_id: int, period: Period) -> list[RouteRow]:
        rows = await self.db.fetchall(sql.ROUTES, {"guild_id": guild_id, **period.params})
        found = {r["route"]: RouteRow(r["route"], r["n"], r["solved"] or 0, r["to_staff"] or 0) for r in rows}
        return [found.get(route.value, RouteRow(route.value, 0, 0, 0)) for route in Route]

    async def _record_closed_facts(self, guild_id: int) -> None:
        """Compute the facts of tickets closed since the last report, in batches: the database is shared with
        the bot, which gets its turn between two batches (the first report of a big server does them all)."""
        row = await self.db.fetchone(sql.FACTS_THROUGH, {"guild_id": guild_id})
        # A day back from the newest: a ticket closed by another process a little out of order is not missed.
        closed_from = utc_iso(_time(row[0]) - timedelta(days=1)) if row and row[0] else ""
        while True:
            rows = await self.db.fetchall(
                sql.FACTS_TO_RECORD, {"guild_id": guild_id, "closed_from": closed_from, "batch": FACTS_BATCH}
            )
            for start in range(0, len(rows), FACTS_PER_INSERT):
                chunk = [_facts(r) for r in rows[start : start + FACTS_PER_INSERT]]
                params = {f"{name}{n}": value for n, facts in enumerate(chunk) for name, value in facts.items()}
                await self.db.run(sql.facts_insert(len(chunk)), params)
            if rows:
                closed_from = rows[-1]["closed_at"]
            if len(rows) < FACTS_BATCH:
                return

    async def _durations(
        self, p: dict[str, object]
    ) -> tuple[Durations, Durations, Durations, Counter[int], dict[int, str]]:
        closed = await self.db.fetchall(sql.CLOSED_OPENED_IN_PERIOD, p)
        still_open = [_facts(r) for r in await self.db.fetchall(sql.OPEN_OPENED_IN_PERIOD, p)]
        bot, staff, resolution = [], [], []
        first_by: Counter[int] = Counter()
        a_message_of: dict[int, int] = {}
        columns = ("first_bot_s", "first_staff_s", "first_staff_id", "first_staff_message", "resolution_s")
        for bot_s, staff_s, staff_id, staff_message, resolution_s in [
            *(tuple(r) for r in closed), *(tuple(f[c] for c in columns) for f in still_open)
        ]:  # fmt: skip
            if bot_s is not None:
                bot.append(bot_s)
            if staff_s is not None:
                staff.append(staff_s)
                first_by[staff_id] += 1
                a_message_of[staff_id] = staff_message
            if resolution_s is not None:
                resolution.append(resolution_s)
        names = {}
        for staff_id, message_id in a_message_of.items():  # one look-up per member of staff, not per ticket
            row = await self.db.fetchone(sql.MESSAGE_AUTHOR, {"id": message_id})
            names[staff_id] = row[0] if row else str(staff_id)
        return Durations.of(bot), Durations.of(staff), Durations.of(resolution), first_by, names

    async def _closed(self, p: dict[str, object]) -> tuple[Deflection, list[tuple[str, int]], Counter[int]]:
        rows = await self.db.fetchall(sql.CLOSED_TICKETS, p)
        confirmed = sum(1 for r in rows if not r["had_staff"] and r["solved"])
        assumed = sum(1 for r in rows if not r["had_staff"] and not r["solved"])
        reasons = Counter(r["close_reason"] or "—" for r in rows)
        closers = Counter(r["closed_by"] for r in rows if r["closed_by"] and r["closed_by"] != r["opener_id"])
        deflection = Deflection(len(rows), confirmed, assumed, len(rows) - confirmed - assumed)
        return deflection, reasons.most_common(), closers

    async def _heatmap(self, p: dict[str, object]) -> list[list[int]]:
        grid = [[0] * 24 for _ in range(7)]
        for r in await self.db.fetchall(sql.OPENED_PER_HOUR, p):
            moment = datetime.fromisoformat(r["hour"] + ":00:00")
            grid[moment.weekday()][moment.hour] += r["n"]
        return grid

    # -- the Memory page's coverage gaps ---------------------------------------------------------------

    async def coverage_gaps(self, guild_id: int, period: Period, *, limit: int = 30) -> list[GapGroup]:
        """Questions the assistant could not answer, grouped by wording (most asked first)."""
        rows = await self.db.fetchall(sql.GAP_QUESTIONS, {"guild_id": guild_id, "limit": GAP_SCAN, **period.params})
        groups: list[GapGroup] = []
        wordings: list[str] = []  # each group's first wording, compared in C by rapidfuzz
        for r in rows:
            question = json.loads(r["detail"] or "{}").get("question")
            if not isinstance(question, str) or not question.strip():
                continue
            question = " ".join(question.split())
            kind = "talk to staff" if r["feedback"] == "staff" else r["route"]
            found = process.extractOne(question, wordings, scorer=fuzz.token_set_ratio, score_cutoff=GAP_SIMILARITY)
            if found is not None:
                group = groups[found[2]]
            else:
                group = GapGroup(question, 0, first_ticket_id=r["ticket_id"], asked_at=r["created_at"])
                groups.append(group)
                wordings.append(question)
            group.count += 1
            group.routes[kind] += 1
            if r["ticket_id"] is not None and r["ticket_id"] not in group.ticket_ids:
                group.ticket_ids.append(r["ticket_id"])
            if question not in group.examples and len(group.examples) < 5:
                group.examples.append(question)
        groups.sort(key=lambda g: -g.count)
        return groups[:limit]

    async def staff_reply(self, ticket_id: int, after: str) -> str | None:
        """What staff first wrote in the ticket after `after`: the natural draft of a saved answer."""
        row = await self.db.fetchone(sql.STAFF_REPLY_AFTER, {"ticket_id": ticket_id, "at": after})
        return row[0] if row else None

    # -- the ticket list -------------------------------------------------------------------------------

    async def tickets(self, guild_id: int, f: TicketFilter, *, page: int = 1, per_page: int = PAGE_SIZE) -> TicketPage:
        caps = self.capabilities
        if (
            (f.priority is not None and not caps.priority)
            or (f.rating is not None and not caps.ratings)
            or ((f.claimer_id is not None or f.claimer is not None) and not caps.claims)
        ):
            raise UnsupportedFilter("this database does not record that yet")
        if f.rating is not None and not 1 <= f.rating <= 5:
            raise UnsupportedFilter("a rating is 1 to 5 stars")
        where: list[str] = ["t.guild_id = :guild_id"]
        params: dict[str, object] = {"guild_id": guild_id}
        values = {
            "status": f.status, "category": f.category, "route": f.route, "rating": f.rating,
            "since": utc_iso(f.since) if f.since else None, "until": utc_iso(f.until) if f.until else None,
            "priority": f.priority, "claimer_id": f.claimer_id,
        }  # fmt: skip
        for name, value in values.items():
            if value:
                where.append(sql.FILTERS[name])
                params[name] = value
        if f.only_opener_id is not None:
            where.append("t.opener_id = :only_opener")
            params["only_opener"] = f.only_opener_id
        if f.opener:
            ids = await self._ids_or_named(f.opener, self._openers_named)
            _any_of("t.opener_id", "opener", ids, where, params)
        if f.claimer:
            ids = await self._ids_or_named(f.claimer, self._claimers_named)
            _any_of("t.claimed_by", "claimer", ids, where, params)
        fts = fts_query(f.text or "", self.db.engine)
        if fts:
            # The subject is searched too: it opens the ticket's first message ("subject\ndescription").
            where.append(sql.MESSAGE_SEARCH_POSTGRES if self.db.engine == "postgresql" else sql.MESSAGE_SEARCH)
            params["fts"] = fts
        clause = " AND ".join(where)
        row = await self.db.fetchone(f"SELECT COUNT(*) FROM tickets t WHERE {clause}", params)
        total = row[0] if row else 0
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        rows = await self.db.fetchall(
            f"SELECT {sql.LIST_COLUMNS} FROM tickets t WHERE {clause} "
            "ORDER BY t.created_at DESC, t.id DESC LIMIT :limit OFFSET :offset",
            {**params, "limit": per_page, "offset": (page - 1) * per_page},
        )
        return TicketPage([_row(r) for r in rows], total, page, pages)

    @staticmethod
    async def _ids_or_named(given: str, named: Callable[[str], Awaitable[list[int]]]) -> list[int]:
        """A member typed as an id (digits: none if too large to be one) or by name."""
        if given.strip().isdigit():
            found = stored_id(given)
            return [] if found is None else [found]
        return await named(given)

    async def _openers_named(self, name: str) -> list[int]:
        return [r[0] for r in await self.db.fetchall(sql.OPENERS_NAMED, {"name": name.strip()})]

    async def _claimers_named(self, name: str) -> list[int]:
        return [r[0] for r in await self.db.fetchall(sql.CLAIMERS_NAMED, {"name": name.strip()})]

    async def categories(self, guild_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT category FROM tickets WHERE guild_id = :guild_id ORDER BY category", {"guild_id": guild_id}
        )
        return [r[0] for r in rows]

    # -- issue 10: claims, priority, notes, ratings ---------------------------------------------------

    async def rating_summary(self, guild_id: int, period: Period) -> RatingSummary:
        """The openers' ratings given in the period: how many, their average and how many of each 1–5."""
        rows = await self.db.fetchall(sql.RATINGS, {"guild_id": guild_id, **period.params})
        distribution = {stars: 0 for stars in range(1, 6)} | {r["stars"]: r["n"] for r in rows}
        count = sum(distribution.values())
        average = sum(stars * n for stars, n in distribution.items()) / count if count else None
        return RatingSummary(count, average, distribution)

    async def ticket_rating(self, ticket_id: int) -> tuple[int, str] | None:
        """The opener's stars and comment ("" without one); None while unrated."""
        row = await self.db.fetchone(sql.TICKET_RATING, {"ticket_id": ticket_id})
        return (row["stars"], row["comment"] or "") if row else None

    async def _rated(self, rows: list[StaffRow], p: dict[str, object]) -> list[StaffRow]:
        """The staff rows with the average rating (given in the period) of the tickets each wrote in or closed;
        staff with ratings but neither a first response nor a close in the period get a row too."""
        rated: dict[int, dict[int, int]] = {}  # staff id -> ticket id -> stars
        names: dict[int, str] = {}
        for r in await self.db.fetchall(sql.RATED_WRITERS, p):
            rated.setdefault(r["staff_id"], {})[r["ticket_id"]] = r["stars"]
            names.setdefault(r["staff_id"], r["name"])
        for r in await self.db.fetchall(sql.RATED_CLOSERS, p):
            rated.setdefault(r["staff_id"], {})[r["ticket_id"]] = r["stars"]
        if not rated:
            return rows

        def average(staff_id: int) -> float | None:
            stars = list(rated.get(staff_id, {}).values())
            return sum(stars) / len(stars) if stars else None

        known = {row.staff_id for row in rows}
        extra = [StaffRow(i, names.get(i, str(i)), 0, 0, claimed=0) for i in rated if i not in known]
        return [replace(row, average_rating=average(row.staff_id)) for row in [*rows, *extra]]

    async def ticket_notes(self, ticket_id: int) -> list[tuple[str, str, str]] | None:
        """Issue 10: staff notes (author, time, text), oldest first. Staff only: the caller decides who sees them."""
        rows = await self.db.fetchall(sql.TICKET_NOTES, {"ticket_id": ticket_id})
        return [(r["author_name"], r["created_at"], r["content"]) for r in rows]

    async def ticket_claimer(self, ticket_id: int) -> str | None:
        """Issue 10: the name of who owns the ticket now (claimed, transferred to, or assigned); None: nobody."""
        row = await self.db.fetchone(sql.TICKET_CLAIMER, {"ticket_id": ticket_id})
        return (row["name"] or str(row["claimed_by"])) if row and row["claimed_by"] else None


STATUSES = [s.value for s in TicketStatus]
PRIORITIES = [p.value for p in Priority]
ROUTES = [r.value for r in Route]


def _staff_rows(
    first_by: Counter[int], closers: Counter[int], names: dict[int, str], claimed: Counter[int]
) -> list[StaffRow]:
    """Who answered first, who closed others' tickets (only staff can close someone else's ticket) and who took
    tickets (claimed, had them transferred to them, or got them from the on-call rotation)."""
    everyone = set(first_by) | set(closers) | set(claimed)
    rows = [StaffRow(i, names.get(i, str(i)), first_by[i], closers[i], claimed=claimed[i]) for i in everyone]
    return sorted(rows, key=lambda r: (-(r.first_responses + r.closed + (r.claimed or 0)), r.name))


def _any_of(column: str, key: str, ids: list[int], where: list[str], params: dict[str, object]) -> None:
    """`column` is one of `ids` (none: nothing matches)."""
    keys = [f"{key}{i}" for i in range(len(ids))]
    where.append(f"{column} IN ({', '.join(':' + k for k in keys)})" if ids else "1 = 0")
    params.update(zip(keys, ids, strict=True))


def _facts(r: Row) -> dict[str, object]:
    """A ticket's facts (tickets/analytics_sql.py FACT_FIELDS) from its row and _FACT_COLUMNS: times as seconds."""
    opened = _time(r["created_at"])

    def after(moment: str | None) -> int | None:
        return None if moment is None else round((_time(moment) - opened).total_seconds())

    return {
        "ticket_id": r["id"], "guild_id": r["guild_id"], "created_at": r["created_at"], "closed_at": r["closed_at"],
        "opener_id": r["opener_id"], "closed_by": r["closed_by"], "close_reason": r["close_reason"],
        "first_bot_s": after(r["first_bot_at"]), "first_staff_s": after(r["first_staff_at"]),
        "first_staff_id": r["first_staff_id"], "first_staff_message": r["first_staff_message"],
        "resolution_s": after(r["closed_at"]), "had_staff": r["had_staff"], "solved": r["solved"],
    }  # fmt: skip


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _row(row: Row) -> TicketRow:
    return TicketRow(
        row["id"], row["subject"], row["category"], row["status"], row["opener_id"],
        row["opener_name"] or str(row["opener_id"]), row["created_at"], row["closed_at"], row["close_reason"],
        priority=row["priority"], claimer_id=row["claimed_by"],
        claimer_name=(row["claimer_name"] or str(row["claimed_by"])) if row["claimed_by"] else None,
    )  # fmt: skip
