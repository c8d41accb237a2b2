"""Support hours: parsing with clear refusals, open or not at a moment in a time zone (DST included), the next
opening, the open seconds between two moments, and how they are described."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tickets.hours import SupportHours, hours_problem, parse_hours

THU = datetime(2026, 1, 1, tzinfo=UTC)  # SimCord's epoch: a Thursday


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """January 2026 in UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("mon-fri 09:00-17:00", "Mon–Fri 09:00–17:00"),
        ("Monday-Friday 9-17", "Mon–Fri 09:00–17:00"),
        ("mon-fri 09:00-17:00; sat 10:00-14:00", "Mon–Fri 09:00–17:00; Sat 10:00–14:00"),
        ("sat,sun 10-14", "Sat, Sun 10:00–14:00"),
        ("fri-mon 08:00-12:00", "Mon, Fri–Sun 08:00–12:00"),  # a range may wrap around the week
        ("fri 22:00-02:00", "Fri 22:00–02:00"),  # past midnight
        ("mon-sun 0-24", "Mon–Sun 00:00–24:00"),
    ],
)
def test_hours_are_read_and_described(text, described):
    assert SupportHours.of(text, "UTC").describe() == f"{described} (UTC)"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("mon-fri", "needs days and hours, e.g. mon-fri 09:00-17:00"),
        ("weekdays 9-17", "“weekdays” is not a day"),
        ("mon 9-5pm", "“5pm” is not a time"),
        ("mon 25:00-26:00", "not a time of day"),
        ("mon 9:70-10", "not a time of day"),
        ("mon 9-9", "opens and closes at the same time"),
        ("mon 24:00-02:00", "cannot start at 24:00"),
        (" ; ", "Give days and hours"),
    ],
)
def test_bad_hours_say_what_is_wrong(text, problem):
    assert problem in (hours_problem(text) or "")


def test_good_hours_have_no_problem():
    assert hours_problem("mon-fri 09:00-17:00") is None
    assert len(parse_hours("mon-fri 09:00-17:00; sat 10-14")) == 6


def test_open_or_not_in_another_time_zone():
    ny = SupportHours.of("mon-fri 09:00-17:00", "America/New_York")  # UTC-5 in January
    assert not ny.is_open(THU)  # Wednesday 19:00 in New York
    assert not ny.is_open(at(1, 13, 59)) and ny.is_open(at(1, 14)) and ny.is_open(at(1, 21, 59))
    assert not ny.is_open(at(1, 22))
    assert not ny.is_open(at(3, 15)), "Saturday"
    assert ny.next_opening(THU) == at(1, 14)
    assert ny.next_opening(at(1, 15)) == at(1, 15), "open now: now"
    assert ny.next_opening(at(2, 22)) == at(5, 14), "Friday evening: Monday morning"


def test_a_window_past_midnight_is_open_on_the_next_day_too():
    late = SupportHours.of("fri 22:00-02:00", "UTC")
    assert late.is_open(at(2, 23)) and late.is_open(at(3, 1, 59)) and not late.is_open(at(3, 2))
    assert not late.is_open(at(2, 1)), "Friday before 02:00 belongs to Thursday, which has no window"


def test_daylight_saving_keeps_the_local_hours():
    berlin = SupportHours.of("mon-sun 09:00-17:00", "Europe/Berlin")
    winter, summer = datetime(2026, 1, 5, 8, tzinfo=UTC), datetime(2026, 7, 6, 7, tzinfo=UTC)
    assert berlin.is_open(winter) and not berlin.is_open(winter - timedelta(minutes=1))  # 09:00 CET
    assert berlin.is_open(summer) and not berlin.is_open(summer - timedelta(minutes=1))  # 09:00 CEST


def test_open_seconds_count_only_the_hours_inside():
    ny = SupportHours.of("mon-fri 09:00-17:00", "America/New_York")
    assert ny.open_seconds(THU, at(1, 14)) == 0
    assert ny.open_seconds(THU, at(1, 15)) == 3600
    assert ny.open_seconds(at(2, 21), at(5, 15)) == 2 * 3600, "Friday's last hour and Monday's first"
    assert ny.open_seconds(at(5, 15), at(5, 14)) == 0
    always = SupportHours.of("", "UTC")
    assert always.always and always.is_open(THU) and always.open_seconds(THU, at(2, 0)) == 86400
    assert always.next_opening(THU) == THU


def test_an_unknown_zone_falls_back_to_utc():
    assert SupportHours.of("mon 9-17", "Mars/Base").zone.key == "UTC"
