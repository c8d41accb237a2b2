"""Loading a guild's search index: how long the event loop stalls, and the process's memory afterwards.

    python -m bench.index_load                          # 10,000 entries, this tree
    python -m bench.index_load --entries 10000 100000 --against main

Each entry has a question, one alternate and an answer, each with a stored 384-dimensional vector (hybrid
search), in a SQLite file built once per size (bench/.index_load_<n>.db, reused). A thread pings the event
loop every 5 ms while `TrainedMemory.warm` loads the index; the worst lateness of a ping is the longest
stall. RSS after is the process's resident memory after the load and a full collection (the bot's imports
included, nothing else loaded); RSS before the same just before the load (the bot imported, the database open,
a full collection done): "added by the load" is the index's idle memory. `--against REF` runs the same on
another commit (`git archive`), one table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DIM = 384
WORDS = (
    "password reset login account billing invoice refund payment card declined crash map error update install "
    "server lag ping connection timeout email verify code subscription plan upgrade cancel order shipping"
)


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


class StaticEmbedder:
    model = "bench-384"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return [np.random.default_rng(len(t)).random(DIM).tolist() for t in texts]


def _vector(rng: np.random.Generator) -> bytes:
    return rng.random(DIM, dtype=np.float32).astype("<f4").tobytes()


async def _build(path: Path, entries: int) -> None:
    import sqlite3

    from app.schema import open_app_database
    from memory import repository as repo

    db = await open_app_database(path)
    rng = np.random.default_rng(1)
    words = WORDS.split()
    phrasings: list[tuple[int, str]] = []
    async with db.transaction():
        for i in range(entries):
            question = " ".join(rng.choice(words, 8)) + f" {i}?"
            answer = " ".join(rng.choice(words, 20)) + f" {i}."
            entry_id = await repo.insert_entry(db, 1, question, answer, "general", None)
            phrasings.append((await repo.insert_phrasing(db, 1, entry_id, question, True), question))
            alternate = "how do i " + " ".join(rng.choice(words, 5))
            phrasings.append((await repo.insert_phrasing(db, 1, entry_id, alternate, False), alternate))
            phrasings.append((await repo.insert_answer(db, 1, entry_id, answer), answer))
    await db.close()
    # The vectors in one plain sqlite3 transaction: hundreds of thousands of rows.
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO embeddings (phrasing_id, model, dim, vector) VALUES (?, ?, ?, ?)",
            (
                (pid, StaticEmbedder.model, DIM, rng.random(DIM, dtype=np.float32).astype("<f4").tobytes())
                for pid, _ in phrasings
            ),
        )
    conn.close()


async def _measure(path: Path) -> dict[str, Any]:
    from app.schema import open_app_database
    from memory.store import TrainedMemory

    db = await open_app_database(path)
    gc.collect()
    before = rss_mb()
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    stop = threading.Event()

    def pinger() -> None:
        while not stop.is_set():
            done = threading.Event()
            sent = time.monotonic()

            def ping(sent: float = sent, done: threading.Event = done) -> None:
                lags.append(time.monotonic() - sent)
                done.set()

            loop.call_soon_threadsafe(ping)
            done.wait(60)
            stop.wait(0.005)

    thread = threading.Thread(target=pinger, daemon=True)
    thread.start()
    memory = TrainedMemory(db, StaticEmbedder())
    began = time.monotonic()
    await memory.warm(1)
    seconds = time.monotonic() - began
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.to_thread(thread.join)  # joined on the loop, a ping sent meanwhile would wait for it
    started = time.monotonic()
    gc.collect()
    full_gc = time.monotonic() - started
    result = {
        "entries": len(memory._indexes[1].entries),
        "load_s": seconds,
        "worst_lag_ms": max(lags, default=0.0) * 1000,
        "stalls": sum(lag > 0.05 for lag in lags),
        "full_gc_ms": full_gc * 1000,
        "rss_before_mb": before,
        "rss_mb": rss_mb(),
    }
    await db.close()
    return result


def _database(entries: int) -> Path:
    return ROOT / "bench" / f".index_load_{entries}.db"


def build(entries: int) -> None:
    path = _database(entries)
    if not path.exists():
        print(f"[bench.index_load] building {path.name} (once)", file=sys.stderr, flush=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        asyncio.run(_build(tmp, entries))
        tmp.rename(path)


def measure(entries: int) -> dict[str, Any]:
    import bot  # noqa: F401  — the bot's imports count in its memory

    return asyncio.run(_measure(_database(entries)))


def measure_in(tree: Path, entries: int) -> dict[str, Any]:
    """Measure in a fresh process (memory figures of its own) on the code in `tree`."""
    script = tree / "bench" / "_index_load_current.py"
    if tree != ROOT:
        script.write_text(Path(__file__).read_text(encoding="utf-8"), encoding="utf-8")
        (tree / "bench" / _database(entries).name).symlink_to(_database(entries))
    module = "bench._index_load_current" if tree != ROOT else "bench.index_load"
    out = subprocess.run(
        [sys.executable, "-m", module, "--entries", str(entries), "--json"],
        cwd=tree, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def measure_ref(ref: str, entries: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-index-ref-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        return measure_in(Path(tmp), entries)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[10000])
    parser.add_argument("--against", metavar="REF", help="also measure this git commit/branch")
    parser.add_argument("--json", action="store_true", help="measure once in this process, print JSON")
    args = parser.parse_args(argv)
    if args.json:
        print(json.dumps(measure(args.entries[0])))
        return
    rows = []
    for entries in args.entries:
        build(entries)
        if args.against:
            rows.append((args.against, measure_ref(args.against, entries)))
        rows.append(("this tree", measure_in(ROOT, entries)))
    print(
        "| code | entries | load | longest loop stall | stalls > 50 ms | full gc after | RSS before | RSS after "
        "| added by the load |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        print(
            f"| {name} | {r['entries']:,} | {r['load_s']:.2f} s | {r['worst_lag_ms']:.0f} ms | {r['stalls']} "
            f"| {r['full_gc_ms']:.0f} ms | {r['rss_before_mb']:.0f} MB | {r['rss_mb']:.0f} MB "
            f"| {r['rss_mb'] - r['rss_before_mb']:.0f} MB |"
        )


if __name__ == "__main__":
    main()
