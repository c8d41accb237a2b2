"""Do two versions of the code rank alike? The same stored memory, loaded by each from a SQLite file, asked the
same questions: every match's entry, score and evidence must be equal (an index's memory layout may change, its
answers may not).

    python -m bench.ranking_check --against main --data ../shared/data   # CLINC150 and BANKING77, hybrid

Each benchmark's stored questions (bench/datasets.py, ../shared/data) become entries, with their answers and
vectors of the offline hashed embedder (bench/embedders.py: deterministic, no model needed); its test questions
(up to --queries) are asked with `TrainedMemory.find_similar`, k=5. Exit status 1 on any difference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = "hashed-trigrams"


class _Hashed:
    model = MODEL

    async def embed(self, texts: list[str]) -> list[list[float]]:
        from bench.embedders import hashed

        return hashed(texts)


async def _rankings(name: str, queries: int, data: Path) -> list[list[list[Any]]]:
    from app.schema import open_app_database
    from bench import datasets
    from memory import repository as repo
    from memory.store import TrainedMemory

    bench = datasets.load(name, data)
    with tempfile.TemporaryDirectory(prefix="ranking-check-") as tmp:
        db = await open_app_database(Path(tmp) / "memory.db")
        embedder = _Hashed()
        texts: list[tuple[int, str]] = []
        async with db.transaction():
            for question, _intent, answer in bench.stored:
                entry_id = await repo.insert_entry(db, 1, question, answer, "general", None)
                texts.append((await repo.insert_phrasing(db, 1, entry_id, question, True), question))
                texts.append((await repo.insert_answer(db, 1, entry_id, answer), answer))
            vectors = await embedder.embed([text for _, text in texts])
            await repo.store_vectors(db, MODEL, {pid: v for (pid, _), v in zip(texts, vectors, strict=True)})
        memory = TrainedMemory(db, embedder)
        out = []
        for question, _ in bench.test[:queries]:
            matches = await memory.find_similar(1, question, k=5)
            out.append([
                [m.entry.id, m.score, m.lexical, m.semantic, m.answer_semantic, m.coverage, list(m.foreign),
                 list(m.ruled_out), m.siblings, m.crowding, m.phrasing]
                for m in matches
            ])  # fmt: skip
        await db.close()
        return out


def _in(tree: Path, name: str, queries: int, data: Path) -> list[Any]:
    """The rankings computed by the code in `tree`, in a fresh process."""
    script = tree / "bench" / "_ranking_check_current.py"
    script.write_text(Path(__file__).read_text(encoding="utf-8"), encoding="utf-8")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "bench._ranking_check_current", "--json", name, "--queries", str(queries),
             "--data", str(data)],
            cwd=tree, check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        script.unlink(missing_ok=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REF", default="main")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=None, help="folder holding benchmarks/ (bench/datasets.py)")
    parser.add_argument("--json", metavar="BENCHMARK", help="compute one benchmark's rankings here, print JSON")
    parser.add_argument("benchmarks", nargs="*", default=["clinc150", "banking77"])
    args = parser.parse_args(argv)
    from bench import datasets

    data = (args.data or datasets.DEFAULT_DATA).resolve()
    if args.json:
        print(json.dumps(asyncio.run(_rankings(args.json, args.queries, data))))
        return
    differ = False
    with tempfile.TemporaryDirectory(prefix="ranking-check-ref-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.against], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        for name in args.benchmarks:
            theirs, ours = _in(Path(tmp), name, args.queries, data), _in(ROOT, name, args.queries, data)
            same = sum(a == b for a, b in zip(theirs, ours, strict=True))
            matches = sum(len(r) for r in ours)
            print(f"{name}: {same} of {len(ours)} questions ranked identically ({matches} matches compared)")
            differ |= same != len(ours)
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
