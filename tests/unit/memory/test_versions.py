"""Every write that changes what search sees bumps the guild's memory version (`memory_changes`, migration 3 of
memory/migrations.py) in the write's own transaction: what other processes watch to reload their indexes
(memory/sync.py). A write that fails leaves the version where it was."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest

from memory import repository as repo
from memory.io import import_bytes
from memory.models import Entry
from memory.store import TrainedMemory

GUILD, OTHER = 1, 2
QUESTION = "How do I reset my password?"
FAQ = json.dumps({"query": "What are your opening hours?", "response": "9 to 5."}).encode()

Write = Callable[[TrainedMemory, Entry], Awaitable[object]]


async def _approve(memory: TrainedMemory, entry: Entry) -> object:
    suggestion = await memory.suggest_qa(GUILD, "Where is my invoice?", "On the billing page.")
    return await memory.approve_suggestion(GUILD, suggestion, by=7)


async def _remove_generated(memory: TrainedMemory, entry: Entry) -> object:
    await memory.add_generated(GUILD, entry.id, entry.query, ["lost my password"], "model")
    return await memory.remove_generated(GUILD, entry.id)


async def _reembed(memory: TrainedMemory, entry: Entry) -> object:
    await memory.add(GUILD, "Where is my invoice?", "On the billing page.", embed=False)
    before = await repo.change_count(memory.db, GUILD)
    assert await memory.reembed_stale(GUILD) == 1
    return before


WRITES: dict[str, Write] = {
    "train": lambda m, e: m.add(GUILD, "Where is my invoice?", "On the billing page."),
    "edit": lambda m, e: m.update(GUILD, e.id, response="Use the link on the login page."),
    "delete": lambda m, e: m.delete(GUILD, e.id),
    "import": lambda m, e: import_bytes(
        m, GUILD, json.dumps({"query": "Hours?", "response": "9-5"}).encode(), "f.jsonl"
    ),
    "approve suggestion": _approve,
    "feedback": lambda m, e: m.record_feedback(GUILD, e.id, solved=False),
    "generated phrasings": lambda m, e: m.add_generated(GUILD, e.id, e.query, ["lost my password"], "model"),
    "remove generated": _remove_generated,
    "re-embedding": _reembed,
}


@pytest.mark.parametrize("name", list(WRITES))
async def test_each_write_bumps_its_guilds_version_only(memory, name):
    entry = await memory.add(GUILD, QUESTION, "Use the reset link.")
    await memory.add(OTHER, QUESTION, "Ask an admin.")
    before, other = await repo.change_count(memory.db, GUILD), await repo.change_count(memory.db, OTHER)
    result = await WRITES[name](memory, entry)
    if name == "re-embedding":
        assert isinstance(result, int)
        before = result  # only the re-embedding itself is measured
    assert await repo.change_count(memory.db, GUILD) > before, f"{name} did not bump the version"
    assert await repo.change_count(memory.db, OTHER) == other


async def test_suggesting_changes_nothing_search_sees_and_bumps_nothing(memory):
    await memory.add(GUILD, QUESTION, "Use the reset link.")
    before = await repo.change_count(memory.db, GUILD)
    await memory.suggest_qa(GUILD, "Where is my invoice?", "On the billing page.")
    assert await repo.change_count(memory.db, GUILD) == before


async def test_the_bump_is_part_of_the_writes_transaction(memory, monkeypatch):
    await memory.add(GUILD, QUESTION, "Use the reset link.")
    before = await repo.change_count(memory.db, GUILD)
    bump = repo.bump_changes

    async def bump_then_fail(db, guild_id):
        await bump(db, guild_id)
        raise RuntimeError("disk full")  # the write fails after its bump: both roll back together

    monkeypatch.setattr(repo, "bump_changes", bump_then_fail)
    with pytest.raises(RuntimeError):
        await memory.add(GUILD, "Where is my invoice?", "On the billing page.")
    assert await memory.count(GUILD) == 1
    assert await repo.change_count(memory.db, GUILD) == before
