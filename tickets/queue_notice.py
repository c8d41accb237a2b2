"""When a "you're #N in line" notice is worth editing.

The model's queue reports every move to every waiting ticket: with N tickets queued, each freed slot
would edit N notices — N²/2 edits in all (16,431 for 200 queued tickets), a rate-limit storm on Discord
exactly when the bot is busiest. A ticket's notice is edited only when its place drops into a lower coarse
bucket (exact near the front, then 5, 10, 20, 50, …) and at most once per `MIN_INTERVAL_S` — except to
say "#1", the one place worth showing at once. So a notice changes a handful of times however long the
line, never more than about six times a minute, and the edits grow linearly with the queued tickets.
A place skipped for the interval shows with the next move after it; the notice errs on the long side.
"""

from __future__ import annotations

# Places shown exactly; past these, a notice is edited only when the place drops below the next mark.
EXACT_UP_TO = 3
_MARKS = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
# Discord's own advice is about one edit per second per message; a queue notice needs far less.
MIN_INTERVAL_S = 10.0


def bucket(position: int) -> int:
    """The coarse bucket of a place in line: equal buckets are not worth an edit."""
    if position <= EXACT_UP_TO:
        return position
    for mark in _MARKS:
        if position <= mark:
            return mark
    return _MARKS[-1] + 1


class QueueNotice:
    """Remembers the place a ticket's notice shows and when, and says when a new place should be shown."""

    def __init__(self) -> None:
        self.shown: int | None = None
        self.shown_at = 0.0

    def worth_showing(self, position: int, now: float) -> bool:
        """True the first time; afterwards when `position` is in a lower bucket than the one shown and
        either the last edit is `MIN_INTERVAL_S` old or the ticket is next in line. `now`: monotonic seconds."""
        if self.shown is not None:
            if bucket(position) >= bucket(self.shown):
                return False
            if position != 1 and now - self.shown_at < MIN_INTERVAL_S:
                return False
        self.shown, self.shown_at = position, now
        return True
