"""Building a guild's search index from its stored rows, off the event loop.

At 10k entries the build took 1.4 s of pure Python on the event loop (15 s at 100k): no heartbeats, no
interactions answered meanwhile. The rows are read through the database as usual; `build_index` then
runs in a worker thread (`asyncio.to_thread`). It touches nothing but the rows and the new index, which
no one else sees until it is returned. The thread still needs the GIL for the Python part, but Python
hands the GIL over every few milliseconds (`sys.getswitchinterval`), so the loop keeps its turns, and
the vector part is a few numpy calls on whole matrices, which release the GIL.

After a load the index's objects are frozen (`gc.freeze`): they live as long as the index, and a full
garbage collection walking hundreds of thousands of them (21 ms at 10k entries, 87 ms at 100k) would
stall the loop again, long after the load.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from db.database import Database, Row
from memory import repository as repo
from memory.guild_index import GuildIndex
from memory.repository import ALTERNATE_KIND, ANSWER_KIND, GENERATED_KIND, entry_from_row
from memory.vectors import from_blob

log = logging.getLogger(__name__)


@dataclass
class Rows:
    """A guild's rows (`repository.fetch_entry_rows`, `fetch_phrasing_rows`) handed over to `build_index`, which
    empties it: the rows are then freed in the worker thread (millions of objects at 100,000 entries, a stall of
    the event loop if the last reference to them were dropped there)."""

    entries: list[Row]
    phrasings: list[Row]


def build_index(rows: Rows) -> GuildIndex:
    """A GuildIndex of these rows, without vectors (`load_vectors`). Pure: safe to run in a worker thread."""
    entry_rows, phrasing_rows = rows.entries, rows.phrasings
    rows.entries, rows.phrasings = [], []
    alternates: dict[int, list[str]] = {}
    generated: dict[int, list[str]] = {}
    for row in phrasing_rows:  # ordered by id, like Entry.alternates everywhere else
        if row["is_primary"] == ALTERNATE_KIND:
            alternates.setdefault(row["entry_id"], []).append(row["text"])
        elif row["is_primary"] == GENERATED_KIND:
            generated.setdefault(row["entry_id"], []).append(row["text"])
    index = GuildIndex()
    for row in entry_rows:
        index.put_entry(entry_from_row(row, alternates.get(row["id"], []), generated.get(row["id"])))
    index.add_phrasings(
        [(row["id"], row["entry_id"], row["text"]) for row in phrasing_rows if row["is_primary"] != ANSWER_KIND]
    )
    for row in phrasing_rows:
        if row["is_primary"] == ANSWER_KIND:
            index.add_answer(row["id"], row["entry_id"])
    return index


# Vector rows read per trip while loading: a few MB at a time.
VECTOR_CHUNK = 2000


class VectorRows:
    """One kind of a guild's stored vectors (its answers', or its other phrasings') gathered chunk by chunk into
    one float32 matrix, allocated once for the count read before (grown if more arrive meanwhile)."""

    def __init__(self, index: GuildIndex, *, answers: bool, expected: int) -> None:
        self.index = index
        self.answers = answers
        self.expected = max(1, expected)
        self.keys: list[int] = []
        self.matrix: np.ndarray | None = None
        self.other_sizes: list[tuple[int, bytes]] = []  # another model's size under the same name: left to `add`

    def add(self, rows: Sequence[Row]) -> None:
        """Copy a chunk's vectors in (pure: a worker thread may run it)."""
        for row in rows:
            key, blob = self.index.vector_key(row[0], answer=self.answers), row[1]
            if key is None or not blob:
                continue
            if self.matrix is None:
                self.matrix = np.empty((self.expected, len(blob) // 4), dtype=np.float32)
            if len(blob) != 4 * self.matrix.shape[1]:
                self.other_sizes.append((key, blob))
                continue
            filled = len(self.keys)
            if filled == len(self.matrix):
                grown = np.empty((2 * filled, self.matrix.shape[1]), dtype=np.float32)
                grown[:filled] = self.matrix
                self.matrix = grown
            self.matrix[filled] = np.frombuffer(blob, dtype="<f4")
            self.keys.append(key)

    def finish(self) -> None:
        """Hand the vectors to the index (normalised there as one matrix; pure, may run in a worker thread)."""
        if self.matrix is not None and self.keys:
            self.index.set_vector_matrix(self.keys, self.matrix[: len(self.keys)], answers=self.answers)
        for key, blob in self.other_sizes:
            (self.index.answers if self.answers else self.index.vectors).add(key, from_blob(blob))
        self.matrix, self.keys, self.other_sizes = None, [], []


async def load_vectors(db: Database, guild_id: int, model: str, index: GuildIndex) -> None:
    """The guild's stored vectors of `model` into `index` (vectors of another model are left out: they live in
    another space until re-embedded), read in chunks of `VECTOR_CHUNK` rows and copied in a worker thread."""
    for answers in (False, True):
        expected = await repo.count_vectors(db, guild_id, model, answers=answers)
        gathered = VectorRows(index, answers=answers, expected=expected)
        after = -1
        while True:
            rows = await repo.fetch_vector_rows(
                db, guild_id, model, answers=answers, after=after, limit=VECTOR_CHUNK
            )  # fmt: skip
            if not rows:
                break
            after = rows[-1][0]
            await asyncio.to_thread(gathered.add, rows)
            if len(rows) < VECTOR_CHUNK:
                break
        del rows
        await asyncio.to_thread(gathered.finish)


@contextmanager
def full_collections_paused() -> Iterator[None]:
    """No full garbage collection while an index is read and built. Full passes are triggered by the growth of
    long-lived objects, and an index load is nothing but that growth: at 100,000 entries several full passes over
    millions of objects ran in the middle of it, each holding the GIL (and so the event loop) for up to half a
    second. The young generations are still collected (their passes are small), so the bot's short-lived cycles
    are freed as usual; only what survives into the oldest generation waits, and is then frozen with the index
    (`freeze_long_lived`). Loads may overlap (two guilds): full passes resume when the last one ends."""
    global _pauses, _threshold
    if _pauses == 0:
        _threshold = gc.get_threshold()
        gc.set_threshold(_threshold[0], _threshold[1], NEVER)
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0:
            gc.set_threshold(*_threshold)


# A gen-1 collection count a full pass never waits for.
NEVER = 2**31 - 1
_pauses = 0
_threshold = gc.get_threshold()


# Below this many phrasings a full collection of the index is cheap: not worth freezing the process's
# objects (frozen garbage is never collected).
FREEZE_FROM_PHRASINGS = 1000


def freeze_long_lived(index: GuildIndex) -> bool:
    """After loading a big index, move every object alive now out of the garbage collector's sight
    (see the module docstring), and give the memory the load's rows took back to the system. True if it did."""
    if index.phrasing_count < FREEZE_FROM_PHRASINGS:
        return False
    gc.freeze()
    release_free_memory()
    return True


def release_free_memory() -> None:
    """glibc keeps the pages of freed allocations (the rows of a load, scattered among the index's objects) in
    the process: `malloc_trim` returns the free ones (9 MB at 10,000 entries). A few milliseconds; elsewhere
    (another C library) nothing happens."""
    global _malloc_trim
    if _malloc_trim is None:
        try:
            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if callable(_malloc_trim):
        _malloc_trim(0)


_malloc_trim: Callable[[int], int] | bool | None = None
