"""One guild's searchable memory: lexical and vector indexes over every phrasing, ranked per entry."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memory.lexical import LexicalIndex
from memory.models import Entry, Match
from memory.text import normalise
from memory.vectors import VectorIndex

log = logging.getLogger(__name__)

# Weight of the embedding cosine in the hybrid score (the rest is the lexical score).
# Tuned on the val splits: embeddings rank far better, the lexical part breaks near-ties
# and rewards exact wording.
SEMANTIC_WEIGHT = 0.75
# Phrasings pulled from each signal before grouping by entry.
CANDIDATES_PER_RESULT = 8
MIN_CANDIDATES = 40
# Nearest phrasings (over all entries) counted for Match.support.
SUPPORT_PHRASINGS = 5


@dataclass
class _Phrasing:
    entry_id: int
    text: str


class GuildIndex:
    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}
        self.lexical = LexicalIndex()
        self.vectors = VectorIndex()
        self._phrasings: dict[int, _Phrasing] = {}
        # Hash of the normalised answer per entry, for Match.support (normalising answers per
        # query would cost more than the search; a hash keeps memory small).
        self._answers: dict[int, int] = {}

    def put_entry(self, entry: Entry) -> None:
        self.entries[entry.id] = entry
        self._answers[entry.id] = hash(normalise(entry.response))

    def add_phrasing(self, phrasing_id: int, entry_id: int, text: str) -> None:
        self._phrasings[phrasing_id] = _Phrasing(entry_id, text)
        self.lexical.add(phrasing_id, text)

    def add_phrasings(self, items: list[tuple[int, int, str]]) -> None:
        for pid, entry_id, text in items:
            self._phrasings[pid] = _Phrasing(entry_id, text)
        self.lexical.add_many([(pid, text) for pid, _, text in items])

    def set_vector(self, phrasing_id: int, vector: Sequence[float] | np.ndarray) -> None:
        if phrasing_id in self._phrasings:
            self.vectors.add(phrasing_id, vector)

    def remove_phrasing(self, phrasing_id: int) -> None:
        self._phrasings.pop(phrasing_id, None)
        self.lexical.remove(phrasing_id)
        self.vectors.remove(phrasing_id)

    def remove_entry(self, entry_id: int) -> None:
        self.entries.pop(entry_id, None)
        self._answers.pop(entry_id, None)
        for pid in [pid for pid, p in self._phrasings.items() if p.entry_id == entry_id]:
            self.remove_phrasing(pid)

    def rank(self, text: str, query_vector: Sequence[float] | None, k: int) -> list[Match]:
        """Top `k` entries, each scored by its best phrasing (hybrid when a query vector is usable)."""
        depth = max(MIN_CANDIDATES, CANDIDATES_PER_RESULT * k)
        semantic: dict[int, float] = {}
        if query_vector is not None and len(self.vectors):
            semantic = self.vectors.search(query_vector, depth)
        lexical = self.lexical.search(text, depth, also=tuple(semantic))
        if semantic:
            semantic.update(self.vectors.scores(query_vector, [k for k in lexical if k not in semantic]))
        best: dict[int, Match] = {}
        scored: list[tuple[float, int]] = []
        for pid in set(lexical) | set(semantic):
            phrasing = self._phrasings.get(pid)
            entry = phrasing and self.entries.get(phrasing.entry_id)
            if entry is None:
                continue
            lex = lexical.get(pid, 0.0)
            sem = semantic.get(pid) if semantic else None
            score = lex if sem is None else SEMANTIC_WEIGHT * sem + (1 - SEMANTIC_WEIGHT) * lex
            scored.append((score, entry.id))
            current = best.get(entry.id)
            if current is None or score > current.score:
                best[entry.id] = Match(entry, min(1.0, score), lex, sem, phrasing.text)
        ranked = sorted(best.values(), key=lambda m: (-m.score, m.entry.id))[:k]
        self._count_support(ranked, scored)
        return ranked

    def _count_support(self, ranked: list[Match], scored: list[tuple[float, int]]) -> None:
        """Set each match's `support`: how many of the SUPPORT_PHRASINGS best-scored phrasings
        belong to an entry with the same answer (the same entry or another with an equal answer)."""
        if not ranked:
            return
        nearest = [self._answer(entry_id) for _, entry_id in heapq.nsmallest(SUPPORT_PHRASINGS, scored, key=_best)]
        for match in ranked:
            own = self._answer(match.entry.id)
            match.support = sum(1 for answer in nearest if answer == own)

    def _answer(self, entry_id: int) -> int:
        answer = self._answers.get(entry_id)
        if answer is None:
            answer = self._answers[entry_id] = hash(normalise(self.entries[entry_id].response))
        return answer


def _best(scored: tuple[float, int]) -> tuple[float, int]:
    return -scored[0], scored[1]
