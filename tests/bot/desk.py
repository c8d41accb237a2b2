"""Helpers for the staff desk's SimCord tests: what a ticket shows (card, tags, title) and what a member
can read in it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim import World

# Runs a test in both ticket modes: forum posts (private=False) and private threads.
BOTH_MODES = pytest.mark.parametrize("private", [False, True], ids=["forum", "private"])


def card(env: Any, thread: Any) -> dict[str, str]:
    """The fields of a private ticket's card (the embed of the bot's starter message)."""
    starter = next(m for m in thread.history() if m.author.id == env.bot.user.id and m.embeds)
    return {f.name: f.value for f in starter.embeds[0].fields}


def tags(env: Any, world: World, thread: Any) -> set[str]:
    """Tag names on a forum post as Discord has them (archived posts are not in the bot's cache)."""
    names = {t.id: t.name for t in env.bot.get_channel(world.forum.id).available_tags}
    return {names[t] for t in env.backend.get_channel(thread.id).applied_tags}


def title(env: Any, thread: Any) -> str:
    return env.backend.get_channel(thread.id).name


def readable(thread: Any, member: Any) -> str:
    """Everything `member` can read in the thread: texts, embeds (title, description, fields), button labels."""
    parts = []
    for message in thread.history(viewer=member):
        parts.append(message.content)
        for embed in message.embeds:
            parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
            parts += [f"{f.name} {f.value}" for f in embed.fields]
        parts += [getattr(c, "label", "") or "" for row in message.components for c in getattr(row, "children", [])]
    return "\n".join(parts)


async def open_ticket(world: World, member: Any = None, subject: str = "Printer", text: str = "It prints blank pages.",
                      category: str | None = None) -> Any:  # fmt: skip
    """Open a ticket through the panel; returns its thread handle."""
    before = {t.id for t in world.threads}
    await world.open_ticket(member or world.alice, subject, text, category=category)
    [thread] = [t for t in world.threads if t.id not in before]
    return thread


def renames(env, thread) -> list[str]:
    """Every title the bot sent Discord for `thread`, in order (renames waiting for the limit are not sent yet)."""
    return [
        r.json["name"] for r in env.http_requests if r.method == "PATCH" and r.path == f"/channels/{thread.id}"
        and r.json and "name" in r.json
    ]  # fmt: skip
