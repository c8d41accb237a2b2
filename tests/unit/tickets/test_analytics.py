"""Analytics from stored rows: periods, percentiles, the backlog, deflection, per-ticket facts in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.schema import open_app_database
from db.database import utc_iso
from tickets import analytics
from tickets.analytics import (
    Capabilities,
    Durations,
    Period,
    TicketAnalytics,
    TicketFilter,
    UnsupportedFilter,
    fts_query,
)

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)


async def _ticket(db, tid, *, opened, closed=None, staff_after=None, bot_after=None, solved=False, guild=1):
    await db.run(
        "INSERT INTO tickets (id, guild_id, opener_id, category, subject, status, created_at, updated_at, "
        "last_activity_at, closed_at, closed_by, close_reason) VALUES (:id, :g, 5, 'general', 's', :status, :o, :o, "
        ":o, :c, :by, :reason)",
        {"id": tid, "g": guild, "status": "closed" if closed else "open", "o": utc_iso(opened),
         "c": utc_iso(closed) if closed else None, "by": 9 if closed else None, "reason": "done" if closed else None},
    )  # fmt: skip
    messages = [("user", 5, "u", opened)]
    if bot_after is not None:
        messages.append(("bot", 1, "Bot", opened + bot_after))
        await db.run(
            "INSERT INTO interactions (guild_id, ticket_id, route, feedback, created_at) "
            "VALUES (:g, :t, 'llm', :f, :at)",
            {"g": guild, "t": tid, "f": "solved" if solved else None, "at": utc_iso(opened + bot_after)},
        )
    if staff_after is not None:
        messages.append(("staff", 9, "Sam", opened + staff_after))
    for role, author, name, at in messages:
        await db.run(
            "INSERT INTO ticket_messages (ticket_id, author_id, author_name, role, content, created_at) "
            "VALUES (:t, :a, :n, :r, 'text', :at)",
            {"t": tid, "a": author, "n": name, "r": role, "at": utc_iso(at)},
        )


@pytest.fixture
async def db(tmp_path):
    database = await open_app_database(tmp_path / "a.db")
    yield database
    await database.close()


def test_durations_use_the_median_and_the_nearest_rank_p90():
    assert Durations.of([]) == Durations(0, None, None)
    d = Durations.of([float(x) for x in range(1, 11)])  # 1..10
    assert (d.count, d.median_s, d.p90_s) == (10, 5.5, 9.0)
    assert Durations.of([7.0]).p90_s == 7.0


def test_periods_cover_whole_utc_days():
    p = Period.last_days(7, datetime(2026, 3, 10, 15, 0, tzinfo=UTC))
    assert p.days[0] == "2026-03-04" and p.days[-1] == "2026-03-10" and len(p.days) == 7
    assert Period.between(DAY0.date(), DAY0.date()).days == ["2026-03-01"]


def test_search_words_cannot_become_fts_syntax():
    assert fts_query('refund "OR" NEAR(x) *') == '"refund"* "or"* "near"* "x"*'
    assert fts_query("  ** ") is None


async def test_report_counts_backlog_deflection_and_times_across_batches(db, monkeypatch):
    # Small batches, so computing the facts of closed tickets goes through several batches and inserts.
    monkeypatch.setattr(analytics, "FACTS_BATCH", 4)
    monkeypatch.setattr(analytics, "FACTS_PER_INSERT", 3)
    before = DAY0 - timedelta(days=3)
    await _ticket(db, 1, opened=before)  # still open: backlog before the period
    await _ticket(db, 2, opened=before, closed=DAY0 + timedelta(hours=5))  # open at the start, closed inside
    for i in range(10):  # ten tickets on day 1: bot after 1 min; every other one staff after 1 h; three Solved
        opened = DAY0 + timedelta(days=1, minutes=i)
        await _ticket(
            db, 100 + i, opened=opened, closed=opened + timedelta(hours=2), bot_after=timedelta(minutes=1),
            staff_after=timedelta(hours=1) if i % 2 else None, solved=i in (0, 2, 3),
        )  # fmt: skip
    a = TicketAnalytics(db)
    period = Period.between(DAY0.date(), (DAY0 + timedelta(days=2)).date())
    r = await a.report(1, period)
    assert [(d.opened, d.closed, d.backlog) for d in r.days] == [(0, 1, 1), (10, 10, 1), (0, 0, 1)]
    assert r.deflection.closed == 11 and r.deflection.with_staff == 5
    # No staff: tickets 0, 2, 4, 6, 8 and ticket 2 of before; Solved: 0 and 2 (3 had staff)
    assert (r.deflection.confirmed, r.deflection.assumed) == (2, 4)
    assert r.first_bot == Durations(10, 60, 60) and r.first_staff == Durations(5, 3600, 3600)
    assert r.resolution.median_s == 7200 and r.resolution.count == 10
    assert [(s.name, s.first_responses, s.closed) for s in r.staff] == [("Sam", 5, 11)]
    assert r.close_reasons == [("done", 11)]
    # Facts are kept: a later report adds only what closed since.
    count = await db.fetchone("SELECT COUNT(*) FROM ticket_facts")
    assert count[0] == 11
    await _ticket(db, 200, opened=DAY0 + timedelta(days=2), closed=DAY0 + timedelta(days=2, hours=1))
    again = await a.report(1, period)
    assert again.deflection.closed == 12 and (await db.fetchone("SELECT COUNT(*) FROM ticket_facts"))[0] == 12


async def test_ticket_list_refuses_filters_on_what_is_not_recorded(db):
    await _ticket(db, 1, opened=DAY0)
    a = TicketAnalytics(db)
    assert (await a.tickets(1, TicketFilter())).total == 1
    assert (await a.tickets(2, TicketFilter())).total == 0  # another server's
    # A rating is 1 to 5 stars (ratings are recorded, tickets/ratings.py: see the ratings tests below).
    for f in (TicketFilter(rating=0), TicketFilter(rating=6)):
        with pytest.raises(UnsupportedFilter):
            await a.tickets(1, f)
    assert (await a.tickets(1, TicketFilter(rating=5))).total == 0
    assert (await a.rating_summary(1, Period.last_days(7, DAY0))).count == 0
    # Everything of issue 10 is recorded: claims, priority and notes (the staff desk), ratings (ticket care).
    assert a.capabilities == Capabilities(claims=True, priority=True, ratings=True, notes=True)
    a.capabilities = Capabilities(claims=False, priority=False, ratings=False, notes=False)  # an older database
    for f in (
        TicketFilter(priority="high"), TicketFilter(claimer_id=3), TicketFilter(claimer="sam"), TicketFilter(rating=5)
    ):  # fmt: skip
        with pytest.raises(UnsupportedFilter):
            await a.tickets(1, f)


async def _claim(db, tid, staff_id, name, *, at, action="claimed"):
    await db.run(
        "INSERT INTO ticket_claims (ticket_id, guild_id, action, staff_id, staff_name, by_id, created_at) "
        "VALUES (:t, 1, :action, :s, :n, :s, :at)",
        {"t": tid, "action": action, "s": staff_id, "n": name, "at": utc_iso(at)},
    )
    await db.run("UPDATE tickets SET claimed_by = :s WHERE id = :t", {"s": staff_id, "t": tid})


async def test_claims_priority_and_notes(db):
    for tid in (1, 2, 3):
        await _ticket(db, tid, opened=DAY0 + timedelta(hours=tid))
    await _claim(db, 1, 9, "Sam", at=DAY0 + timedelta(hours=2))
    await _claim(db, 2, 9, "Sam", at=DAY0 + timedelta(hours=3))
    await _claim(db, 2, 8, "Kim", at=DAY0 + timedelta(hours=4), action="transferred")
    await _claim(db, 3, 7, "Lee", at=DAY0 - timedelta(days=10))  # before the period
    await db.run("UPDATE tickets SET priority = 'urgent' WHERE id = 3")
    await db.run(
        "INSERT INTO ticket_notes (ticket_id, guild_id, author_id, author_name, content, created_at) "
        "VALUES (1, 1, 9, 'Sam', 'VIP', :at)",
        {"at": utc_iso(DAY0)},
    )
    a = TicketAnalytics(db)

    assert [r.id for r in (await a.tickets(1, TicketFilter(priority="urgent"))).rows] == [3]
    assert [r.id for r in (await a.tickets(1, TicketFilter(claimer_id=9))).rows] == [1]
    assert [r.id for r in (await a.tickets(1, TicketFilter(claimer="kim"))).rows] == [2]
    assert [r.id for r in (await a.tickets(1, TicketFilter(claimer="8"))).rows] == [2]
    assert (await a.tickets(1, TicketFilter(claimer="nobody"))).total == 0
    rows = {r.id: r for r in (await a.tickets(1, TicketFilter())).rows}
    assert (rows[2].claimer_id, rows[2].claimer_name, rows[2].priority) == (8, "Kim", "normal")
    assert rows[3].priority == "urgent" and rows[3].claimer_name == "Lee"
    report = await a.report(1, Period.last_days(7, DAY0 + timedelta(days=1)))
    assert {(s.name, s.claimed) for s in report.staff} == {("Sam", 2), ("Kim", 1)}
    assert await a.ticket_claimer(2) == "Kim" and await a.ticket_claimer(99) is None
    assert await a.ticket_notes(1) == [("Sam", utc_iso(DAY0), "VIP")] and await a.ticket_notes(2) == []


async def _rate(db, ticket_id, stars, *, at, comment=None, guild=1):
    await db.run(
        "INSERT INTO ticket_ratings (ticket_id, guild_id, opener_id, stars, rated_at, comment, created_at) "
        "VALUES (:t, :g, 5, :stars, :at, :comment, :at)",
        {"t": ticket_id, "g": guild, "stars": stars, "at": utc_iso(at), "comment": comment},
    )


async def test_ratings_average_distribution_per_staff_and_the_list_filter(db):
    day = DAY0 + timedelta(days=1)
    # 1 and 2: Sam (9) wrote in them and closed them; 3: no staff, closed by its opener; 4: asked, not rated.
    for tid, staff in ((1, True), (2, True), (3, False), (4, False)):
        await _ticket(db, tid, opened=day, closed=day + timedelta(hours=1),
                      staff_after=timedelta(minutes=5) if staff else None)  # fmt: skip
    await db.run("UPDATE tickets SET closed_by = 5 WHERE id = 3")
    await _rate(db, 1, 5, at=day + timedelta(hours=2), comment="Great")
    await _rate(db, 2, 2, at=day + timedelta(hours=2))
    await _rate(db, 3, 4, at=day + timedelta(hours=2))
    await db.run("INSERT INTO ticket_ratings (ticket_id, guild_id, opener_id, created_at) VALUES (4, 1, 5, 'x')")
    await _rate(db, 99, 1, at=day, guild=2)  # another server's
    a = TicketAnalytics(db)
    period = Period.between(DAY0.date(), (DAY0 + timedelta(days=2)).date())

    summary = await a.rating_summary(1, period)
    assert summary.count == 3 and summary.average == pytest.approx(11 / 3)
    assert summary.distribution == {1: 0, 2: 1, 3: 0, 4: 1, 5: 1}
    assert (await a.rating_summary(1, Period.between(DAY0.date(), DAY0.date()))).count == 0, "rated the next day"
    assert await a.ticket_rating(1) == (5, "Great") and await a.ticket_rating(2) == (2, "")
    assert await a.ticket_rating(4) is None, "asked but not rated"

    report = await a.report(1, period)
    assert report.ratings == summary
    [sam] = report.staff
    assert (sam.name, sam.average_rating) == ("Sam", 3.5), "tickets 1 and 2, which Sam answered and closed"
    assert [r.id for r in (await a.tickets(1, TicketFilter(rating=5))).rows] == [1]
    assert (await a.tickets(1, TicketFilter(rating=3))).total == 0


async def test_staff_who_only_wrote_in_rated_tickets_get_a_row_with_their_average(db):
    day = DAY0 + timedelta(days=1)
    await _ticket(db, 1, opened=day, closed=day + timedelta(hours=1), staff_after=timedelta(minutes=5))
    await db.run(
        "INSERT INTO ticket_messages (ticket_id, author_id, author_name, role, content, created_at) "
        "VALUES (1, 7, 'Kim', 'staff', 'me too', :at)",
        {"at": utc_iso(day + timedelta(minutes=10))},
    )
    await _rate(db, 1, 4, at=day + timedelta(hours=2))
    report = await TicketAnalytics(db).report(1, Period.between(DAY0.date(), (DAY0 + timedelta(days=2)).date()))
    rows = {s.name: (s.first_responses, s.closed, s.average_rating) for s in report.staff}
    assert rows == {"Sam": (1, 1, 4.0), "Kim": (0, 0, 4.0)}
