"""Quality regression on a slice of CLINC150: the lexical index must beat a rapidfuzz scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from memory.text import normalise

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "benchmarks" / "clinc150.json"
QUESTIONS = 300


@pytest.mark.skipif(not DATA.exists(), reason="public benchmarks not present (../shared/data)")
async def test_lexical_top1_beats_rapidfuzz_scan(lexical_memory):
    bench = json.loads(DATA.read_text(encoding="utf-8"))
    if lexical_memory.db.engine == "sqlite":
        # Durability is not under test here; per-row fsyncs would dominate the run time.
        await lexical_memory.db.run("PRAGMA synchronous=OFF")
    intents = {}
    for text, intent, answer in bench["stored"]:
        entry = await lexical_memory.add(1, text, answer)
        intents[entry.id] = intent
    questions = [(text, intent) for text, intent in bench["test"] if intent is not None][::10][:QUESTIONS]
    ours = 0
    for text, intent in questions:
        top = (await lexical_memory.find_similar(1, text, k=1))[0]
        ours += intents[top.entry.id] == intent
    stored = [normalise(row[0]) for row in bench["stored"]]
    baseline = sum(
        bench["stored"][process.extractOne(normalise(text), stored, scorer=fuzz.token_set_ratio)[2]][1] == intent
        for text, intent in questions
    )
    assert ours >= baseline + 0.05 * len(questions), (ours, baseline)
