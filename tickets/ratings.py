"""The opener's rating of a ticket: 1–5 stars, then an optional comment; once per ticket, by its opener only.

Asked in the ticket when the opener marks it solved (it is still open, so its buttons work) and by DM when
it closes unrated (a closed ticket is locked, and Discord disables buttons in locked threads). Every prompt
is recorded, delivered or not (DMs closed: Discord error 50007), and each rating and comment with its time.
"""

from __future__ import annotations

from datetime import datetime

from memory.text import visible_text
from tickets.care_models import Rating, RatingPlace
from tickets.care_store import CareStore
from tickets.errors import ActionRefused
from tickets.models import Ticket
from tickets.server_settings import RATING_PROMPT, ServerSettingsService

COMMENT_LIMIT = 1000
STAR_WORDS = {1: "poor", 2: "fair", 3: "okay", 4: "good", 5: "great"}


class RatingRefused(ActionRefused):
    """A rating or comment that cannot be taken (not the opener, rated already, …)."""


def stars_text(stars: int) -> str:
    """'★★★★☆ 4/5'."""
    return "★" * stars + "☆" * (5 - stars) + f" {stars}/5"


class RatingService:
    def __init__(self, store: CareStore, settings: ServerSettingsService) -> None:
        self.store = store
        self.settings = settings

    async def get(self, ticket_id: int) -> Rating | None:
        return await self.store.rating(ticket_id)

    async def wants_prompt(self, ticket: Ticket) -> bool:
        """Whether to ask the opener now: the server asks for ratings and this ticket has none yet."""
        if not (await self.settings.of(ticket.guild_id)).get(RATING_PROMPT):
            return False
        rating = await self.store.rating(ticket.id)
        return rating is None or not rating.rated

    async def prompted(
        self, ticket: Ticket, place: RatingPlace, *, delivered: bool, now: datetime, error_code: int | None = None,
        channel_id: int | None = None, message_id: int | None = None,
    ) -> None:  # fmt: skip
        await self.store.ensure_rating(ticket_id=ticket.id, guild_id=ticket.guild_id, opener_id=ticket.opener_id,
                                       now=now)  # fmt: skip
        await self.store.add_prompt(
            ticket_id=ticket.id, guild_id=ticket.guild_id, place=place, delivered=delivered, error_code=error_code,
            channel_id=channel_id, message_id=message_id, now=now,
        )  # fmt: skip

    async def prompts(self, ticket_id: int) -> list[tuple[RatingPlace, bool, int | None]]:
        """(place, delivered, Discord error code) of each time the opener was asked, oldest first."""
        return await self.store.prompts(ticket_id)

    async def rate(self, ticket: Ticket, *, user_id: int, stars: int, now: datetime) -> Rating:
        """Record the opener's stars; raises RatingRefused for anyone else, a second rating or a bad value."""
        if user_id != ticket.opener_id:
            raise RatingRefused("Only the person who opened this ticket can rate it.")
        if not 1 <= stars <= 5:
            raise RatingRefused("A rating is 1 to 5 stars.")
        await self.store.ensure_rating(ticket_id=ticket.id, guild_id=ticket.guild_id, opener_id=ticket.opener_id,
                                       now=now)  # fmt: skip
        if not await self.store.set_stars(ticket.id, stars, now):
            rating = await self.store.rating(ticket.id)
            given = f" ({stars_text(rating.stars)})" if rating is not None and rating.stars else ""
            raise RatingRefused(f"You have already rated this ticket{given}. Thank you!")
        rating = await self.store.rating(ticket.id)
        assert rating is not None
        return rating

    async def comment(self, ticket: Ticket, *, user_id: int, text: str, now: datetime) -> Rating:
        """Add the opener's comment to their rating (once); empty text adds nothing. Raises RatingRefused."""
        if user_id != ticket.opener_id:
            raise RatingRefused("Only the person who opened this ticket can comment on it.")
        rating = await self.store.rating(ticket.id)
        if rating is None or not rating.rated:
            raise RatingRefused("Rate the ticket first.")
        comment = visible_text(text)[:COMMENT_LIMIT]
        if not comment:
            return rating
        if not await self.store.set_comment(ticket.id, comment, now):
            raise RatingRefused("This ticket's rating has a comment already. Thank you!")
        updated = await self.store.rating(ticket.id)
        assert updated is not None
        return updated

    async def summary_logged(self, ticket: Ticket, *, channel_id: int, message_id: int, now: datetime) -> None:
        """The closing summary was posted in the log channel: it is edited when the rating arrives."""
        await self.store.ensure_rating(ticket_id=ticket.id, guild_id=ticket.guild_id, opener_id=ticket.opener_id,
                                       now=now)  # fmt: skip
        await self.store.set_log_message(ticket.id, channel_id, message_id)
