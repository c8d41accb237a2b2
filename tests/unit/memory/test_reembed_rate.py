"""Re-embedding an import walks the phrasings once: the database work per batch stays the same however
many phrasings are already embedded (it used to rescan all of them for every batch of 64)."""

from __future__ import annotations

import pytest

from memory import repository as repo
from memory.store import TrainedMemory

GUILD = 3


async def _seed_unembedded(db, count: int) -> None:
    async with db.transaction():
        for i in range(count):
            question, answer = f"How do I configure widget {i}?", f"Open panel {i} and press save."
            entry_id = await repo.insert_entry(db, GUILD, question, answer, "general", None)
            await repo.insert_phrasing(db, GUILD, entry_id, question, True)
            await repo.insert_answer(db, GUILD, entry_id, answer)


async def _sqlite_steps_to_reembed(db, embedder, count: int) -> int:
    """SQLite virtual-machine steps (in thousands) spent re-embedding `count` fresh entries: a count of
    the database's work, not a timing."""
    await db.run("DELETE FROM trained_entries")
    await _seed_unembedded(db, count)
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    await db.connection.set_progress_handler(step, 1000)
    try:
        assert await TrainedMemory(db, embedder).reembed_stale(GUILD) == count
    finally:
        await db.connection.set_progress_handler(None, 1000)
    return steps


@pytest.mark.sqlite_only("counts SQLite's virtual-machine steps")
async def test_reembedding_costs_the_same_per_phrasing_at_any_size(memory_db, hashed_embedder):
    small = await _sqlite_steps_to_reembed(memory_db, hashed_embedder, 300)
    large = await _sqlite_steps_to_reembed(memory_db, hashed_embedder, 1200)
    # Four times the phrasings: about four times the work (rescanning every batch made it about twelve).
    assert large < 6 * small, (small, large)


async def test_the_upkeep_pass_starts_above_what_it_found_embedded(memory_db, hashed_embedder):
    memory = TrainedMemory(memory_db, hashed_embedder)
    await _seed_unembedded(memory_db, 100)
    assert await memory.reembed_stale() == 100
    seen: list[int] = []
    stale = repo.stale_phrasings

    async def spying(db, model, guild_id, limit, after=0):
        seen.append(after)
        return await stale(db, model, guild_id, limit, after)

    repo.stale_phrasings = spying
    try:
        assert await memory.reembed_stale() == 0
        assert seen == [200], seen  # 100 questions and 100 answers already embedded: not read again
        # A phrasing stored without a vector (the embedder was down) is found by the next pass.
        added = await memory.add(GUILD, "What are your opening hours?", "9 to 5.", embed=False)
        assert await memory.reembed_stale() == 1
        assert (await memory.find_similar(GUILD, "opening hours"))[0].entry.id == added.id
    finally:
        repo.stale_phrasings = stale
