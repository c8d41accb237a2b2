"""Fresh near misses: messages about other products that no decision change was tuned on.

    /work/venvs/bench/bin/python -m bench.near_misses            # real all-MiniLM-L6-v2 (bench/requirements.txt)
    /work/venvs/bench/bin/python -m bench.near_misses --no-things   # without the everyday-things veto
    python -m bench.near_misses --offline                          # hashed vectors: a smoke run without torch

The dev sets' own near misses (bench/devsets/*.json) shaped the names list of memory/scope.py, so "no near
miss answered" on them says little about a FAQ we have not seen. bench/devsets/fresh_near_misses.json holds
near misses written afterwards, in groups by who wrote them and when; each group's messages are put to the
dev set they imitate (trained as bench.devset_eval trains it: one phrasing, then +2 learned) and every one
that gets a saved answer — directly, or as the fallback with the model down — is listed with its match.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
from pathlib import Path

from bench import devset as devsets
from bench.devset_eval import ask_devset, decider, without_things
from bench.embedders import ENCODERS, cached, hashed
from bench.harness import FunctionEmbedder
from memory.decision import Route, Thresholds, evidence

FRESH = Path(__file__).resolve().parent / "devsets" / "fresh_near_misses.json"


async def measure(
    embedder: FunctionEmbedder, groups: dict[str, dict[str, list[str]]], *, things: bool = True
) -> list[str]:
    decide = decider(Thresholds()) if things else without_things(decider(Thresholds()))
    rows = [
        "| group | dev set | phrasings | near misses | saved answer sent (direct / fallback) |",
        "|---|---|---|---|---|",
    ]
    sent_lines: list[str] = []
    for group, sets in groups.items():
        for name, texts in sets.items():
            base = devsets.load(name)
            kind = type(base.out_of_scope[0])
            trial = dataclasses.replace(
                base, out_of_scope=tuple(kind(t, "near_miss", None) for t in texts), multi=(), long=()
            )
            for learned in (False, True):
                asked = [a for a in await ask_devset(trial, embedder, learned=learned) if a.group == "near_miss"]
                direct = fallback = 0
                for a in asked:
                    up, down = decide(a.matches, True), decide(a.matches, False)
                    if up.route is not Route.ANSWER and down.route is not Route.FALLBACK:
                        continue
                    direct += up.route is Route.ANSWER
                    fallback += down.route is Route.FALLBACK
                    seen = evidence(a.matches[0], a.matches[1:], Thresholds())
                    sent_lines.append(
                        f'- {group} / {name} / {"+2 learned" if learned else "one"}: "{a.text}" → {a.topics[0]} '
                        f"({up.route.value}; confidence {seen.confidence:.2f}, agreed {seen.agreed})"
                    )
                phrasings = "+2 learned" if learned else "one"
                rows.append(f"| {group} | {name} | {phrasings} | {len(asked)} | {direct} / {fallback} |")
    return [*rows, "", *sent_lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="hashed n-gram vectors instead of MiniLM")
    parser.add_argument(
        "--embedder", choices=sorted(ENCODERS), default="minilm", help="the real embedding model (bench/embedders.py)"
    )
    parser.add_argument(
        "--native-scale", action="store_true", help="the model's cosines as they are (EMBED_SCALE=native), not mapped"
    )
    parser.add_argument("--no-things", action="store_true", help="without the everyday-things veto (memory/things.py)")
    parser.add_argument("--file", type=Path, default=FRESH, help="groups of near misses per dev set (JSON)")
    args = parser.parse_args()
    raw = json.loads(args.file.read_text(encoding="utf-8"))
    groups = {k: v for k, v in raw.items() if isinstance(v, dict)}
    encoder = None if args.offline else cached(args.embedder)
    if encoder is None:
        embedder = FunctionEmbedder("hashed", hashed, native_scale=True)
    else:
        embedder = FunctionEmbedder(encoder.model, encoder, native_scale=args.native_scale)
    lines = asyncio.run(measure(embedder, groups, things=not args.no_things))
    if encoder is not None:
        encoder.save()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
