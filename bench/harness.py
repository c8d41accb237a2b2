"""Load a benchmark's stored questions into a real TrainedMemory and ask it the test questions."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.datasets import Benchmark
from db.database import Database
from db.migrations import open_database
from memory import migrations as memory_migrations
from memory.decision import Route, Thresholds, decide
from memory.models import Embedder, Match
from memory.store import TrainedMemory

log = logging.getLogger(__name__)

GUILD = 1
MODES = ("lexical", "semantic", "hybrid")


class FunctionEmbedder:
    """Embedder protocol over a plain function (used when no HTTP server is in the loop)."""

    def __init__(self, model: str, fn: Callable[[list[str]], list[list[float]]], *, native_scale: bool = False) -> None:
        self.model = model
        self._fn = fn
        # True: the model's cosines are used as they are, like EMBED_SCALE=native (memory/scale.py).
        self.native_scale = native_scale

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return self._fn(texts)


@dataclass
class Asked:
    intent: str | None
    matches: list[Match]
    text: str = ""


@dataclass
class Metrics:
    top1: float
    recall5: float
    precision: float
    coverage: float
    answered: int


async def ask_all(
    bench: Benchmark, split: str, embedder: Embedder | None, mode: str, workdir: Path | None = None
) -> tuple[list[Asked], dict[int, str]]:
    """Every question of `split`, with the top 5 matches in `mode`; plus entry id -> intent."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        db = await open_database(Path(tmp) / "bench.db", [memory_migrations.SCHEMA])
        try:
            memory = TrainedMemory(db, embedder if mode != "lexical" else None)
            intents = {}
            async with _fast_writes(db):
                for text, intent, answer in bench.stored:
                    answer = answer[:1900] or intent
                    entry = await memory.add(GUILD, text[:300], answer, embed=False)
                    intents[entry.id] = intent
            await memory.reembed_stale(GUILD)
            await memory.calibrate()  # as the bot does at start-up (TrainedMemory.warm)
            if mode == "semantic":
                # Semantic-only: rank by the embedding cosine alone (lexical weight 0).
                from memory import guild_index

                weight, guild_index.SEMANTIC_WEIGHT = guild_index.SEMANTIC_WEIGHT, 1.0
            try:
                questions = bench.val if split == "val" else bench.test
                asked = [Asked(intent, await memory.find_similar(GUILD, text, k=5), text) for text, intent in questions]
            finally:
                if mode == "semantic":
                    guild_index.SEMANTIC_WEIGHT = weight
        finally:
            await db.close()
    return asked, intents


class _fast_writes:
    """One transaction around many inserts: thousands of single commits would dominate the setup."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __aenter__(self) -> None:
        await self.db.run("PRAGMA synchronous=OFF")

    async def __aexit__(self, *exc: object) -> None:
        await self.db.run("PRAGMA synchronous=NORMAL")


def score(asked: list[Asked], intents: dict[int, str], thresholds: Thresholds) -> Metrics:
    in_scope = [a for a in asked if a.intent is not None]
    top1 = sum(1 for a in in_scope if a.matches and intents[a.matches[0].entry.id] == a.intent)
    recall5 = sum(1 for a in in_scope if any(intents[m.entry.id] == a.intent for m in a.matches[:5]))
    right = answered = 0
    for a in asked:
        decision = decide(a.matches, llm_available=True, thresholds=thresholds)
        if decision.route is Route.ANSWER and decision.match is not None:
            answered += 1
            right += intents[decision.match.entry.id] == a.intent
    return Metrics(
        top1=top1 / max(1, len(in_scope)),
        recall5=recall5 / max(1, len(in_scope)),
        precision=right / answered if answered else 1.0,
        coverage=right / max(1, len(in_scope)),
        answered=answered,
    )
