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

import gc
import logging
from collections.abc import Sequence

from db.database import Row
from memory.guild_index import GuildIndex
from memory.repository import ALTERNATE_KIND, ANSWER_KIND, GENERATED_KIND, entry_from_row

log = logging.getLogger(__name__)


def build_index(entry_rows: Sequence[Row], phrasing_rows: Sequence[Row], model: str | None) -> GuildIndex:
    """A GuildIndex of these rows (`repository.fetch_index_rows`); vectors of another model are left out
    (they live in another space until re-embedded). Pure: safe to run in a worker thread."""
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
    if model:
        embedded = [(row["id"], row["vector"]) for row in phrasing_rows if row["model"] == model and row["vector"]]
        index.set_vectors(embedded)
    return index


# Below this many phrasings a full collection of the index is cheap: not worth freezing the process's
# objects (frozen garbage is never collected).
FREEZE_FROM_PHRASINGS = 1000


def freeze_long_lived(index: GuildIndex) -> bool:
    """After loading a big index, move every object alive now out of the garbage collector's sight
    (see the module docstring). True if it did."""
    if index.phrasing_count < FREEZE_FROM_PHRASINGS:
        return False
    gc.freeze()
    return True
