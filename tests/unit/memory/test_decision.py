"""decide(): every route and every reason a direct answer is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memory.decision import Route, Thresholds, decide
from memory.guild_index import GuildIndex
from memory.models import Entry, Match

T = Thresholds(
    direct=0.8, margin=0.1, supported_direct=0.5, supported_margin=0.2, min_support=2,
    fallback=0.6, lexical_direct=0.9, lexical_margin=0.2, lexical_fallback=0.7,
    min_semantic=0.7, min_confidence=0.5, fallback_min_confidence=0.25, require_agreement=True,
)  # fmt: skip


def match(entry_id, score, *, lexical=None, semantic="same", response=None, confidence=1.0, support=1):
    entry = Entry(
        id=entry_id, guild_id=1, query=f"q{entry_id}", response=response or f"answer {entry_id}", category="general",
        alternates=[], created_by=None, created_at="", updated_at="", usage_count=0, confidence=confidence,
    )  # fmt: skip
    lexical = score if lexical is None else lexical
    semantic = score if semantic == "same" else semantic
    return Match(entry, score, lexical, semantic, entry.query, support)


def route(matches, llm=True, thresholds=T):
    return decide(matches, llm_available=llm, thresholds=thresholds).route


def test_confident_hybrid_match_is_answered():
    d = decide([match(1, 0.9), match(2, 0.7)], llm_available=True, thresholds=T)
    assert (d.route, d.match.entry.id) == (Route.ANSWER, 1)
    assert route([match(1, 0.9)]) is Route.ANSWER  # no runner-up at all
    assert route([match(1, 0.9), match(2, 0.7)], llm=False) is Route.ANSWER  # LLM health is irrelevant


@pytest.mark.parametrize("llm", [True, False])
def test_no_matches(llm):
    d = decide([], llm_available=llm, thresholds=T)
    assert (d.route, d.match) == (Route.LLM if llm else Route.STAFF, None)


@pytest.mark.parametrize(
    ("matches", "reason"),
    [
        ([match(1, 0.79)], "score 0.79 below 0.80"),
        ([match(1, 0.9), match(2, 0.85)], "too close to entry 2"),
        ([match(1, 0.9, semantic=0.65)], "semantic score 0.65 below 0.70"),
        ([match(1, 0.9, confidence=0.4)], "entry confidence 0.40 below 0.50"),
        ([match(1, 0.9, semantic=0.8), match(2, 0.7, semantic=0.85)], "embeddings prefer entry 2"),
        ([match(1, 0.9, lexical=0.5), match(2, 0.7, lexical=0.6)], "wording prefers entry 2"),
    ],
)
def test_each_doubt_sends_to_llm(matches, reason):
    d = decide(matches, llm_available=True, thresholds=T)
    assert d.route is Route.LLM and d.match is matches[0] and reason in d.reason


def test_margin_ignores_entries_with_the_same_answer():
    same = [match(1, 0.9, response="Reset it here."), match(2, 0.89, response="reset it here")]
    assert route(same) is Route.ANSWER
    assert route([*same, match(3, 0.85)]) is Route.LLM
    assert route([match(1, 0.9), match(1, 0.89)]) is Route.ANSWER  # the same entry twice


def test_agreement_can_be_switched_off():
    disagree = [match(1, 0.9, semantic=0.8), match(2, 0.7, semantic=0.85)]
    assert route(disagree, thresholds=replace(T, require_agreement=False)) is Route.ANSWER


def test_supported_match_passes_lower_score_bar():
    # 0.75 is below the one-phrasing bar (0.8) but two of the nearest phrasings carry this answer.
    d = decide([match(1, 0.75, semantic=0.75, support=2), match(2, 0.5)], llm_available=True, thresholds=T)
    assert d.route is Route.ANSWER and "2 nearest phrasings agree" in d.reason
    assert route([match(1, 0.75, semantic=0.75, support=3), match(2, 0.5)]) is Route.ANSWER
    # Agreement is not required on this path: the neighbours already agree.
    assert route([match(1, 0.75, semantic=0.7, support=2), match(2, 0.5, semantic=0.72)]) is Route.ANSWER
    # The same answer on another entry is no rival.
    assert route([match(1, 0.75, support=2, response="x"), match(2, 0.74, response="X")]) is Route.ANSWER


@pytest.mark.parametrize(
    ("matches", "reason"),
    [
        ([match(1, 0.75, support=1), match(2, 0.5)], "score 0.75 below 0.80"),  # not enough support
        ([match(1, 0.45, support=3)], "score 0.45 below 0.80"),  # below the supported bar too
        ([match(1, 0.75, support=2), match(2, 0.6)], "score 0.75 below 0.80"),  # margin 0.15 < 0.2
        ([match(1, 0.75, support=2, confidence=0.4)], "entry confidence 0.40"),
        ([match(1, 0.75, semantic=0.65, support=2)], "score 0.75 below 0.80"),  # min_semantic on this path too
        ([match(1, 0.95, semantic=None, support=3)], "score 0.95 below 1.01"),  # hybrid only
    ],
)
def test_supported_path_refusals(matches, reason):
    thresholds = replace(T, lexical_direct=1.01)
    d = decide(matches, llm_available=True, thresholds=thresholds)
    assert d.route is Route.LLM and reason in d.reason


def test_one_phrasing_path_still_answers_with_support():
    # Margin 0.15 fails the supported margin (0.2) but passes the one-phrasing path (0.1).
    assert route([match(1, 0.9, support=2), match(2, 0.75)]) is Route.ANSWER


def test_lexical_only_uses_lexical_bars():
    lexical = [match(1, 0.85, semantic=None), match(2, 0.5, semantic=None)]
    assert route(lexical) is Route.LLM  # 0.85 would pass the hybrid bar, not the lexical one
    assert route([match(1, 0.95, semantic=None), match(2, 0.8, semantic=None)]) is Route.LLM  # margin 0.15 < 0.2
    assert route([match(1, 0.95, semantic=None), match(2, 0.7, semantic=None)]) is Route.ANSWER


@pytest.mark.parametrize(
    ("matches", "expected"),
    [
        ([match(1, 0.65)], Route.FALLBACK),
        ([match(1, 0.55)], Route.STAFF),
        ([match(1, 0.75, semantic=None)], Route.FALLBACK),
        ([match(1, 0.65, semantic=None)], Route.STAFF),  # lexical fallback bar is 0.7
        ([match(1, 0.9, confidence=0.3)], Route.FALLBACK),
        ([match(1, 0.9, confidence=0.2)], Route.STAFF),
    ],
)
def test_llm_down_falls_back_or_hands_to_staff(matches, expected):
    d = decide(matches, llm_available=False, thresholds=T)
    assert d.route is expected and d.match is matches[0]
    assert "LLM unavailable" in d.reason


def test_from_similarity_moves_both_bars():
    base = Thresholds()
    assert Thresholds.from_similarity(None) == base
    assert Thresholds.from_similarity(base.direct) == base
    tighter = Thresholds.from_similarity(base.direct + 0.05)
    assert tighter.direct == pytest.approx(base.direct + 0.05)
    assert base.supported_direct < tighter.supported_direct < tighter.direct
    assert Thresholds.from_similarity(1.0).supported_direct == pytest.approx(1.0)  # 1 = only perfect matches
    assert Thresholds.from_similarity(0.0).supported_direct == 0.0
    looser = Thresholds.from_similarity(base.direct - 0.05)
    assert looser.supported_direct < base.supported_direct
    lexical_on = replace(base, lexical_direct=0.8)
    assert lexical_on.lexical_direct <= 1.0
    if base.lexical_direct > 1.0:
        assert tighter.lexical_direct == base.lexical_direct  # switched off stays off
    else:
        assert tighter.lexical_direct == pytest.approx(base.lexical_direct + 0.05)


def test_defaults_refuse_rather_than_guess():
    t = Thresholds()
    assert 0 < t.direct <= 1 and t.margin > 0 and t.fallback < t.direct
    assert 0 < t.supported_direct < t.direct and t.supported_margin > t.margin and t.min_support >= 2
    assert route([match(1, 0.99, semantic=None)], thresholds=t) is Route.LLM
    assert route([match(1, 0.99, semantic=None, support=5)], thresholds=t) is Route.LLM


def test_index_counts_support_of_nearest_phrasings():
    index = GuildIndex()
    entries = [(1, "Reset it in settings."), (2, "reset it in settings"), (3, "Call the bank.")]
    for entry_id, answer in entries:
        index.put_entry(Entry(entry_id, 1, f"q{entry_id}", answer, "general", [], None, "", "", 0, 1.0))
    index.add_phrasings(
        [(10, 1, "reset my password"), (11, 1, "forgot my password"), (20, 2, "password reset please"),
         (30, 3, "my card was stolen")]
    )  # fmt: skip
    matches = index.rank("reset my password", None, 5)
    support = {m.entry.id: m.support for m in matches}
    assert matches[0].entry.id == 1 and support[1] == support[2] == 3  # equal answers count together
    assert support.get(3, 1) == 1
