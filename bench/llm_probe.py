"""Probe a real local model through its Ollama-compatible server (bench/REAL_LLM_SETUP.md); not for CI.

    python -m bench.llm_probe check                      # streaming, JSON-schema output, timings
    python -m bench.llm_probe run --per-group 3          # a few dev set messages through today's pipeline
    python -m bench.llm_probe run --out results.jsonl    # keep every prompt and reply

`check` talks HTTP directly: a streamed /api/chat, a `format` JSON schema (must parse and match), and
seconds to first token / total for a prompt of about 1,500 characters.
`run` does what the bot does for one message today: search the trained memory (real MiniLM vectors
from the embedding server), decide with the default Thresholds(), and for the LLM route build the prompt
with ai/prompt.py build_prompt (top 5 matches as knowledge) and stream it through the bot's own client.
Each reply is judged by bench/judge.py (key facts, echo of the prompt, invented links/paths, declined).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from ai.factory import create_llm_client
from ai.prompt import KnowledgeItem, build_prompt, format_knowledge
from app.runtime import LLMEmbedder
from app.schema import open_app_database
from app.settings import default_llm_settings
from bench import devset as devsets
from bench.judge import judge
from memory.decision import Route, Thresholds, decide
from memory.store import TrainedMemory

CHAT_URL = "http://127.0.0.1:11434"
EMBED_URL = "http://127.0.0.1:11435"
MODEL = "qwen2.5:0.5b"
EMBED_MODEL = "all-minilm"
USER_NAME = "mika_07"
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answered_from_knowledge": {"type": "boolean"}, "reply": {"type": "string"}},
    "required": ["answered_from_knowledge", "reply"],
}
FILLER = (
    "We are a small team that plays every evening. Yesterday we finished the weekly raid, then one of us "
    "went to the store to look at the new bundles while the others waited in the hub. "
)


async def _timed_chat(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """One streamed /api/chat: text, seconds to first token and total, and the final stats."""
    start = time.perf_counter()
    first = None
    pieces: list[str] = []
    final: dict[str, Any] = {}
    async with session.post(f"{url}/api/chat", json=body) as response:
        response.raise_for_status()
        async for raw in response.content:
            line = json.loads(raw)
            text = (line.get("message") or {}).get("content", "")
            if text and first is None:
                first = time.perf_counter() - start
            pieces.append(text)
            if line.get("done"):
                final = line
    return {
        "text": "".join(pieces),
        "ttft": first,
        "total": time.perf_counter() - start,
        "chunks": len(pieces),
        **final,
    }


async def check(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/api/tags") as r:
            print("models:", [m["name"] for m in (await r.json())["models"]])
        messages = [{"role": "user", "content": "Reply with one short friendly sentence."}]
        got = await _timed_chat(session, url, {"model": MODEL, "messages": messages, "options": {"num_predict": 40}})
        timing = f"first token {got['ttft']:.1f}s, total {got['total']:.1f}s"
        print(f"stream: {got['chunks']} chunks, {timing}: {got['text']!r}")

        question = "Can I get a refund for a bundle I bought by mistake yesterday? How many days do I have?"
        schema_body = {
            "model": MODEL,
            "stream": False,
            "format": ANSWER_SCHEMA,
            "options": {"temperature": 0, "num_predict": 200},
            "messages": [
                {
                    "role": "system",
                    "content": "Answer from this knowledge only. Knowledge: Unused store items can be refunded "
                    "within 14 days under Settings → Store → Purchase History.",
                },
                {"role": "user", "content": question},
            ],
        }
        start = time.perf_counter()
        async with session.post(f"{url}/api/chat", json=schema_body) as r:
            data = await r.json()
        content = data["message"]["content"]
        parsed = json.loads(content)
        ok = set(parsed) == {"answered_from_knowledge", "reply"} and isinstance(parsed["answered_from_knowledge"], bool)
        print(
            f"format (JSON schema): {'OK' if ok else 'SHAPE MISMATCH'} in {time.perf_counter() - start:.1f}s: {content}"
        )

        prompt = (FILLER * 12)[:1400] + "\n\nAnyway: " + question
        runs = []
        for _ in range(2):
            body = {
                "model": MODEL,
                "messages": [{"role": "user", "content": prompt}],
                "options": {"temperature": 0.3, "num_predict": 512, "num_ctx": 4096},
            }
            runs.append(await _timed_chat(session, url, body))
        for got in runs:
            rate = got.get("eval_count", 0) / max(1e-9, got["total"] - (got["ttft"] or 0))
            print(
                f"{len(prompt)}-char prompt ({got.get('prompt_eval_count')} tokens): first token {got['ttft']:.1f}s, "
                f"total {got['total']:.1f}s, {got.get('eval_count')} tokens out (~{rate:.1f} tokens/s after the first)"
            )


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(args.seed)
    rows = []
    async with aiohttp.ClientSession() as session:
        settings = default_llm_settings(base_url=args.url, model=MODEL, embed_model=EMBED_MODEL, total_timeout=900)
        chat_client = create_llm_client(settings, session)
        embed_client = create_llm_client(
            default_llm_settings(base_url=args.embed_url, model=EMBED_MODEL, embed_model=EMBED_MODEL), session
        )
        for name in args.names:
            d = devsets.load(name)
            picks = _pick(d, args.per_group, rng)
            with tempfile.TemporaryDirectory() as tmp:
                db = await open_app_database(Path(tmp) / "probe.db")
                try:
                    memory = TrainedMemory(db, LLMEmbedder(embed_client))
                    topic_of = {}
                    for t in d.topics:
                        entry = await memory.add(1, t.question, t.answer, t.category, embed=False)
                        topic_of[entry.id] = t.id
                    await memory.reembed_stale(1)
                    for group, text, expected in picks:
                        rows.append(await _one(d, memory, chat_client, topic_of, group, text, expected))
                        _print_row(rows[-1])
                finally:
                    await db.close()
    return rows


def _pick(d: devsets.DevSet, n: int, rng: random.Random) -> list[tuple[str, str, tuple[str, ...]]]:
    in_scope: list[tuple[str, str, tuple[str, ...]]] = [
        ("in_scope", text, (t.id,)) for t in d.topics for text in t.tests
    ]
    picks = rng.sample(in_scope, min(len(in_scope), 2 * n))
    for kind in ("near_miss", "chitchat", "general"):
        pool = [(kind, o.text, ()) for o in d.out_of_scope if o.kind == kind]
        picks += rng.sample(pool, min(len(pool), n))
    picks += [("multi", m.text, m.topics) for m in rng.sample(list(d.multi), min(len(d.multi), max(1, n // 2)))]
    picks += [("long", m.text, m.topics) for m in rng.sample(list(d.long), min(len(d.long), max(1, n // 2)))]
    return picks


async def _one(d, memory, client, topic_of, group, text, expected) -> dict[str, Any]:
    matches = await memory.find_similar_many(1, [text], k=5)
    decision = decide(matches, llm_available=True, thresholds=Thresholds())
    row: dict[str, Any] = {
        "devset": d.name,
        "group": group,
        "message": text,
        "expected": list(expected),
        "route": str(decision.route),
        "top": [topic_of[m.entry.id] for m in matches],
    }
    facts = tuple(f for topic in expected for f in d.topic(topic).key_facts)
    if decision.route is Route.ANSWER and decision.match is not None:
        row.update(reply=decision.match.entry.response, saved_topic=topic_of[decision.match.entry.id])
        knowledge_text = decision.match.entry.response
    else:
        knowledge = [KnowledgeItem(m.entry.id, m.entry.query, m.entry.response, m.entry.category) for m in matches]
        category = d.topic(expected[0]).category if expected else "general"
        messages = build_prompt(
            question=text,
            history=[],
            knowledge=knowledge,
            server_name=d.server_name,
            user_name=USER_NAME,
            category=category,
            num_ctx=client.settings.num_ctx,
        )
        knowledge_text = format_knowledge(knowledge)
        start = time.perf_counter()
        first = None
        pieces = []
        async for piece in client.chat_stream(messages):
            if first is None:
                first = time.perf_counter() - start
            pieces.append(piece)
        row.update(
            reply="".join(pieces).strip(),
            prompt_chars=sum(len(m["content"]) for m in messages),
            ttft=round(first or 0.0, 2),
            total=round(time.perf_counter() - start, 2),
        )
    row.update(knowledge=knowledge_text, key_facts=list(facts))
    v = judge(row["reply"], facts, knowledge_text, text)
    row.update(
        facts=f"{v.facts_found}/{v.facts_total}",
        all_facts=v.all_facts,
        echo=v.echo,
        invented=v.invented,
        declined=v.declined,
    )
    return row


def _rejudge(row: dict[str, Any]) -> dict[str, Any]:
    """Judge a saved row again (after a change to bench/judge.py)."""
    v = judge(row["reply"], tuple(row["key_facts"]), row["knowledge"], row["message"])
    row.update(
        facts=f"{v.facts_found}/{v.facts_total}",
        all_facts=v.all_facts,
        echo=v.echo,
        invented=v.invented,
        declined=v.declined,
    )
    return row


def _print_row(r: dict[str, Any]) -> None:
    timing = f" {r['ttft']:.0f}s/{r['total']:.0f}s" if "ttft" in r else ""
    flags = [f"facts {r['facts']}"] + (["ECHO"] if r["echo"] else []) + (["declined"] if r["declined"] else [])
    flags += [f"invented {r['invented']}"] if r["invented"] else []
    print(f"\n[{r['devset']}/{r['group']}] route={r['route']}{timing} want={r['expected']} top={r['top'][:3]}")
    print(f"  message: {r['message'][:160]!r}")
    print(f"  reply:   {r['reply'][:600]!r}")
    print(f"  judge:   {', '.join(flags)}")


def _summary(rows: list[dict[str, Any]]) -> None:
    llm = [r for r in rows if r["route"] == "llm"]
    in_scope = [r for r in llm if r["group"] in ("in_scope", "multi", "long")]
    oos = [r for r in llm if r["group"] in ("near_miss", "chitchat", "general")]
    correct = [r for r in in_scope if r["all_facts"] and not r["echo"] and not r["invented"]]
    copied = [r for r in llm if r["reply"] and r["reply"] in r.get("knowledge", "") and not r["echo"]]
    print(f"\n--- summary: {len(rows)} messages, {len(llm)} on the LLM route ---")
    print(f"in scope correct (every key fact, no echo, nothing invented): {len(correct)}/{len(in_scope)}")
    print(f"out of scope declined: {sum(r['declined'] for r in oos)}/{len(oos)}")
    print(f"prompt echoes: {sum(r['echo'] for r in llm)}/{len(llm)}; invented links/e-mails/paths: ", end="")
    print(
        f"{sum(bool(r['invented']) for r in llm)}/{len(llm)}; a saved answer copied verbatim: {len(copied)}/{len(llm)}"
    )
    if llm:
        ttft = [r["ttft"] for r in llm]
        total = [r["total"] for r in llm]
        prompt = [r["prompt_chars"] for r in llm]
        print(
            f"prompt {statistics.median(prompt):.0f} characters (median); first token p50 "
            f"{statistics.median(ttft):.1f}s, max {max(ttft):.1f}s; total p50 {statistics.median(total):.1f}s, "
            f"max {max(total):.1f}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="streaming, JSON-schema output and timings")
    c.add_argument("--url", default=CHAT_URL)
    r = sub.add_parser("run", help="dev set messages through today's pipeline")
    r.add_argument("names", nargs="*", default=list(devsets.NAMES))
    r.add_argument("--url", default=CHAT_URL)
    r.add_argument("--embed-url", default=EMBED_URL)
    r.add_argument("--per-group", type=int, default=2, help="messages per out-of-scope kind (twice as many in scope)")
    r.add_argument("--seed", type=int, default=9)
    r.add_argument("--out", help="write every row (prompt size, reply, judgement) as JSON lines")
    m = sub.add_parser("summary", help="summarise (and re-judge) rows written by run --out")
    m.add_argument("rows")
    args = parser.parse_args()
    if args.command == "check":
        asyncio.run(check(args.url))
        return
    if args.command == "summary":
        _summary([_rejudge(json.loads(line)) for line in Path(args.rows).read_text(encoding="utf-8").splitlines()])
        return
    rows = asyncio.run(run(args))
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    _summary(rows)


if __name__ == "__main__":
    main()
