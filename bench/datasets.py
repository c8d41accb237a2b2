"""The public benchmarks (see shared/data/README.md), loaded in one shape."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

NAMES = ("clinc150", "banking77", "bitext")
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
# Held-out pool questions used as a val split where the benchmark ships none.
SYNTHETIC_VAL_SIZE = 1500


@dataclass
class Benchmark:
    name: str
    stored: list[tuple[str, str, str]]  # question, intent, answer
    pool: list[tuple[str, str, str]]
    test: list[tuple[str, str | None]]
    val: list[tuple[str, str | None]]


def load(name: str, data_dir: Path = DEFAULT_DATA) -> Benchmark:
    raw = json.loads((data_dir / "benchmarks" / f"{name}.json").read_text(encoding="utf-8"))
    stored = [tuple(row) for row in raw["stored"]]
    test = [(row[0], row[1]) for row in raw["test"]]
    val = [(row[0], row[1]) for row in raw["val"]]
    if not val:
        val = _synthetic_val(raw, data_dir)
    return Benchmark(name, stored, [tuple(row) for row in raw["pool"]], test, val)


def _synthetic_val(raw: dict, data_dir: Path) -> list[tuple[str, str | None]]:
    """BANKING77 and Bitext ship no val split: take pool questions that are not stored (never
    the test split) plus CLINC150's out-of-scope val+train questions, so thresholds are still
    tuned without looking at `test`."""
    stored = {row[0] for row in raw["stored"]}
    held_out = [(row[0], row[1]) for row in raw["pool"] if row[0] not in stored]
    random.Random(1).shuffle(held_out)
    clinc = json.loads((data_dir / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    out_of_scope = [(text, None) for text, _ in clinc["oos_val"] + clinc["oos_train"]]
    return held_out[:SYNTHETIC_VAL_SIZE] + out_of_scope
