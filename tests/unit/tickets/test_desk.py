"""The staff desk's services on a real database: claims, priority, notes, blacklist, members, reopening,
close requests and the on-call rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tickets.analytics import Period, TicketAnalytics
from tickets.blacklist import REFUSAL, Blacklisted
from tickets.category_store import CategoryStore
from tickets.claims import next_on_call
from tickets.desk import StaffDesk
from tickets.desk_models import (
    ClaimAction,
    CloseRequestStatus,
    OnCallMember,
    Priority,
    PrioritySource,
    UrgencyFlag,
)
from tickets.errors import ActionRefused, InvalidInput
from tickets.priority import automatic_raise, title_for
from tickets.server_settings import ServerSettingsService
from tickets.service import NewTicket, TicketService
from tickets.settings_store import SettingsStore
from tickets.store import TicketStore

from .helpers import a_ticket

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
GUILD = 1


@pytest.fixture
async def world(memory_db):
    settings = ServerSettingsService(SettingsStore(memory_db))
    store = TicketStore(memory_db)
    service = TicketService(store, CategoryStore(memory_db), settings)
    return service, StaffDesk.build(memory_db, store, settings)


async def _open(service: TicketService, ticket_id: int = 10, opener: int = 5):
    return await service.ticket_opened(
        NewTicket(ticket_id=ticket_id, guild_id=GUILD, opener_id=opener, opener_name="alice", category="general",
                  subject="Printer", description="It is on fire."),
        now=NOW,
    )  # fmt: skip


async def test_claim_unclaim_transfer_keep_their_history_and_quiet_the_assistant(world) -> None:
    service, desk = world
    ticket = await _open(service)

    claimed = await desk.claims.claim(ticket, staff_id=7, staff_name="sam", now=NOW)
    assert claimed.claimed_by == 7 and claimed.ai_paused and claimed.claimed_at
    with pytest.raises(ActionRefused, match="already claimed"):
        await desk.claims.claim(claimed, staff_id=7, staff_name="sam", now=NOW)
    with pytest.raises(ActionRefused, match="claimed by <@7>"):
        await desk.claims.claim(claimed, staff_id=8, staff_name="kim", now=NOW)
    moved = await desk.claims.transfer(claimed, to_id=8, to_name="kim", by=7, now=NOW + timedelta(minutes=1))
    assert moved.claimed_by == 8
    with pytest.raises(ActionRefused, match="already owns"):
        await desk.claims.transfer(moved, to_id=8, to_name="kim", by=7, now=NOW)
    released = await desk.claims.unclaim(moved, by=8, now=NOW + timedelta(minutes=2))
    assert released.claimed_by is None and released.ai_paused, "unclaiming does not switch the assistant back on"
    with pytest.raises(ActionRefused, match="Nobody"):
        await desk.claims.unclaim(released, by=8, now=NOW)

    history = await desk.claims.history(ticket.id)
    assert [(e.action, e.staff_id, e.by_id) for e in history] == [
        (ClaimAction.CLAIMED, 7, 7), (ClaimAction.TRANSFERRED, 8, 7), (ClaimAction.UNCLAIMED, None, 8),
    ]  # fmt: skip


async def test_an_assignment_by_the_rotation_leaves_the_assistant_on(world) -> None:
    service, desk = world
    ticket = await _open(service)

    assigned = await desk.claims.assigned(ticket, staff_id=7, staff_name="sam", now=NOW)

    assert assigned.claimed_by == 7 and not assigned.ai_paused
    [event] = await desk.claims.history(ticket.id)
    assert event.action is ClaimAction.ASSIGNED and event.by_id is None


async def test_a_closed_ticket_cannot_be_claimed(world) -> None:
    service, desk = world
    ticket = await service.closed(await _open(service), by=5, reason="done", summary="", now=NOW)

    with pytest.raises(ActionRefused, match="closed"):
        await desk.claims.claim(ticket, staff_id=7, staff_name="sam", now=NOW)


async def test_staff_priority_is_never_undone_by_the_detection(world) -> None:
    service, desk = world
    ticket = await _open(service)

    raised = await desk.priorities.flagged(ticket, UrgencyFlag.ANGRY, reason="“furious”", now=NOW)
    assert raised is not None and raised.priority is Priority.HIGH and raised.priority_source is PrioritySource.AUTO
    assert raised.flag is UrgencyFlag.ANGRY
    lowered = await desk.priorities.set_by_staff(raised, Priority.LOW, by=7, now=NOW)
    assert lowered.priority is Priority.LOW and lowered.priority_source is PrioritySource.STAFF
    assert await desk.priorities.flagged(lowered, UrgencyFlag.URGENT, reason="“asap”", now=NOW) is None
    stored = await service.get(ticket.id)
    assert stored is not None and stored.priority is Priority.LOW and stored.flag is UrgencyFlag.URGENT
    with pytest.raises(ActionRefused, match="already low"):
        await desk.priorities.set_by_staff(stored, Priority.LOW, by=7, now=NOW)

    changes = await desk.priorities.history(ticket.id)
    assert [(c.previous, c.priority, c.source, c.by_id) for c in changes] == [
        (Priority.NORMAL, Priority.HIGH, PrioritySource.AUTO, None),
        (Priority.HIGH, Priority.LOW, PrioritySource.STAFF, 7),
    ]


def test_the_detection_only_raises() -> None:
    assert automatic_raise(a_ticket(), UrgencyFlag.URGENT) is Priority.URGENT
    assert automatic_raise(a_ticket(), UrgencyFlag.ANGRY) is Priority.HIGH
    assert automatic_raise(a_ticket(priority=Priority.URGENT), UrgencyFlag.ANGRY) is None
    assert automatic_raise(a_ticket(priority=Priority.HIGH), UrgencyFlag.ANGRY) is None
    staff_normal = a_ticket(priority=Priority.NORMAL, priority_source=PrioritySource.STAFF)
    assert automatic_raise(staff_normal, UrgencyFlag.URGENT) is None


def test_titles_show_priorities_other_than_normal() -> None:
    assert title_for("Printer", Priority.NORMAL) == "Printer"
    assert title_for("Printer", Priority.URGENT) == "[Urgent] Printer"
    assert len(title_for("x" * 100, Priority.LOW)) == 100


async def test_notes_are_stored_apart_from_the_conversation(world) -> None:
    service, desk = world
    ticket = await _open(service)

    note = await desk.notes.add(ticket, author_id=7, author_name="sam", text="  VIP customer  ", now=NOW)

    assert note.content == "VIP customer"
    assert [n.content for n in await desk.notes.of(ticket.id)] == ["VIP customer"]
    assert all("VIP" not in m.content for m in await service.messages(ticket.id))
    with pytest.raises(InvalidInput):
        await desk.notes.add(ticket, author_id=7, author_name="sam", text="\u200b ", now=NOW)
    with pytest.raises(InvalidInput):
        await desk.notes.add(ticket, author_id=7, author_name="sam", text="x" * 1001, now=NOW)


async def test_the_blacklist(world) -> None:
    _service, desk = world
    await desk.blacklist.check(GUILD, 5)

    assert await desk.blacklist.add(GUILD, 5, reason="spam", by=7, now=NOW)
    assert not await desk.blacklist.add(GUILD, 5, reason="spam again", by=7, now=NOW), "updated, not new"

    with pytest.raises(Blacklisted) as refused:
        await desk.blacklist.check(GUILD, 5)
    assert str(refused.value) == REFUSAL and "spam" not in str(refused.value)
    with pytest.raises(Blacklisted, match="/blacklist remove"):
        await desk.blacklist.check(GUILD, 5, for_staff=True)
    await desk.blacklist.check(GUILD + 1, 5)  # per server
    [entry] = await desk.blacklist.entries(GUILD)
    assert entry.reason == "spam again" and entry.added_by == 7
    await desk.blacklist.remove(GUILD, 5)
    await desk.blacklist.check(GUILD, 5)
    with pytest.raises(ActionRefused, match="not on the blacklist"):
        await desk.blacklist.remove(GUILD, 5)


async def test_members_added_and_removed(world) -> None:
    service, desk = world
    ticket = await _open(service)

    await desk.members.added(ticket.id, 20, by=7, now=NOW)
    await desk.members.added(ticket.id, 21, by=7, now=NOW)
    await desk.members.removed(ticket.id, 20, by=7, now=NOW)

    assert await desk.members.of(ticket.id) == [21]


async def test_reopening_within_the_window_forgets_the_dashboards_facts(world, memory_db) -> None:
    service, desk = world
    ticket = await _open(service)
    ticket = await desk.claims.claim(ticket, staff_id=7, staff_name="sam", now=NOW)
    closed = await service.closed(ticket, by=7, reason="fixed", summary="s", now=NOW + timedelta(hours=1))
    analytics = TicketAnalytics(memory_db)
    await analytics.report(GUILD, Period.last_days(7, NOW + timedelta(days=1)))
    assert await memory_db.fetchone("SELECT 1 FROM ticket_facts WHERE ticket_id = :id", {"id": ticket.id})

    with pytest.raises(ActionRefused, match="open"):
        await desk.reopening.check(ticket, NOW)
    await desk.reopening.check(closed, NOW + timedelta(hours=48))
    with pytest.raises(ActionRefused, match="more than 48 hours ago"):
        await desk.reopening.check(closed, NOW + timedelta(hours=49, seconds=1))
    assert [t.id for t in await desk.reopening.reopenable(GUILD, opener_id=5, now=NOW + timedelta(hours=2))] == [10]
    assert await desk.reopening.reopenable(GUILD, opener_id=6, now=NOW + timedelta(hours=2)) == []

    reopened = await desk.reopening.reopened(closed, by=5, now=NOW + timedelta(hours=2))

    assert reopened.status == "open" and reopened.closed_at is None and reopened.close_reason is None
    assert reopened.claimed_by == 7 and reopened.ai_paused, "what it had before the close is kept"
    assert not await memory_db.fetchone("SELECT 1 FROM ticket_facts WHERE ticket_id = :id", {"id": ticket.id})
    [row] = await desk.store.reopenings(ticket.id)
    assert row["close_reason"] == "fixed" and row["by_id"] == 5
    with pytest.raises(ActionRefused):
        await desk.reopening.reopened(closed, by=5, now=NOW)  # already open again
    # Closed again later, its facts are computed again from the new close.
    await service.closed(reopened, by=5, reason="again", summary="", now=NOW + timedelta(hours=3))
    report = await analytics.report(GUILD, Period.last_days(7, NOW + timedelta(days=1)))
    assert report.closed == 1 and report.close_reasons == [("again", 1)]


async def test_a_zero_window_turns_reopening_off(world) -> None:
    service, desk = world
    await desk.settings.set(GUILD, "reopen_window_hours", "0", by=1, now=NOW)
    closed = await service.closed(await _open(service), by=5, reason="done", summary="", now=NOW)

    with pytest.raises(ActionRefused, match="can't be reopened on this server"):
        await desk.reopening.check(closed, NOW)
    assert await desk.reopening.reopenable(GUILD, opener_id=None, now=NOW) == []


async def test_close_requests(world) -> None:
    service, desk = world
    ticket = await _open(service)

    request = await desk.close_requests.requested(ticket, by=7, reason="  fixed? ", now=NOW)
    assert request.status is CloseRequestStatus.PENDING and request.reason == "fixed?"
    assert request.due_at is not None and datetime.fromisoformat(request.due_at) == NOW + timedelta(hours=24)
    with pytest.raises(ActionRefused, match="already waiting"):
        await desk.close_requests.requested(ticket, by=7, reason="", now=NOW)
    await desk.close_requests.shown(request, 999)
    assert (await desk.close_requests.pending(ticket.id)).message_id == 999
    assert await desk.close_requests.due(NOW + timedelta(hours=23)) == []
    assert [r.id for r in await desk.close_requests.due(NOW + timedelta(hours=24))] == [request.id]

    assert await desk.close_requests.settle(request, CloseRequestStatus.DECLINED, by=5, now=NOW)
    assert not await desk.close_requests.settle(request, CloseRequestStatus.ACCEPTED, by=5, now=NOW), "settled once"
    settled = await desk.close_requests.get(request.id)
    assert settled.status is CloseRequestStatus.DECLINED and settled.answered_by == 5
    assert await desk.close_requests.due(NOW + timedelta(days=9)) == []

    await desk.settings.set(GUILD, "close_request_hours", "0", by=1, now=NOW)
    waiting = await desk.close_requests.requested(ticket, by=7, reason="", now=NOW)
    assert waiting.due_at is None and await desk.close_requests.due(NOW + timedelta(days=999)) == []


def test_the_rotation_takes_turns_among_those_who_may() -> None:
    members = [
        OnCallMember(1, "2026-01-01T00:00:00", "2026-01-01T10:00:00", last_turn=8),
        OnCallMember(2, "2026-01-01T01:00:00", None),
        OnCallMember(3, "2026-01-01T02:00:00", None),
        OnCallMember(4, "2026-01-01T03:00:00", "2026-01-01T10:00:00", last_turn=7),
    ]
    assert next_on_call(members, lambda _: True) == 2, "never assigned, on call longest"
    assert next_on_call(members, lambda user: user not in (2, 3)) == 4, "then the longest since the last one"
    assert next_on_call(members, lambda _: False) is None
    assert next_on_call([], lambda _: True) is None


async def test_the_rotation_goes_round(world) -> None:
    _service, desk = world
    for user, minute in ((1, 0), (2, 1), (3, 2)):
        assert await desk.oncall.set(GUILD, user, on=True, now=NOW + timedelta(minutes=minute))
    assert not await desk.oncall.set(GUILD, 1, on=True, now=NOW), "already on call"

    # All within the same second: the rotation still goes round.
    picked = [await desk.oncall.next_for(GUILD, lambda _: True, NOW) for _ in range(4)]

    assert picked == [1, 2, 3, 1]
    assert await desk.oncall.set(GUILD, 2, on=False, now=NOW)
    picked = [await desk.oncall.next_for(GUILD, lambda _: True, NOW) for _ in range(3)]
    assert picked == [3, 1, 3]
    assert not await desk.rotation_on(GUILD), "off by default"
