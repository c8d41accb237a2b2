"""In-memory vector index: cosine similarity of a query vector against every stored phrasing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)


def to_blob(vector: Sequence[float]) -> bytes:
    """Vectors are stored as little-endian float32, the schema's documented format."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def unit(vector: Sequence[float] | np.ndarray) -> np.ndarray | None:
    array = np.asarray(vector, dtype=np.float32)
    length = float(np.linalg.norm(array))
    return array / length if length > 0 else None


def _distinct(keys: Sequence[int]) -> bool:
    """No key twice. A set of 200,000 keys built in one call holds the GIL for 20-80 ms (a stall of the event
    loop while a worker thread loads an index); in slices, the loop gets its turns between them."""
    seen: set[int] = set()
    for start in range(0, len(keys), 10_000):
        seen.update(keys[start : start + 10_000])
    return len(seen) == len(keys)


class VectorIndex:
    """Unit vectors in one growing matrix; removed rows are zeroed and reused after compaction."""

    def __init__(self) -> None:
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._keys: list[int] = []
        self._slot_of: dict[int, int] = {}
        self.dim: int | None = None
        # Maps this model's cosines onto the scale the bars were chosen on (memory/scale.py); monotone, so
        # it changes scores and never the order. None: cosines as the model gives them.
        self.scale: Callable[[np.ndarray], np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: int) -> bool:
        return key in self._slot_of

    def add(self, key: int, vector: Sequence[float] | np.ndarray) -> None:
        vec = unit(vector)
        if vec is None:
            return
        if self.dim is None or not self._slot_of:
            self.dim = len(vec)
            self._matrix = np.zeros((0, self.dim), dtype=np.float32)
            self._keys, self._slot_of = [], {}
        if len(vec) != self.dim:
            # A vector of another size comes from another model; it cannot be compared.
            log.warning("Ignoring %d-dimensional vector for phrasing %d (index is %d)", len(vec), key, self.dim)
            return
        self.remove(key)
        slot = len(self._keys)
        if slot >= len(self._matrix):
            grown = np.zeros((max(64, 2 * len(self._matrix)), self.dim), dtype=np.float32)
            grown[: len(self._matrix)] = self._matrix
            self._matrix = grown
        self._matrix[slot] = vec
        self._keys.append(key)
        self._slot_of[key] = slot

    def add_blobs(self, items: Sequence[tuple[int, bytes]]) -> None:
        """Stored vectors (little-endian float32 blobs) by key, normalised as one matrix. Into an empty
        index of one size at once; otherwise (or for rows of another size) one by one, like `add`."""
        if not items:
            return
        size = len(items[0][1])
        same = [(key, blob) for key, blob in items if len(blob) == size]
        if self._slot_of or len(same) != len(items) or len({key for key, _ in same}) != len(same):
            for key, blob in items:
                self.add(key, from_blob(blob))
            return
        # Filled row by row and normalised in place: no second or third copy of the whole matrix.
        matrix = np.empty((len(same), size // 4), dtype=np.float32)
        for row, (_, blob) in enumerate(same):
            matrix[row] = np.frombuffer(blob, dtype="<f4")
        self._take([key for key, _ in same], matrix)

    def add_matrix(self, keys: Sequence[int], matrix: np.ndarray) -> None:
        """Stored vectors (float32 rows, not yet normalised) by key, like `add_blobs`: the matrix becomes the
        index's own (normalised in place) when the index is empty and the keys distinct."""
        if self._slot_of or not _distinct(keys):
            for key, row in zip(keys, matrix, strict=True):
                self.add(key, row)
            return
        if len(keys):
            self._take(list(keys), matrix)

    def _take(self, keys: list[int], matrix: np.ndarray) -> None:
        lengths = np.linalg.norm(matrix, axis=1)
        keep = lengths > 0
        if not keep.all():
            matrix, lengths = matrix[keep], lengths[keep]
        matrix /= lengths[:, None]
        self.dim = matrix.shape[1]
        self._matrix = matrix
        self._keys = [key for key, kept in zip(keys, keep.tolist(), strict=True) if kept]
        self._slot_of = {key: slot for slot, key in enumerate(self._keys)}

    def remove(self, key: int) -> None:
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return
        self._matrix[slot] = 0.0
        if len(self._keys) > 64 and len(self._slot_of) < len(self._keys) // 2:
            self._compact()

    def vector(self, key: int) -> np.ndarray | None:
        slot = self._slot_of.get(key)
        return None if slot is None else self._matrix[slot]

    def search(
        self, query: Sequence[float] | np.ndarray, limit: int = 10, also: Sequence[int] = ()
    ) -> dict[int, float]:
        """Best `limit` keys by cosine (on the reference scale when `scale` is set, clipped to 0..1); keys in
        `also` are scored too if present."""
        vec = unit(query)
        if vec is None or not self._slot_of or len(vec) != self.dim:
            return {}
        size = len(self._keys)
        sims = self._matrix[:size] @ vec
        depth = max(0, min(limit, size))
        if depth == 0:
            top = np.arange(0)
        elif depth < size:
            top = np.argpartition(-sims, depth - 1)[:depth]
        else:
            top = np.arange(size)
        slots = [int(s) for s in sorted(top, key=lambda s: -sims[s]) if self._slot_of.get(self._keys[s]) == s]
        taken = set(slots)
        slots += [found for key in also if (found := self._slot_of.get(key)) is not None and found not in taken]
        # Only the cosines returned are mapped: the order of the raw ones is the order of the mapped ones.
        picked = sims[slots] if self.scale is None else self.scale(sims[slots])
        return {self._keys[slot]: max(0.0, float(value)) for slot, value in zip(slots, picked, strict=True)}

    def scores(self, query: Sequence[float] | np.ndarray, keys: Sequence[int]) -> dict[int, float]:
        """Cosine for just these keys: a few row products instead of a pass over the matrix."""
        vec = unit(query)
        present = [k for k in keys if k in self._slot_of]
        if vec is None or not present or len(vec) != self.dim:
            return {}
        sims = self._matrix[[self._slot_of[k] for k in present]] @ vec
        if self.scale is not None:
            sims = self.scale(sims)
        return {k: max(0.0, float(s)) for k, s in zip(present, sims, strict=True)}

    def _compact(self) -> None:
        live = [(key, self._matrix[slot].copy()) for key, slot in self._slot_of.items()]
        self._keys, self._slot_of = [], {}
        self._matrix = np.zeros((max(64, len(live)), self.dim or 0), dtype=np.float32)
        for key, vec in live:
            slot = len(self._keys)
            self._matrix[slot] = vec
            self._keys.append(key)
            self._slot_of[key] = slot
