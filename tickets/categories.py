"""Ticket categories as data: what the panel offers, where each category's tickets live (forum post or
private thread), who handles them, and the questions their form asks.

Limits come from Discord: a select menu has at most 25 options, a modal at most 5 inputs (the subject
is always the first, so a category asks at most 4 questions), a forum tag name 20 characters, a text
input's label 45 and its placeholder 100, an option's description 100.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import replace
from datetime import datetime

from memory.text import visible_text
from tickets.category_store import CategoryStore
from tickets.errors import InvalidInput
from tickets.models import (
    DEFAULT_CATEGORIES,
    Category,
    FormQuestion,
    GuildConfig,
    QuestionStyle,
    TicketMode,
)
from tickets.service import TicketService

log = logging.getLogger(__name__)

MAX_CATEGORIES = 25
MAX_QUESTIONS = 4
NAME_MAX = 20
LABEL_MAX = 45
PLACEHOLDER_MAX = 100
DESCRIPTION_MAX = 100
MAX_ANSWER_CHARS = 1500

_NAME = re.compile(r"^\w[\w &+'/-]*$")
_CUSTOM_EMOJI = re.compile(r"^<a?:\w{2,32}:\d{15,21}>$")


class Unset:
    """Stands for "leave this as it is" in `CategoryService.edit` (None means "clear it")."""


UNSET = Unset()


def category_key(name: str) -> str:
    """The key a category is stored and looked up by: its name, trimmed, lower case."""
    return " ".join(visible_text(name).split()).lower()


def default_categories(guild_id: int) -> list[Category]:
    """Billing, Technical, General: forum posts asking "Describe the problem" (the panel before categories)."""
    return [
        Category(guild_id, name, name.capitalize(), description=f"Open a {name} ticket", position=i)
        for i, name in enumerate(DEFAULT_CATEGORIES)
    ]


def checked_name(name: str) -> tuple[str, str]:
    """(key, label) for a category name typed by an admin; raises InvalidInput."""
    label = " ".join(visible_text(name).split())
    if not label or len(label) > NAME_MAX or not _NAME.match(label):
        raise InvalidInput(
            f"A category name has 1–{NAME_MAX} letters, digits, spaces or - _ & + ' / (it becomes a forum tag)."
        )
    return label.lower(), label


def checked_emoji(emoji: str | None) -> str | None:
    if emoji is None or not emoji.strip():
        return None
    emoji = emoji.strip()
    if not (_one_emoji(emoji) or _CUSTOM_EMOJI.match(emoji)):
        raise InvalidInput("The emoji must be one emoji character (like 💳) or one of this server's emojis.")
    return emoji


_ZWJ = "\u200d"
_KEYCAP = re.compile("[#*0-9]\ufe0f?\u20e3")


def _one_emoji(text: str) -> bool:
    """`text` is one Unicode emoji: one pictograph (a symbol, or a pair of regional indicators: a flag) with what
    may follow it (skin tone, variation selector, tags of a subdivision flag) and pictographs joined to it by ZWJ,
    or a keycap ("#️⃣"). The panel's menu and the forum tag take nothing else (Discord: 400 "Invalid emoji")."""
    if _KEYCAP.fullmatch(text):
        return True
    if len(text) > 16:
        return False
    pictographs = regional = 0
    previous = ""
    for ch in text:
        code = ord(ch)
        if 0x1F1E6 <= code <= 0x1F1FF:  # regional indicators: two make a flag
            regional += 1
            pictographs += regional % 2
        elif unicodedata.category(ch) == "So":
            pictographs += previous != _ZWJ
        elif not (ch in (_ZWJ, "\ufe0f") or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F):
            return False
        previous = ch
    return pictographs == 1 and regional in (0, 2)


def checked_description(description: str | None) -> str:
    text = " ".join(visible_text(description or "").split())
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(f"The description can have at most {DESCRIPTION_MAX} characters.")
    return text


def checked_question(
    label: str, *, placeholder: str | None = None, required: bool = True,
    style: QuestionStyle = QuestionStyle.PARAGRAPH, max_length: int | None = None,
) -> FormQuestion:  # fmt: skip
    label = " ".join(visible_text(label).split())
    if not label or len(label) > LABEL_MAX:
        raise InvalidInput(f"A question needs a label of 1–{LABEL_MAX} characters.")
    if label.lower() == "subject":
        raise InvalidInput("Every form asks for the subject already; pick another label.")
    text = " ".join(visible_text(placeholder or "").split())
    if len(text) > PLACEHOLDER_MAX:
        raise InvalidInput(f"A placeholder can have at most {PLACEHOLDER_MAX} characters.")
    longest = max_length or (MAX_ANSWER_CHARS if style is QuestionStyle.PARAGRAPH else 200)
    if not 1 <= longest <= MAX_ANSWER_CHARS:
        raise InvalidInput(f"The longest answer must be between 1 and {MAX_ANSWER_CHARS} characters.")
    return FormQuestion(label, text, required, style, longest)


class CategoryService:
    """Adds, changes and removes a server's categories; every change is seen by the next ticket and panel."""

    def __init__(self, store: CategoryStore, tickets: TicketService) -> None:
        self.store = store
        self.tickets = tickets

    async def of(self, guild_id: int) -> tuple[Category, ...]:
        return await self.store.categories(guild_id)

    async def get(self, guild_id: int, name: str) -> Category:
        """The category called `name`; raises InvalidInput naming the ones there are."""
        categories = await self.store.categories(guild_id)
        found = next((c for c in categories if c.name == category_key(name)), None)
        if found is None:
            known = ", ".join(c.label for c in categories) or "none"
            raise InvalidInput(f"There is no category called “{visible_text(name)[:40]}”. Categories: {known}.")
        return found

    async def seed_defaults(self, guild_id: int, now: datetime) -> None:
        """A server set up for the first time gets the default categories (a server with any keeps its own)."""
        if not await self.store.categories(guild_id):
            await self.store.insert_missing(default_categories(guild_id), now)
            self.tickets.forget_config(guild_id)

    async def add(self, category: Category, now: datetime) -> Category:
        config = await self._config(category.guild_id)
        if len(config.categories) >= MAX_CATEGORIES:
            raise InvalidInput(f"A server can have at most {MAX_CATEGORIES} categories (a select menu's options).")
        _check_mode(config, category.mode)
        if not await self.store.insert(category, now):
            raise InvalidInput(f"There already is a category called “{category.label}”.")
        self.tickets.forget_config(category.guild_id)
        log.info("Category %r added in guild %d (%s)", category.name, category.guild_id, category.mode)
        return await self.get(category.guild_id, category.name)

    async def edit(
        self, guild_id: int, name: str, *, now: datetime, emoji: str | Unset | None = UNSET,
        description: str | Unset = UNSET, mode: TicketMode | Unset = UNSET,
        staff_role_id: int | Unset | None = UNSET,
    ) -> Category:  # fmt: skip
        """Change what is given (`UNSET` keeps a field, None clears it). Open tickets keep their mode."""
        current = await self.get(guild_id, name)
        changes: dict[str, object] = {}
        if not isinstance(emoji, Unset):
            changes["emoji"] = emoji
        if not isinstance(description, Unset):
            changes["description"] = description
        if not isinstance(mode, Unset):
            _check_mode(await self._config(guild_id), mode)
            changes["mode"] = mode
        if not isinstance(staff_role_id, Unset):
            changes["staff_role_id"] = staff_role_id
        return await self._save(replace(current, **changes), now)  # type: ignore[arg-type]

    async def remove(self, guild_id: int, name: str) -> Category:
        """Remove a category; its tickets keep it. A server keeps at least one category."""
        category = await self.get(guild_id, name)
        if len(await self.store.categories(guild_id)) <= 1:
            raise InvalidInput("A server needs at least one category: add another before removing this one.")
        await self.store.delete(guild_id, category.name)
        self.tickets.forget_config(guild_id)
        log.info("Category %r removed in guild %d", category.name, guild_id)
        return category

    async def add_question(self, guild_id: int, name: str, question: FormQuestion, now: datetime) -> Category:
        category = await self.get(guild_id, name)
        if len(category.questions) >= MAX_QUESTIONS:
            raise InvalidInput(
                f"A form asks at most {MAX_QUESTIONS} questions besides the subject (Discord shows 5 inputs). "
                "Remove one first."
            )
        if any(q.label.lower() == question.label.lower() for q in category.questions):
            raise InvalidInput(f"“{category.label}” already asks “{question.label}”.")
        return await self._save(replace(category, questions=(*category.questions, question)), now)

    async def remove_question(self, guild_id: int, name: str, number: int, now: datetime) -> Category:
        category = await self.get(guild_id, name)
        if not 1 <= number <= len(category.questions):
            raise InvalidInput(f"“{category.label}” has {len(category.questions)} question(s); pick 1–"
                               f"{len(category.questions)}." if category.questions else
                               f"“{category.label}” asks no questions besides the subject.")  # fmt: skip
        questions = tuple(q for i, q in enumerate(category.questions, start=1) if i != number)
        return await self._save(replace(category, questions=questions), now)

    # -- panels ------------------------------------------------------------------------------

    async def panel_posted(self, *, guild_id: int, channel_id: int, message_id: int, now: datetime) -> None:
        await self.store.add_panel(guild_id=guild_id, channel_id=channel_id, message_id=message_id, now=now)

    async def panels(self, guild_id: int) -> list[tuple[int, int]]:
        return await self.store.panels(guild_id)

    async def panel_gone(self, message_id: int) -> None:
        await self.store.remove_panel(message_id)

    # -- helpers -----------------------------------------------------------------------------

    async def _save(self, category: Category, now: datetime) -> Category:
        await self.store.update(category, now)
        self.tickets.forget_config(category.guild_id)
        return category

    async def _config(self, guild_id: int) -> GuildConfig:
        config = await self.tickets.config(guild_id)
        if config is None:
            raise InvalidInput("Run /setup first to choose the ticket forum and staff role.")
        return config


def _check_mode(config: GuildConfig, mode: TicketMode) -> None:
    if mode is TicketMode.PRIVATE_THREAD and not config.private_channel_id:
        raise InvalidInput(
            "Private tickets need a text channel for their threads: run /setup again with private_channel first."
        )
