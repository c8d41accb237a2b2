"""Realistic support FAQs for calibrating and measuring the answer pipeline (shape: bench/devsets/README.md).

    python -m bench.devset                 # check every dev set and print its counts
    python -m bench.devset starfall        # one of them (a name in bench/devsets/ or a path)
    python -m bench.devset starfall --export faq.jsonl [--learned]   # as `bot.py train import` reads it

Each dev set is one JSON file: topics (one trained question and answer each, key facts a judge can
check, two "learned" phrasings, user test messages), out-of-scope messages marked by kind,
multi-question messages and long messages.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from memory.models import MAX_QUERY_CHARS, MAX_RESPONSE_CHARS
from memory.text import normalise

DEVSETS_DIR = Path(__file__).resolve().parent / "devsets"
NAMES = ("starfall", "harborline")
OUT_OF_SCOPE_KINDS = ("near_miss", "chitchat", "general")
LEARNED_PER_TOPIC = 2
MIN_TESTS_PER_TOPIC = 4
LONG_CHARS = (1500, 3000)
# Where the first 1,000 characters stop: a long message's question is meant to sit past it.
LONG_QUESTION_AFTER = 1000
_TLDS = {"com", "io", "app", "org", "net", "dev", "gg", "co", "de", "uk", "eu", "fr", "me", "tv", "ai", "us", "info"}
_PLACEHOLDER_HOSTS = ("example.com", "yourdomain.com")
_URL = re.compile(r"\b(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(/[^\s,;)]*)?", re.IGNORECASE)


@dataclass(frozen=True)
class Topic:
    id: str
    category: str
    question: str
    answer: str
    key_facts: tuple[str, ...]
    learned: tuple[str, ...]
    tests: tuple[str, ...]
    confusable_with: tuple[str, ...]


@dataclass(frozen=True)
class OutOfScope:
    text: str
    kind: str  # near_miss | chitchat | general
    near_topic: str | None = None  # for near misses: the in-scope topic whose words it shares


@dataclass(frozen=True)
class Composite:
    """A multi-question or long message and every topic it asks about."""

    text: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class DevSet:
    name: str
    product: str
    server_name: str
    domains: tuple[str, ...]
    topics: tuple[Topic, ...]
    out_of_scope: tuple[OutOfScope, ...]
    multi: tuple[Composite, ...]
    long: tuple[Composite, ...]

    def topic(self, topic_id: str) -> Topic:
        return next(t for t in self.topics if t.id == topic_id)

    def near_misses(self) -> list[OutOfScope]:
        return [o for o in self.out_of_scope if o.kind == "near_miss"]


def path_of(name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix == ".json" or candidate.exists():
        return candidate
    return DEVSETS_DIR / f"{name}.json"


def load(name: str) -> DevSet:
    """A dev set by name (bench/devsets/NAME.json) or path; raises ValueError if it is malformed."""
    raw = json.loads(path_of(name).read_text(encoding="utf-8"))
    devset = DevSet(
        name=raw["name"],
        product=raw["product"],
        server_name=raw["server_name"],
        domains=tuple(raw["domains"]),
        topics=tuple(
            Topic(
                id=t["id"],
                category=t["category"],
                question=t["question"],
                answer=t["answer"],
                key_facts=tuple(t["key_facts"]),
                learned=tuple(t["learned"]),
                tests=tuple(t["tests"]),
                confusable_with=tuple(t.get("confusable_with", ())),
            )
            for t in raw["topics"]
        ),
        out_of_scope=tuple(OutOfScope(o["text"], o["kind"], o.get("near_topic")) for o in raw["out_of_scope"]),
        multi=tuple(Composite(m["text"], tuple(m["topics"])) for m in raw["multi"]),
        long=tuple(Composite(m["text"], tuple(m["topics"])) for m in raw["long"]),
    )
    problems = validate(devset)
    if problems:
        raise ValueError(f"{name}: " + "; ".join(problems))
    return devset


def validate(d: DevSet) -> list[str]:
    """Everything that would make a measurement on this set misleading, one line each."""
    problems: list[str] = []
    ids = [t.id for t in d.topics]
    if len(set(ids)) != len(ids):
        problems.append("duplicate topic ids")
    known = set(ids)
    seen: dict[str, str] = {}

    def unique(text: str, where: str) -> None:
        key = normalise(text)
        if key in seen:
            problems.append(f"{where}: same text as {seen[key]}: {text!r}")
        seen[key] = where

    for t in d.topics:
        if len(t.question) > MAX_QUERY_CHARS or len(t.answer) > MAX_RESPONSE_CHARS:
            problems.append(f"{t.id}: question or answer too long for /train")
        missing = [f for f in t.key_facts if f not in t.answer]
        if missing or not t.key_facts:
            problems.append(f"{t.id}: key facts not in the answer: {missing}")
        if len(t.learned) != LEARNED_PER_TOPIC or len(t.tests) < MIN_TESTS_PER_TOPIC:
            problems.append(f"{t.id}: needs {LEARNED_PER_TOPIC} learned and >= {MIN_TESTS_PER_TOPIC} tests")
        problems += [f"{t.id}: unknown confusable topic {c}" for c in t.confusable_with if c not in known]
        problems += [f"{t.id}: link off the product's domains: {u}" for u in foreign_links(t.answer, d.domains)]
        for i, text in enumerate((t.question, *t.learned, *t.tests)):
            unique(text, f"{t.id}[{i}]")
    for o in d.out_of_scope:
        if o.kind not in OUT_OF_SCOPE_KINDS:
            problems.append(f"out of scope {o.text!r}: unknown kind {o.kind}")
        if o.near_topic is not None and o.near_topic not in known:
            problems.append(f"out of scope {o.text!r}: unknown topic {o.near_topic}")
        unique(o.text, "out_of_scope")
    for m in (*d.multi, *d.long):
        problems += [f"composite {m.text[:40]!r}: unknown topic {x}" for x in m.topics if x not in known]
    problems += [f"multi {m.text[:40]!r}: fewer than 2 topics" for m in d.multi if len(m.topics) < 2]
    for m in d.long:
        if not LONG_CHARS[0] <= len(m.text) <= LONG_CHARS[1]:
            problems.append(f"long {m.text[:40]!r}: {len(m.text)} characters, want {LONG_CHARS}")
        if question_at(m.text) < LONG_QUESTION_AFTER:
            problems.append(f"long {m.text[:40]!r}: its last question starts before {LONG_QUESTION_AFTER}")
    return problems


def foreign_links(text: str, domains: tuple[str, ...]) -> list[str]:
    """Links and domain names in `text` that are not on one of `domains` (or their subdomains).

    Only names ending in a common top-level domain count, so event names (deploy.failed) and file
    names (Starfall.log) are not taken for links."""
    found = []
    for m in _URL.finditer(text):
        host = m.group(1).lower()
        if host.rsplit(".", 1)[-1] not in _TLDS or host.endswith(_PLACEHOLDER_HOSTS):
            continue
        if not any(host == d or host.endswith("." + d) for d in domains):
            found.append(m.group(0))
    return found


def question_at(text: str) -> int:
    """Start of the sentence holding the last question mark (0 if there is none)."""
    end = text.rfind("?")
    if end < 0:
        return 0
    starts = [text.rfind(p, 0, end) for p in (". ", "\n", "! ")]
    return max(starts) + 1


def summary(d: DevSet) -> str:
    kinds = {k: sum(o.kind == k for o in d.out_of_scope) for k in OUT_OF_SCOPE_KINDS}
    tests = sum(len(t.tests) for t in d.topics)
    long_lengths = ", ".join(f"{len(m.text)} (question at {question_at(m.text)})" for m in d.long)
    return (
        f"{d.name} ({d.product}): {len(d.topics)} topics, {tests} test messages, "
        f"{len(d.out_of_scope)} out of scope ({', '.join(f'{v} {k}' for k, v in kinds.items())}), "
        f"{len(d.multi)} multi-question, {len(d.long)} long: {long_lengths}"
    )


def export_jsonl(d: DevSet, path: Path, *, learned: bool) -> None:
    """The FAQ in the bot's import format (query, response, category, alternates), one topic a line."""
    rows = [
        {"query": t.question, "response": t.answer, "category": t.category, "alternates": list(t.learned) * learned}
        for t in d.topics
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=list(NAMES))
    parser.add_argument("--export", type=Path, help="write the (one) named dev set as JSONL for `bot.py train import`")
    parser.add_argument("--learned", action="store_true", help="with --export: include the learned phrasings")
    args = parser.parse_args()
    if args.export:
        if len(args.names) != 1:
            parser.error("--export takes exactly one dev set")
        export_jsonl(load(args.names[0]), args.export, learned=args.learned)
        return
    failed = False
    for name in args.names:
        try:
            print(summary(load(name)))
        except (ValueError, KeyError, OSError) as exc:
            failed = True
            print(f"{name}: {exc}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
