"""TrainedMemory: CRUD, search consistency after edits, embeddings, feedback, suggestions, guilds."""

from __future__ import annotations

import asyncio

import pytest

from app.schema import open_app_database
from memory import repository as repo
from memory.hashed_embedder import HashedEmbedder
from memory.store import CONFIDENCE_GAIN, TrainedMemory

GUILD, OTHER = 1, 2


async def test_add_get_list_count(memory):
    entry = await memory.add(
        GUILD, "How do I reset my password?", "Use the reset link.", "technical", ["forgot password"]
    )
    assert entry.id and entry.category == "technical" and entry.alternates == ["forgot password"]
    assert entry.confidence == 1.0 and entry.usage_count == 0
    assert await memory.get(GUILD, entry.id) == entry
    await memory.add(GUILD, "Where is my invoice?", "Billing page.", "billing")
    assert await memory.count(GUILD) == 2
    assert [e.query for e in await memory.list_entries(GUILD, offset=1, limit=5)] == ["Where is my invoice?"]


@pytest.mark.parametrize(
    ("query", "response", "message"),
    [("", "a", "question is empty"), ("q", "  ", "answer is empty"), ("q" * 301, "a", "question is 301"),
     ("q", "a" * 1901, "answer is 1901")],
)  # fmt: skip
async def test_lengths_are_validated(memory, query, response, message):
    with pytest.raises(ValueError, match=message):
        await memory.add(GUILD, query, response)
    assert await memory.count(GUILD) == 0


async def test_update_keeps_search_consistent(memory):
    entry = await memory.add(GUILD, "How do I reset my password?", "Use the reset link.", alternates=["lost login"])
    await memory.update(GUILD, entry.id, query="How can I change my email address?", alternates=["new email"])
    top = (await memory.find_similar(GUILD, "change my email address"))[0]
    assert top.entry.id == entry.id and top.entry.query == "How can I change my email address?"
    for old in ("reset my password", "lost login"):
        matches = await memory.find_similar(GUILD, old)
        assert all(m.phrasing not in ("How do I reset my password?", "lost login") for m in matches)
    assert (await memory.find_similar(GUILD, "new email"))[0].phrasing == "new email"


async def test_alternates_are_searched(memory):
    await memory.add(GUILD, "How do I get a refund?", "Open a billing ticket.")
    entry = await memory.add(GUILD, "Opening hours", "9 to 5.", alternates=["when are you open"])
    top = (await memory.find_similar(GUILD, "when are you open?"))[0]
    assert top.entry.id == entry.id and top.phrasing == "when are you open" and top.score > 0.9


async def test_delete_removes_from_search_and_db(memory, memory_db):
    entry = await memory.add(GUILD, "How do I reset my password?", "Use the reset link.", alternates=["lost login"])
    assert await memory.delete(GUILD, entry.id)
    assert not await memory.delete(GUILD, entry.id)
    assert await memory.find_similar(GUILD, "reset my password") == []
    assert (await memory_db.fetchone("SELECT COUNT(*) FROM entry_phrasings"))[0] == 0
    assert (await memory_db.fetchone("SELECT COUNT(*) FROM embeddings"))[0] == 0


async def test_index_rebuilt_from_sqlite_matches_live_one(memory, memory_db, hashed_embedder):
    a = await memory.add(GUILD, "How do I reset my password?", "Use the reset link.")
    await memory.add(GUILD, "Where is my invoice?", "Billing page.")
    await memory.update(GUILD, a.id, query="How do I change my password?")
    fresh = TrainedMemory(memory_db, hashed_embedder)
    live = await memory.find_similar(GUILD, "change password")
    loaded = await fresh.find_similar(GUILD, "change password")
    # Same ranking; scores differ slightly because the live index still counts the replaced
    # phrasing in its IDF statistics until it compacts.
    assert [m.entry.id for m in live] == [m.entry.id for m in loaded]
    assert [m.score for m in live] == pytest.approx([m.score for m in loaded], abs=0.05)
    assert loaded[0].semantic is not None


async def test_embeddings_are_batched_and_stored(memory, memory_db, hashed_embedder):
    await memory.add(GUILD, "Question one", "Answer.", alternates=["alt a", "alt b"])
    # The answer is embedded with the phrasings (search compares questions with answers too).
    assert hashed_embedder.calls == [["Question one", "alt a", "alt b", "Answer."]]
    rows = await memory_db.fetchall("SELECT model, dim FROM embeddings")
    assert [tuple(r) for r in rows] == [("hashed-trigrams", 256)] * 4


async def test_embedder_down_keeps_entries_and_lexical_search(memory_db, down_embedder):
    memory = TrainedMemory(memory_db, down_embedder)
    entry = await memory.add(GUILD, "How do I reset my password?", "Use the reset link.")
    matches = await memory.find_similar(GUILD, "reset password")
    assert matches[0].entry.id == entry.id and matches[0].semantic is None and matches[0].lexical > 0
    assert await memory.reembed_stale() == 0


async def test_query_embedder_down_falls_back_to_lexical(memory_db, hashed_embedder, down_embedder):
    await TrainedMemory(memory_db, hashed_embedder).add(GUILD, "How do I reset my password?", "Link.")
    memory = TrainedMemory(memory_db, down_embedder)
    down_embedder.model = hashed_embedder.model
    matches = await memory.find_similar(GUILD, "reset password")
    assert matches and matches[0].semantic is None


async def test_reembed_stale_after_model_change(memory_db, hashed_embedder):
    first = TrainedMemory(memory_db, hashed_embedder)
    await first.add(GUILD, "How do I reset my password?", "Link.", alternates=["forgot password"])
    await first.add(OTHER, "Where is my invoice?", "Billing.")
    new_model = HashedEmbedder(model="other-model", dim=64)
    second = TrainedMemory(memory_db, new_model)
    assert (await second.find_similar(GUILD, "reset password"))[0].semantic is None  # old vectors unusable
    assert await second.reembed_stale() == 2
    assert await second.reembed_stale() == 0
    assert (await second.find_similar(GUILD, "reset password"))[0].semantic is not None
    rows = await memory_db.fetchall("SELECT DISTINCT model, dim FROM embeddings")
    assert [tuple(r) for r in rows] == [("other-model", 64)]


async def test_query_vectors_are_cached(memory, hashed_embedder):
    await memory.add(GUILD, "How do I reset my password?", "Link.")
    before = len(hashed_embedder.calls)
    await memory.find_similar(GUILD, "reset password")
    await memory.find_similar(GUILD, "reset password")
    assert len(hashed_embedder.calls) == before + 1


async def test_guilds_are_isolated(memory):
    mine = await memory.add(GUILD, "How do I reset my password?", "Link.")
    await memory.add(OTHER, "How do I reset my password?", "Other guild's link.")
    assert [m.entry.id for m in await memory.find_similar(GUILD, "reset password")] == [mine.id]
    assert await memory.get(OTHER, mine.id) is None
    assert not await memory.delete(OTHER, mine.id)
    assert await memory.update(OTHER, mine.id, response="x") is None
    assert await memory.count(GUILD) == await memory.count(OTHER) == 1


async def test_feedback_changes_confidence_and_proposes_alternate(memory):
    entry = await memory.add(GUILD, "How do I reset my password?", "Link.")
    await memory.record_feedback(GUILD, entry.id, solved=True, phrasing="i cant log in anymore", ticket_id=7)
    await memory.record_feedback(GUILD, entry.id, solved=True, phrasing="I can't log in anymore!")  # same wording
    await memory.record_feedback(GUILD, entry.id, solved=True, phrasing="how do i reset my password")  # known
    solved = await memory.get(GUILD, entry.id)
    assert solved.usage_count == 3 and solved.confidence == 1.0
    pending = await memory.list_suggestions(GUILD)
    assert [(s.kind, s.entry_id, s.ticket_id, s.query) for s in pending] == [
        ("alternate", entry.id, 7, "i cant log in anymore")
    ]
    await memory.record_feedback(GUILD, entry.id, solved=False, phrasing="nope")
    await memory.record_feedback(GUILD, entry.id, solved=False)
    lowered = await memory.get(GUILD, entry.id)
    assert lowered.confidence < 0.5 and lowered.usage_count == 3
    assert (await memory.find_similar(GUILD, "reset password"))[0].entry.confidence == lowered.confidence
    assert len(await memory.list_suggestions(GUILD)) == 1  # nothing learnt from a failure
    assert (await memory.find_similar(GUILD, "i cant log in anymore"))[0].phrasing != "i cant log in anymore"


async def test_approving_an_alternate_makes_it_searchable(memory):
    entry = await memory.add(GUILD, "How do I reset my password?", "Link.")
    await memory.record_feedback(GUILD, entry.id, solved=True, phrasing="locked out of my account")
    (suggestion,) = await memory.list_suggestions(GUILD)
    updated = await memory.approve_suggestion(GUILD, suggestion.id, by=99)
    assert updated.alternates == ["locked out of my account"]
    assert (await memory.find_similar(GUILD, "locked out of my account"))[0].phrasing == "locked out of my account"
    assert await memory.list_suggestions(GUILD) == []
    (approved,) = await memory.list_suggestions(GUILD, status="approved")
    assert approved.decided_by == 99 and approved.decided_at
    assert await memory.approve_suggestion(GUILD, suggestion.id, by=99) is None  # not pending any more


async def test_qa_suggestion_edit_approve_and_reject(memory):
    first = await memory.suggest_qa(GUILD, "Do you ship abroad?", "Yes.", ticket_id=5, category="billing")
    second = await memory.suggest_qa(GUILD, "Is the moon cheese?", "No.")
    assert await memory.count(GUILD) == 0  # nothing enters the memory without staff approval
    entry = await memory.approve_suggestion(GUILD, first, by=1, response="Yes, to 40 countries.")
    assert (entry.query, entry.response, entry.category, entry.created_by) == (
        "Do you ship abroad?", "Yes, to 40 countries.", "billing", 1
    )  # fmt: skip
    assert await memory.reject_suggestion(GUILD, second, by=1)
    assert not await memory.reject_suggestion(GUILD, second, by=1)
    assert not await memory.reject_suggestion(OTHER, first, by=1)
    assert await memory.count(GUILD) == 1
    with pytest.raises(ValueError, match="answer is empty"):
        await memory.suggest_qa(GUILD, "q", "")


async def test_survives_reopen(tmp_path, hashed_embedder):
    db = await open_app_database(tmp_path / "m.db")
    await TrainedMemory(db, hashed_embedder).add(GUILD, "How do I reset my password?", "Link.")
    await db.close()
    db = await open_app_database(tmp_path / "m.db")
    try:
        assert (await TrainedMemory(db).find_similar(GUILD, "reset my password"))[0].score > 0.5
    finally:
        await db.close()


async def test_find_similar_many_embeds_once_and_keeps_each_entrys_best_match(memory_db):
    embedder = HashedEmbedder()
    memory = TrainedMemory(memory_db, embedder)
    await memory.add(GUILD, "How do I reset my password?", "Use the reset link.")
    await memory.add(GUILD, "Where is my invoice?", "Billing page.")
    await memory.add(GUILD, "Opening hours", "9 to 5.")
    embedder.calls.clear()
    texts = ["I forgot my password", "  ", "where can I find my invoice", "I forgot my password"]
    matches = await memory.find_similar_many(GUILD, texts, k=2)
    assert embedder.calls == [["I forgot my password", "where can I find my invoice"]]
    expected: dict[int, float] = {}
    for text in ("I forgot my password", "where can I find my invoice"):
        for match in await memory.find_similar(GUILD, text, k=2):
            expected[match.entry.id] = max(expected.get(match.entry.id, 0.0), match.score)
    best = sorted(expected.items(), key=lambda item: item[1], reverse=True)[:2]
    assert [m.entry.id for m in matches] == [entry_id for entry_id, _ in best]
    assert [m.score for m in matches] == pytest.approx([score for _, score in best])
    assert {m.entry.query for m in matches} == {"How do I reset my password?", "Where is my invoice?"}
    assert all(m.semantic is not None for m in matches)
    assert await memory.find_similar_many(GUILD, ["", " "]) == []
    # Cached query vectors are not asked for again.
    embedder.calls.clear()
    await memory.find_similar_many(GUILD, ["I forgot my password", "opening hours?"])
    assert embedder.calls == [["opening hours?"]]


# -- writes never load an index; concurrency -------------------------------------------------


async def test_writes_do_not_load_the_index_and_search_stays_consistent(memory_db, hashed_embedder):
    seed = TrainedMemory(memory_db, hashed_embedder)
    gone = await seed.add(GUILD, "How do I reset my password?", "Use the reset link.", alternates=["lost login"])
    edited = await seed.add(GUILD, "Where is my invoice?", "Billing page.")
    # A restart: nothing loaded. Delete, edit and add must not load the guild's index (seconds for
    # a large guild) before the caller can answer.
    fresh = TrainedMemory(memory_db, hashed_embedder)
    assert await fresh.delete(GUILD, gone.id)
    await fresh.update(GUILD, edited.id, query="Where can I download my receipt?", alternates=["invoice pdf"])
    added = await fresh.add(GUILD, "What are your opening hours?", "9 to 5.")
    assert fresh._indexes == {}
    # The first search loads the index from SQLite, which has all three writes.
    assert all(m.entry.id != gone.id for m in await fresh.find_similar(GUILD, "reset my password"))
    assert all(m.entry.id != gone.id for m in await fresh.find_similar(GUILD, "lost login"))
    top = (await fresh.find_similar(GUILD, "download my receipt"))[0]
    assert top.entry.id == edited.id and top.entry.query == "Where can I download my receipt?"
    assert top.semantic is not None  # the new phrasing's vector was stored without an index
    assert (await fresh.find_similar(GUILD, "invoice pdf"))[0].phrasing == "invoice pdf"
    assert (await fresh.find_similar(GUILD, "opening hours"))[0].entry.id == added.id


async def test_delete_before_the_index_was_ever_loaded_then_search(memory_db, hashed_embedder):
    seed = TrainedMemory(memory_db, hashed_embedder)
    entry = await seed.add(GUILD, "How do I reset my password?", "Use the reset link.")
    fresh = TrainedMemory(memory_db, hashed_embedder)
    assert await fresh.delete(GUILD, entry.id)
    assert GUILD not in fresh._indexes
    assert await fresh.find_similar(GUILD, "reset my password") == []
    assert await fresh.count(GUILD) == 0


async def test_write_during_an_index_load_is_not_lost(memory_db, hashed_embedder, monkeypatch):
    seed = TrainedMemory(memory_db, hashed_embedder)
    gone = await seed.add(GUILD, "How do I reset my password?", "Use the reset link.")
    await seed.add(GUILD, "Where is my invoice?", "Billing page.")
    fresh = TrainedMemory(memory_db, hashed_embedder)
    # Hold the first load between reading the entries and reading the phrasings.
    reached, release = asyncio.Event(), asyncio.Event()
    fetch_phrasing_rows = repo.fetch_phrasing_rows

    async def held(db, guild_id):
        if not release.is_set():
            reached.set()
            await release.wait()
        return await fetch_phrasing_rows(db, guild_id)

    monkeypatch.setattr(repo, "fetch_phrasing_rows", held)
    search = asyncio.create_task(fresh.find_similar(GUILD, "opening hours"))
    await reached.wait()
    async with asyncio.timeout(5):  # writes do not wait for the load
        await fresh.delete(GUILD, gone.id)
        added = await fresh.add(GUILD, "What are your opening hours?", "9 to 5.")
    release.set()
    # The load that read the entries before the add is not kept: the new entry is found.
    assert (await search)[0].entry.id == added.id
    assert all(m.entry.id != gone.id for m in await fresh.find_similar(GUILD, "reset my password"))
    assert set(fresh._indexes[GUILD].entries) == {e.id for e in await fresh.list_entries(GUILD)}


async def test_concurrent_feedback_counts_every_press(memory):
    entry = await memory.add(GUILD, "How do I reset my password?", "Link.")
    await memory.record_feedback(GUILD, entry.id, solved=False)  # confidence 0.7
    await memory.find_similar(GUILD, "reset password")  # loaded: its copy must follow too
    presses = 6
    await asyncio.gather(*(memory.record_feedback(GUILD, entry.id, solved=True) for _ in range(presses)))
    stored = await memory.get(GUILD, entry.id)
    assert stored.usage_count == presses
    # Each press moved confidence from the previous press's result, none was lost.
    assert stored.confidence == pytest.approx(1 - 0.3 * (1 - CONFIDENCE_GAIN) ** presses)
    live = (await memory.find_similar(GUILD, "reset password"))[0].entry
    assert (live.usage_count, live.confidence) == (stored.usage_count, stored.confidence)
    await asyncio.gather(
        *(memory.record_feedback(GUILD, entry.id, solved=solved) for solved in (True, False, True, False, True))
    )
    assert (await memory.get(GUILD, entry.id)).usage_count == presses + 3


async def test_concurrent_edits_leave_one_primary_phrasing(memory, memory_db):
    entry = await memory.add(GUILD, "How do I reset my password?", "Link.", alternates=["lost login"])
    await asyncio.gather(
        memory.update(GUILD, entry.id, query="How do I change my password?"),
        memory.update(GUILD, entry.id, query="I forgot my password"),
        memory.update(GUILD, entry.id, alternates=["locked out"]),
    )
    found = await memory_db.fetchall(
        "SELECT text, is_primary FROM entry_phrasings WHERE entry_id = ? AND is_primary < 2 ORDER BY id", (entry.id,)
    )
    rows = [tuple(r) for r in found]
    assert rows == [("I forgot my password", 1), ("locked out", 0)]
    final = await memory.get(GUILD, entry.id)
    assert (final.query, final.alternates) == ("I forgot my password", ["locked out"])
    # The live index agrees with a fresh load.
    live = TrainedMemory(memory_db)
    for text in ("change my password", "lost login", "reset my password"):
        assert all(
            m.phrasing not in ("How do I change my password?", "lost login")
            for m in await memory.find_similar(GUILD, text)
        )
        assert [m.phrasing for m in await memory.find_similar(GUILD, text)] == [
            m.phrasing for m in await live.find_similar(GUILD, text)
        ]


async def test_vector_of_a_phrasing_replaced_while_embedding_is_skipped(memory_db):
    class HeldEmbedder(HashedEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.reached, self.release = asyncio.Event(), asyncio.Event()

        async def embed(self, texts: list[str]) -> list[list[float]]:
            if not self.release.is_set():
                self.reached.set()
                await self.release.wait()
            return await super().embed(texts)

    embedder = HeldEmbedder()
    memory = TrainedMemory(memory_db, embedder)
    adding = asyncio.create_task(memory.add(GUILD, "How do I reset my password?", "Link."))
    await embedder.reached.wait()
    entry = await memory.get_by_query(GUILD, "How do I reset my password?")
    embedder.release.set()
    await memory.update(GUILD, entry.id, query="How do I change my password?")
    assert (await adding).id == entry.id  # no foreign-key error for the replaced phrasing
    assert (await memory.find_similar(GUILD, "change my password"))[0].semantic is not None


# -- warm -------------------------------------------------------------------------------------


async def test_warm_loads_once_and_is_kept_in_step(memory_db, hashed_embedder, monkeypatch):
    entry = await TrainedMemory(memory_db, hashed_embedder).add(GUILD, "How do I reset my password?", "Link.")
    memory = TrainedMemory(memory_db, hashed_embedder)
    loads = []
    load = memory._load

    async def counting(guild_id):
        loads.append(guild_id)
        return await load(guild_id)

    monkeypatch.setattr(memory, "_load", counting)
    await asyncio.gather(memory.warm(GUILD), memory.warm(GUILD))
    await memory.warm(GUILD)
    await memory.warm(OTHER)  # a guild without entries is fine too
    assert loads == [GUILD, OTHER]
    # Writes after warming update the warm index; searches use it without loading again.
    await memory.update(GUILD, entry.id, alternates=["lost login"])
    added = await memory.add(GUILD, "Where is my invoice?", "Billing page.")
    assert (await memory.find_similar(GUILD, "lost login"))[0].phrasing == "lost login"
    assert (await memory.find_similar(GUILD, "invoice"))[0].entry.id == added.id
    assert loads == [GUILD, OTHER]
