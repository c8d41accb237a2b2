"""Ticket care on a real database: the opening gates (account age, the server's tickets per hour, staff-opened
tickets not counted; refusals stored), the user card's history (this server, this member, not the new ticket)
and its wording, and the rating rules (the opener only, once, 1–5, one comment, trimmed of invisible ends and
cut at 1000 characters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.schema import open_app_database
from db.database import utc_iso
from tickets.care_models import PastTicket, RatingPlace
from tickets.care_store import CareStore
from tickets.gates import AccountTooYoung, OpeningGates, TicketsPerHourReached, check_account_age, check_hourly_cap
from tickets.ratings import RatingRefused, RatingService, stars_text
from tickets.server_settings import ServerSettingsService
from tickets.settings_store import SettingsStore
from tickets.user_card import UserCards, age_text, outcome_text

from .helpers import a_ticket

NOW = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path):
    database = await open_app_database(tmp_path / "care.db")
    yield database
    await database.close()


async def _ticket(db, tid, *, opened, guild=1, opener=5, source="panel", status="open", reason=None):
    await db.run(
        "INSERT INTO tickets (id, guild_id, opener_id, category, subject, status, created_at, updated_at, "
        "last_activity_at, close_reason, source, closed_at) "
        "VALUES (:id, :g, :u, 'general', :s, :status, :o, :o, :o, :reason, :source, :closed)",
        {"id": tid, "g": guild, "u": opener, "s": f"Subject {tid}", "status": status, "o": utc_iso(opened),
         "reason": reason, "source": source, "closed": utc_iso(opened) if status == "closed" else None},
    )  # fmt: skip


# -- gates -----------------------------------------------------------------------------------------


def test_account_age_refusal_says_the_minimum_and_the_time_left():
    check_account_age(NOW - timedelta(hours=1), NOW, min_age_s=0)  # no minimum
    check_account_age(NOW - timedelta(hours=24), NOW, min_age_s=24 * 3600)
    with pytest.raises(AccountTooYoung) as refused:
        check_account_age(NOW - timedelta(hours=20, minutes=30), NOW, min_age_s=24 * 3600)
    assert "at least 24 hours old" in str(refused.value) and "in 3 hours" not in str(refused.value)
    assert "in 210 minutes" in str(refused.value)


def test_hourly_cap_refusal_says_when_a_place_frees_up():
    check_hourly_cap(99, NOW, NOW, cap=0)  # no cap
    check_hourly_cap(2, NOW, NOW, cap=3)
    with pytest.raises(TicketsPerHourReached) as refused:
        check_hourly_cap(3, NOW - timedelta(minutes=50), NOW, cap=3)
    assert "at most 3 an hour" in str(refused.value) and "in 10 minutes" in str(refused.value)


async def test_the_cap_counts_this_servers_member_tickets_of_the_last_hour(db):
    settings = ServerSettingsService(SettingsStore(db))
    await settings.set(1, "max_tickets_per_hour", "2", by=9, now=NOW)
    gates = OpeningGates(CareStore(db), settings)
    old = NOW - timedelta(days=30)
    await _ticket(db, 1, opened=NOW - timedelta(minutes=61))  # over an hour ago
    await _ticket(db, 2, opened=NOW - timedelta(minutes=40))
    await _ticket(db, 3, opened=NOW - timedelta(minutes=30), source="staff")  # /ticket_open: not counted
    await _ticket(db, 4, opened=NOW - timedelta(minutes=20), guild=2)  # another server
    await gates.check(guild_id=1, user_id=7, account_created_at=old, now=NOW)
    await _ticket(db, 5, opened=NOW - timedelta(minutes=10), source="post")
    with pytest.raises(TicketsPerHourReached, match="in 20 minutes"):
        await gates.check(guild_id=1, user_id=7, account_created_at=old, now=NOW, stage="form")
    await gates.check(guild_id=2, user_id=7, account_created_at=old, now=NOW)
    assert await gates.refusals(1) == [(7, "tickets_per_hour", "form")] and await gates.refusals(2) == []


async def test_account_age_is_checked_with_the_servers_minimum(db):
    settings = ServerSettingsService(SettingsStore(db))
    await settings.set(1, "min_account_age_hours", "72", by=9, now=NOW)
    gates = OpeningGates(CareStore(db), settings)
    with pytest.raises(AccountTooYoung, match="72 hours"):
        await gates.check(guild_id=1, user_id=8, account_created_at=NOW - timedelta(hours=71), now=NOW)
    await gates.check(guild_id=1, user_id=9, account_created_at=NOW - timedelta(hours=72), now=NOW)
    await gates.check(guild_id=2, user_id=8, account_created_at=NOW, now=NOW)  # another server: no minimum
    assert await gates.refusals(1) == [(8, "account_age", "open")], "each refusal is stored, passes are not"


# -- user card -------------------------------------------------------------------------------------


async def test_the_card_lists_this_members_earlier_tickets_on_this_server_with_their_outcome(db):
    store = CareStore(db)
    await _ticket(db, 1, opened=NOW - timedelta(days=9), status="closed", reason="solved")
    await _ticket(db, 2, opened=NOW - timedelta(days=3))
    await _ticket(db, 3, opened=NOW - timedelta(days=2), guild=2)  # another server
    await _ticket(db, 4, opened=NOW - timedelta(days=1), opener=6)  # another member
    await _ticket(db, 10, opened=NOW)  # the new ticket itself
    ratings = RatingService(store, ServerSettingsService(SettingsStore(db)))
    await ratings.rate(a_ticket(id=1, opener_id=5), user_id=5, stars=4, now=NOW)

    card = await UserCards(store).card(
        guild_id=1, member_id=5, member_name="alice", account_created_at=NOW - timedelta(days=800),
        joined_at=NOW - timedelta(days=20), ticket_id=10, now=NOW,
    )  # fmt: skip
    assert [p.id for p in card.history.recent] == [2, 1], "newest first"
    assert (card.history.total, card.history.open_now, card.history.average_stars) == (2, 1, 4.0)
    assert [outcome_text(p) for p in card.history.recent] == ["open (open)", "closed — solved · ★★★★☆ 4/5"]
    assert age_text(card.account_age_s) == "2 years" and age_text(card.on_server_s or 0) == "2 weeks"

    newcomer = await UserCards(store).card(
        guild_id=1, member_id=7, member_name="bob", account_created_at=NOW - timedelta(minutes=5), joined_at=None,
        ticket_id=11, now=NOW,
    )  # fmt: skip
    assert newcomer.history.total == 0 and newcomer.history.recent == () and newcomer.on_server_s is None


def test_ages_and_outcomes_read_naturally():
    assert [age_text(s) for s in (0, 59, 61, 3600, 86400 * 3, 86400 * 13, 86400 * 15, 86400 * 400)] == [
        "0 minutes", "0 minutes", "1 minute", "1 hour", "3 days", "13 days", "2 weeks", "57 weeks",
    ]  # fmt: skip
    waiting = PastTicket(1, "s", "general", "waiting_staff", "x", None, None, None)
    assert outcome_text(waiting) == "open (waiting staff)"
    closed = PastTicket(1, "s", "general", "closed", "x", "x", None, None)
    assert outcome_text(closed) == "closed — no reason"


# -- ratings ---------------------------------------------------------------------------------------


async def test_only_the_opener_rates_once_with_one_comment(db):
    ratings = RatingService(CareStore(db), ServerSettingsService(SettingsStore(db)))
    t = a_ticket(id=3, opener_id=5)
    assert await ratings.wants_prompt(t)
    await ratings.prompted(t, RatingPlace.DM, delivered=False, error_code=50007, now=NOW)
    assert await ratings.wants_prompt(t), "asked but not rated: still asked at close"

    with pytest.raises(RatingRefused, match="Only the person who opened"):
        await ratings.rate(t, user_id=6, stars=5, now=NOW)
    with pytest.raises(RatingRefused, match="Rate the ticket first"):
        await ratings.comment(t, user_id=5, text="hi", now=NOW)
    for bad in (0, 6):
        with pytest.raises(RatingRefused, match="1 to 5"):
            await ratings.rate(t, user_id=5, stars=bad, now=NOW)

    rated = await ratings.rate(t, user_id=5, stars=2, now=NOW)
    assert rated.stars == 2 and rated.rated_at == utc_iso(NOW) and not await ratings.wants_prompt(t)
    with pytest.raises(RatingRefused, match=r"already rated this ticket \(★★☆☆☆ 2/5\)"):
        await ratings.rate(t, user_id=5, stars=5, now=NOW)

    assert (await ratings.comment(t, user_id=5, text="  \u200b ", now=NOW)).comment is None, "nothing visible"
    with pytest.raises(RatingRefused, match="Only the person who opened"):
        await ratings.comment(t, user_id=6, text="spam", now=NOW)
    commented = await ratings.comment(t, user_id=5, text="\u200b Slow reply " + "x" * 2000, now=NOW)
    assert commented.comment is not None and commented.comment.startswith("Slow reply ")
    assert len(commented.comment) == 1000
    with pytest.raises(RatingRefused, match="has a comment already"):
        await ratings.comment(t, user_id=5, text="again", now=NOW)
    assert await ratings.prompts(3) == [(RatingPlace.DM, False, 50007)]
    assert stars_text(5) == "★★★★★ 5/5"


async def test_a_server_without_the_prompt_is_not_asked(db):
    settings = ServerSettingsService(SettingsStore(db))
    await settings.set(1, "rating_prompt", "off", by=9, now=NOW)
    ratings = RatingService(CareStore(db), settings)
    assert not await ratings.wants_prompt(a_ticket(id=3, guild_id=1))
    assert await ratings.wants_prompt(a_ticket(id=4, guild_id=2))
