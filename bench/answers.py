"""The whole answer path on the dev sets with a real small model; not for CI.

    python -m bench.answers run --out rows.jsonl          # the 63-message sample (about 15 minutes)
    python -m bench.answers run --in-scope 6 --oos 4 --chitchat 0    # a quick look
    python -m bench.answers summary rows.jsonl            # re-judge and print saved rows
    python -m bench.answers run --devsets halden --in-scope 20 --oos 8 --chitchat 0   # the held-out set
    python -m bench.answers run --rules fewshot           # the reply rules with two examples (not shipped)

Needs the model and embedding servers of bench/REAL_LLM_SETUP.md (`bash bench/start_real_llm.sh`).

**Sample** (fixed seed): 40 in-scope user messages (20 per dev set, from the topics' test phrasings),
15 out-of-scope ones (near misses and general questions, 8 + 7) and 8 chit-chat messages (4 + 4).

**Path**: the bot's own answer pipeline, `tickets/answering.py` `AnswerPipeline.answer` (what a ticket
message goes through), into a sink that records every text a user would have seen, edits included.
Each dev set is trained into a real TrainedMemory (SQLite file, one phrasing per topic, real
all-MiniLM-L6-v2 vectors from the embedding server through the bot's own client). In the pipeline:
ai/chitchat.py (chit-chat gets a canned reply, no model) → memory/segments.py `find_per_question`
(k=5) → memory/decision.py `decide_each` → a saved answer directly, or the LLM route: ai/reply.py
`answer_with_model`: ai/prompt.py `select_knowledge` (best 3 above the floor, off-topic ones dropped;
none → staff without the model) → `build_prompt` → the Ollama client `chat_stream` → ai/delivery.py
`deliver_stream` with an ai/guards.py `StreamGuard`; a rejected reply ends as the hand-off text.

**Judging** (bench/judge.py, no second model), on every text shown (streamed edits too):
- in scope: *correct* = all the topic's key facts present; *wrong topic* = a key fact of another topic
  that the expected answer does not contain; *invented* = a link, e-mail, slash command or menu path
  found in neither the notes nor the message; *echo* = our prompt's markup; *incomplete* = none of
  these but not every key fact; *declined* = handed to staff (the honest outcome when unsure).
- out of scope: *declined* = handed to staff; anything shown as an answer is a failure.
- "unsure" replies: every UNSURE/FAILED verdict must take the staff route (the pipeline's outcome
  route is checked); an *answered* reply that reads like a refusal (judge.declined) is counted as a leak.
Heuristic: a fact in other words counts as missing. Read the rows before trusting a small difference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp

from ai import prompt
from ai.factory import create_llm_client
from ai.guards import Verdict
from app.runtime import LLMEmbedder
from app.schema import open_app_database
from app.settings import default_llm_settings
from bench import devset as devsets
from bench.judge import _DECLINE as DECLINE
from bench.judge import echo as judge_echo
from bench.judge import judge
from memory.decision import Route, Thresholds, evidence
from memory.store import TrainedMemory
from tickets.answering import CHECK_BAR, STAFF_TEXT, AnswerPipeline, AnswerRequest, knowledge_item

# Reply rules to measure against the shipped ones (ai/prompt.py REPLY_RULES), swapped in by --rules.
FEW_SHOT = f"""\
{prompt.REPLY_RULES}
- A note answers the message when it is about the same problem, even if the user describes their situation \
in other words, with typos or without a question mark.

Two examples from a bakery's server, not from this one. The note there said: "How do I change my delivery \
address? Open Orders, pick the order and choose Edit address."
- The message "moved house last week where do i put the new adress" got: {prompt.ANSWER_MARKER}: Open Orders, \
pick the order and choose Edit address.
- The message "how do i change my address on amazon" got: {prompt.UNSURE_MARKER}"""
RULES = {"shipped": prompt.REPLY_RULES, "fewshot": FEW_SHOT}

CHAT_URL = "http://127.0.0.1:11434"
EMBED_URL = "http://127.0.0.1:11435"
MODEL = "qwen2.5:0.5b"
EMBED_MODEL = "all-minilm"
USER_NAME = "mika_07"
GUILD = 1
HANDOFF = STAFF_TEXT.format(what="this", why="")


@dataclass
class Case:
    devset: str
    text: str
    group: str  # in_scope | near_miss | general | chitchat
    expected: tuple[str, ...] = ()


@dataclass
class Row:
    devset: str
    group: str
    message: str
    expected: list[str]
    route: str  # chitchat | answer | llm | staff
    reply: str = ""  # what the user sees at the end
    shown: list[str] = field(default_factory=list)  # every text shown on the way (posts and edits)
    raw: str = ""  # what the model wrote
    verdict: str = ""
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # topic ids of the notes given to the model
    top: list[str] = field(default_factory=list)  # topic ids of the search results
    scores: list[float] = field(default_factory=list)  # their scores
    off_topic: list[str] = field(default_factory=list)  # "topic: why" for results the search ruled out
    knowledge: str = ""  # the notes' text (what "invented" is judged against)
    seconds: float = 0.0
    first_visible: float | None = None
    # The saved-answer check (ai/check.py): the best match's confidence, and the model's yes/no when it
    # was asked (None: not asked). `summary --check-bar` replays the run as if only bars above it asked.
    confidence: float | None = None
    check: bool | None = None
    outcome: str = ""
    flags: list[str] = field(default_factory=list)


class RecordingSink:
    """A MessageSink that keeps every text a user would have seen."""

    def __init__(self, started: float) -> None:
        self.messages: list[str] = []
        self.shown: list[str] = []
        self.started = started
        self.first_visible: float | None = None

    async def send(self, text: str) -> int:
        if self.first_visible is None:
            self.first_visible = time.perf_counter() - self.started
        self.messages.append(text)
        self.shown.append(text)
        return len(self.messages) - 1

    async def edit(self, handle: int, text: str) -> None:
        self.messages[handle] = text
        self.shown.append(text)


def pick(seed: int, in_scope: int, oos: int, chitchat: int, names: Sequence[str] = devsets.NAMES) -> list[Case]:
    """The sample: split as evenly as possible over the dev sets (the first gets the odd one)."""
    rng = random.Random(seed)
    cases: list[Case] = []
    names = list(names)
    for index, name in enumerate(names):
        d = devsets.load(name)

        def share(total: int, index: int = index) -> int:
            return total // len(names) + (1 if index < total % len(names) else 0)

        tests = [Case(name, text, "in_scope", (t.id,)) for t in d.topics for text in t.tests]
        outside = [Case(name, o.text, o.kind) for o in d.out_of_scope if o.kind in ("near_miss", "general")]
        chat = [Case(name, o.text, o.kind) for o in d.out_of_scope if o.kind == "chitchat"]
        for pool, n in ((tests, share(in_scope)), (outside, share(oos)), (chat, share(chitchat))):
            cases += rng.sample(pool, min(n, len(pool)))
    return cases


async def run(args: argparse.Namespace) -> list[Row]:
    names = args.devsets.split(",")
    cases = pick(args.seed, args.in_scope, args.oos, args.chitchat, names)
    prompt.REPLY_RULES = RULES[args.rules]
    rows: list[Row] = []
    async with aiohttp.ClientSession() as session:
        # Long timeouts: on a shared machine the model server may be busy with others' requests first.
        settings = default_llm_settings(
            base_url=args.url, model=MODEL, embed_model=EMBED_MODEL, first_token_timeout=900, chunk_timeout=300,
            total_timeout=1200,
        )  # fmt: skip
        client = create_llm_client(settings, session)
        embed_client = create_llm_client(
            default_llm_settings(base_url=args.embed_url, model=EMBED_MODEL, embed_model=EMBED_MODEL), session
        )
        for name in names:
            mine = [c for c in cases if c.devset == name]
            if not mine:
                continue
            d = devsets.load(name)
            with tempfile.TemporaryDirectory() as tmp:
                db = await open_app_database(Path(tmp) / "answers.db")
                try:
                    memory = TrainedMemory(db, LLMEmbedder(embed_client))
                    topic_of: dict[int, str] = {}
                    for t in d.topics:
                        alternates = t.learned if args.learned else ()
                        entry = await memory.add(GUILD, t.question, t.answer, t.category, alternates, embed=False)
                        topic_of[entry.id] = t.id
                    await memory.reembed_stale(GUILD)
                    await memory.calibrate()
                    pipeline = AnswerPipeline(
                        memory=memory, llm=client, thresholds=Thresholds(), max_context_length=6000,
                        history_messages=16, check_bar=args.check_bar,
                    )  # fmt: skip
                    for case in mine:
                        row = await answer_one(d, case, pipeline, topic_of)
                        judge_row(d, row)
                        rows.append(row)
                        print_row(row)
                finally:
                    await db.close()
    return rows


async def answer_one(d: devsets.DevSet, case: Case, pipeline: AnswerPipeline, topic_of: dict[int, str]) -> Row:
    """One message through the bot's own answer pipeline (tickets/answering.py), as a ticket would."""
    started = time.perf_counter()
    row = Row(d.name, case.group, case.text, list(case.expected), route="")
    sink = RecordingSink(started)
    request = AnswerRequest(
        guild_id=GUILD, question=case.text, history=[], user_name=USER_NAME, server_name=d.server_name,
        category=d.topic(case.expected[0]).category if case.expected else "general",
    )  # fmt: skip
    outcome = await pipeline.answer(request, sink)
    row.seconds = time.perf_counter() - started
    row.reply, row.shown = "\n".join(sink.messages), sink.shown
    row.top = [topic_of[m.entry.id] for m in outcome.matches]
    row.scores = [round(m.score, 3) for m in outcome.matches]
    row.off_topic = [
        f"{topic_of[m.entry.id]}: {knowledge_item(m).off_topic}" for m in outcome.matches if m.foreign or m.ruled_out
    ]
    if outcome.canned:
        row.route = "chitchat"
        return row
    if outcome.matches:
        top = outcome.decision.match or outcome.matches[0]
        if top in outcome.matches:
            others = [m for m in outcome.matches if m is not top]
            row.confidence = round(evidence(top, others, pipeline.thresholds).confidence, 3)
    row.check = outcome.checked
    row.route = outcome.route.value
    if outcome.route in (Route.ANSWER, Route.FALLBACK) and outcome.decision.match is not None:
        entry = outcome.decision.match.entry
        row.notes, row.knowledge = [topic_of[entry.id]], f"{entry.query}\n{entry.response}"
    if outcome.model is not None:
        notes = outcome.model.notes
        row.notes = [topic_of[n.id] for n in notes]
        row.knowledge = "\n".join(f"{n.query}\n{n.response}" for n in notes)
        verdict = outcome.model.delivery.guard
        if verdict is not None:
            row.raw, row.verdict, row.reasons = verdict.raw, str(verdict.verdict), list(verdict.reasons)
        row.first_visible = sink.first_visible if outcome.route is Route.LLM else None
    elif outcome.route is Route.STAFF:
        row.verdict = outcome.decision.reason
    if outcome.llm_error is not None:  # measured as it happened (a fallback or a hand-off), and flagged
        row.reasons = [*row.reasons, f"model error: {outcome.llm_error}"]
    return row


def undo_check(row: Row) -> None:
    """The row as it was before the saved-answer check: the model was unsure, so the hand-off."""
    # What was shown before the check's result (a streamed part the guard took back) stays.
    row.check, row.route, row.reply, row.shown = None, "staff", HANDOFF, [*row.shown[:-1], HANDOFF]
    row.first_visible = None


def judge_row(d: devsets.DevSet, row: Row) -> None:
    """Sets `outcome` and `flags` (see the module docstring)."""
    flags = []
    allowed = row.knowledge + "\n" + row.message
    if any(judge_echo(text) for text in row.shown):
        flags.append("echo")
    if any(judge(text, (), allowed, row.message).invented for text in row.shown if text != HANDOFF):
        flags.append("invented")
    answered = row.route in ("answer", "llm")
    if answered and any(m.group(0).casefold() not in allowed.casefold() for m in DECLINE.finditer(row.reply)):
        flags.append("unsure-as-answer")  # reads like a refusal, in words the notes do not use themselves
    if row.route == "staff" and len(row.shown) > 1:
        flags.append("replaced")  # text was shown, then taken back
    row.flags = flags
    if row.group == "chitchat":
        row.outcome = "canned" if row.route == "chitchat" else ("declined" if row.route == "staff" else "answered")
        return
    if row.group != "in_scope":
        row.outcome = "declined" if row.route == "staff" else "answered"
        return
    if not answered:
        row.outcome = "declined"
        return
    facts = tuple(f for t in row.expected for f in d.topic(t).key_facts)
    v = judge(row.reply, facts, allowed, row.message)
    expected_text = " ".join(d.topic(t).answer for t in row.expected).casefold()
    others = {f for t in d.topics if t.id not in row.expected for f in t.key_facts if f.casefold() not in expected_text}
    other_hit = [f for f in others if f.casefold() in row.reply.casefold()]
    if "echo" in flags:
        row.outcome = "echo"
    elif "invented" in flags:
        row.outcome = "invented"
    elif v.all_facts:
        row.outcome = "correct"
    elif other_hit:
        row.outcome = "wrong topic"
    else:
        row.outcome = "incomplete"


def print_row(r: Row) -> None:
    timing = f" {r.seconds:.0f}s"
    print(f"\n[{r.devset}/{r.group}] {r.route} -> {r.outcome}{timing} want={r.expected} notes={r.notes} {r.flags}")
    print(f"  message: {r.message[:160]!r}")
    if r.raw:
        print(f"  model:   {r.raw[:400]!r}")
        print(f"  verdict: {r.verdict} {r.reasons}")
    print(f"  shown:   {r.reply[:300]!r}", flush=True)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] if values else 0.0


def summary(rows: list[Row]) -> str:
    lines = []
    ins = [r for r in rows if r.group == "in_scope"]
    oos = [r for r in rows if r.group in ("near_miss", "general")]
    chat = [r for r in rows if r.group == "chitchat"]
    outcomes = ("correct", "incomplete", "wrong topic", "invented", "echo", "declined")
    lines.append("| route | messages | " + " | ".join(outcomes) + " | out of scope answered |")
    lines.append("|---|---|" + "---|" * (len(outcomes) + 1))
    for route in ("chitchat", "answer", "llm", "staff"):
        rs = [r for r in rows if r.route == route]
        if not rs:
            continue
        c = Counter(r.outcome for r in rs if r.group == "in_scope")
        wrong_oos = sum(r.outcome == "answered" for r in rs if r.group != "in_scope")
        lines.append(f"| {route} | {len(rs)} | " + " | ".join(str(c[o]) for o in outcomes) + f" | {wrong_oos} |")
    c = Counter(r.outcome for r in ins)
    wrong = c["wrong topic"] + c["invented"] + c["echo"]
    n = max(1, len(ins))
    model_rows = [r for r in rows if r.raw]
    unsure = [r for r in model_rows if r.verdict in (Verdict.UNSURE, Verdict.FAILED)]
    lines += [
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| in scope correct | {c['correct']}/{len(ins)} ({c['correct'] / n:.2f}) | ≥ 0.60 |",
        f"| in scope wrong (wrong topic, invented, echo) | {wrong}/{len(ins)} ({wrong / n:.2f}) | ≤ 0.05 |",
        f"| in scope incomplete (some key facts missing) | {c['incomplete']}/{len(ins)} | |",
        f"| in scope declined, handed to staff | {c['declined']}/{len(ins)} | |",
        f"| out of scope declined and handed to staff | {sum(r.outcome == 'declined' for r in oos)}/{len(oos)} "
        f"({sum(r.outcome == 'declined' for r in oos) / max(1, len(oos)):.0%}) | ≥ 85 % |",
        f"| chit-chat answered without the model | {sum(r.route == 'chitchat' for r in chat)}/{len(chat)} | all |",
        f"| replies showing the prompt or notes' markup (streamed edits included) | "
        f"{sum('echo' in r.flags for r in rows)}/{len(rows)} | 0 |",
        f"| replies showing invented links, e-mails, commands or paths | "
        f"{sum('invented' in r.flags for r in rows)}/{len(rows)} | 0 |",
        f"| unsure/failed verdicts that took the staff route | "
        f"{sum(r.route == 'staff' for r in unsure)}/{len(unsure)} | all |",
        f"| of those, asked about the best saved answer (ai/check.py): yes / asked | "
        f"{sum(r.check is True for r in unsure)}/{sum(r.check is not None for r in unsure)} | |",
        f"| unsure verdicts shown as the model's text | {sum(r.route == 'llm' for r in unsure)} | 0 |",
        f"| answers that read like a refusal (unsure shown as an answer) | "
        f"{sum('unsure-as-answer' in r.flags for r in rows)} | 0 |",
        f"| shown, then replaced by the hand-off | {sum('replaced' in r.flags for r in rows)} | |",
    ]
    if model_rows:
        secs = [r.seconds for r in model_rows]
        first = [r.first_visible for r in model_rows if r.first_visible is not None]
        lines.append(
            f"| seconds per model reply p50 / p90 ({len(model_rows)} replies) | "
            f"{statistics.median(secs):.1f} / {_pct(secs, 0.9):.1f} | |"
        )
        if first:
            lines.append(
                f"| seconds to the first visible text p50 / p90 | "
                f"{statistics.median(first):.1f} / {_pct(first, 0.9):.1f} | |"
            )
        verdicts = Counter(r.verdict for r in model_rows)
        reasons = Counter(x.split(":")[0] for r in model_rows for x in r.reasons[:1])
        lines.append(f"\nmodel verdicts: {dict(verdicts)}; first reasons: {dict(reasons)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="answer the sample with the real model")
    r.add_argument("--url", default=CHAT_URL)
    r.add_argument("--embed-url", default=EMBED_URL)
    r.add_argument("--seed", type=int, default=9)
    r.add_argument("--in-scope", type=int, default=40)
    r.add_argument("--oos", type=int, default=15)
    r.add_argument("--chitchat", type=int, default=8)
    r.add_argument("--learned", action="store_true", help="train the two learned phrasings per topic too")
    r.add_argument("--out", help="write every row as JSON lines")
    r.add_argument("--devsets", default=",".join(devsets.NAMES), help="dev sets to sample (halden: the held-out one)")
    r.add_argument("--rules", choices=sorted(RULES), default="shipped", help="the reply rules the model gets")
    r.add_argument(
        "--check-bar", type=float, default=CHECK_BAR,
        help="confidence from which an unsure model is asked about the best saved answer (ai/check.py); "
        "0 asks on every unsure reply, so that `summary --check-bar` can replay any higher bar",
    )  # fmt: skip
    s = sub.add_parser("summary", help="re-judge rows written by run --out and print the tables")
    s.add_argument("rows")
    s.add_argument("--check-bar", type=float, help="replay the run as if only this bar and above were checked")
    s.add_argument("--no-check", action="store_true", help="replay the run without the saved-answer check")
    args = parser.parse_args()
    if args.command == "summary":
        rows = [Row(**json.loads(line)) for line in Path(args.rows).read_text(encoding="utf-8").splitlines()]
        for row in rows:
            if row.check is not None and (
                args.no_check or (args.check_bar is not None and (row.confidence or 0) < args.check_bar)
            ):
                undo_check(row)
            judge_row(devsets.load(row.devset), row)
        print(summary(rows))
        return
    rows = asyncio.run(run(args))
    if args.out:
        Path(args.out).write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print("\n" + summary(rows))


if __name__ == "__main__":
    main()
