"""The trained memory: staff-approved Q&A entries per guild, searchable by meaning and wording.

SQLite is the truth; per-guild in-memory indexes are built lazily on first search (or
`warm`). Writes never load an index: they update one that is already loaded and leave the
others to be loaded from SQLite, which then includes them. Every write of a guild bumps the
guild's version, so an index that was loading while a write committed is loaded again rather
than kept without that write.

Other processes may write the same database (a CLI import or the dashboard while the bot runs). Every
write also bumps the guild's change counter (`memory_changes`) in the write's own transaction. Searches
never read it: the bot's `MemorySync` (memory/sync.py) reads every guild's counter in one query every
few seconds (`overtaken`) and loads the indexes that another process's writes overtook again (`reload`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence

from ai.errors import LLMError
from db.database import Database, utc_iso
from memory import repository as repo
from memory import suggestions as sugg
from memory.guild_index import GuildIndex
from memory.loading import Rows, build_index, freeze_long_lived, full_collections_paused, load_vectors
from memory.models import MAX_QUERY_CHARS, Embedder, Entry, Match, Suggestion, validate_pair
from memory.query_vectors import QueryVectors
from memory.scale import Calibrations, CosineScale
from memory.text import identity_key, normalise, visible_text

log = logging.getLogger(__name__)

EMBED_BATCH = 64
# A question can be a whole ticket; the head of it carries the question.
MAX_SEARCH_CHARS = 1000
# Feedback moves confidence towards 1 on "solved" and shrinks it on "talk to staff".
CONFIDENCE_GAIN = 0.25
CONFIDENCE_LOSS = 0.7
# Seconds a search waits for the embedding model's scale to be measured (the first search after a start when
# `warm` has not done it; memory/scale.py); then it is lexical while the measurement goes on.
CALIBRATION_WAIT = 3.0
# Loads of an index retried while writes keep landing mid-load; then one load holds writes back.
LOAD_ATTEMPTS = 3


class TrainedMemory:
    def __init__(
        self, db: Database, embedder: Embedder | None = None, calibrations: Calibrations | None = None
    ) -> None:
        self.db = db
        self.embedder = embedder
        self._indexes: dict[int, GuildIndex] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        # Bumped by every committed write of a guild (under `_write`), see `_index`.
        self._versions: dict[int, int] = {}
        # The guild's change counter (all processes' writes) that its loaded index reflects.
        self._synced: dict[int, int] = {}
        # Serialises writes, and each write's update of a loaded index in commit order.
        self._write = asyncio.Lock()
        self._query_vectors = QueryVectors(embedder) if embedder else None
        # Each embedding model's cosines mapped onto the scale the decision's bars were chosen on.
        self._calibrations = calibrations or (Calibrations(embedder) if embedder else None)
        # Per embedding model: every phrasing up to this id had a vector of it when last looked.
        self._embedded_upto: dict[str, int] = {}

    # -- entries ---------------------------------------------------------------------------

    async def add(
        self,
        guild_id: int,
        query: str,
        response: str,
        category: str = "general",
        alternates: Iterable[str] = (),
        created_by: int | None = None,
        *,
        embed: bool = True,
    ) -> Entry:
        """Save a new entry. `embed=False` (bulk imports) leaves its vectors to `reembed_stale`,
        which embeds in large batches."""
        validate_pair(query, response)
        # Stored without the invisible characters around it (what validate_pair measured).
        query, response = visible_text(query), visible_text(response)
        phrasings = _phrasing_list(query, alternates)
        async with self._write:
            async with self.db.transaction():
                entry_id = await repo.insert_entry(self.db, guild_id, query, response, category, created_by)
                ids = [
                    await repo.insert_phrasing(self.db, guild_id, entry_id, t, i == 0) for i, t in enumerate(phrasings)
                ]
                answer_id = await repo.insert_answer(self.db, guild_id, entry_id, response)
                entry = await self.get(guild_id, entry_id)
                changes = await repo.bump_changes(self.db, guild_id)
            assert entry is not None
            index = self._committed(guild_id, changes)
            if index is not None:
                index.put_entry(entry)
                index.add_phrasings([(pid, entry_id, text) for pid, text in zip(ids, phrasings, strict=True)])
                index.add_answer(answer_id, entry_id)
        self._not_embedded([*ids, answer_id])
        if embed:
            await self._embed(guild_id, [*zip(ids, phrasings, strict=True), (answer_id, response)])
        return entry

    async def update(
        self,
        guild_id: int,
        entry_id: int,
        *,
        query: str | None = None,
        response: str | None = None,
        category: str | None = None,
        alternates: Iterable[str] | None = None,
        embed: bool = True,
    ) -> Entry | None:
        validate_pair(query, response)
        added: list[tuple[int, str]] = []
        # The current row is read under the write lock: two concurrent edits each start from the
        # other's result instead of both from the same old row (two primaries, stale alternates).
        async with self._write:
            async with self.db.transaction():
                current = await self.get(guild_id, entry_id)
                if current is None:
                    return None
                new_query = visible_text(query) if query is not None else current.query
                wanted = _phrasing_list(new_query, alternates if alternates is not None else current.alternates)
                existing = await repo.fetch_phrasings(self.db, guild_id, entry_id)
                new_response = visible_text(response) if response is not None else current.response
                # The answer's row is kept while the answer is (text and vector); a new answer gets a new row.
                answers = [p for p in existing if p.is_answer]
                # Generated phrasings were proposed for the question: a new question drops them (and is
                # generated for again, memory/generated.py); one that staff now give themselves goes too.
                wanted_keys = {identity_key(t) for t in wanted}
                question_changed = identity_key(new_query) != identity_key(current.query)
                generated = [p for p in existing if p.is_generated]
                existing = [p for p in existing if not p.is_answer and not p.is_generated]
                keep_answer = len(answers) == 1 and answers[0].text == new_response
                # Keep unchanged phrasings (and their vectors); replace the rest.
                keep = {p.text: p for p in existing if p.text in wanted and p.is_primary == (p.text == new_query)}
                dropped = [p.id for p in existing if p.text not in keep or keep[p.text].id != p.id]
                dropped += [] if keep_answer else [p.id for p in answers]
                dropped += [p.id for p in generated if question_changed or identity_key(p.text) in wanted_keys]
                # Users' "talk to staff" feedback was about the old answer: a new answer starts trusted
                # again, otherwise an entry that fell below the direct-answer bar could never be
                # answered directly.
                confidence = 1.0 if normalise(new_response) != normalise(current.response) else current.confidence
                await self.db.run(
                    "UPDATE trained_entries SET query = ?, response = ?, category = ?, confidence = ?, "
                    "updated_at = ? WHERE id = ?",
                    (
                        new_query,
                        new_response,
                        category if category is not None else current.category,
                        confidence,
                        utc_iso(),
                        entry_id,
                    ),
                )
                await repo.delete_phrasings(self.db, dropped)
                for text in wanted:
                    if text not in keep:
                        pid = await repo.insert_phrasing(self.db, guild_id, entry_id, text, text == new_query)
                        added.append((pid, text))
                new_answer = (
                    None if keep_answer else await repo.insert_answer(self.db, guild_id, entry_id, new_response)
                )
                entry = await self.get(guild_id, entry_id)
                changes = await repo.bump_changes(self.db, guild_id)
            assert entry is not None
            index = self._committed(guild_id, changes)
            if index is not None:
                for pid in dropped:
                    index.remove_phrasing(pid)
                index.put_entry(entry)
                for pid, text in added:
                    index.add_phrasing(pid, entry_id, text)
                if new_answer is not None:
                    index.add_answer(new_answer, entry_id)
        fresh = added + ([(new_answer, new_response)] if new_answer is not None else [])
        self._not_embedded(pid for pid, _ in fresh)
        if embed:
            await self._embed(guild_id, fresh)
        return entry

    async def delete(self, guild_id: int, entry_id: int) -> bool:
        """Delete an entry. Cheap whether or not the guild's index is loaded (it is never loaded here)."""
        async with self._write:
            async with self.db.transaction():
                pids = [p.id for p in await repo.fetch_phrasings(self.db, guild_id, entry_id)]
                await repo.delete_phrasings(self.db, pids)
                await self.db.run("DELETE FROM phrasing_generation WHERE entry_id = ?", (entry_id,))
                deleted = await self.db.run_rowcount(
                    "DELETE FROM trained_entries WHERE guild_id = ? AND id = ?", (guild_id, entry_id)
                )
                changes = await repo.bump_changes(self.db, guild_id)
            index = self._committed(guild_id, changes)
            if index is not None:
                index.remove_entry(entry_id)
        return deleted > 0

    # -- generated phrasings (memory/generated.py) -----------------------------------------

    async def add_generated(
        self, guild_id: int, entry_id: int, question: str, texts: Sequence[str], model: str
    ) -> list[str]:
        """Store phrasings the model proposed for the entry's question `question`, and mark the entry
        done for that question. Nothing is stored when the entry is gone or its question has changed
        meanwhile; a text that is already a phrasing of the guild (memory.text.identity_key) is skipped."""
        added: list[tuple[int, str]] = []
        async with self._write:
            async with self.db.transaction():
                current = await self.get(guild_id, entry_id)
                if current is None or identity_key(current.query) != identity_key(question):
                    return []
                taken = await repo.question_keys(self.db, guild_id)
                for text in texts:
                    text, key = visible_text(text), identity_key(text)
                    if text and key and key not in taken and len(text) <= MAX_QUERY_CHARS:
                        taken.add(key)
                        added.append((await repo.insert_generated(self.db, guild_id, entry_id, text), text))
                await repo.mark_generated(self.db, guild_id, entry_id, identity_key(question), model)
                entry = await self.get(guild_id, entry_id)
                changes = await repo.bump_changes(self.db, guild_id)
            assert entry is not None
            index = self._committed(guild_id, changes)
            if index is not None:
                index.put_entry(entry)
                index.add_phrasings([(pid, entry_id, text) for pid, text in added])
        await self._embed(guild_id, added)
        return [text for _, text in added]

    async def remove_generated(self, guild_id: int, entry_id: int, number: int | None = None) -> int:
        """Remove the entry's generated phrasing number `number` (1-based, as `/memory show` lists them),
        or all of them when None; returns how many were removed. They are not generated again unless
        the question changes."""
        async with self._write:
            async with self.db.transaction():
                rows = [p for p in await repo.fetch_phrasings(self.db, guild_id, entry_id) if p.is_generated]
                if number is not None:
                    rows = rows[number - 1 : number] if number >= 1 else []
                if not rows:
                    return 0
                await repo.delete_phrasings(self.db, [p.id for p in rows])
                entry = await self.get(guild_id, entry_id)
                changes = await repo.bump_changes(self.db, guild_id)
            index = self._committed(guild_id, changes)
            if index is not None and entry is not None:
                for p in rows:
                    index.remove_phrasing(p.id)
                index.put_entry(entry)
        return len(rows)

    async def generation_pending(
        self, guild_id: int | None = None, limit: int = 100, *, entry_id: int | None = None
    ) -> list[tuple[int, int]]:
        """(guild id, entry id) of entries whose question has not had phrasings generated yet (of one
        entry: whether it has)."""
        return await repo.generation_pending(self.db, guild_id, limit, entry_id)

    async def get(self, guild_id: int, entry_id: int) -> Entry | None:
        found = await repo.fetch_entries(self.db, guild_id, "AND id = ?", (entry_id,))
        return found[0] if found else None

    async def get_by_query(self, guild_id: int, query: str) -> Entry | None:
        """The entry whose primary question is `query` up to case, punctuation and spacing (numbers
        count: "error 1042" and "error 2077" are two questions)."""
        entry_id = await repo.entry_id_for_query(self.db, guild_id, query)
        return None if entry_id is None else await self.get(guild_id, entry_id)

    async def list_entries(self, guild_id: int, *, offset: int = 0, limit: int = 10) -> list[Entry]:
        return await repo.fetch_entries(self.db, guild_id, "ORDER BY id LIMIT ? OFFSET ?", (limit, offset))

    async def count(self, guild_id: int) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) FROM trained_entries WHERE guild_id = ?", (guild_id,))
        return int(row[0]) if row else 0

    # -- search ----------------------------------------------------------------------------

    async def find_similar(self, guild_id: int, text: str, k: int = 5) -> list[Match]:
        """Best `k` entries for `text`, best first; lexical only when embeddings are unavailable."""
        return await self.find_similar_many(guild_id, [text], k)

    async def find_similar_many(self, guild_id: int, texts: Sequence[str], k: int = 5) -> list[Match]:
        """Best `k` entries over several phrasings of one request, each entry once with its best
        match, best first. All texts are embedded in one request (lexical only when unavailable)."""
        best: dict[int, Match] = {}
        for matches in await self.find_similar_each(guild_id, texts, k):
            for match in matches:
                current = best.get(match.entry.id)
                if current is None or match.score > current.score:
                    best[match.entry.id] = match
        return sorted(best.values(), key=lambda m: m.score, reverse=True)[:k]

    async def find_similar_each(self, guild_id: int, texts: Sequence[str], k: int = 5) -> list[list[Match]]:
        """Best `k` entries for each of `texts` (same order; blank texts find nothing), all embedded in
        one request (memory/segments.py searches each question of a long message this way)."""
        wanted = [t.strip()[:MAX_SEARCH_CHARS] for t in texts]
        unique = list(dict.fromkeys(t for t in wanted if t))
        if not unique or k <= 0:
            return [[] for _ in wanted]
        index = await self._index(guild_id)
        if not index.entries:
            return [[] for _ in wanted]
        vectors: list[list[float] | None] = [None] * len(unique)
        if self._query_vectors is not None and (len(index.vectors) or len(index.answers)):
            # Cosines of a model whose scale is not measured yet would be read on the wrong scale: lexical
            # search until it is (measured by `warm` at start-up, or now).
            scale = await self._calibrations.ready(CALIBRATION_WAIT) if self._calibrations is not None else None
            if scale is not None:
                vectors = await self._query_vectors.get_many(unique)
            index.set_scale(scale)
        found = {text: index.rank(text, vector, k) for text, vector in zip(unique, vectors, strict=True)}
        return [found.get(t, []) if t else [] for t in wanted]

    async def calibrate(self) -> CosineScale | None:
        """The configured embedding model's map onto the reference scale (memory/scale.py), measured the first
        time; None without an embedder or while it cannot answer."""
        return await self._calibrations.get() if self._calibrations is not None else None

    def embedding_scale(self) -> CosineScale | None:
        """The map measured for the configured embedding model, if it has been (for /status and the check)."""
        return self._calibrations.current() if self._calibrations is not None else None

    async def warm(self, guild_id: int) -> None:
        """Build the guild's index now instead of on its first question (e.g. in the background at
        start-up). Cheap once loaded; concurrent calls and searches share one load, and writes
        meanwhile are not held up by it. The embedding model's scale is measured now too (once)."""
        await self._index(guild_id)
        await self.calibrate()

    # -- feedback and suggestions ----------------------------------------------------------

    async def record_feedback(
        self, guild_id: int, entry_id: int, *, solved: bool, phrasing: str | None = None, ticket_id: int | None = None
    ) -> None:
        """Solved raises the entry's confidence and usage and proposes the user's wording as an
        alternate (pending staff approval); talk-to-staff lowers confidence."""
        # Read under the write lock: concurrent presses each start from the previous one's result.
        async with self._write:
            entry = await self.get(guild_id, entry_id)
            if entry is None:
                return
            if solved:
                confidence = entry.confidence + (1.0 - entry.confidence) * CONFIDENCE_GAIN
            else:
                confidence = entry.confidence * CONFIDENCE_LOSS
            usage = entry.usage_count + int(solved)
            async with self.db.transaction():
                await self.db.run(
                    "UPDATE trained_entries SET confidence = ?, usage_count = usage_count + ? WHERE id = ?",
                    (confidence, int(solved), entry_id),
                )
                changes = await repo.bump_changes(self.db, guild_id)
            index = self._committed(guild_id, changes)
            if index is not None and entry_id in index.entries:
                index.entries[entry_id].confidence = confidence
                index.entries[entry_id].usage_count = usage
            if solved and visible_text(phrasing):
                await sugg.propose_alternate(self.db, entry, visible_text(phrasing), ticket_id)

    async def propose_phrasing(
        self, guild_id: int, entry_id: int, phrasing: str, *, ticket_id: int | None = None
    ) -> int | None:
        """Propose `phrasing` as another wording of the entry, pending staff approval (staff sent its answer to a
        user who wrote it). None: the entry is gone, or the wording is empty, known or already pending."""
        async with self._write:
            entry = await self.get(guild_id, entry_id)
            if entry is None or not visible_text(phrasing):
                return None
            return await sugg.propose_alternate(self.db, entry, visible_text(phrasing), ticket_id)

    async def suggest_qa(
        self, guild_id: int, query: str, response: str, *, ticket_id: int | None = None, category: str = "general"
    ) -> int:
        validate_pair(query, response)
        async with self._write:
            return await sugg.insert(
                self.db, guild_id, "qa", None, ticket_id, visible_text(query), visible_text(response), category
            )

    async def list_suggestions(
        self, guild_id: int, *, status: str = "pending", offset: int = 0, limit: int = 10
    ) -> list[Suggestion]:
        return await sugg.fetch(self.db, guild_id, status, offset, limit)

    async def approve_suggestion(
        self,
        guild_id: int,
        suggestion_id: int,
        *,
        by: int,
        query: str | None = None,
        response: str | None = None,
        category: str | None = None,
    ) -> Entry | None:
        """Turn a pending suggestion (optionally edited) into a trained entry or alternate.

        The suggestion is claimed first (`sugg.claim`, one conditional UPDATE): of two approvals at once, in
        this process or another on the same database, only one adds the entry; the claim is undone if adding
        fails."""
        suggestion = await sugg.get(self.db, guild_id, suggestion_id)
        if suggestion is None or suggestion.status != "pending":
            return None
        text = query if query is not None else suggestion.query
        if suggestion.kind == "alternate" and await self.get(guild_id, suggestion.entry_id or 0) is None:
            await sugg.claim(self.db, suggestion_id, "rejected", by)
            return None
        if not await sugg.claim(self.db, suggestion_id, "approved", by):
            return None
        try:
            return await self._approved(guild_id, suggestion, text, response, category, by)
        except BaseException:
            await sugg.unclaim(self.db, suggestion_id)
            raise

    async def _approved(
        self, guild_id: int, suggestion: Suggestion, text: str, response: str | None, category: str | None,
        by: int,
    ) -> Entry | None:  # fmt: skip
        if suggestion.kind == "alternate":
            target = await self.get(guild_id, suggestion.entry_id or 0)
            if target is None:
                return None
            validate_pair(text, response)
            entry = await self.update(
                guild_id,
                target.id,
                alternates=[*target.alternates, visible_text(text)],
                response=response,
                category=category,
            )
        else:
            answer = response if response is not None else suggestion.response or ""
            # A question that is already trained gets the approved answer; a second entry with the
            # same question would compete with the first and block direct answers for both.
            existing = await self.get_by_query(guild_id, text)
            if existing is not None:
                validate_pair(text, answer)
                entry = await self.update(guild_id, existing.id, response=answer, category=category)
            else:
                entry = await self.add(
                    guild_id, text, answer, category or suggestion.category or "general", created_by=by
                )
        return entry

    async def reject_suggestion(self, guild_id: int, suggestion_id: int, *, by: int) -> bool:
        suggestion = await sugg.get(self.db, guild_id, suggestion_id)
        if suggestion is None or suggestion.status != "pending":
            return False
        return await sugg.claim(self.db, suggestion_id, "rejected", by)

    # -- embeddings ------------------------------------------------------------------------

    async def reembed_stale(self, guild_id: int | None = None) -> int:
        """Embed phrasings stored without a vector of the current model; returns entries touched.

        Stops quietly (keeping what it did) when the embedder is unavailable; the next run
        continues from there. One pass over the phrasings in id order, at a constant cost per batch;
        a pass over every guild (the upkeep task) starts above the phrasings a previous pass found
        all embedded, so a 10-minute upkeep of 100k embedded phrasings reads next to nothing.
        """
        if self.embedder is None:
            return 0
        model = self.embedder.model
        start = self._embedded_upto.get(model, 0) if guild_id is None else 0
        cursor, complete = start, True
        touched: set[int] = set()
        while True:
            rows = await repo.stale_phrasings(self.db, model, guild_id, EMBED_BATCH, after=cursor)
            if not rows:
                break
            try:
                vectors = await self.embedder.embed([row[3] for row in rows])
            except LLMError as exc:
                log.info("Re-embedding paused, embedder unavailable: %s", exc)
                complete = False
                break
            if len(vectors) != len(rows):
                log.warning("Embedder returned %d vectors for %d texts", len(vectors), len(rows))
                self._embedded_upto[model] = min(self._embedded_upto.get(model, 0), rows[0][0] - 1)
                complete, cursor = False, rows[-1][0]  # skipped this time; the next run tries them again
                continue
            async with self._write:
                async with self.db.transaction():
                    await repo.store_vectors(self.db, model, {r[0]: v for r, v in zip(rows, vectors, strict=True)})
                    changes = {gid: await repo.bump_changes(self.db, gid) for gid in {row[2] for row in rows}}
                indexes = {gid: self._committed(gid, count) for gid, count in changes.items()}
                for (pid, entry_id, gid, _), vector in zip(rows, vectors, strict=True):
                    touched.add(entry_id)
                    index = indexes[gid]
                    if index is not None:
                        index.set_vector(pid, vector)
            cursor = rows[-1][0]
            if guild_id is None and complete:
                self._embedded_upto[model] = cursor
        if touched:
            log.info("Re-embedded %d trained entries with %s", len(touched), model)
        return len(touched)

    def _not_embedded(self, phrasing_ids: Iterable[int]) -> None:
        """Phrasings this process stored without a vector: the next pass over every guild looks at them."""
        ids = list(phrasing_ids)
        if ids and self.embedder is not None:
            model = self.embedder.model
            self._embedded_upto[model] = min(self._embedded_upto.get(model, 0), min(ids) - 1)

    async def _embed(self, guild_id: int, phrasings: Sequence[tuple[int, str]]) -> None:
        """Embed new phrasings in batches; on failure the entry stays lexical until reembed_stale."""
        if self.embedder is None or not phrasings:
            return
        for start in range(0, len(phrasings), EMBED_BATCH):
            batch = phrasings[start : start + EMBED_BATCH]
            try:
                vectors = await self.embedder.embed([text for _, text in batch])
            except LLMError as exc:
                log.info("Embedding skipped, embedder unavailable (will retry later): %s", exc)
                return
            if len(vectors) != len(batch):
                log.warning("Embedder returned %d vectors for %d texts", len(vectors), len(batch))
                return
            async with self._write:
                async with self.db.transaction():
                    await repo.store_vectors(
                        self.db, self.embedder.model, {pid: v for (pid, _), v in zip(batch, vectors, strict=True)}
                    )
                    changes = await repo.bump_changes(self.db, guild_id)
                index = self._committed(guild_id, changes)
                if index is not None:
                    for (pid, _), vector in zip(batch, vectors, strict=True):
                        index.set_vector(pid, vector)

    # -- index loading ---------------------------------------------------------------------

    def _committed(self, guild_id: int, changes: int) -> GuildIndex | None:
        """Call (holding `_write`) right after a write of the guild committed, before any await, with
        the change counter the write set: marks an index loading meanwhile as outdated, and returns
        the loaded index to update, if any. An index that missed another process's writes (the
        counter moved by more than this write) is dropped instead: patching it would not add those."""
        self._versions[guild_id] = self._versions.get(guild_id, 0) + 1
        index = self._indexes.get(guild_id)
        if index is not None and self._synced.get(guild_id) != changes - 1:
            log.debug("Trained memory of guild %d changed in another process; reloading it", guild_id)
            del self._indexes[guild_id]
            return None
        self._synced[guild_id] = changes
        return index

    async def _index(self, guild_id: int) -> GuildIndex:
        index = self._indexes.get(guild_id)
        if index is not None:
            return index
        async with self._loading.setdefault(guild_id, asyncio.Lock()):
            index = self._indexes.get(guild_id)
            return index if index is not None else await self._load_consistent(guild_id)

    async def overtaken(self) -> list[int]:
        """The loaded guilds whose index other processes' writes have overtaken: one query for every
        guild's change counter. This process's own writes keep their index in step and are not listed."""
        # Read between own writes, not during one: `_committed` moves `_synced` right after each commit.
        async with self._write:
            counters = await repo.change_counts(self.db)
        return [guild_id for guild_id in self._indexes if counters.get(guild_id, 0) > self._synced.get(guild_id, 0)]

    def loaded(self, guild_id: int) -> bool:
        return guild_id in self._indexes

    async def reload(self, guild_id: int) -> bool:
        """Load a loaded guild's index again from the database (built off the event loop, like the first
        load); searches keep the current index until the new one is ready. False when the guild has no
        index loaded (its next search loads it from the database anyway)."""
        async with self._loading.setdefault(guild_id, asyncio.Lock()):
            if guild_id not in self._indexes:
                return False
            await self._load_consistent(guild_id)
            return True

    async def _load_consistent(self, guild_id: int) -> GuildIndex:
        """Load the guild's index and keep it; call holding the guild's `_loading` lock."""
        for _ in range(LOAD_ATTEMPTS):
            version = self._versions.get(guild_id, 0)
            changes, index = await self._load(guild_id)
            # A write that committed during the load patched only the index being replaced (or found
            # none), and the load may have read around it (entries before it, phrasings after): load again.
            if self._versions.get(guild_id, 0) == version:
                return self._keep(guild_id, index, changes)
        # Writes keep landing mid-load (a bulk import): hold them back for one load.
        async with self._write:
            changes, index = await self._load(guild_id)
            return self._keep(guild_id, index, changes)

    def _keep(self, guild_id: int, index: GuildIndex, changes: int) -> GuildIndex:
        self._indexes[guild_id] = index
        self._synced[guild_id] = changes
        return index

    async def _load(self, guild_id: int) -> tuple[int, GuildIndex]:
        """The guild's index, with the change counter read before it: writes landing during the load
        leave the counter ahead of it, so the next check loads again."""
        with full_collections_paused():
            changes = await repo.change_count(self.db, guild_id)
            rows = Rows(await repo.fetch_entry_rows(self.db, guild_id), [])
            rows.phrasings = await repo.fetch_phrasing_rows(self.db, guild_id)
            # Seconds of pure Python at 100k entries: built in a worker thread (memory/loading.py).
            index = await asyncio.to_thread(build_index, rows)
            if self.embedder is not None and self.embedder.model:
                await load_vectors(self.db, guild_id, self.embedder.model, index)
            freeze_long_lived(index)
        log.debug("Loaded trained memory of guild %d: %d entries", guild_id, len(index.entries))
        return changes, index


def _phrasing_list(query: str, alternates: Iterable[str]) -> list[str]:
    """Primary question first, then distinct alternates (validated like questions; one without a
    visible character is left out, like a blank one)."""
    texts, seen = [query], {identity_key(query)}
    for alternate in alternates:
        alternate = visible_text(alternate)
        if not alternate:
            continue
        validate_pair(alternate, None)
        key = identity_key(alternate)
        if key and key not in seen:
            seen.add(key)
            texts.append(alternate)
    return texts
