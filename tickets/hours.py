"""Support hours: when staff are there, in the server's time zone.

Written as `/settings set support_hours "mon-fri 09:00-17:00; sat 10:00-14:00"` with the zone in
`support_time_zone` (an IANA name such as Europe/Berlin). Days are `mon` … `sun` (or full names), a range
`mon-fri` (it may wrap: `fri-mon`) or a list `sat,sun`; times are `9`, `09:00` or `24:00`; an end before
the start crosses midnight (`fri 22:00-02:00` ends on Saturday). Empty: staff are always there.

Outside them the assistant still answers, and staff pings wait for the next opening (see
tickets/care.py); the SLA re-ping counts only the time inside them (`open_seconds`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
# How far `open_seconds` and `next_opening` look: enough for any week, bounded for a ticket left for years.
_HORIZON_DAYS = 400
EXAMPLE = "mon-fri 09:00-17:00; sat 10:00-14:00"


class HoursError(ValueError):
    """What is wrong with a support-hours text (the message is for the admin who typed it)."""


@dataclass(frozen=True)
class Window:
    """Open on `day` (0 = Monday) from `start` for `minutes` (may run past midnight)."""

    day: int
    start_minute: int
    minutes: int


def _day(word: str) -> int:
    word = word.strip().lower()
    for names in (DAYS, _FULL):
        if word in names:
            return names.index(word)
    raise HoursError(f"“{word[:20]}” is not a day; use mon, tue, wed, thu, fri, sat or sun.")


def _days(text: str) -> list[int]:
    found: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, last = (_day(p) for p in part.split("-", 1))
            span = (last - first) % 7
            found += [(first + i) % 7 for i in range(span + 1)]
        else:
            found.append(_day(part))
    return sorted(set(found))


def _minute(text: str) -> int:
    match = _TIME.match(text.strip())
    if match is None:
        raise HoursError(f"“{text.strip()[:20]}” is not a time; use 09:00 or 9.")
    hours, minutes = int(match[1]), int(match[2] or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise HoursError(f"“{text.strip()}” is not a time of day (00:00–24:00).")
    return hours * 60 + minutes


def parse_hours(text: str) -> tuple[Window, ...]:
    """The windows `text` describes; raises HoursError saying what is wrong."""
    windows: list[Window] = []
    for entry in (e.strip() for e in re.split(r"[;\n]", text)):
        if not entry:
            continue
        parts = entry.rsplit(None, 1)
        if len(parts) != 2 or "-" not in parts[1]:
            raise HoursError(f"“{entry[:40]}” needs days and hours, e.g. {EXAMPLE}.")
        days, span = parts
        start_text, end_text = span.split("-", 1)
        start, end = _minute(start_text), _minute(end_text)
        if start == end:
            raise HoursError(f"“{span}” opens and closes at the same time.")
        if start == 24 * 60:
            raise HoursError(f"“{span}” cannot start at 24:00.")
        minutes = (end - start) % (24 * 60) or 24 * 60
        windows += [Window(day, start, minutes) for day in _days(days.replace(" ", ""))]
    if not windows:
        raise HoursError(f"Give days and hours, e.g. {EXAMPLE}.")
    return tuple(sorted(windows, key=lambda w: (w.day, w.start_minute)))


def hours_problem(text: str) -> str | None:
    """For the support_hours setting (`Text(check=…)`): what is wrong, or None."""
    try:
        parse_hours(text)
    except HoursError as exc:
        return str(exc)
    return None


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True)
class SupportHours:
    """A server's support hours; `always` when it set none."""

    windows: tuple[Window, ...]
    zone: ZoneInfo

    @classmethod
    def of(cls, text: str, zone_name: str) -> SupportHours:
        """From the settings; an unknown zone falls back to UTC (the setting is validated when typed)."""
        try:
            zone = ZoneInfo(zone_name or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return cls(parse_hours(text) if text.strip() else (), zone)

    @property
    def always(self) -> bool:
        return not self.windows

    def _spans(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        """The open spans (UTC) of windows starting on local days `first`..`last`."""
        spans = []
        day = first
        while day <= last:
            for w in self.windows:
                if w.day == day.weekday():
                    local = datetime.combine(day, time(), self.zone) + timedelta(minutes=w.start_minute)
                    start = local.astimezone(UTC)
                    # Wall-clock end in the zone (a DST change inside a window moves its length, not its end).
                    end = datetime.combine(day, time(), self.zone) + timedelta(minutes=w.start_minute + w.minutes)
                    spans.append((start, end.astimezone(UTC)))
            day += timedelta(days=1)
        return sorted(spans)

    def is_open(self, now: datetime) -> bool:
        if self.always:
            return True
        today = now.astimezone(self.zone).date()
        return any(start <= now < end for start, end in self._spans(today - timedelta(days=1), today))

    def next_opening(self, now: datetime) -> datetime:
        """`now` when open, else when staff are next there."""
        if self.is_open(now):
            return now
        today = now.astimezone(self.zone).date()
        for start, _end in self._spans(today, today + timedelta(days=8)):
            if start > now:
                return start
        return now  # unreachable with at least one window a week

    def open_seconds(self, since: datetime, until: datetime) -> float:
        """Seconds of [since, until) inside support hours (all of it when there are no hours)."""
        if until <= since:
            return 0.0
        if self.always:
            return (until - since).total_seconds()
        first = max(since, until - timedelta(days=_HORIZON_DAYS))
        local_first = first.astimezone(self.zone).date() - timedelta(days=1)
        total = 0.0
        for start, end in self._spans(local_first, until.astimezone(self.zone).date()):
            overlap = (min(end, until) - max(start, first)).total_seconds()
            total += max(0.0, overlap)
        return total

    def describe(self) -> str:
        """'Mon–Fri 09:00–17:00, Sat 10:00–14:00 (Europe/Berlin)'."""
        if self.always:
            return "always"
        by_span: dict[tuple[int, int], list[int]] = {}
        for w in self.windows:
            by_span.setdefault((w.start_minute, w.minutes), []).append(w.day)
        parts = []
        for (start, minutes), days in sorted(by_span.items(), key=lambda item: min(item[1])):
            end = (start + minutes) % (24 * 60) or 24 * 60
            parts.append(f"{_day_list(days)} {_clock(start)}–{_clock(end)}")
        return f"{'; '.join(parts)} ({self.zone.key})"


def _day_list(days: list[int]) -> str:
    """[0, 1, 2, 3, 4] → 'Mon–Fri'; [5, 6] → 'Sat, Sun'; runs of three or more become ranges."""
    names = [d.capitalize() for d in DAYS]
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    out = []
    for run in runs:
        if len(run) >= 3:
            out.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            out += [names[d] for d in run]
    return ", ".join(out)
