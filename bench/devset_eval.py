"""How often the decision sends a saved answer, and how often it is right, on the realistic dev sets.

    python -m bench.devset_eval                   # both dev sets, real all-MiniLM-L6-v2, default Thresholds()
    python -m bench.devset_eval --offline         # hashed n-gram vectors: quick smoke run, no model
    python -m bench.devset_eval --embed-url http://127.0.0.1:11435   # vectors over HTTP via the bot's client
    python -m bench.devset_eval --embedder e5     # another model: multilingual-e5-small (or mpnet)
    python -m bench.devset_eval --lexical         # no embeddings (keyword search only, as when they are down)
    python -m bench.devset_eval --verbose         # also list every wrong direct / fallback answer
    python -m bench.devset_eval --no-things brightwave   # without the everyday-things veto (its cost)

Each dev set (bench/devsets/) is trained into a real TrainedMemory (SQLite file): one entry per topic
with its trained question ("one phrasing"), then the same with the topic's two learned phrasings added
as alternates ("+2 learned"). Every user message is searched as the bot searches a ticket message
(find_similar_many, k=5) and given to a decide-like callable.

Reuse for calibration: `asked = await ask_devset(devset, embedder, learned=True)` once, then
`score_devset(asked, decider(Thresholds(...)))` (or any `(matches, llm_available) -> Decision`) as often
as needed: scoring is pure and takes milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.runtime import LLMEmbedder
from app.schema import open_app_database
from bench import datasets, generate_phrasings
from bench import devset as devsets
from bench.devset import DevSet
from bench.embedders import ENCODERS, CachedMiniLM, cached, hashed
from bench.harness import FunctionEmbedder, _fast_writes
from memory.decision import MAX_CONFIDENCE, Decision, Route, Thresholds, decide
from memory.generated import PhrasingGenerator
from memory.models import Embedder, Match
from memory.segments import find_per_question
from memory.store import TrainedMemory

log = logging.getLogger(__name__)

GUILD = 1
K = 5  # what the answer pipeline retrieves (AnswerPipeline.knowledge_k)
BASELINE = Path(__file__).resolve().parent / "devsets" / "BASELINE.md"

DecideFn = Callable[[list[Match], bool], Decision]


def decider(thresholds: Thresholds) -> DecideFn:
    """The shipped decision at `thresholds`, in the shape score_devset takes."""
    return lambda matches, llm_available: decide(matches, llm_available=llm_available, thresholds=thresholds)


def without_things(decide_fn: DecideFn) -> DecideFn:
    """`decide_fn` with the everyday-things veto taken out (memory/things.py): what the veto costs and buys."""
    return lambda matches, llm_available: decide_fn(
        [dataclasses.replace(m, other_things=()) for m in matches], llm_available
    )


@dataclass
class Asked:
    """One user message and what the memory found for it.

    `expected` holds the topic ids that would be right answers: one for a test phrasing, several for a
    multi-question message, none for an out-of-scope message."""

    text: str
    group: str  # "in_scope" | "near_miss" | "chitchat" | "general" | "multi" | "long"
    expected: tuple[str, ...]
    matches: list[Match]
    topics: list[str] = field(default_factory=list)  # topic id of each match, same order
    # Multi-question and long messages: memory.segments.find_per_question, (matches, their topic ids)
    # for each question found in the message.
    questions: list[tuple[list[Match], list[str]]] = field(default_factory=list)


async def ask_devset(
    devset: DevSet, embedder: Embedder | None, *, learned: bool, generated: bool = False, workdir: Path | None = None
) -> list[Asked]:
    """Train `devset` into a fresh memory (with the learned phrasings as alternates if `learned`, and
    the phrasings the real model proposed, bench/devsets/generated/, through the bot's own filter if
    `generated`) and search every message of it."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        db = await open_app_database(Path(tmp) / "devset.db")
        try:
            memory = TrainedMemory(db, embedder)
            topic_of: dict[int, str] = {}
            async with _fast_writes(db):
                for t in devset.topics:
                    alternates = t.learned if learned else ()
                    entry = await memory.add(GUILD, t.question, t.answer, t.category, alternates, embed=False)
                    topic_of[entry.id] = t.id
            if embedder is not None:
                await memory.reembed_stale(GUILD)
                await memory.calibrate()  # the bot measures the model's scale at start-up (TrainedMemory.warm)
            if generated:
                await add_generated(memory, devset, list(topic_of))
            messages = _messages(devset)
            asked = []
            for text, group, expected in messages:
                matches = await memory.find_similar_many(GUILD, [text], k=K)
                asked.append(Asked(text, group, expected, matches, [topic_of[m.entry.id] for m in matches]))
                if group in ("multi", "long"):
                    for q in await find_per_question(memory, GUILD, text, k=K):
                        asked[-1].questions.append((q.matches, [topic_of[m.entry.id] for m in q.matches]))
        finally:
            await db.close()
    return asked


async def add_generated(memory: TrainedMemory, devset: DevSet, entry_ids: Sequence[int]) -> None:
    """Store each topic's generated phrasings as the bot would after /train: the cached reply of the
    real model (bench/generate_phrasings.py) parsed and filtered by memory.generated, entry by entry."""
    replies = {t.question: r for t in devset.topics if (r := generated_replies(devset.name).get(t.id)) is not None}
    missing = [t.id for t in devset.topics if t.question not in replies]
    if missing:
        raise SystemExit(f"{devset.name}: no generated phrasings for {missing}; run python -m bench.generate_phrasings")

    async def cached(messages: list[dict[str, str]]) -> str:
        return replies[messages[-1]["content"].removeprefix("Rewrite: ")]

    generator = PhrasingGenerator(memory, cached, generate_phrasings.MODEL)
    for entry_id in entry_ids:
        await generator.generate(GUILD, entry_id)


def generated_replies(name: str) -> dict[str, str]:
    return generate_phrasings.load(name)


def _messages(d: DevSet) -> list[tuple[str, str, tuple[str, ...]]]:
    rows: list[tuple[str, str, tuple[str, ...]]] = [(text, "in_scope", (t.id,)) for t in d.topics for text in t.tests]
    rows += [(o.text, o.kind, ()) for o in d.out_of_scope]
    rows += [(m.text, "multi", m.topics) for m in d.multi]
    rows += [(m.text, "long", m.topics) for m in d.long]
    return rows


@dataclass
class Score:
    in_scope: int = 0
    top1: float = 0.0
    recall3: float = 0.0
    recall5: float = 0.0
    # Direct saved answers (LLM available): over in-scope and out-of-scope messages.
    direct_sent: int = 0
    direct_right: int = 0
    near_miss: int = 0
    near_miss_direct: int = 0
    other_oos: int = 0  # chit-chat and general
    other_oos_direct: int = 0
    # Model down: FALLBACK route alone, and everything sent (ANSWER + FALLBACK).
    fallback_sent: int = 0
    fallback_right: int = 0
    down_sent: int = 0
    down_right: int = 0
    # Multi-question and long messages.
    multi: int = 0
    multi_all_in_top5: int = 0
    multi_direct_right: int = 0
    multi_direct_wrong: int = 0
    long: int = 0
    long_top1: int = 0
    long_in_top5: int = 0
    long_direct_right: int = 0
    long_direct_wrong: int = 0
    # The same, searched per question (memory.segments.find_per_question): topics found first for one
    # of the message's questions, and direct answers (one per question, an entry counted once).
    multi_topics: int = 0
    multi_topics_first: int = 0
    multi_q_right: int = 0
    multi_q_wrong: int = 0
    long_q_first: int = 0
    long_q_in_top5: int = 0
    long_q_right: int = 0
    long_q_wrong: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.direct_right / self.direct_sent if self.direct_sent else 1.0

    @property
    def coverage(self) -> float:
        return self.direct_right / self.in_scope if self.in_scope else 0.0

    @property
    def fallback_precision(self) -> float:
        return self.fallback_right / self.fallback_sent if self.fallback_sent else 1.0

    @property
    def down_precision(self) -> float:
        return self.down_right / self.down_sent if self.down_sent else 1.0


def score_devset(asked: Sequence[Asked], decide_fn: DecideFn) -> Score:
    """Pure: the metrics of one decision over messages already searched by ask_devset."""
    s = Score()
    for a in asked:
        up = decide_fn(a.matches, True)
        down = decide_fn(a.matches, False)
        if a.group in ("multi", "long"):
            _composite(s, a, up)
            _per_question(s, a, decide_fn)
            continue
        in_scope = a.group == "in_scope"
        if in_scope:
            s.in_scope += 1
            s.top1 += bool(a.topics) and a.topics[0] in a.expected
            s.recall3 += any(t in a.expected for t in a.topics[:3])
            s.recall5 += any(t in a.expected for t in a.topics[:5])
        elif a.group == "near_miss":
            s.near_miss += 1
        else:
            s.other_oos += 1
        if up.route is Route.ANSWER:
            right = _right(a, up)
            s.direct_sent += 1
            s.direct_right += right
            s.near_miss_direct += a.group == "near_miss"
            s.other_oos_direct += a.group not in ("in_scope", "near_miss")
            if not right:
                s.wrong.append(_describe("direct", a, up))
        if down.route in (Route.ANSWER, Route.FALLBACK):
            right = _right(a, down)
            s.down_sent += 1
            s.down_right += right
            if down.route is Route.FALLBACK:
                s.fallback_sent += 1
                s.fallback_right += right
                if not right:
                    s.wrong.append(_describe("fallback", a, down))
    if s.in_scope:
        s.top1, s.recall3, s.recall5 = (x / s.in_scope for x in (s.top1, s.recall3, s.recall5))
    return s


def _per_question(s: Score, a: Asked, decide_fn: DecideFn) -> None:
    firsts = {topics[0] for _, topics in a.questions if topics}
    answered: dict[str, bool] = {}
    for matches, topics in a.questions:
        decision = decide_fn(matches, True)
        if decision.route is Route.ANSWER and decision.match is not None:
            topic = topics[[m.entry.id for m in matches].index(decision.match.entry.id)]
            answered[topic] = topic in a.expected
            if topic not in a.expected:
                s.wrong.append(f"question {topic!s:22} want {','.join(a.expected):22} {a.text[:60]!r}")
    right, wrong = sum(answered.values()), sum(not v for v in answered.values())
    if a.group == "multi":
        s.multi_topics += len(a.expected)
        s.multi_topics_first += sum(t in firsts for t in a.expected)
        s.multi_q_right += right
        s.multi_q_wrong += wrong
    else:
        s.long_q_first += any(t in firsts for t in a.expected)
        s.long_q_in_top5 += any(t in topics[:5] for _, topics in a.questions for t in a.expected)
        s.long_q_right += right
        s.long_q_wrong += wrong


def _composite(s: Score, a: Asked, up: Decision) -> None:
    top5 = set(a.topics[:5])
    if a.group == "multi":
        s.multi += 1
        s.multi_all_in_top5 += all(t in top5 for t in a.expected)
    else:
        s.long += 1
        s.long_top1 += bool(a.topics) and a.topics[0] in a.expected
        s.long_in_top5 += any(t in top5 for t in a.expected)
    if up.route is Route.ANSWER:
        right = _right(a, up)
        if a.group == "multi":
            s.multi_direct_right += right
            s.multi_direct_wrong += not right
        else:
            s.long_direct_right += right
            s.long_direct_wrong += not right
        if not right:
            s.wrong.append(_describe("direct", a, up))


def _topic_of(a: Asked, decision: Decision) -> str | None:
    if decision.match is None:
        return None
    return a.topics[[m.entry.id for m in a.matches].index(decision.match.entry.id)]


def _right(a: Asked, decision: Decision) -> bool:
    return _topic_of(a, decision) in a.expected


def _describe(kind: str, a: Asked, decision: Decision) -> str:
    want = ",".join(a.expected) or a.group
    text = a.text if len(a.text) <= 90 else a.text[:87] + "..."
    score = decision.match.score if decision.match else 0.0
    return f"{kind:8} want {want:22} got {_topic_of(a, decision)!s:22} score {score:.2f}  {text!r}"


TABLE_HEAD = (
    "| dev set | phrasings | top-1 | recall@3 | recall@5 | direct precision | direct coverage | direct sent (wrong) "
    "| near-miss answered | chit-chat/general answered | fallback precision (sent) | model-down precision (sent) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)
COMPOSITE_HEAD = (
    "| dev set | phrasings | multi, whole message: all topics in top 5 | direct right / wrong "
    "| multi, per question: topics first for a question | direct right / wrong "
    "| long, head: top-1 | a topic in top 5 | direct right / wrong "
    "| long, per question: a topic first | in top 5 | direct right / wrong |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def table_row(name: str, condition: str, s: Score) -> str:
    wrong = s.direct_sent - s.direct_right
    return (
        f"| {name} | {condition} | {s.top1:.2f} | {s.recall3:.2f} | {s.recall5:.2f} | {s.precision:.2f} "
        f"| {s.coverage:.2f} | {s.direct_sent} ({wrong}) | {s.near_miss_direct}/{s.near_miss} "
        f"({s.near_miss_direct / max(1, s.near_miss):.0%}) | {s.other_oos_direct}/{s.other_oos} "
        f"| {s.fallback_precision:.2f} ({s.fallback_sent}) | {s.down_precision:.2f} ({s.down_sent}) |"
    )


def composite_row(name: str, condition: str, s: Score) -> str:
    return (
        f"| {name} | {condition} | {s.multi_all_in_top5}/{s.multi} | {s.multi_direct_right} / {s.multi_direct_wrong} "
        f"| {s.multi_topics_first}/{s.multi_topics} | {s.multi_q_right} / {s.multi_q_wrong} "
        f"| {s.long_top1}/{s.long} | {s.long_in_top5}/{s.long} | {s.long_direct_right} / {s.long_direct_wrong} "
        f"| {s.long_q_first}/{s.long} | {s.long_q_in_top5}/{s.long} | {s.long_q_right} / {s.long_q_wrong} |"
    )


# (name, learned phrasings, generated phrasings)
CONDITIONS = (
    ("one", False, False),
    ("+2 learned", True, False),
    ("one + generated", False, True),
    ("+2 learned + generated", True, True),
)


async def run(names: Sequence[str], embedder: Embedder | None, decide_fn: DecideFn, verbose: bool) -> list[str]:
    main_rows, composite_rows = [TABLE_HEAD], [COMPOSITE_HEAD]
    for name in names:
        d = devsets.load(name)
        for condition, learned, generated in CONDITIONS:
            if generated and (embedder is None or not generated_replies(d.name)):
                continue  # generated phrasings are only stored when they can be checked with vectors
            s = score_devset(await ask_devset(d, embedder, learned=learned, generated=generated), decide_fn)
            main_rows.append(table_row(d.name, condition, s))
            composite_rows.append(composite_row(d.name, condition, s))
            if verbose:
                print(f"\n{d.name} / {condition}: wrong answers sent")
                print("\n".join(f"  {w}" for w in s.wrong) or "  (none)")
    return ["\n".join(main_rows), "", "\n".join(composite_rows)]


class _HttpEmbedder:
    """The bot's own Ollama client against an embedding server (bench/serve_embeddings.py)."""

    def __init__(self, url: str, model: str) -> None:
        self.url, self.model = url, model

    async def __aenter__(self) -> Embedder:
        import aiohttp

        from ai.factory import create_llm_client
        from app.settings import default_llm_settings

        self.session = aiohttp.ClientSession()
        client = create_llm_client(
            default_llm_settings(base_url=self.url, model="none", embed_model=self.model), self.session
        )
        return LLMEmbedder(client)

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()


RESULTS = Path(__file__).resolve().parent / "devsets" / "RESULTS.md"
HELD_OUT = ("halden", "brightwave", "emberfall")
KEEP_MARKER = "<!-- written by hand below; kept by --results -->"


async def results(data_dir: Path) -> str:
    """bench/devsets/RESULTS.md: every dev set (the held-out one apart), hybrid and keyword-only, and the
    public test splits, at the shipped thresholds."""
    t = Thresholds()
    minilm = CachedMiniLM()
    embedder = FunctionEmbedder("all-minilm", minilm)
    decide_fn = decider(t)
    parts = [
        "# Dev sets: the shipped decision",
        "",
        "Written by `python -m bench.devset_eval --results` (real all-MiniLM-L6-v2, hybrid search as the bot",
        f"runs it, `Thresholds()`: direct when score + {t.margin_weight} x margin + {t.coverage_weight} x coverage",
        f">= {t.direct} (>= {t.agreed_direct} when every signal ranks the entry first through its own question),",
        f"fallback {t.fallback} (the same); keyword-only bars {t.lexical_direct} / {t.lexical_fallback}, above",
        f"{MAX_CONFIDENCE:.1f} = never). Calibrated by `python -m bench.calibrate_devsets` on Starfall and",
        "Harborline with the public val splits (the agreement bar by hand, see below); Halden, Brightwave and",
        "Emberfall were held out (each written before any measurement on it).",
        '"+ generated": the phrasings a real Qwen2.5 0.5B proposed for each trained question',
        "(bench/devsets/generated/), filtered by memory/generated.py as the bot does; hybrid search only.",
        "",
    ]
    try:
        for title, names in (("Tuning sets", devsets.NAMES), ("Held out", HELD_OUT)):
            for mode, emb in (("hybrid", embedder), ("keyword search only (embeddings down)", None)):
                parts += [f"## {title}: {mode}", ""]
                parts += await run(names, emb, decide_fn, verbose=False)
                parts.append("")
    finally:
        minilm.save()
    from bench import retrieval

    parts += ["## Public benchmarks (test splits, 3 stored questions per intent)", ""]
    parts += await retrieval.quality(data_dir, offline=False)
    return "\n".join(parts) + "\n"


async def _main_async(args: argparse.Namespace) -> list[str]:
    thresholds = Thresholds()
    decide_fn = decider(thresholds)
    if args.no_things:
        decide_fn = without_things(decide_fn)
    if args.embed_url:
        async with _HttpEmbedder(args.embed_url, "all-minilm") as embedder:
            return await run(args.names, embedder, decide_fn, args.verbose)
    if args.lexical:
        return await run(args.names, None, decide_fn, args.verbose)
    if args.offline:
        return await run(args.names, FunctionEmbedder("hashed", hashed, native_scale=True), decide_fn, args.verbose)
    fn = cached(args.embedder)
    try:
        embedder = FunctionEmbedder(fn.model, fn, native_scale=args.native_scale)
        return await run(args.names, embedder, decide_fn, args.verbose)
    finally:
        fn.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=list(devsets.NAMES), help="dev sets (default: all)")
    parser.add_argument("--offline", action="store_true", help="hashed n-gram vectors instead of MiniLM")
    parser.add_argument(
        "--embedder", choices=sorted(ENCODERS), default="minilm", help="the real embedding model (bench/embedders.py)"
    )
    parser.add_argument(
        "--native-scale", action="store_true", help="the model's cosines as they are (EMBED_SCALE=native), not mapped"
    )
    parser.add_argument("--lexical", action="store_true", help="no embeddings: keyword search, as when they are down")
    parser.add_argument("--embed-url", help="get vectors over HTTP from this Ollama-compatible server")
    parser.add_argument("--no-things", action="store_true", help="without the everyday-things veto (memory/things.py)")
    parser.add_argument("--verbose", action="store_true", help="list the wrong answers sent")
    parser.add_argument("--results", action="store_true", help=f"write {RESULTS.name} (all sets, public test splits)")
    parser.add_argument("--data", type=Path, default=datasets.DEFAULT_DATA, help="folder holding benchmarks/")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.results:
        # What follows the marker (analysis written by hand) survives a new run.
        kept = RESULTS.read_text(encoding="utf-8").partition(KEEP_MARKER)[2] if RESULTS.exists() else ""
        text = asyncio.run(results(args.data))
        RESULTS.write_text(text + (f"\n{KEEP_MARKER}{kept}" if kept else ""), encoding="utf-8")
        print(text)
        return
    print("\n".join(asyncio.run(_main_async(args))))


if __name__ == "__main__":
    main()
