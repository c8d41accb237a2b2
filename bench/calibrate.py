"""Choose decision thresholds on the val splits: direct precision >= target on every benchmark,
coverage as high as possible. Run: `python -m bench.calibrate` (prints the chosen Thresholds).

decide() answers directly on one of two paths (see memory/decision.py): one phrasing with a
high score, a margin over every different answer and agreement of both signals; or several of
the nearest phrasings carrying the same answer, with their own (lower) score bar and margin.
The grid search tries every pair of path settings at once (the paths are disjoint per question
only in what they add, so precision is computed on their union) from per-question features
extracted with decide()'s own helpers, and the winner is re-checked with decide() itself, so
the search and the bot cannot drift apart.

It also measures the exact-match rule considered for lexical-only mode (normalised question
equal to the best match's phrasing, no different answer as close) and prints its precision.
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
from memory.text import normalise

log = logging.getLogger(__name__)

# Well above 0.95: val and test differ (BANKING77/Bitext val is held-out pool with few
# out-of-scope questions; Bitext's test is half out-of-scope and only ~40 questions are
# answered directly, so one error moves its precision by 2.5 points).
TARGET_PRECISION = 0.98
# 1.01 means "never answer directly": the right choice when no bar is safe on every benchmark.
DIRECT_GRID = (*np.round(np.arange(0.30, 1.001, 0.02), 2), 1.01)
MARGIN_GRID = (0.0, 0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50)
FEATURES = ("score", "margin", "agrees", "support", "exact", "right", "in_scope")


def features(asked: list[Asked], intents: dict[int, str]) -> dict[str, np.ndarray]:
    """Per question: top score, margin to the best different answer, agreement, support,
    exact wording, correctness, in scope."""
    rows = []
    loose = Thresholds(direct=0, margin=-1, lexical_direct=0, lexical_margin=-1, min_confidence=0)
    for a in asked:
        if not a.matches:
            rows.append((0.0, 0.0, False, 0, False, False, a.intent is not None))
            continue
        top, others = a.matches[0], a.matches[1:]
        rival = _runner_up(top, others)
        margin = top.score - rival.score if rival else 1.0
        agrees = _doubt(top, others, loose) is None
        exact = normalise(a.text) == normalise(top.phrasing) and margin > 0
        right = intents[top.entry.id] == a.intent
        rows.append((top.score, margin, agrees, top.support, exact, right, a.intent is not None))
    cols = list(zip(*rows, strict=True))
    return {name: np.array(col) for name, col in zip(FEATURES, cols, strict=True)}


_SETTINGS = list(itertools.product(DIRECT_GRID, MARGIN_GRID, (True, False)))


def _counts(per_bench: dict[str, dict[str, np.ndarray]], supported: bool) -> tuple[np.ndarray, np.ndarray]:
    """Right and answered counts per (setting, benchmark) of one path."""
    right = np.zeros((len(_SETTINGS), len(per_bench)))
    answered = np.zeros_like(right)
    for j, f in enumerate(per_bench.values()):
        base = f["support"] >= 2 if supported else np.ones(len(f["score"]), dtype=bool)
        for i, (direct, margin, agree) in enumerate(_SETTINGS):
            answer = base & (f["score"] >= direct) & (f["margin"] >= margin)
            if agree:
                answer &= f["agrees"]
            right[i, j] = (answer & f["right"]).sum()
            answered[i, j] = answer.sum()
    return right, answered


def search(per_bench: dict[str, dict[str, np.ndarray]], supported_path: bool) -> tuple[dict, dict[str, tuple]]:
    """Best single-phrasing (and, if `supported_path`, supported) settings by mean coverage
    under the precision target on every benchmark."""
    names = list(per_bench)
    in_scope = np.array([max(1, int(f["in_scope"].sum())) for f in per_bench.values()])
    r1, n1 = _counts(per_bench, False)
    if supported_path:
        # Union of the two paths: a question counts once even if both would answer it.
        r2, n2 = _counts(per_bench, True)
        both_r, both_n = _overlap(per_bench)
        union_r = r1[:, None, :] + r2[None, :, :] - both_r
        union_n = n1[:, None, :] + n2[None, :, :] - both_n
    else:
        union_r, union_n = r1[:, None, :], n1[:, None, :]
    precision = np.where(union_n > 0, union_r / np.maximum(union_n, 1), 1.0)
    coverage = (union_r / in_scope).mean(-1)
    coverage[~(precision >= TARGET_PRECISION).all(-1)] = -1
    i, j = np.unravel_index(np.argmax(coverage), coverage.shape)
    if coverage[i, j] < 0:
        return {}, {}
    single, supported = _SETTINGS[i], _SETTINGS[j]
    best = {"direct": float(single[0]), "margin": single[1], "require_agreement": single[2]}
    if supported_path:
        best |= {"supported_direct": float(supported[0]), "supported_margin": supported[1]}
    stats = {
        name: (float(precision[i, j, b]), float(union_r[i, j, b] / in_scope[b]), int(union_n[i, j, b]))
        for b, name in enumerate(names)
    }
    return best, stats


def _overlap(per_bench: dict[str, dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Right/answered counts of questions both paths would answer, per (single, supported, benchmark)."""
    size = len(_SETTINGS)
    right = np.zeros((size, size, len(per_bench)))
    answered = np.zeros_like(right)
    for b, f in enumerate(per_bench.values()):
        masks = []
        for direct, margin, agree in _SETTINGS:
            answer = (f["score"] >= direct) & (f["margin"] >= margin)
            masks.append(answer & f["agrees"] if agree else answer)
        m = np.array(masks, dtype=np.float32)
        sup = m * (f["support"] >= 2)
        answered[:, :, b] = m @ sup.T
        right[:, :, b] = (m * f["right"]) @ sup.T
    return right, answered


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


def exact_match_report(per_bench: dict[str, dict[str, np.ndarray]]) -> dict[str, tuple[int, int]]:
    """(right, answered) of the exact-wording rule per benchmark."""
    return {name: (int((f["exact"] & f["right"]).sum()), int(f["exact"].sum())) for name, f in per_bench.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=datasets.DEFAULT_DATA)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    found = asyncio.run(collect(args.data))
    lexical_features = {n: features(*v) for n, v in found["lexical"].items()}
    lexical, lex_stats = search(lexical_features, supported_path=False)
    hybrid, hyb_stats = search({n: features(*v) for n, v in found["hybrid"].items()}, supported_path=True)
    print("hybrid:", hybrid, hyb_stats)
    print("lexical:", lexical, lex_stats)
    print("lexical exact-match rule (right, answered):", exact_match_report(lexical_features))
    chosen = replace(
        Thresholds(),
        direct=hybrid.get("direct", 1.01),
        margin=hybrid.get("margin", 0.0),
        supported_direct=hybrid.get("supported_direct", 1.01),
        supported_margin=hybrid.get("supported_margin", 0.0),
        lexical_direct=lexical.get("direct", 1.01),
        lexical_margin=lexical.get("margin", 0.0),
        # Lexical-only scores are the lexical signal itself, so agreement only matters for hybrid.
        require_agreement=hybrid.get("require_agreement", True),
    )
    print("chosen:", chosen)
    for mode, per_bench in found.items():
        for name, (asked, intents) in per_bench.items():
            print(f"  check with decide(): {mode:8} {name:10} {score(asked, intents, chosen)}")


if __name__ == "__main__":
    main()
