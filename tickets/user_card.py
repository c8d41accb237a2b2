"""The user card staff get with each new ticket: how old the member's account is, how long they have been on
the server, and their earlier tickets with the outcome (status, close reason, rating).

Staff only: it goes to the log channel (or behind a staff-only button when there is none, see
cogs/tickets/_user_card.py), never into the ticket itself, the transcript or the model's prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ai.split import unmask_links
from tickets.care_models import PastTicket, TicketHistory
from tickets.care_store import CareStore

RECENT = 5


def age_text(seconds: float) -> str:
    """A rough age: '12 minutes', '5 hours', '3 days', '7 weeks', '2 years'."""
    seconds = max(0.0, seconds)
    for unit, size in (("year", 365 * 86400), ("week", 7 * 86400), ("day", 86400), ("hour", 3600)):
        if seconds >= (2 * size if unit in ("year", "week") else size):
            n = int(seconds // size)
            return f"{n} {unit}" + ("s" if n != 1 else "")
    minutes = int(seconds // 60)
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


REASON_SHOWN = 80


def outcome_text(past: PastTicket) -> str:
    """'closed — solved, closed automatically · ★★★★☆ 4/5' / 'open (waiting_staff)'."""
    if past.status != "closed":
        return f"open ({past.status.replace('_', ' ')})"
    # The reason is the closer's words (the opener's too, up to 300 characters): one short line of text on the card,
    # so five of them fit its field, and a masked link in one shows where it goes.
    reason = unmask_links(" ".join((past.close_reason or "no reason").split()))
    reason = reason if len(reason) <= REASON_SHOWN else reason[: REASON_SHOWN - 1] + "…"
    text = f"closed — {reason}"
    if past.stars:
        text += " · " + "★" * past.stars + "☆" * (5 - past.stars) + f" {past.stars}/5"
    return text


@dataclass(frozen=True)
class UserCard:
    member_name: str
    member_id: int
    account_age_s: float
    on_server_s: float | None  # None: Discord did not say when they joined
    history: TicketHistory


class UserCards:
    def __init__(self, store: CareStore) -> None:
        self.store = store

    async def card(
        self, *, guild_id: int, member_id: int, member_name: str, account_created_at: datetime,
        joined_at: datetime | None, ticket_id: int, now: datetime,
    ) -> UserCard:  # fmt: skip
        history = await self.store.history(guild_id, member_id, exclude=ticket_id, limit=RECENT)
        return UserCard(
            member_name=member_name, member_id=member_id,
            account_age_s=(now - account_created_at).total_seconds(),
            on_server_s=(now - joined_at).total_seconds() if joined_at is not None else None, history=history,
        )  # fmt: skip
