"""The one access rule: opener, staff for a category (its role, the server's role, moderators), others."""

from __future__ import annotations

import pytest

from tests.unit.tickets.helpers import a_ticket
from tickets.access import Actor, Standing, is_staff, ticket_access
from tickets.models import Category, GuildConfig, TicketMode

SERVER_STAFF, BILLING_TEAM, OTHER_ROLE = 10, 20, 30
CONFIG = GuildConfig(
    guild_id=1, forum_id=2, staff_role_id=SERVER_STAFF, log_channel_id=None,
    categories=(
        Category(1, "billing", "Billing", staff_role_id=BILLING_TEAM, mode=TicketMode.PRIVATE_THREAD),
        Category(1, "general", "General"),
    ),
)  # fmt: skip
OPENER = 100


def actor(*roles: int, user_id: int = 200, moderator: bool = False) -> Actor:
    return Actor(user_id, frozenset(roles), moderator)


@pytest.mark.parametrize(
    ("who", "category", "standing"),
    [
        (actor(user_id=OPENER), "billing", Standing.OPENER),
        (actor(), "billing", Standing.OTHER),
        (actor(OTHER_ROLE), "general", Standing.OTHER),
        (actor(SERVER_STAFF), "billing", Standing.STAFF),  # the server's staff handle every category
        (actor(SERVER_STAFF), "general", Standing.STAFF),
        (actor(BILLING_TEAM), "billing", Standing.STAFF),  # a category's role: its own tickets
        (actor(BILLING_TEAM), "general", Standing.OTHER),  # ... and no others
        (actor(moderator=True), "general", Standing.STAFF),  # Manage Threads / Server / Administrator
        (actor(SERVER_STAFF, user_id=OPENER), "general", Standing.STAFF),  # staff who opened their own ticket
        (actor(BILLING_TEAM), "removed-category", Standing.OTHER),
    ],
)
def test_standing(who: Actor, category: str, standing: Standing) -> None:
    access = ticket_access(who, CONFIG, a_ticket(opener_id=OPENER, category=category))
    assert access.standing is standing
    assert access.opener_or_staff is (standing is not Standing.OTHER)


def test_opener_flag_stays_for_staff_openers() -> None:
    access = ticket_access(actor(SERVER_STAFF, user_id=OPENER), CONFIG, a_ticket(opener_id=OPENER))
    assert access.is_opener and access.is_staff


def test_server_staff_is_the_server_role_or_a_moderator_not_a_category_role() -> None:
    assert is_staff(actor(SERVER_STAFF), CONFIG)
    assert is_staff(actor(moderator=True), None), "moderators before /setup"
    assert not is_staff(actor(BILLING_TEAM), CONFIG)
    assert not is_staff(actor(SERVER_STAFF), None), "no role is staff before /setup"
    assert not is_staff(None, CONFIG), "outside a server nobody is"
