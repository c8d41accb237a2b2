"""Retrieval quality and speed of the trained memory on the public benchmarks.

    python -m bench.retrieval                 # real all-MiniLM-L6-v2 through a fake Ollama (bench/requirements.txt)
    python -m bench.retrieval --offline       # hashed n-gram embedder, no model: quick smoke run
    python -m bench.retrieval --embedder e5 --no-speed   # another embedding model, its scale mapped (memory/scale.py)
    python -m bench.retrieval --sizes 1000    # fewer/other speed sizes; --data DIR for the datasets

Quality: stored questions imported into a real TrainedMemory (SQLite file), test questions asked
through find_similar() and decide() at the shipped default thresholds. Semantic vectors travel
over HTTP from bench/embed_server.py through the bot's own ai/ client, as in production.
Speed: queries/second of the in-memory search against a rapidfuzz token_set_ratio scan over
the same texts, measured in the same run (median of repeats; the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import numpy as np
from rapidfuzz import fuzz, process

from ai.client import LLMClient
from ai.factory import create_llm_client
from app.settings import default_llm_settings
from bench import datasets
from bench.embed_server import EmbedServer
from bench.embedders import ENCODERS, CachedEncoder, EmbedFn, cached, hashed
from bench.harness import MODES, ask_all, score
from memory.decision import MAX_CONFIDENCE, Thresholds
from memory.guild_index import GuildIndex
from memory.models import Entry
from memory.text import normalise

log = logging.getLogger(__name__)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SPEED_QUERIES = 200
REPEATS = 3


async def quality(data_dir: Path, offline: bool, encoder: str = "minilm", native_scale: bool = False) -> list[str]:
    """The public test splits in every search mode, with `encoder`'s embeddings (bench/embedders.py)."""
    fn = hashed if offline else cached(encoder)
    model = "hashed-trigrams" if offline else ENCODERS[encoder].model
    rows = ["| benchmark | mode | top-1 | recall@5 | direct precision | direct coverage | direct answers |"]
    rows.append("|---|---|---|---|---|---|---|")
    print("\n".join(rows), flush=True)
    try:
        async with _embedder(fn, model, native_scale) as embedder:
            for name in datasets.NAMES:
                bench = datasets.load(name, data_dir)
                for mode in MODES:
                    asked, intents = await ask_all(bench, "test", embedder, mode)
                    m = score(asked, intents, Thresholds())
                    rows.append(
                        f"| {name} | {mode} | {m.top1:.1%} | {m.recall5:.1%} | {m.precision:.1%} | "
                        f"{m.coverage:.1%} | {m.answered} |"
                    )
                    print(rows[-1], flush=True)
    finally:
        if isinstance(fn, CachedEncoder):
            fn.save()
    return rows


class _embedder:
    """The bot's own Ollama client against bench/embed_server.py serving `fn`."""

    def __init__(self, fn: EmbedFn, model: str, native_scale: bool = False) -> None:
        self.fn, self.model, self.native_scale = fn, model, native_scale
        self.stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> _ClientEmbedder:
        server = await self.stack.enter_async_context(EmbedServer(self.fn, self.model))
        session = await self.stack.enter_async_context(aiohttp.ClientSession())
        # The chat model is never asked for: the embedding model stands in for it in the probe.
        settings = default_llm_settings(base_url=server.url, model=self.model, embed_model=self.model)
        embedder = _ClientEmbedder(create_llm_client(settings, session), self.model)
        embedder.native_scale = embedder.native_scale or self.native_scale
        return embedder

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()


class _ClientEmbedder:
    def __init__(self, client: LLMClient, model: str) -> None:
        self.client, self.model = client, model
        # The offline stand-in's cosines are used as they are (memory/hashed_embedder.py); real models are mapped.
        self.native_scale = model == "hashed-trigrams"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        return await self.client.embed(texts)


def speed(data_dir: Path, sizes: list[int]) -> list[str]:
    """Search speed of the in-memory indexes (what find_similar runs after the query embedding)."""
    bench = datasets.load("clinc150", data_dir)
    pool = [row[0] for row in bench.pool]
    queries = [row[0] for row in bench.test[:SPEED_QUERIES]]
    rows = [
        "| stored questions | lexical q/s | hybrid q/s | rapidfuzz scan q/s | lexical/rapidfuzz | hybrid/rapidfuzz |"
    ]
    rows.append("|---|---|---|---|---|---|")
    print("\n".join(rows), flush=True)
    for size in sizes:
        lexical, hybrid, scan = _speed_at(_texts(pool, size), queries)
        ratios = f"{lexical / scan:.1f}x | {hybrid / scan:.1f}x"
        rows.append(f"| {size:,} | {lexical:,.0f} | {hybrid:,.0f} | {scan:,.0f} | {ratios} |")
        print(rows[-1], flush=True)
    return rows


def _speed_at(texts: list[str], queries: list[str]) -> tuple[float, float, float]:
    rng = np.random.default_rng(0)
    index = GuildIndex()
    for i, text in enumerate(texts):
        index.put_entry(Entry(i, 1, text, "a", "general", [], None, "", "", 0, 1.0))
    index.add_phrasings([(i, i, text) for i, text in enumerate(texts)])
    # Speed does not depend on the vector values: random vectors of MiniLM's size.
    for i, vector in enumerate(rng.standard_normal((len(texts), 384)).astype(np.float32)):
        index.set_vector(i, vector)
    query_vectors = rng.standard_normal((len(queries), 384)).astype(np.float32)
    choices = [normalise(t) for t in texts]
    # The scan is slow at 100k; fewer queries keep the run short, the rate stays comparable.
    scan_queries = queries[: max(20, min(len(queries), 200_000 // len(texts)))]
    lexical = _median_rate(lambda: [index.rank(q, None, 5) for q in queries], len(queries))
    hybrid = _median_rate(
        lambda: [index.rank(q, v, 5) for q, v in zip(queries, query_vectors, strict=True)], len(queries)
    )
    scan = _median_rate(
        lambda: [process.extract(normalise(q), choices, scorer=fuzz.token_set_ratio, limit=5) for q in scan_queries],
        len(scan_queries),
    )
    return lexical, hybrid, scan


def _texts(pool: list[str], size: int) -> list[str]:
    """`size` questions: the pool, then perturbed copies (a dropped word) so they are not duplicates."""
    rng = random.Random(0)
    texts = list(pool[:size])
    while len(texts) < size:
        words = rng.choice(pool).split()
        if len(words) > 2:
            del words[rng.randrange(len(words))]
        texts.append(" ".join(words) + f" {rng.choice(pool).split()[-1]}")
    return texts


def _median_rate(work: Callable[[], object], count: int) -> float:
    rates = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        work()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=datasets.DEFAULT_DATA, help="folder holding benchmarks/")
    parser.add_argument("--offline", action="store_true", help="hashed n-gram embedder instead of MiniLM")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 10_000, 100_000])
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--embedder", choices=sorted(ENCODERS), default="minilm", help="the real embedding model")
    parser.add_argument(
        "--native-scale", action="store_true", help="the model's cosines as they are (EMBED_SCALE=native), not mapped"
    )
    parser.add_argument("--write", action="store_true", help=f"also write the tables to {RESULTS.name}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t = Thresholds()
    header = [
        "## Quality (test splits, 3 stored questions per intent)",
        "",
        f"Embeddings: {'hashed n-grams (offline smoke run)' if args.offline else args.embedder + ' via fake Ollama'}."
        f" Default thresholds (memory/decision.py): direct when score + {t.margin_weight} x margin +"
        f" {t.coverage_weight} x word coverage >= {t.direct} and no other product is named; lexical direct"
        f" {t.lexical_direct} (above {MAX_CONFIDENCE:.1f} = never).",
        "",
    ]
    print("\n".join(header))
    tables = header + asyncio.run(quality(args.data, args.offline, args.embedder, args.native_scale))
    if not args.no_speed:
        speed_header = ["", "## Speed (2-core shared machine, median of 3 runs, CLINC150 pool texts)", ""]
        print("\n".join(speed_header))
        tables += speed_header + speed(args.data, args.sizes)
    elif args.write and RESULTS.exists():
        # Keep the last measured speed table: --no-speed only refreshes quality.
        previous = RESULTS.read_text(encoding="utf-8")
        if "\n## Speed" in previous:
            tables += ["", "## Speed" + previous.split("\n## Speed", 1)[1].rstrip("\n")]
    if args.write:
        RESULTS.write_text("# Retrieval benchmark\n\n" + "\n".join(tables) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
