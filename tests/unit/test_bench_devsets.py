"""The dev sets load and pass their checks, the held-out ones are kept out of tuning, and `--no-things` takes
exactly the everyday-things veto out of the decision (bench/devset_eval.py)."""

from __future__ import annotations

import pytest

from bench import devset
from bench.devset_eval import HELD_OUT, decider, without_things
from memory.decision import Route, Thresholds
from memory.models import Entry, Match
from memory.text import normalise


@pytest.mark.parametrize("name", [*devset.NAMES, *HELD_OUT])
def test_every_dev_set_loads_and_passes_its_checks(name):
    d = devset.load(name)  # raises ValueError with the problems
    assert d.name == name and len(d.topics) >= 28 and len(d.near_misses()) >= 20


def test_brightwave_is_held_out_and_about_everyday_things():
    assert "brightwave" in HELD_OUT and "brightwave" not in devset.NAMES
    d = devset.load("brightwave")
    assert len(d.topics) >= 40 and all(len(t.tests) >= 4 for t in d.topics)
    assert len(d.out_of_scope) >= 50 and 2 * len(d.near_misses()) >= len(d.out_of_scope)
    # Its subject is what the veto lists: routers, TVs, phones named in the user messages.
    messages = " ".join(normalise(x) for t in d.topics for x in t.tests).split()
    assert {"router", "tv", "phone"} <= set(messages)


def test_emberfall_is_held_out_with_the_shape_it_was_written_to():
    assert "emberfall" in HELD_OUT and "emberfall" not in devset.NAMES
    d = devset.load("emberfall")
    assert len(d.topics) >= 45 and all(len(t.tests) >= 4 for t in d.topics)
    assert len(d.out_of_scope) >= 55 and len(d.near_misses()) >= 35
    assert all(o.near_topic for o in d.near_misses())
    assert len(d.multi) >= 8 and len(d.long) == 3


def _match(entry_id: int, score: float, other_things: tuple[str, ...] = ()) -> Match:
    entry = Entry(
        id=entry_id, guild_id=1, query=f"q{entry_id}", response=f"answer {entry_id}", category="general",
        alternates=[], created_by=None, created_at="", updated_at="", usage_count=0, confidence=1.0,
    )  # fmt: skip
    return Match(entry, score, score, score, entry.query, coverage=1.0, other_things=other_things)


def test_without_things_lifts_only_the_things_veto():
    decide = decider(Thresholds())
    vetoed = [_match(1, 0.95, other_things=("router",)), _match(2, 0.2)]
    assert decide(vetoed, True).route is Route.LLM
    assert decide(vetoed, False).route is Route.STAFF
    lifted = without_things(decide)
    assert lifted(vetoed, True).route is Route.ANSWER
    assert lifted(vetoed, True).match.entry.id == 1
    assert vetoed[0].other_things == ("router",)  # the caller's matches are left as they were
    # Another product's name still keeps the answer back.
    foreign = [_match(1, 0.95), _match(2, 0.2)]
    foreign[0].foreign = ("netgear",)
    assert lifted(foreign, True).route is Route.LLM
