"""Choose decision thresholds on the val splits: direct precision >= target on every benchmark,
coverage as high as possible. Run: `python -m bench.calibrate` (prints the chosen Thresholds).

The grid search works on per-question features extracted with decide()'s own rules and the
winner is re-checked with decide() itself, so the search and the bot cannot drift apart.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench import datasets
from bench.embedders import CachedMiniLM
from bench.harness import Asked, FunctionEmbedder, ask_all, score
from memory.decision import Thresholds, _doubt, _runner_up

log = logging.getLogger(__name__)

# Well above 0.95: val and test differ (BANKING77/Bitext val is held-out pool), and at 0.96
# Bitext's test precision came out at 0.946.
TARGET_PRECISION = 0.98
# 1.01 means "never answer directly": the right choice when no bar is safe on every benchmark.
DIRECT_GRID = (*np.round(np.arange(0.40, 1.001, 0.01), 2), 1.01)
MARGIN_GRID = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30)
SEMANTIC_GRID = (0.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85)


def features(asked: list[Asked], intents: dict[int, str]) -> dict[str, np.ndarray]:
    """Per question: top score, margin to the best different answer, agreement, semantic, correctness."""
    rows = []
    loose = Thresholds(direct=0, margin=-1, lexical_direct=0, lexical_margin=-1, min_confidence=0)
    for a in asked:
        if not a.matches:
            rows.append((0.0, 0.0, False, 0.0, False, False))
            continue
        top, others = a.matches[0], a.matches[1:]
        rival = _runner_up(top, others)
        margin = top.score - rival.score if rival else 1.0
        agrees = _doubt(top, others, loose) is None
        right = intents[top.entry.id] == a.intent
        rows.append((top.score, margin, agrees, top.semantic or 0.0, right, a.intent is not None))
    cols = list(zip(*rows, strict=True))
    names = ("score", "margin", "agrees", "semantic", "right", "in_scope")
    return {name: np.array(col) for name, col in zip(names, cols, strict=True)}


def search(per_bench: dict[str, dict[str, np.ndarray]], semantic: bool) -> tuple[dict, dict[str, tuple]]:
    """Best (direct, margin, agreement, min_semantic) by mean coverage under the precision target."""
    best, best_cov, best_stats = {}, -1.0, {}
    for direct, margin, agree, min_sem in itertools.product(
        DIRECT_GRID, MARGIN_GRID, (True, False), SEMANTIC_GRID if semantic else (0.0,)
    ):
        coverages, stats = [], {}
        for name, f in per_bench.items():
            answer = (f["score"] >= direct) & (f["margin"] >= margin) & (f["semantic"] >= min_sem)
            if agree:
                answer &= f["agrees"]
            answered = int(answer.sum())
            right = int((answer & f["right"]).sum())
            precision = right / answered if answered else 1.0
            if precision < TARGET_PRECISION:
                break
            coverage = right / max(1, int(f["in_scope"].sum()))
            coverages.append(coverage)
            stats[name] = (precision, coverage, answered)
        else:
            mean = float(np.mean(coverages))
            if mean > best_cov:
                best_cov, best_stats = mean, stats
                best = {"direct": float(direct), "margin": margin, "require_agreement": agree, "min_semantic": min_sem}
    return best, best_stats


async def collect(data_dir: Path) -> dict[str, dict[str, tuple[list[Asked], dict[int, str]]]]:
    minilm = CachedMiniLM()
    embedder = FunctionEmbedder("all-minilm", minilm)
    found: dict[str, dict[str, tuple[list[Asked], dict[int, str]]]] = {"lexical": {}, "hybrid": {}}
    for name in datasets.NAMES:
        bench = datasets.load(name, data_dir)
        for mode in found:
            found[mode][name] = await ask_all(bench, "val", embedder, mode)
    minilm.save()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=datasets.DEFAULT_DATA)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    found = asyncio.run(collect(args.data))
    lexical, lex_stats = search({n: features(*v) for n, v in found["lexical"].items()}, semantic=False)
    hybrid, hyb_stats = search({n: features(*v) for n, v in found["hybrid"].items()}, semantic=True)
    print("hybrid:", hybrid, hyb_stats)
    print("lexical:", lexical, lex_stats)
    if not hybrid or not lexical:
        print("no thresholds reach the precision target")
        return
    chosen = replace(
        Thresholds(),
        direct=hybrid["direct"],
        margin=hybrid["margin"],
        min_semantic=hybrid["min_semantic"],
        lexical_direct=lexical["direct"],
        lexical_margin=lexical["margin"],
        # Lexical-only scores are the lexical signal itself, so agreement only matters for hybrid.
        require_agreement=hybrid["require_agreement"],
    )
    print("chosen:", chosen)
    for mode, per_bench in found.items():
        for name, (asked, intents) in per_bench.items():
            print(f"  check with decide(): {mode:8} {name:10} {score(asked, intents, chosen)}")


if __name__ == "__main__":
    main()
