"""Every entry's answer is embedded and searched too: stored as a row of the answer kind, kept while the
answer is unchanged, replaced with it, backfilled for databases made before (migration 4)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from app.schema import open_app_database
from db.migrations import open_database
from memory.io import export_file
from memory.migrations import SCHEMA
from memory.store import TrainedMemory

GUILD = 1


async def answer_rows(db, entry_id=None):
    sql = "SELECT id, entry_id, text FROM entry_phrasings WHERE is_primary = 2"
    params: dict[str, int] = {}
    if entry_id is not None:
        sql += " AND entry_id = :entry_id"
        params["entry_id"] = entry_id
    return [tuple(r) for r in await db.fetchall(sql + " ORDER BY id", params)]


async def test_a_message_that_describes_the_answer_finds_the_entry(memory):
    hours = await memory.add(GUILD, "Opening hours", "We are open nine to five on weekdays, closed on holidays.")
    await memory.add(GUILD, "How do I get a refund?", "Refunds within 14 days in the store.")
    (top, *_) = await memory.find_similar(GUILD, "are you closed on holidays")
    assert top.entry.id == hours.id and top.answer_semantic is not None and top.answer_semantic > 0.3
    # The answer is not a question: it is neither an alternate nor an identity.
    entry = await memory.get(GUILD, hours.id)
    assert entry.alternates == [] and (await memory.get_by_query(GUILD, entry.response)) is None


async def test_the_answer_row_follows_the_answer(memory, memory_db, hashed_embedder):
    entry = await memory.add(GUILD, "Opening hours", "Nine to five.")
    (first,) = await answer_rows(memory_db, entry.id)
    calls = len(hashed_embedder.calls)
    await memory.update(GUILD, entry.id, alternates=["when are you open"])
    assert await answer_rows(memory_db, entry.id) == [first]  # unchanged answer: same row, not re-embedded
    assert hashed_embedder.calls[calls:] == [["when are you open"]]
    await memory.update(GUILD, entry.id, response="Ten to six, every day.")
    (second,) = await answer_rows(memory_db, entry.id)
    assert second[2] == "Ten to six, every day." and second[0] != first[0]
    assert hashed_embedder.calls[-1] == ["Ten to six, every day."]
    # The live index and a fresh load agree on the new answer.
    (live, *_) = await memory.find_similar(GUILD, "ten to six every day")
    fresh = TrainedMemory(memory_db, hashed_embedder)
    (loaded, *_) = await fresh.find_similar(GUILD, "ten to six every day")
    assert live.entry.id == loaded.entry.id == entry.id
    assert live.answer_semantic == pytest.approx(loaded.answer_semantic, abs=1e-6)
    assert await memory.delete(GUILD, entry.id) and await answer_rows(memory_db) == []


async def test_the_answer_row_is_never_an_alternate(memory, tmp_path):
    # Entry.alternates is what /memory show, the dashboard's memory page, exports and suggestions read.
    entry = await memory.add(GUILD, "Opening hours", "Nine to five.", alternates=["when are you open"])
    await memory.update(GUILD, entry.id, response="Ten to six.")
    (listed,) = await memory.list_entries(GUILD)
    assert listed.alternates == ["when are you open"]
    path = tmp_path / "faq.jsonl"
    assert await export_file(memory, GUILD, path) == 1
    (row,) = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert (row["response"], row["alternates"]) == ("Ten to six.", ["when are you open"])
    # An approved suggestion adds to the alternates without picking up the answer's row.
    await memory.record_feedback(GUILD, entry.id, solved=True, phrasing="what time do you open")
    (suggestion,) = await memory.list_suggestions(GUILD)
    approved = await memory.approve_suggestion(GUILD, suggestion.id, by=5)
    assert approved.alternates == ["when are you open", "what time do you open"]
    assert len(await answer_rows(memory.db, entry.id)) == 1


async def test_answers_are_embedded_by_reembed_stale(memory_db, hashed_embedder):
    offline = TrainedMemory(memory_db, hashed_embedder)
    entry = await offline.add(GUILD, "Opening hours", "Nine to five.", embed=False)
    assert await offline.reembed_stale(GUILD) == 1
    row = await memory_db.fetchone(
        "SELECT COUNT(*) FROM embeddings e JOIN entry_phrasings p ON p.id = e.phrasing_id WHERE p.entry_id = ?",
        (entry.id,),
    )
    assert row[0] == 2  # the question and the answer


async def test_migration_backfills_answers_of_existing_entries(tmp_path):
    path = tmp_path / "old.db"
    # The memory's tables as they were before migration 4.
    before = replace(SCHEMA, migrations=[m for m in SCHEMA.migrations if m[0] < 4])
    db = await open_database(path, [before])
    await db.run(
        "INSERT INTO trained_entries (guild_id, query, response, created_at, updated_at) "
        "VALUES (1, 'Opening hours', 'Nine to five.', '', '')"
    )
    await db.run(
        "INSERT INTO entry_phrasings (entry_id, guild_id, text, norm, is_primary) "
        "VALUES (1, 1, 'Opening hours', 'opening hours', 1)"
    )
    await db.close()
    db = await open_app_database(path)
    try:
        assert [row[2] for row in await answer_rows(db)] == ["Nine to five."]
        memory = TrainedMemory(db)
        entry = await memory.get(GUILD, 1)
        assert entry.alternates == []  # the answer row is no alternate
        (top,) = await memory.find_similar(GUILD, "opening hours")
        assert top.answer_semantic is None  # not embedded yet: search works on the question alone
    finally:
        await db.close()
