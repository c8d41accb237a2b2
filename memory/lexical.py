"""In-memory lexical index: TF-IDF cosine over an inverted index, rapidfuzz re-scoring of the short list.

A linear rapidfuzz scan costs one string comparison per stored phrasing; here a query only
touches the posting lists of its own features, summed with numpy, and rapidfuzz runs on the
few dozen best candidates to reward near-identical wording (and forgive typos).
"""

from __future__ import annotations

import logging
import math
from array import array

import numpy as np
from rapidfuzz import fuzz

from memory.text import features, normalise

log = logging.getLogger(__name__)

# Share of the final lexical score taken by the rapidfuzz comparison of the whole strings;
# the rest is the TF-IDF cosine. Tuned on the CLINC150 val split.
FUZZ_WEIGHT = 0.1
# Candidates re-scored with rapidfuzz; enough that the right entry is almost always among them.
RESCORE_DEPTH = 40
# Norms use the IDF of the moment they are computed; refresh them when the collection has
# changed size by more than this fraction since.
NORM_DRIFT = 0.25
# A posting keeps a feature's count in its phrasing (2 bytes; a phrasing is at most a few hundred characters);
# its weight, 1 + ln(count), is looked up here: the very float32 the posting used to store (4 bytes).
MAX_COUNT = 65535
_TF = np.array([0.0] + [1.0 + math.log(count) for count in range(1, MAX_COUNT + 1)], dtype=np.float32)


class LexicalIndex:
    """Phrasings keyed by an int (the phrasing id); add/remove are incremental."""

    def __init__(self) -> None:
        self._postings: dict[str, tuple[array, array]] = {}  # feature -> (slots, counts)
        self._slot_of: dict[int, int] = {}
        self._keys: list[int] = []
        self._norm_texts: list[str] = []
        self._alive = np.zeros(0, dtype=bool)
        self._norms = np.ones(0, dtype=np.float32)
        self._live = 0
        self._norms_at = 0

    def __len__(self) -> int:
        return self._live

    def __contains__(self, key: int) -> bool:
        return key in self._slot_of

    def add(self, key: int, text: str) -> None:
        self._add(key, text, weigh=True)

    def _add(self, key: int, text: str, *, weigh: bool) -> None:
        """`weigh=False`: leave the slot's norm to a `_refresh_norms` that follows (half the time of a bulk add)."""
        if key in self._slot_of:
            self.remove(key)
        slot = len(self._keys)
        norm = normalise(text)
        self._keys.append(key)
        self._norm_texts.append(norm)
        self._slot_of[key] = slot
        self._grow(slot + 1)
        self._alive[slot] = True
        self._live += 1
        squared = 0.0
        postings = self._postings
        for feature, count in features(norm).items():
            slots, counts = postings.get(feature) or postings.setdefault(feature, (array("i"), array("H")))
            slots.append(slot)
            counts.append(min(count, MAX_COUNT))
            if weigh:
                squared += ((1.0 + math.log(count)) * self._idf(len(slots))) ** 2
        self._norms[slot] = math.sqrt(squared) or 1.0

    def add_many(self, items: list[tuple[int, str]]) -> None:
        for key, text in items:
            self._add(key, text, weigh=False)
        self._refresh_norms()

    def remove(self, key: int) -> None:
        # Postings keep the dead slot (masked out at query time): removing from the middle of
        # every posting array would cost more than the occasional compaction.
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return
        self._alive[slot] = False
        self._live -= 1
        if len(self._keys) > 64 and self._live < len(self._keys) // 2:
            self._compact()

    def search(self, text: str, limit: int = 10, also: tuple[int, ...] = ()) -> dict[int, float]:
        """Best `limit` keys with their score in 0..1; keys in `also` are scored too if indexed."""
        if not self._live:
            return {}
        if abs(len(self._keys) - self._norms_at) > NORM_DRIFT * max(self._norms_at, 1):
            self._refresh_norms()
        norm = normalise(text)
        cosine = self._cosine(norm)
        if cosine is None:
            return {}
        depth = min(max(limit, RESCORE_DEPTH), len(cosine))
        top = np.argpartition(-cosine, depth - 1)[:depth] if depth < len(cosine) else np.arange(len(cosine))
        slots = {int(s) for s in top if cosine[s] > 0}
        slots.update(self._slot_of[k] for k in also if k in self._slot_of)
        scored = {}
        for slot in slots:
            similarity = fuzz.token_sort_ratio(norm, self._norm_texts[slot]) / 100.0
            scored[self._keys[slot]] = (1 - FUZZ_WEIGHT) * float(cosine[slot]) + FUZZ_WEIGHT * similarity
        best = sorted(scored.items(), key=lambda kv: kv[1], reverse=True)
        wanted = set(also)
        return {k: s for i, (k, s) in enumerate(best) if i < limit or k in wanted}

    def _cosine(self, norm: str) -> np.ndarray | None:
        bag = features(norm)
        if not bag:
            return None
        slot_parts, weight_parts = [], []
        q_squared = 0.0
        for feature, count in bag.items():
            posting = self._postings.get(feature)
            df = len(posting[0]) if posting else 0
            idf = self._idf(df)
            q_weight = (1.0 + math.log(count)) * idf
            q_squared += q_weight**2
            if posting:
                slot_parts.append(np.frombuffer(posting[0], dtype=np.int32))
                weight_parts.append(_weights(posting[1]) * (q_weight * idf))
        size = len(self._keys)
        if not slot_parts:
            return np.zeros(size, dtype=np.float32)
        dots = np.bincount(np.concatenate(slot_parts), np.concatenate(weight_parts), minlength=size)
        cosine = dots[:size] / (self._norms[:size] * math.sqrt(q_squared))
        cosine[~self._alive[:size]] = 0.0
        return cosine

    def _idf(self, df: int) -> float:
        return math.log((1 + len(self._keys)) / (1 + df)) + 1.0

    def _grow(self, size: int) -> None:
        if size <= len(self._alive):
            return
        capacity = max(size, 2 * len(self._alive), 64)
        alive = np.zeros(capacity, dtype=bool)
        alive[: len(self._alive)] = self._alive
        norms = np.ones(capacity, dtype=np.float32)
        norms[: len(self._norms)] = self._norms
        self._alive, self._norms = alive, norms

    def _refresh_norms(self) -> None:
        size = len(self._keys)
        if not size:
            return
        ids, contributions = [], []
        for slots, counts in self._postings.values():
            idf = self._idf(len(slots))
            ids.append(np.frombuffer(slots, dtype=np.int32))
            contributions.append((_weights(counts) * idf) ** 2)
        squared = np.bincount(np.concatenate(ids), np.concatenate(contributions), minlength=size)
        norms = np.sqrt(squared[:size]).astype(np.float32)
        norms[norms == 0] = 1.0
        self._norms[:size] = norms
        self._norms_at = size

    def _compact(self) -> None:
        items = [(key, self._norm_texts[slot]) for key, slot in self._slot_of.items()]
        log.debug("Compacting lexical index: %d live of %d slots", len(items), len(self._keys))
        self.__init__()  # type: ignore[misc]
        self.add_many(items)


def _weights(counts: array) -> np.ndarray:
    """A posting's weights (float32) from its counts."""
    return _TF[np.frombuffer(counts, dtype=np.uint16)]
