"""Importing a big file with embeddings: does the rate stay the same from the first row to the last?

    python -m bench.import_rate                      # 100,000 entries
    python -m bench.import_rate --entries 20000

A JSONL file of `--entries` rows (a question, one alternate, an answer; drawn from a small vocabulary, each
question distinct) is imported with `memory.io.import_bytes`, the same path as `/memory import` and the CLI,
into a fresh SQLite file, with an instant fake embedder (fixed pseudo-random 384-dim vectors, no server).
Measured: the rows' part (each row stored, without vectors) per tenth of the rows, and the re-embedding that
follows (`TrainedMemory.reembed_stale`, batches of 64 phrasings) per tenth of the batches; the ratio of the
last tenth's median time per row (or batch) to the first's; and the event loop's worst lag (a thread pings it
every 5 ms). The guild's index is not loaded meanwhile (a CLI import next to the bot; the bot loads it afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

DIM = 384
WORDS = [
    *[
        "password",
        "reset",
        "login",
        "account",
        "billing",
        "invoice",
        "refund",
        "payment",
        "card",
        "declined",
        "crash",
        "map",
        "error",
        "update",
        "install",
    ],
    *[
        "server",
        "lag",
        "ping",
        "connection",
        "timeout",
        "email",
        "verify",
        "code",
        "subscription",
        "plan",
        "upgrade",
        "cancel",
        "order",
        "shipping",
    ],
]


class InstantEmbedder:
    model = "bench-instant-384"

    def __init__(self) -> None:
        self.calls: list[float] = []  # when each batch was asked for
        self._vector = np.random.default_rng(3).random(DIM).tolist()

    async def embed(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(time.monotonic())
        return [self._vector for _ in texts]


def _file(entries: int) -> bytes:
    rng = np.random.default_rng(2)
    lines = []
    for i in range(entries):
        question = " ".join(rng.choice(WORDS, 7)) + f" {i}?"
        alternate = "how do i " + " ".join(rng.choice(WORDS, 4)) + f" {i}"
        answer = " ".join(rng.choice(WORDS, 18)) + f" {i}."
        lines.append(json.dumps({"query": question, "response": answer, "alternates": [alternate]}))
    return ("\n".join(lines) + "\n").encode()


def _tenths(stamps: list[float], start: float) -> list[float]:
    """Seconds per item in each tenth of the items, from their completion times."""
    times = [b - a for a, b in zip([start, *stamps[:-1]], stamps, strict=True)]
    size = max(1, len(times) // 10)
    return [statistics.fmean(times[i : i + size]) for i in range(0, size * 10, size) if times[i : i + size]]


async def measure(entries: int) -> dict[str, object]:
    from app.schema import open_app_database
    from memory.io import import_bytes
    from memory.store import TrainedMemory

    data = _file(entries)
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        db = await open_app_database(Path(tmp) / "import.db")
        embedder = InstantEmbedder()
        memory = TrainedMemory(db, embedder)
        rows: list[float] = []
        loop = asyncio.get_running_loop()
        lags: list[tuple[float, float]] = []
        stop = threading.Event()

        def _record(into: list[tuple[float, float]], sent: float, done: threading.Event) -> None:
            into.append((sent, time.monotonic() - sent))
            done.set()

        def pinger() -> None:
            while not stop.is_set():
                done, sent = threading.Event(), time.monotonic()
                loop.call_soon_threadsafe(_record, lags, sent, done)
                done.wait(60)
                stop.wait(0.005)

        thread = threading.Thread(target=pinger, daemon=True)
        thread.start()
        began = time.monotonic()
        report = await import_bytes(
            memory, 1, data, "bench.jsonl", progress=lambda done, total: rows.append(time.monotonic())
        )
        ended = time.monotonic()
        stop.set()
        await asyncio.to_thread(thread.join)  # joined on the loop, a ping sent meanwhile would wait for it
        await db.close()
    assert report.added == entries, report
    row_part_end = rows[-1]
    per_row = _tenths(rows, began)
    per_batch = _tenths([*embedder.calls[1:], ended], embedder.calls[0]) if embedder.calls else []
    return {
        "entries": entries,
        "total_s": ended - began,
        "rows_s": row_part_end - began,
        "embed_s": ended - row_part_end,
        "batches": len(embedder.calls),
        "row_ms_by_tenth": [t * 1000 for t in per_row],
        "batch_ms_by_tenth": [t * 1000 for t in per_batch],
        "rows_last_vs_first": per_row[-1] / per_row[0],
        "batches_last_vs_first": per_batch[-1] / per_batch[0] if per_batch else None,
        "worst_lag_ms": max((lag for _, lag in lags), default=0.0) * 1000,
        "stalls": sum(lag > 0.05 for _, lag in lags),
        # When each stall began (seconds into the import) and how long it was (ms); the rows' part ends at rows_s.
        "stalls_at": [(round(at - began, 2), round(lag * 1000)) for at, lag in lags if lag > 0.05],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args(argv)
    import bot  # noqa: F401  — the bot's imports, as in the bot

    result = asyncio.run(measure(args.entries))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
