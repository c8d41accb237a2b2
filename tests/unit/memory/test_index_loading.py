"""Loading a guild's index at a moderate size: built in a worker thread while the event loop keeps
running, the same index as one built entry by entry, and frozen out of the garbage collector's sight."""

from __future__ import annotations

import asyncio
import gc
import threading

import pytest

from memory import repository as repo
from memory import store as store_module
from memory.store import TrainedMemory

GUILD = 7
ENTRIES = 1500


async def _seed(db, embedder, count: int = ENTRIES) -> None:
    """`count` embedded entries written in one transaction (memory.add would take a transaction each)."""
    texts = []
    async with db.transaction():
        for i in range(count):
            question, answer = f"How do I configure widget {i} for team {i % 37}?", f"Open panel {i} and press save."
            entry_id = await repo.insert_entry(db, GUILD, question, answer, "general", None)
            texts.append((await repo.insert_phrasing(db, GUILD, entry_id, question, True), question))
            alternate = f"widget {i} setup"
            texts.append((await repo.insert_phrasing(db, GUILD, entry_id, alternate, False), alternate))
            texts.append((await repo.insert_answer(db, GUILD, entry_id, answer), answer))
        vectors = await embedder.embed([text for _, text in texts])
        await repo.store_vectors(db, embedder.model, {pid: v for (pid, _), v in zip(texts, vectors, strict=True)})


async def test_the_index_is_built_in_a_worker_thread_while_the_loop_keeps_running(
    memory_db, hashed_embedder, monkeypatch
):
    await _seed(memory_db, hashed_embedder)
    build = store_module.build_index
    seen: dict[str, object] = {}
    building = threading.Event()

    def spying(*args):
        seen["thread"] = threading.get_ident()
        building.set()
        try:
            return build(*args)
        finally:
            building.clear()

    monkeypatch.setattr(store_module, "build_index", spying)
    ticks_while_building = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks_while_building
        while not done.is_set():
            await asyncio.sleep(0)
            ticks_while_building += building.is_set()

    ticking = asyncio.create_task(ticker())
    memory = TrainedMemory(memory_db, hashed_embedder)
    try:
        await memory.warm(GUILD)
    finally:
        done.set()
        await ticking
        gc.unfreeze()  # the load froze the test process's objects: give them back to the collector
    assert seen["thread"] != threading.get_ident(), "the index was built on the event loop's thread"
    assert ticks_while_building > 0, "the event loop never ran while the index was being built"
    index = memory._indexes[GUILD]
    assert len(index.entries) == ENTRIES and len(index.vectors) == 2 * ENTRIES and len(index.answers) == ENTRIES


async def test_a_loaded_index_finds_what_an_index_built_by_writes_finds(memory_db, hashed_embedder):
    await _seed(memory_db, hashed_embedder, count=200)
    written = TrainedMemory(memory_db, hashed_embedder)
    added = await written.add(GUILD, "Where do I find my invoices?", "Billing → Invoices.", alternates=["invoice pdf"])
    loaded = TrainedMemory(memory_db, hashed_embedder)
    for text in ("where are my invoices", "configure widget 17 for team 17", "widget 120 setup"):
        expected = [(m.entry.id, round(m.score, 6)) for m in await written.find_similar(GUILD, text)]
        got = [(m.entry.id, round(m.score, 6)) for m in await loaded.find_similar(GUILD, text)]
        assert got == expected, text
    assert (await loaded.find_similar(GUILD, "invoice pdf"))[0].entry == added


async def test_loading_a_big_index_freezes_its_objects_out_of_the_collectors_sight(memory_db, hashed_embedder):
    await _seed(memory_db, hashed_embedder)
    gc.unfreeze()
    try:
        memory = TrainedMemory(memory_db, hashed_embedder)
        await memory.warm(GUILD)
        entries = list(memory._indexes[GUILD].entries.values())
        assert gc.get_freeze_count() > len(entries)
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("count", [10])
async def test_a_small_index_is_not_frozen(memory_db, hashed_embedder, count):
    await _seed(memory_db, hashed_embedder, count=count)
    gc.unfreeze()
    memory = TrainedMemory(memory_db, hashed_embedder)
    await memory.warm(GUILD)
    assert gc.get_freeze_count() == 0


async def test_full_collections_wait_while_an_index_loads_and_run_again_after(memory_db, hashed_embedder, monkeypatch):
    """Full collections during a load walked millions of objects at 100k entries, holding the event loop."""
    await _seed(memory_db, hashed_embedder, count=50)
    build = store_module.build_index
    seen: list[tuple[int, int, int]] = []

    def spying(rows):
        seen.append(gc.get_threshold())
        index = build(rows)
        assert rows.entries == [] and rows.phrasings == [], "the rows were handed over to the worker thread"
        return index

    monkeypatch.setattr(store_module, "build_index", spying)
    before = gc.get_threshold()
    assert gc.isenabled() and before[2] < 1000
    try:
        await TrainedMemory(memory_db, hashed_embedder).warm(GUILD)
        assert seen == [(before[0], before[1], 2**31 - 1)], "young generations collected, full passes wait"
        assert gc.get_threshold() == before

        def failing(rows):
            raise RuntimeError("broken row")

        monkeypatch.setattr(store_module, "build_index", failing)
        with pytest.raises(RuntimeError):
            await TrainedMemory(memory_db, hashed_embedder).warm(GUILD)
        assert gc.get_threshold() == before, "a failed load gives full collections back too"
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
