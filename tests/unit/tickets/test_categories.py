"""Categories as data: what an admin may type, and the service that stores them for the next ticket."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tickets.categories import (
    MAX_QUESTIONS,
    CategoryService,
    category_key,
    checked_emoji,
    checked_name,
    checked_question,
    default_categories,
)
from tickets.category_store import CategoryStore
from tickets.errors import InvalidInput
from tickets.models import Category, FormQuestion, GuildConfig, QuestionStyle, TicketMode
from tickets.server_settings import ServerSettingsService
from tickets.service import TicketService
from tickets.settings_store import SettingsStore
from tickets.store import TicketStore

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def test_names_become_keys_and_labels() -> None:
    assert checked_name("  Bug   Reports ") == ("bug reports", "Bug Reports")
    assert category_key("Bug Reports") == "bug reports"
    assert checked_name("Ärger & Co") == ("ärger & co", "Ärger & Co")
    for bad in ("", "\u200b", "x" * 21, "<script>", "-dash-first"):
        with pytest.raises(InvalidInput):
            checked_name(bad)


def test_emoji_are_one_emoji() -> None:
    assert checked_emoji("💳") == "💳" and checked_emoji("<:ticket:123456789012345678>") is not None
    assert checked_emoji(None) is None and checked_emoji(" ") is None
    for bad in ("smile", ":smile:", "💳 card", "<:x:1>"):
        with pytest.raises(InvalidInput):
            checked_emoji(bad)


@pytest.mark.parametrize(
    "good",
    ["💳", "❤️", "👍🏽", "👩‍💻", "🇩🇪", "#️⃣", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "☎"],
)
def test_every_kind_of_single_emoji_is_one(good: str) -> None:
    assert checked_emoji(good) == good


@pytest.mark.parametrize(
    "bad",
    ["!!", "→", "\u200b", "—", "💳💳", "🇩🇪🇫🇷", "#", "★★★", "\u202e", "%"],
)
def test_what_discord_refuses_as_an_emoji_is_refused_here(bad: str) -> None:
    """The emoji goes on the panel's select menu and on the category's forum tag, where Discord refuses anything but
    one emoji (400 "Invalid emoji"): stored, it broke every later panel update and /ticket_panel until cleared."""
    with pytest.raises(InvalidInput):
        checked_emoji(bad)


def test_questions_have_discords_limits() -> None:
    question = checked_question("Order number", style=QuestionStyle.SHORT)
    assert question == FormQuestion("Order number", "", True, QuestionStyle.SHORT, 200)
    assert checked_question("Details").max_length == 1500
    cases: list[tuple[str, dict[str, Any]]] = [
        ("x" * 46, {}), ("Subject", {}), ("ok", {"placeholder": "p" * 101}), ("ok", {"max_length": 5000}),
    ]  # fmt: skip
    for label, kwargs in cases:
        with pytest.raises(InvalidInput):
            checked_question(label, **kwargs)


@pytest.fixture
async def services(memory_db):
    tickets = TicketService(
        TicketStore(memory_db), CategoryStore(memory_db), ServerSettingsService(SettingsStore(memory_db))
    )
    await tickets.save_config(GuildConfig(1, 2, 3, None), NOW)
    categories = CategoryService(CategoryStore(memory_db), tickets)
    await categories.seed_defaults(1, NOW)
    return tickets, categories


async def test_the_configuration_sees_every_change(services) -> None:
    tickets, categories = services
    assert (await tickets.config(1)).category_names == ("billing", "technical", "general")

    await categories.add(Category(1, "orders", "Orders", emoji="📦"), NOW)
    await categories.add_question(1, "Orders", checked_question("Order number"), NOW)
    await categories.edit(1, "billing", now=NOW, description="Invoices", staff_role_id=99)
    await categories.remove(1, "technical")

    config = await tickets.config(1)
    assert config.category_names == ("billing", "general", "orders")
    orders = config.category("ORDERS")
    assert orders.emoji == "📦" and [q.label for q in orders.questions] == ["Describe the problem", "Order number"]
    assert config.staff_role_for("billing") == 99 and config.staff_role_for("general") == 3
    assert config.default_category.name == "general"
    await categories.seed_defaults(1, NOW)
    assert (await tickets.config(1)).category_names == ("billing", "general", "orders"), "seeding is only for new"


async def test_refusals_leave_the_categories_as_they_were(services) -> None:
    tickets, categories = services
    with pytest.raises(InvalidInput, match="already"):
        await categories.add(Category(1, "billing", "Billing"), NOW)
    with pytest.raises(InvalidInput, match="private_channel"):
        await categories.add(Category(1, "secret", "Secret", mode=TicketMode.PRIVATE_THREAD), NOW)
    with pytest.raises(InvalidInput, match="no category"):
        await categories.remove(1, "nope")
    with pytest.raises(InvalidInput, match="pick 1–1"):
        await categories.remove_question(1, "general", 2, NOW)
    for i in range(MAX_QUESTIONS - 1):
        await categories.add_question(1, "general", checked_question(f"Q{i}"), NOW)
    with pytest.raises(InvalidInput, match="at most 4"):
        await categories.add_question(1, "general", checked_question("One too many"), NOW)
    with pytest.raises(InvalidInput, match="already asks"):
        await categories.add_question(1, "billing", checked_question("describe the PROBLEM"), NOW)
    assert (await tickets.config(1)).category_names == ("billing", "technical", "general")
    assert len(await categories.of(2)) == 0


def test_the_default_categories_are_todays_forum_categories() -> None:
    defaults = default_categories(5)
    assert [(c.name, c.label, c.mode) for c in defaults] == [
        ("billing", "Billing", "forum"), ("technical", "Technical", "forum"), ("general", "General", "forum"),
    ]  # fmt: skip
    assert all(len(c.questions) == 1 and c.questions[0].label == "Describe the problem" for c in defaults)
