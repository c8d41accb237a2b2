"""Phrasings the model proposes at training time: how users would type a trained question.

One trained question per topic is what most servers start with, and a user's wording rarely repeats
it. When staff train a pair (or import, or the upkeep task finds an entry without them) the model is
asked, in the background, for a few rewrites of the question; those that pass `choose` are stored as
the entry's *generated* phrasings, apart from staff's (memory/repository.py GENERATED_KIND): search
uses them like alternates, `/memory show` lists them marked as generated, staff can remove them.

`choose` keeps a rewrite only if searching it with the guild's memory as it is puts its own entry
first, close to the entry's question and ahead of every other entry by a margin: a phrasing that would
pull another entry's traffic is never stored. Without vectors (no embedder, or it is down) nothing is
chosen and the entry stays pending, as it does when the model is down: the upkeep task tries again.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ai.errors import LLMError
from ai.types import ChatMessage
from memory.models import MAX_QUERY_CHARS, Match
from memory.text import identity_key, visible_text

if TYPE_CHECKING:
    from memory.store import TrainedMemory

log = logging.getLogger(__name__)

# How many rewrites to ask for, and to keep at most.
ASK_FOR = 5
# A rewrite longer than this is an answer or a story, not a way of asking.
MAX_CHARS = 160
# The rewrite's cosine with its own entry's best phrasing: below it the model drifted off the question.
MIN_SIMILARITY = 0.6
# Its own entry's score must lead the next entry's by this much when the rewrite is searched.
MIN_MARGIN = 0.05
# Entries handled per upkeep run (one model call each).
BACKFILL_BATCH = 20

ChatFn = Callable[[list[ChatMessage]], Awaitable[str]]

_SYSTEM = (
    "You rewrite a support question the way different users would type it in a chat. You never answer it. "
    f"Reply with {ASK_FOR} lines, one rewrite per line, nothing else."
)
# Small models follow an example far better than a description of the format.
_EXAMPLES = (
    (
        "How do I change my username?",
        "how can i change my name\nchange username??\nis there a way to rename my account\n"
        "i want a different user name pls\nhow to edit my display name",
    ),
    (
        "Why is my order still not delivered?",
        "where is my order\nmy package hasnt arrived yet\norder still not here after a week\n"
        "why is my delivery taking so long\nnever got my stuff, whats going on",
    ),
)
# A rewrite ending on one of these was cut off mid-sentence ("how do i appeal a").
_DANGLING = frozenset(
    ["a", "an", "the", "my", "your", "our", "to", "of", "for", "with", "in", "on", "at", "from", "and", "or"]
)
_EXAMPLE_KEYS = frozenset(identity_key(line) for _, rewrites in _EXAMPLES for line in rewrites.splitlines())
_LIST_MARKER = re.compile(r"^\s*(?:[-*•·]+|\d{1,2}[.)]|\(\d{1,2}\))\s*")
_QUOTES = "\"'“”‘’`"


def paraphrase_prompt(question: str) -> list[ChatMessage]:
    messages: list[ChatMessage] = [{"role": "system", "content": _SYSTEM}]
    for asked, rewrites in _EXAMPLES:
        messages += [{"role": "user", "content": f"Rewrite: {asked}"}, {"role": "assistant", "content": rewrites}]
    return [*messages, {"role": "user", "content": f"Rewrite: {question}"}]


def parse_paraphrases(reply: str, question: str) -> list[str]:
    """The rewrites in a model reply: one per line, list markers and quotes stripped, the question
    itself, markup, over-long or cut-off lines and duplicates (memory.text.identity_key) left out."""
    # A small model copies the examples' rewrites ("order still not here after a week" for a doorbell
    # FAQ's order question): they are the prompt's, not the user's, so never stored.
    seen = {identity_key(question), *_EXAMPLE_KEYS}
    found: list[str] = []
    for line in reply.splitlines():
        text = visible_text(_LIST_MARKER.sub("", line).strip().strip(_QUOTES).strip())
        if not text or len(text) > min(MAX_CHARS, MAX_QUERY_CHARS) or "<" in text or ">" in text:
            continue
        if text.lower().startswith(("rewrite", "question", "here are", "sure")):
            continue
        key = identity_key(text)
        if not key or key.split()[-1] in _DANGLING:
            continue
        if key not in seen and any(ch.isalpha() for ch in text):
            seen.add(key)
            found.append(text)
    return found[:ASK_FOR]


def choose(entry_id: int, candidates: Sequence[str], searched: Sequence[Sequence[Match]]) -> list[str]:
    """The candidates to store: `searched[i]` is what the guild's memory finds for `candidates[i]`.
    Kept when its own entry comes first, its best phrasing's cosine is at least MIN_SIMILARITY and it
    leads the next entry by MIN_MARGIN. Nothing without vectors (semantic None)."""
    kept = []
    for text, matches in zip(candidates, searched, strict=True):
        if not matches or matches[0].entry.id != entry_id or matches[0].semantic is None:
            continue
        lead = matches[0].score - (matches[1].score if len(matches) > 1 else 0.0)
        if matches[0].semantic >= MIN_SIMILARITY and lead >= MIN_MARGIN:
            kept.append(text)
    return kept


@dataclass
class Outcome:
    """What one generation did: `stored` phrasings; `pending` when it must be tried again later."""

    stored: list[str]
    pending: bool = False


class PhrasingGenerator:
    """Asks the model for rewrites of trained questions and stores the good ones (memory.store).

    `request` starts a generation in the background and returns at once (/train never waits for the
    model); `backfill` works through entries still pending (upkeep task, CLI, after an import)."""

    def __init__(self, memory: TrainedMemory, chat: ChatFn | None, model: str = "") -> None:
        self.memory = memory
        self.chat = chat
        self.model = model
        self._tasks: set[asyncio.Task[Outcome]] = set()
        self._lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.chat is not None and self.memory.embedder is not None

    def request(self, guild_id: int, entry_id: int) -> asyncio.Task[Outcome] | None:
        """Generate for one entry in the background, if its question has not been generated for yet
        (call after any change of an entry). None when generation is off."""
        if not self.enabled:
            return None
        task = asyncio.create_task(self._guarded(guild_id, entry_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def request_backfill(self, guild_id: int) -> asyncio.Task[Outcome] | None:
        """Generate for every pending entry of the guild in the background (after an import)."""
        if not self.enabled:
            return None

        async def run() -> Outcome:
            try:
                while await self.backfill(guild_id):
                    pass
            except Exception:
                log.exception("Generating phrasings for guild %d failed", guild_id)
            return Outcome([])

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, guild_id: int, entry_id: int) -> Outcome:
        try:
            if not await self.memory.generation_pending(guild_id, 1, entry_id=entry_id):
                return Outcome([])
            return await self.generate(guild_id, entry_id)
        except Exception:
            log.exception("Generating phrasings for entry %d failed", entry_id)
            return Outcome([], pending=True)

    async def generate(self, guild_id: int, entry_id: int) -> Outcome:
        """Ask the model for rewrites of the entry's question and store those `choose` keeps."""
        if self.chat is None or self.memory.embedder is None:
            return Outcome([], pending=True)
        # One at a time: they share the model with the tickets, and each is checked against what the
        # previous ones stored.
        async with self._lock:
            entry = await self.memory.get(guild_id, entry_id)
            if entry is None:
                return Outcome([])
            try:
                reply = await self.chat(paraphrase_prompt(entry.query))
            except LLMError as exc:
                log.info("Phrasings for entry %d not generated, model unavailable (will retry): %s", entry_id, exc)
                return Outcome([], pending=True)
            known = {identity_key(t) for t in (*entry.alternates, *entry.generated)}
            candidates = [t for t in parse_paraphrases(reply, entry.query) if identity_key(t) not in known]
            searched = await self.memory.find_similar_each(guild_id, candidates, k=2)
            if candidates and all(not m or m[0].semantic is None for m in searched):
                log.info("Phrasings for entry %d not stored, no vectors to check them with (will retry)", entry_id)
                return Outcome([], pending=True)
            stored = await self.memory.add_generated(
                guild_id, entry_id, entry.query, choose(entry_id, candidates, searched), self.model
            )
            log.info("Stored %d of %d generated phrasings for entry %d", len(stored), len(candidates), entry_id)
            return Outcome(stored)

    async def backfill(self, guild_id: int | None = None, limit: int = BACKFILL_BATCH) -> int:
        """Generate for up to `limit` entries still pending; stops at the first one the model or the
        embedder could not do (the next run continues). Returns the entries done."""
        if not self.enabled:
            return 0
        done = 0
        for gid, entry_id in await self.memory.generation_pending(guild_id, limit):
            if (await self.generate(gid, entry_id)).pending:
                break
            done += 1
        return done

    async def wait(self) -> None:
        """Wait for the generations started in the background (tests, tools)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stop background generations (what they stored stays; the rest is still pending)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
