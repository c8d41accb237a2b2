"""Choose the decision's thresholds on the dev sets together with the public val splits.

    python -m bench.calibrate_devsets                  # search, print the chosen Thresholds and their numbers
    python -m bench.calibrate_devsets --tune starfall  # tune on one dev set, report the other as held out
    python -m bench.calibrate_devsets --reuse          # reuse the searched matches of the last run (.cache)

Searches every message once (real all-MiniLM-L6-v2; hybrid and keyword-only), then scores many
decisions purely from the matches: `memory.decision.evidence` computes the confidence exactly as
`decide` does, and the winner is re-checked with `decide` itself (bench.devset_eval), so the search
and the bot cannot drift apart.

Constraints (each set and condition on its own, never averaged):
- dev sets (one phrasing per topic, and with two learned phrasings): direct precision >= 0.97 and no
  near-miss message answered directly;
- public val splits (CLINC150, BANKING77, Bitext; 3 stored questions per intent): direct precision
  >= 0.98 (their test splits must keep >= 0.95);
- fallback (LLM down): precision of the FALLBACK route and of everything sent while the model is down
  >= 0.96 on every set (0.95 is the requirement).
Among the settings that meet them, the one with the most dev-set coverage wins (mean over the sets and
conditions), ties broken by public coverage.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import pickle
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bench import datasets
from bench import devset as devsets
from bench.devset_eval import ask_devset
from bench.embedders import CACHE_DIR, CachedMiniLM
from bench.harness import FunctionEmbedder, ask_all
from memory.decision import Thresholds, evidence
from memory.models import Match

log = logging.getLogger(__name__)

DEV_PRECISION = 0.97
# Well above 0.95, as before issue 9 (bench/calibrate.py): val and test differ (BANKING77's and Bitext's
# val are held-out pool questions; at 0.96 on Bitext's val its test split came out at 0.92).
PUBLIC_PRECISION = {"clinc150": 0.98, "banking77": 0.98, "bitext": 0.98}
FALLBACK_PRECISION = 0.95
MARGIN_WEIGHTS = (0.5, 1.0, 1.5)
COVERAGE_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
SHARE_WEIGHTS = (0.0, 0.5, 1.0)
CROWDING_WEIGHTS = (0.0, 2.0, 4.0, 6.0, 8.0, 12.0)
CROWDING_FLOORS = (0.5, 0.55, 0.6, 0.65)
MARGIN_FLOORS = (0.0, 0.05)
BARS = tuple(np.round(np.arange(0.30, 2.50, 0.01), 2))
REUSE = CACHE_DIR / "calibrate_devsets.pkl"


@dataclass
class Row:
    """One message: the features of its best match that no threshold changes."""

    score: float
    margin_to: float | None  # score of the best different answer, None without one
    coverage: float
    foreign: bool  # other products named, or the topic ruled out: never sent
    semantic: bool
    trusted: bool
    right: bool
    group: str  # in_scope | near_miss | oos (chit-chat, general, public out of scope)
    # For analysis: the separate signals and whether each alone ranks the best match first.
    semantic_value: float = 0.0
    lexical_value: float = 0.0
    answer_value: float = 0.0
    agrees: bool = False
    share: float = 1.0
    crowding: float = 0.0


def _rows(asked_matches: list[tuple[list[Match], bool, str]]) -> list[Row]:
    rows = []
    for matches, right, group in asked_matches:
        if not matches:
            rows.append(Row(0.0, None, 0.0, False, False, True, False, group))
            continue
        top = matches[0]
        seen = evidence(top, matches[1:], Thresholds())
        rows.append(
            Row(
                top.score,
                seen.rival.score if seen.rival is not None else None,
                top.coverage,
                bool(top.foreign or top.ruled_out),
                top.semantic is not None,
                top.entry.confidence >= Thresholds().min_confidence,
                right,
                group,
                top.semantic or 0.0,
                top.lexical or 0.0,
                top.answer_semantic or 0.0,
                _agrees(top, matches[1:]),
                seen.share,
                top.crowding or 0.0,
            )
        )
    return rows


def _agrees(top: Match, others: list[Match]) -> bool:
    """The best match is also first by the embedding alone and by the wording alone."""
    sem, lex = top.semantic or 0.0, top.lexical or 0.0
    return all((m.semantic or 0.0) <= sem and (m.lexical or 0.0) <= lex for m in others)


async def collect(data_dir: Path) -> dict[str, dict[str, list[Row]]]:
    """{mode: {set name: rows}} for the dev sets (both conditions) and the public val splits."""
    minilm = CachedMiniLM()
    embedder = FunctionEmbedder("all-minilm", minilm)
    found: dict[str, dict[str, list[Row]]] = {"hybrid": {}, "lexical": {}}
    try:
        for mode in found:
            for name in devsets.NAMES:
                d = devsets.load(name)
                for condition, learned in (("one", False), ("+2 learned", True)):
                    asked = await ask_devset(d, embedder if mode == "hybrid" else None, learned=learned)
                    items = [
                        (a.matches, bool(a.topics) and a.topics[0] in a.expected, _group(a.group))
                        for a in asked
                        if a.group not in ("multi", "long")
                    ]
                    found[mode][f"{name} / {condition}"] = _rows(items)
            for name in datasets.NAMES:
                val, intents = await ask_all(datasets.load(name, data_dir), "val", embedder, mode)
                items = [
                    (
                        q.matches,
                        bool(q.matches) and intents[q.matches[0].entry.id] == q.intent,
                        "in_scope" if q.intent is not None else "oos",
                    )
                    for q in val
                ]
                found[mode][name] = _rows(items)
    finally:
        minilm.save()
    return found


def _group(group: str) -> str:
    return group if group in ("in_scope", "near_miss") else "oos"


def _arrays(rows: list[Row]) -> dict[str, np.ndarray]:
    return {
        "score": np.array([r.score for r in rows]),
        "rival": np.array([r.margin_to if r.margin_to is not None else 0.0 for r in rows]),
        "coverage": np.array([r.coverage for r in rows]),
        "allowed": np.array([not r.foreign and r.trusted for r in rows]),
        "semantic": np.array([r.semantic for r in rows]),
        "sem": np.array([r.semantic_value for r in rows]),
        "lex": np.array([r.lexical_value for r in rows]),
        "ans": np.array([r.answer_value for r in rows]),
        "agrees": np.array([r.agrees for r in rows]),
        "share": np.array([r.share for r in rows]),
        "crowding": np.array([r.crowding for r in rows]),
        "right": np.array([r.right for r in rows]),
        "in_scope": np.array([r.group == "in_scope" for r in rows]),
        "near_miss": np.array([r.group == "near_miss" for r in rows]),
    }


def _confidence(
    a: dict[str, np.ndarray], mw: float, cw: float, sw: float = 0.0, kw: float = 0.0, floor: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence minus the crowding rise of the bar (the same comparison as decide's), and the margin."""
    margin = a["score"] - a["rival"]
    crowded = kw * np.maximum(0.0, a["crowding"] - floor)
    return a["score"] + mw * margin + cw * a["coverage"] + sw * (a["share"] - 1) - crowded, margin


@dataclass
class Outcome:
    precision: float
    coverage: float
    sent: int
    wrong: int
    near_miss: int


def _outcome(a: dict[str, np.ndarray], send: np.ndarray) -> Outcome:
    sent = int(send.sum())
    right = int((send & a["right"]).sum())
    return Outcome(
        right / sent if sent else 1.0,
        right / max(1, int(a["in_scope"].sum())),
        sent,
        sent - right,
        int((send & a["near_miss"]).sum()),
    )


def search_direct(
    per_set: dict[str, dict[str, np.ndarray]],
    tune: list[str],
    *,
    weights: tuple | None = None,
    grid_of: dict[str, tuple[float, ...]] | None = None,
) -> tuple[dict, dict[str, Outcome]]:
    """Best (margin, coverage, share and crowding weights, crowding floor, margin floor, bar) for direct
    answers on the `tune` sets (with the weights fixed to `weights` if given)."""
    best: tuple = (-1.0,)
    g = grid_of or {}
    grid = (
        itertools.product(
            g.get("margin", MARGIN_WEIGHTS),
            g.get("coverage", COVERAGE_WEIGHTS),
            g.get("share", SHARE_WEIGHTS),
            g.get("crowding", CROWDING_WEIGHTS),
            CROWDING_FLOORS,
        )
        if weights is None
        else [weights]
    )
    for (mw, cw, sw, kw, cf), floor in itertools.product(list(grid), MARGIN_FLOORS):
        if kw == 0 and cf != CROWDING_FLOORS[0]:
            continue
        conf = {}
        for name, a in per_set.items():
            c, margin = _confidence(a, mw, cw, sw, kw, cf)
            conf[name] = (c, a["allowed"] & (margin >= floor))
        for bar in BARS:
            outcomes = {name: _outcome(per_set[name], ok & (c >= bar)) for name, (c, ok) in conf.items()}
            if not all(_meets(name, o) for name, o in outcomes.items() if name in tune):
                continue
            dev = [o.coverage for name, o in outcomes.items() if name in tune and "/" in name]
            public = [o.coverage for name, o in outcomes.items() if name in tune and "/" not in name]
            key = (float(np.mean(dev)) if dev else 0.0, float(np.mean(public)) if public else 0.0, -bar)
            if key > best[:3]:
                best = (
                    *key,
                    {
                        "margin_weight": mw,
                        "coverage_weight": cw,
                        "share_weight": sw,
                        "crowding_weight": kw,
                        "crowding_floor": cf,
                        "margin_floor": floor,
                        "direct": float(bar),
                    },
                    outcomes,
                )
            break  # higher bars only lose coverage for these weights
    if best[0] < 0:
        return {}, {}
    return best[3], best[4]


def _meets(name: str, o: Outcome) -> bool:
    if "/" in name:  # a dev set condition
        return o.precision >= DEV_PRECISION and o.near_miss == 0
    return o.precision >= PUBLIC_PRECISION[name]


def search_fallback(
    per_set: dict[str, dict[str, np.ndarray]], t: Thresholds, direct_bar: float, tune: list[str]
) -> tuple[float, dict[str, tuple[Outcome, Outcome]]]:
    """Lowest fallback bar whose FALLBACK route and model-down total keep FALLBACK_PRECISION on `tune`."""
    for bar in BARS:
        outcomes = {}
        for name, a in per_set.items():
            c, margin = _confidence(
                a, t.margin_weight, t.coverage_weight, t.share_weight, t.crowding_weight, t.crowding_floor
            )
            direct = a["allowed"] & (c >= direct_bar) & (margin >= t.margin_floor)
            fallback = a["allowed"] & ~direct & (c >= bar)
            outcomes[name] = (_outcome(a, fallback), _outcome(a, direct | fallback))
        if all(
            f.precision >= FALLBACK_PRECISION and d.precision >= FALLBACK_PRECISION
            for n, (f, d) in outcomes.items()
            if n in tune
        ):
            return float(bar), outcomes
    return 9.0, {}


def choose(found: dict[str, dict[str, list[Row]]], tune_dev: list[str]) -> tuple[Thresholds, list[str]]:
    report: list[str] = []
    hybrid = {name: _arrays(rows) for name, rows in found["hybrid"].items()}
    lexical = {name: _arrays(rows) for name, rows in found["lexical"].items()}
    tune = [n for n in hybrid if "/" not in n or n.split(" / ")[0] in tune_dev]
    params, outcomes = search_direct(hybrid, tune)
    if not params:
        report.append("hybrid: no setting meets the constraints; direct answers off")
        params = {"direct": 9.0}
    t = replace(Thresholds(), **params)
    fallback, fb = search_fallback(hybrid, t, t.direct, tune)
    t = replace(t, fallback=fallback)
    report.append(f"hybrid direct: {params}; fallback bar {fallback}")
    for name, o in outcomes.items():
        down = fb.get(name)
        held = "" if name in tune else "  (held out)"
        report.append(
            f"  {name:24} direct precision {o.precision:.3f} coverage {o.coverage:.3f} sent {o.sent} wrong {o.wrong} "
            f"near-miss {o.near_miss}"
            + (
                f" | fallback {down[0].precision:.3f} ({down[0].sent}) model-down {down[1].precision:.3f} "
                f"({down[1].sent})"
                if down is not None
                else ""
            )
            + held
        )
    # Keyword search only: the same weights; its own bars (the scores are on another scale).
    weights = (t.margin_weight, t.coverage_weight, t.share_weight, t.crowding_weight, t.crowding_floor)
    lex_params, lex_outcomes = search_direct(lexical, [n for n in lexical if n in tune], weights=weights)
    lex_direct = lex_params.get("direct", 9.0) if lex_params else 9.0
    lex_fallback, lex_fb = search_fallback(lexical, t, lex_direct, [n for n in lexical if n in tune])
    t = replace(t, lexical_direct=lex_direct, lexical_fallback=lex_fallback)
    report.append(f"lexical: direct {lex_params or 'off'}; fallback {lex_fallback}")
    for name, (f, d) in lex_fb.items():
        lex = lex_outcomes.get(name)
        direct = f"direct {lex.precision:.3f} coverage {lex.coverage:.3f} ({lex.sent}) | " if lex else ""
        report.append(
            f"  {name:24} {direct}fallback {f.precision:.3f} ({f.sent}) model-down {d.precision:.3f} ({d.sent})"
        )
    return t, report


NO_VETO = "no other-product veto"
# Each variant's grid (search_direct's grid_of); the veto is taken out by name.
ABLATIONS: dict[str, dict[str, tuple[float, ...]]] = {
    "shipped": {},
    NO_VETO: {},
    "no margin term": {"margin": (0.0,)},
    "no coverage term": {"coverage": (0.0,)},
    "no share term": {"share": (0.0,)},
    "no crowding term": {"crowding": (0.0,)},
}


def ablate(found: dict[str, dict[str, list[Row]]], tune_dev: list[str]) -> list[str]:
    """Re-calibrate with one signal taken out at a time: what each one buys under the same constraints."""
    lines = ["| variant | " + " | ".join(found["hybrid"]) + " |", "|---|" + "---|" * len(found["hybrid"])]
    for name, change in ABLATIONS.items():
        hybrid = {n: _arrays(rows) for n, rows in found["hybrid"].items()}
        if name == NO_VETO:
            for n, rows in found["hybrid"].items():
                hybrid[n]["allowed"] = np.array([r.trusted for r in rows])
        tune = [n for n in hybrid if "/" not in n or n.split(" / ")[0] in tune_dev]
        params, outcomes = search_direct(hybrid, tune, grid_of=change)
        if not params:
            lines.append(f"| {name} | " + " | ".join("no bar meets the constraints" for _ in hybrid) + " |")
            continue
        cells = [f"{o.precision:.3f} / {o.coverage:.2f} ({o.near_miss} nm)" for o in outcomes.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=datasets.DEFAULT_DATA)
    parser.add_argument("--tune", nargs="*", default=list(devsets.NAMES), help="dev sets to tune on (others held out)")
    parser.add_argument("--reuse", action="store_true", help=f"reuse the matches saved in {REUSE}")
    parser.add_argument("--ablate", action="store_true", help="also re-calibrate with each signal taken out")
    parser.add_argument(
        "--no-answers", action="store_true", help="search without the answers' vectors (answer weight 0)"
    )
    args = parser.parse_args()
    reuse = REUSE
    if args.no_answers:
        from memory import guild_index

        guild_index.ANSWER_WEIGHT = 0.0
        reuse = REUSE.with_name("calibrate_devsets_no_answers.pkl")
    logging.basicConfig(level=logging.WARNING)
    if args.reuse and reuse.exists():
        found = pickle.loads(reuse.read_bytes())
    else:
        found = asyncio.run(collect(args.data))
        reuse.parent.mkdir(parents=True, exist_ok=True)
        reuse.write_bytes(pickle.dumps(found))
    chosen, report = choose(found, args.tune)
    print("\n".join(report))
    print("chosen:", chosen)
    if args.ablate:
        print("\n".join(["", "precision / coverage (near misses answered) at each variant's own best bar:"]))
        print("\n".join(ablate(found, args.tune)))


if __name__ == "__main__":
    main()
