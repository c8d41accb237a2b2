"""Ranking experiments (issue 9, ranking pass): re-rank what the bot finds with other evidence, re-calibrate the
direct bars for each variant, and compare coverage at the same precision constraints.

    /work/venvs/bench/bin/python -m bench.ranking_lab headroom          # where right answers rank, 20 examples a set
    /work/venvs/bench/bin/python -m bench.ranking_lab compare [VARIANT ...] [--halden] [--public] [--bars D A]
    /work/venvs/bench/bin/python -m bench.ranking_lab held-out [VARIANT ...]   # tuned on one set, the other scored

Each variant wraps `GuildIndex.rank`: the shipped ranking is asked for its 40 best entries (every signal
attached), the variant re-scores them (it may use the answers split into sentences, embedded by the cached
all-MiniLM-L6-v2 of bench/embedders.py), and the best 5 are kept, as the bot keeps them. The decision is the
shipped one (memory.decision.evidence, same weights); for each variant the direct bar and the agreement bar are
chosen again on Starfall and Harborline (one phrasing and +2 learned; precision >= 0.97 and no near miss
answered in each) together with the public val splits (>= 0.98 each, with --public), then Halden (held out) is
scored at those bars. Searched matches are cached per variant in bench/.cache/ranking_lab (delete to re-run).
Numbers: bench/devsets/RESULTS.md, "Ranking: other evidence".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import pickle
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import datasets
from bench import devset as devsets
from bench.devset_eval import Asked, ask_devset
from bench.embedders import CACHE_DIR, CachedMiniLM
from bench.harness import FunctionEmbedder, ask_all
from memory import guild_index
from memory.decision import Thresholds, decide, evidence
from memory.guild_index import GuildIndex
from memory.models import Match

DATA = datasets.DEFAULT_DATA  # --data for another checkout layout (a worktree: /work/shared/data)
SETTINGS: dict[str, Path] = {"data": DATA}
DEV_PRECISION = 0.97
PUBLIC_PRECISION = 0.98
POOL = 40  # entries the shipped ranking hands to a variant
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+|;\s+")

MINILM = CachedMiniLM()
# The texts only variants embed (answer sentences, question + answer) are cached apart from the messages.
PARTS = CachedMiniLM(CACHE_DIR / "ranking_lab")
_unit_cache: dict[str, np.ndarray] = {}


def vectors(texts: list[str]) -> list[np.ndarray]:
    missing = [t for t in dict.fromkeys(texts) if t not in _unit_cache]
    if missing:
        for t, v in zip(missing, PARTS(missing), strict=True):
            a = np.asarray(v, dtype=np.float32)
            _unit_cache[t] = a / (np.linalg.norm(a) or 1.0)
    return [_unit_cache[t] for t in texts]


def answer_sentences(answer: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE.split(answer)]
    return [p for p in parts if sum(c.isalnum() for c in p) >= 12] or [answer]


def unit(v: object) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / (np.linalg.norm(a) or 1.0)


# A variant: (index, message, its unit vector or None, the shipped ranking's POOL matches) -> re-scored matches.
Variant = Callable[[GuildIndex, str, np.ndarray | None, list[Match]], list[Match]]


def _hybrid(m: Match) -> float:
    w = guild_index.SEMANTIC_WEIGHT
    return m.score if m.semantic is None else w * m.semantic + (1 - w) * (m.lexical or 0.0)


def _blend(hybrid: float, answer: float, weight: float) -> float:
    return max((1 - weight) * hybrid + weight * answer, 1 - 2 * (1 - hybrid))


def shipped(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
    return matches


def sentence_answer(mode: str, weight: float = guild_index.ANSWER_WEIGHT, agree_whole: bool = False) -> Variant:
    """The answer signal from the answer's sentences: `max` (best sentence), `mix` (mean of the whole answer
    and the best sentence), `top2` (mean of the two best sentences), `whole+` (the larger of whole and best).
    `agree_whole`: the agreement gate (memory.decision._agreed) still compares whole-answer cosines."""

    def variant(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
        if q is None:
            return matches
        for m in matches:
            if m.answer_semantic is None or m.semantic is None:
                continue
            sims = sorted((float(v @ q) for v in vectors(answer_sentences(m.entry.response))), reverse=True)
            whole = m.answer_semantic
            signal = {
                "max": sims[0],
                "mix": (whole + sims[0]) / 2,
                "top2": float(np.mean(sims[:2])),
                "whole+": max(whole, sims[0]),
            }[mode]
            signal = max(0.0, signal)
            if not agree_whole:
                m.answer_semantic = signal
            m.score = min(1.0, _blend(_hybrid(m), signal, weight))
        return matches

    return variant


def sentence_agreement(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
    """Scores and order unchanged; only the agreement gate compares the answers' best sentences."""
    if q is None:
        return matches
    for m in matches:
        if m.answer_semantic is not None and m.semantic is not None:
            m.answer_semantic = max(0.0, max(float(v @ q) for v in vectors(answer_sentences(m.entry.response))))
    return matches


def question_answer(weight: float = guild_index.ANSWER_WEIGHT, replace: bool = True) -> Variant:
    """The answer signal from one vector of "question answer" (instead of the answer alone, or averaged)."""

    def variant(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
        if q is None:
            return matches
        for m in matches:
            if m.answer_semantic is None or m.semantic is None:
                continue
            qa = float(vectors([f"{m.entry.query} {m.entry.response}"])[0] @ q)
            signal = max(0.0, qa if replace else (qa + m.answer_semantic) / 2)
            m.answer_semantic = signal
            m.score = min(1.0, _blend(_hybrid(m), signal, weight))
        return matches

    return variant


def answer_weight(weight: float) -> Variant:
    def variant(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
        for m in matches:
            if m.answer_semantic is not None and m.semantic is not None:
                m.score = min(1.0, _blend(_hybrid(m), m.answer_semantic, weight))
        return matches

    return variant


def with_coverage(weight: float) -> Variant:
    """Word coverage (already part of the confidence) in the ranking too: score + weight * coverage, rescaled."""

    def variant(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
        for m in matches:
            m.score = (m.score + weight * m.coverage) / (1 + weight)
        return matches

    return variant


def rrf(k: float = 10.0) -> Variant:
    """Reciprocal-rank fusion of phrasing cosine, wording and answer cosine, mapped back to the score scale:
    the order comes from the fusion, the score of the i-th entry is the i-th best shipped score."""

    def variant(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
        if q is None or not matches:
            return matches
        fused = dict.fromkeys((id(m) for m in matches), 0.0)
        for key in (lambda m: m.semantic or 0.0, lambda m: m.lexical or 0.0, lambda m: m.answer_semantic or 0.0):
            for rank, m in enumerate(sorted(matches, key=key, reverse=True)):
                fused[id(m)] += 1 / (k + rank + 1)
        scores = sorted((m.score for m in matches), reverse=True)
        order = sorted(matches, key=lambda m: -fused[id(m)])
        for m, s in zip(order, scores, strict=True):
            m.score = s
        return order

    return variant


def chain(*variants: Variant) -> Variant:
    def variant(index: GuildIndex, text: str, q: np.ndarray | None, matches: list[Match]) -> list[Match]:
        for v in variants:
            matches = v(index, text, q, matches)
        return matches

    return variant


VARIANTS: dict[str, Variant] = {
    "shipped": shipped,
    "sent-max": sentence_answer("max"),
    "sent-mix": sentence_answer("mix"),
    "sent-top2": sentence_answer("top2"),
    "sent-whole+": sentence_answer("whole+"),
    "sent-mix-w0.4": sentence_answer("mix", 0.4),
    "sent-max-w0.2": sentence_answer("max", 0.2),
    "sent-max-agree-whole": sentence_answer("max", agree_whole=True),
    "sent-mix-agree-whole": sentence_answer("mix", agree_whole=True),
    "agree-sent": sentence_agreement,
    "qa": question_answer(),
    "qa-avg": question_answer(replace=False),
    "ans-w0.2": answer_weight(0.2),
    "ans-w0.4": answer_weight(0.4),
    "ans-w0.5": answer_weight(0.5),
    "cov-0.1": with_coverage(0.1),
    "cov-0.2": with_coverage(0.2),
    "cov-0.3": with_coverage(0.3),
    "rrf": rrf(),
}


@contextlib.contextmanager
def patched(variant: Variant) -> Iterator[None]:
    original = GuildIndex.rank

    def rank(self: GuildIndex, text: str, query_vector: object, k: int) -> list[Match]:
        matches = original(self, text, query_vector, max(k, POOL))  # type: ignore[arg-type]
        q = unit(query_vector) if query_vector is not None else None
        ranked = variant(self, text, q, matches)
        return sorted(ranked, key=lambda m: (-m.score, m.entry.id))[:k]

    GuildIndex.rank = rank  # type: ignore[method-assign]
    try:
        yield
    finally:
        GuildIndex.rank = original  # type: ignore[method-assign]


@dataclass
class Row:
    confidence: float
    agreed: bool
    rise: float  # crowding's rise of the bars
    allowed: bool  # not vetoed, trusted
    right: bool
    group: str
    top1: bool


def _row(matches: list[Match], right: bool, group: str) -> Row:
    if not matches:
        return Row(0.0, False, 0.0, False, False, group, False)
    t = Thresholds()
    top = matches[0]
    seen = evidence(top, matches[1:], t)
    rise = t.crowding_weight * max(0.0, (top.crowding or 0.0) - t.crowding_floor) if top.crowding else 0.0
    allowed = not (top.foreign or top.ruled_out or top.unfamiliar) and top.entry.confidence >= t.min_confidence
    return Row(seen.confidence, seen.agreed, rise, allowed, right, group, right)


CONDITIONS = (("one", False), ("+2 learned", True))
CACHE = CACHE_DIR / "ranking_lab"


async def collect(name: str, variant: Variant, public: bool) -> dict[str, list[Row]]:
    path = CACHE / f"{name}{'-public' if public else ''}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    embedder = FunctionEmbedder("all-minilm", MINILM)
    found: dict[str, list[Row]] = {}
    with patched(variant):
        for set_name in (*devsets.NAMES, "halden"):
            d = devsets.load(set_name)
            for condition, learned in CONDITIONS:
                asked = await ask_devset(d, embedder, learned=learned)
                found[f"{set_name} / {condition}"] = [
                    _row(a.matches, bool(a.topics) and a.topics[0] in a.expected, _group(a.group))
                    for a in asked
                    if a.group not in ("multi", "long")
                ]
        if public:
            for bench_name in datasets.NAMES:
                for split in ("val",):
                    qs, intents = await ask_all(datasets.load(bench_name, SETTINGS["data"]), split, embedder, "hybrid")
                    found[f"{bench_name} {split}"] = [
                        _row(
                            q.matches,
                            bool(q.matches) and intents[q.matches[0].entry.id] == q.intent,
                            "in_scope" if q.intent is not None else "oos",
                        )
                        for q in qs
                    ]
    MINILM.save()
    PARTS.save()
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(found))
    return found


def _group(group: str) -> str:
    return group if group in ("in_scope", "near_miss") else "oos"


@dataclass
class Outcome:
    precision: float
    coverage: float
    sent: int
    wrong: int
    near_miss: int
    top1: float


def outcome(rows: list[Row], direct: float, agreed: float) -> Outcome:
    sent = right = near = 0
    in_scope = top1 = 0
    for r in rows:
        if r.group == "in_scope":
            in_scope += 1
            top1 += r.top1
        bar = (min(direct, agreed) if r.agreed else direct) + r.rise
        if r.allowed and r.confidence >= bar:
            sent += 1
            right += r.right
            near += r.group == "near_miss"
    return Outcome(
        right / sent if sent else 1.0, right / max(1, in_scope), sent, sent - right, near, top1 / max(1, in_scope)
    )


def _meets(name: str, o: Outcome) -> bool:
    if "/" in name:
        return o.precision >= DEV_PRECISION and o.near_miss == 0
    return o.precision >= PUBLIC_PRECISION


DIRECT_BARS = tuple(np.round(np.arange(0.9, 1.6, 0.01), 2))
AGREED_BARS = tuple(np.round(np.arange(0.85, 1.3, 0.01), 2))


def calibrate(found: dict[str, list[Row]], tune: list[str]) -> tuple[float, float] | None:
    best: tuple[float, float, float, float] | None = None
    for direct in DIRECT_BARS:
        for agreed in (a for a in AGREED_BARS if a <= direct):
            outcomes = {n: outcome(found[n], direct, agreed) for n in tune}
            if not all(_meets(n, o) for n, o in outcomes.items()):
                continue
            dev = float(np.mean([o.coverage for n, o in outcomes.items() if "/" in n]))
            key = (dev, -direct, -agreed)
            if best is None or key > best[:3]:
                best = (*key, 0.0)
    return None if best is None else (float(-best[1]), float(-best[2]))


def held_out(names: list[str], public: bool) -> None:
    """Calibrate on one tuning set alone (and the public val splits), score the other one and Halden."""
    for name in names:
        found = asyncio.run(collect(name, VARIANTS[name], public))
        for tuned in devsets.NAMES:
            tune = [n for n in found if n.startswith(f"{tuned} /") or (public and n.endswith(" val"))]
            bars = calibrate(found, tune)
            if bars is None:
                print(f"{name:14} tuned on {tuned}: no bar meets the constraints")
                continue
            cells = []
            for n, rows in found.items():
                if "/" in n and not n.startswith(tuned):
                    o = outcome(rows, *bars)
                    cells.append(f"{n}: {o.precision:.3f}/{o.coverage:.2f} ({o.wrong}w {o.near_miss}nm)")
            print(f"{name:14} tuned on {tuned} {bars}: " + "; ".join(cells))


def compare(names: list[str], public: bool, halden: bool, bars_given: list[float] | None = None) -> None:
    shipped_t = Thresholds()
    for name in names:
        found = asyncio.run(collect(name, VARIANTS[name], public))
        tune = [n for n in found if n.split(" / ")[0] in devsets.NAMES or (public and n.endswith(" val"))]
        bars = calibrate(found, tune)
        print(f"\n{name}: calibrated direct / agreed bars {bars}")
        given = (bars_given[0], bars_given[1]) if bars_given else (shipped_t.direct, shipped_t.agreed_direct)
        for label, own in (("given bars" if bars_given else "shipped bars", given), ("own", bars)):
            if own is None:
                continue
            direct, agreed = own
            cells = []
            for n, rows in found.items():
                if n.startswith("halden") and not halden:
                    continue
                o = outcome(rows, direct, agreed)
                cells.append(f"{n}: {o.precision:.3f}/{o.coverage:.2f} t1 {o.top1:.2f} ({o.wrong}w {o.near_miss}nm)")
            print(f"  {label:12} " + "\n               ".join(cells))


# Leads over the runner-up assumed for a right entry moved first (the margin term of the confidence).
LEADS = (0.0, 0.15)


def _would_clear(asked: list[Asked], lead: float, bar: float) -> int:
    """Of the messages whose right entry is ranked 2nd-5th, how many a perfect order would answer directly: the
    right entry first with the old top's score (an optimistic tie), `lead` as its margin, its own word coverage."""
    cleared = 0
    for a in asked:
        if not a.topics or a.topics[0] in a.expected:
            continue
        rank = next((i for i, x in enumerate(a.topics[:5]) if x in a.expected), None)
        if rank is None:
            continue
        right = a.matches[rank]
        if right.foreign or right.ruled_out or right.unfamiliar:
            continue
        cleared += a.matches[0].score + lead + right.coverage >= bar
    return cleared


def headroom() -> None:
    embedder = FunctionEmbedder("all-minilm", MINILM)
    t = Thresholds()
    for set_name in (*devsets.NAMES, "halden"):
        d = devsets.load(set_name)
        for condition, learned in CONDITIONS:
            asked = [a for a in asyncio.run(ask_devset(d, embedder, learned=learned)) if a.group == "in_scope"]
            counts = dict.fromkeys(("right", "wrong", "first, vetoed", "first, too unsure", "2nd-5th", "below 5th"), 0)
            examples = []
            for a in asked:
                decision = decide(a.matches, llm_available=True, thresholds=t)
                first = bool(a.topics) and a.topics[0] in a.expected
                if decision.route.value == "answer":
                    counts["right" if first else "wrong"] += 1
                elif first:
                    top = a.matches[0]
                    counts[
                        "first, vetoed" if top.foreign or top.ruled_out or top.unfamiliar else "first, too unsure"
                    ] += 1
                elif any(x in a.expected for x in a.topics[:5]):
                    counts["2nd-5th"] += 1
                    examples.append(a)
                else:
                    counts["below 5th"] += 1
            print(
                f"\n{set_name} / {condition}: {len(asked)} in scope; "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
            )
            print("  right entry 2nd-5th (answered wrong included), moved first with the top's score, clears the bar:")
            for lead in LEADS:
                print(f"    with a lead of {lead}: {_would_clear(asked, lead, t.direct)}")
            if condition != "one":
                continue
            for a in examples[:20]:
                r = next(i for i, x in enumerate(a.topics) if x in a.expected)
                print(f"  [{r + 1}] {a.text[:95]!r}")
                for label, i in (("got", 0), ("want", r)):
                    m = a.matches[i]
                    print(
                        f"    {label:4} {a.topics[i]:20} score {m.score:.2f} phrasing {m.semantic or 0:.2f} "
                        f"words {m.lexical or 0:.2f} answer {m.answer_semantic or 0:.2f} coverage {m.coverage:.2f}"
                    )
    MINILM.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("headroom", "compare", "held-out"))
    parser.add_argument("variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--public", action="store_true", help="also the public val splits (tuning)")
    parser.add_argument("--halden", action="store_true", help="also print the held-out set")
    parser.add_argument("--bars", nargs=2, type=float, metavar=("DIRECT", "AGREED"), help="instead of the shipped")
    parser.add_argument("--data", type=Path, default=DATA, help="folder holding benchmarks/")
    args = parser.parse_args()
    SETTINGS["data"] = args.data
    if args.command == "headroom":
        headroom()
    elif args.command == "held-out":
        held_out(args.variants, args.public)
    else:
        compare(args.variants, args.public, args.halden, args.bars)


if __name__ == "__main__":
    main()
