"""decide(): every route and every reason a direct answer is refused."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memory.decision import MAX_CONFIDENCE, Route, Thresholds, decide, evidence
from memory.models import Entry, Match

# confidence = score + 1.0 * margin + 0.5 * coverage
T = Thresholds(
    direct=1.2, margin_floor=0.05, margin_weight=1.0, coverage_weight=0.5, fallback=0.9,
    lexical_direct=1.5, lexical_fallback=1.1, min_confidence=0.5, fallback_min_confidence=0.25,
)  # fmt: skip


def match(entry_id, score, *, lexical=None, semantic="same", response=None, confidence=1.0, coverage=0.0, foreign=()):
    entry = Entry(
        id=entry_id, guild_id=1, query=f"q{entry_id}", response=response or f"answer {entry_id}", category="general",
        alternates=[], created_by=None, created_at="", updated_at="", usage_count=0, confidence=confidence,
    )  # fmt: skip
    lexical = score if lexical is None else lexical
    semantic = score if semantic == "same" else semantic
    return Match(entry, score, lexical, semantic, entry.query, coverage=coverage, foreign=tuple(foreign))


def route(matches, llm=True, thresholds=T):
    return decide(matches, llm_available=llm, thresholds=thresholds).route


def test_confidence_adds_margin_and_coverage():
    top, rival = match(1, 0.7, coverage=0.6), match(2, 0.5)
    seen = evidence(top, [rival], T)
    assert seen.rival is rival and seen.margin == pytest.approx(0.2)
    assert seen.confidence == pytest.approx(0.7 + 0.2 + 0.5 * 0.6)
    # Without a rival the lead is the whole score.
    assert evidence(top, [], T).margin == pytest.approx(0.7)


def test_confident_match_is_answered():
    d = decide([match(1, 0.7, coverage=0.6), match(2, 0.5)], llm_available=True, thresholds=T)
    assert (d.route, d.match.entry.id) == (Route.ANSWER, 1) and "confidence 1.20" in d.reason
    assert route([match(1, 0.7)]) is Route.ANSWER  # no runner-up: 0.7 + 0.7
    assert route([match(1, 0.7, coverage=0.6), match(2, 0.5)], llm=False) is Route.ANSWER  # LLM health irrelevant


@pytest.mark.parametrize("llm", [True, False])
def test_no_matches(llm):
    d = decide([], llm_available=llm, thresholds=T)
    assert (d.route, d.match) == (Route.LLM if llm else Route.STAFF, None)


def test_each_signal_can_make_up_for_another():
    rival = match(2, 0.4)
    # About the same confidence from a high score, a clear lead or full coverage.
    assert route([match(1, 0.8, coverage=0.1), rival]) is Route.ANSWER  # 0.8 + 0.4 + 0.05 = 1.25
    assert route([match(1, 0.6, coverage=0.9), rival]) is Route.ANSWER  # 0.6 + 0.2 + 0.45 = 1.25
    assert route([match(1, 0.5, coverage=1.0), rival]) is Route.LLM  # 0.5 + 0.1 + 0.5 = 1.1
    assert route([match(1, 0.57, coverage=1.0), rival]) is Route.ANSWER  # 0.57 + 0.17 + 0.5 = 1.24


@pytest.mark.parametrize(
    ("matches", "reason"),
    [
        ([match(1, 0.6, coverage=0.4), match(2, 0.5)], "confidence 0.90 below 1.20"),
        ([match(1, 0.9, coverage=1.0), match(2, 0.87)], "too close to entry 2"),  # margin 0.03 < 0.05 floor
        ([match(1, 0.9, coverage=1.0, confidence=0.4)], "entry confidence 0.40 below 0.50"),
        ([match(1, 0.95, coverage=1.0, foreign=["steam"])], "names steam, which entry 1 does not mention"),
    ],
)
def test_each_doubt_sends_to_llm(matches, reason):
    d = decide(matches, llm_available=True, thresholds=T)
    assert d.route is Route.LLM and d.match is matches[0] and reason in d.reason


def test_margin_ignores_entries_with_the_same_answer():
    same = [match(1, 0.9, response="Reset it here."), match(2, 0.89, response="reset it here")]
    assert route(same) is Route.ANSWER  # no rival: 0.9 + 0.9
    assert route([*same, match(3, 0.85, coverage=0.0)]) is Route.LLM  # margin 0.05 over entry 3: 0.95
    assert route([match(1, 0.9), match(1, 0.89)]) is Route.ANSWER  # the same entry twice


def test_foreign_names_block_even_a_perfect_match_and_the_fallback():
    steam = [match(1, 1.0, coverage=1.0, foreign=["steam"])]
    assert route(steam) is Route.LLM
    d = decide(steam, llm_available=False, thresholds=T)
    assert d.route is Route.STAFF and "steam" in d.reason
    # Only the best match's names count: a rival naming something else changes nothing.
    assert route([match(1, 0.9, coverage=1.0), match(2, 0.3, foreign=["steam"])]) is Route.ANSWER


def test_lexical_only_uses_lexical_bars():
    lexical = [match(1, 0.75, semantic=None, coverage=0.6), match(2, 0.5, semantic=None)]
    assert route(lexical) is Route.LLM  # 1.3 passes the hybrid bar (1.2), not the lexical one (1.5)
    assert route([match(1, 0.95, semantic=None, coverage=1.0), match(2, 0.5, semantic=None)]) is Route.ANSWER


@pytest.mark.parametrize(
    ("matches", "expected"),
    [
        ([match(1, 0.6, coverage=0.3), match(2, 0.4)], Route.FALLBACK),  # 0.95
        ([match(1, 0.6, coverage=0.0), match(2, 0.4)], Route.STAFF),  # 0.8
        ([match(1, 0.6, coverage=0.3, foreign=["netflix"]), match(2, 0.4)], Route.STAFF),
        ([match(1, 0.7, semantic=None, coverage=0.4), match(2, 0.4, semantic=None)], Route.FALLBACK),  # 1.2 >= 1.1
        ([match(1, 0.6, semantic=None, coverage=0.2), match(2, 0.4, semantic=None)], Route.STAFF),  # 0.9 < 1.1
        ([match(1, 0.9, confidence=0.3, coverage=1.0)], Route.FALLBACK),
        ([match(1, 0.9, confidence=0.2, coverage=1.0)], Route.STAFF),
    ],
)
def test_llm_down_falls_back_or_hands_to_staff(matches, expected):
    d = decide(matches, llm_available=False, thresholds=T)
    assert d.route is expected and d.match is matches[0]
    assert "LLM unavailable" in d.reason


def test_from_similarity_moves_every_bar():
    base = Thresholds()
    assert Thresholds.from_similarity(None) == base
    assert Thresholds.from_similarity(0.84) == base
    tighter, looser = Thresholds.from_similarity(0.9), Thresholds.from_similarity(0.8)
    assert looser.direct < base.direct < tighter.direct
    assert looser.fallback < base.fallback < tighter.fallback
    assert tighter.direct - base.direct == pytest.approx(tighter.fallback - base.fallback)
    for off in ("lexical_direct", "lexical_fallback"):
        if getattr(base, off) > MAX_CONFIDENCE:
            assert getattr(tighter, off) == getattr(looser, off) == getattr(base, off)  # off stays off
    on = Thresholds.from_similarity(0.9)
    assert on.margin_weight == base.margin_weight and on.coverage_weight == base.coverage_weight
    # 1 = never answer from memory without the LLM; 0 = bars at their floor.
    never = Thresholds.from_similarity(1.0)
    assert min(never.direct, never.fallback, never.lexical_direct, never.lexical_fallback) > MAX_CONFIDENCE
    assert route([match(1, 1.0, coverage=1.0)], thresholds=never) is Route.LLM
    assert route([match(1, 1.0, coverage=1.0)], llm=False, thresholds=never) is Route.STAFF
    assert Thresholds.from_similarity(0.0).direct >= 0.0


def test_defaults_refuse_rather_than_guess():
    t = Thresholds()
    assert 0 < t.fallback <= t.direct < MAX_CONFIDENCE
    assert t.min_confidence > t.fallback_min_confidence > 0
    # An unrelated message: low score, no lead, few shared words.
    assert route([match(1, 0.35, coverage=0.2), match(2, 0.33)], thresholds=t) is Route.LLM
    assert route([match(1, 0.35, coverage=0.2), match(2, 0.33)], llm=False, thresholds=t) is Route.STAFF
    # A trained question repeated word for word is answered.
    assert route([match(1, 1.0, coverage=1.0), match(2, 0.5)], thresholds=t) is Route.ANSWER


def test_thresholds_are_replaceable():
    assert replace(T, direct=0.5).direct == 0.5


def test_share_of_the_answers_entries_found_ahead_of_the_rival():
    t = replace(T, share_weight=0.6)
    same = "Reset it in settings."

    def sib(entry_id, score, siblings=2):
        m = match(entry_id, score, response=same, coverage=0.5)
        m.siblings = siblings
        return m

    rival = match(9, 0.5)
    # All three entries of this answer ahead of the rival: share 1, no penalty.
    seen = evidence(sib(1, 0.8), [sib(2, 0.75), sib(3, 0.7), rival], t)
    assert seen.share == 1.0 and seen.confidence == pytest.approx(0.8 + 0.3 + 0.25)
    # One of three: the other two wordings of this answer look nothing like the message.
    lone = evidence(sib(1, 0.8), [rival, sib(2, 0.4)], t)
    assert lone.share == pytest.approx(1 / 3) and lone.confidence == pytest.approx(0.8 + 0.3 + 0.25 - 0.4)
    assert route([sib(1, 0.8), sib(2, 0.75), sib(3, 0.7), rival], thresholds=t) is Route.ANSWER
    assert route([sib(1, 0.8), rival, sib(2, 0.4)], thresholds=t) is Route.LLM
    # An entry whose answer no other entry gives is never penalised (one FAQ entry per topic).
    assert evidence(match(1, 0.8), [rival], t).share == 1.0


def test_a_crowded_memory_raises_every_hybrid_bar():
    t = replace(T, crowding_weight=2.0, crowding_floor=0.6)

    def crowded(m, value):
        m.crowding = value
        return m

    confident = [match(1, 0.7, coverage=0.6), match(2, 0.5)]  # confidence 1.2 = the bar
    assert route([crowded(m, 0.5) for m in confident], thresholds=t) is Route.ANSWER  # below the floor
    assert route([crowded(m, None) for m in confident], thresholds=t) is Route.ANSWER  # not measured
    d = decide([crowded(m, 0.7) for m in confident], llm_available=True, thresholds=t)
    assert d.route is Route.LLM and "below 1.40" in d.reason  # 1.2 + 2 x 0.1
    # The fallback bar rises too (0.9 -> 1.1), the lexical ones do not.
    down = [crowded(match(1, 0.6, coverage=0.4), 0.7), match(2, 0.4)]  # confidence 1.0
    assert route(down, llm=False, thresholds=replace(t, crowding_weight=0.0)) is Route.FALLBACK
    assert route(down, llm=False, thresholds=t) is Route.STAFF


def test_every_signal_agreeing_through_the_staff_question_lowers_the_bar():
    t = replace(T, agreed_direct=0.9)

    def signals(entry_id, score, *, semantic, lexical, answer, phrasing=None):
        m = match(entry_id, score, semantic=semantic, lexical=lexical, coverage=0.2)
        m.answer_semantic = answer
        if phrasing is not None:
            m.phrasing = phrasing
        return m

    rival = signals(2, 0.45, semantic=0.5, lexical=0.3, answer=0.4)
    rest = [signals(n, 0.3, semantic=0.3, lexical=0.2, answer=0.3) for n in (3, 4, 5)]
    top = signals(1, 0.55, semantic=0.6, lexical=0.4, answer=0.5)  # confidence 0.55 + 0.1 + 0.1 = 0.75
    assert evidence(top, [rival, *rest], t).agreed
    assert route([top, rival, *rest], thresholds=t) is Route.LLM  # 0.75: under both bars
    top.score = 0.65  # 0.65 + 0.2 + 0.1 = 0.95: under 1.2, over the agreed 0.9
    d = decide([top, rival, *rest], llm_available=True, thresholds=t)
    assert d.route is Route.ANSWER
    assert route([top, rival, *rest], llm=False, thresholds=t) is Route.ANSWER  # the same with the model down
    assert route([top, rival, *rest], thresholds=replace(t, agreed_direct=1.0)) is Route.LLM
    # Fewer than four other entries found (a tiny FAQ): leading them all says little.
    assert not evidence(top, [rival, *rest[:2]], t).agreed
    assert route([top, rival, *rest[:2]], thresholds=t) is Route.LLM
    # One signal puts the rival first: the sum alone decides (0.95 < 1.2).
    for field, value in (("semantic", 0.7), ("lexical", 0.5), ("answer_semantic", 0.6)):
        other = signals(2, 0.45, semantic=0.5, lexical=0.3, answer=0.4)
        setattr(other, field, value)
        assert not evidence(top, [other, *rest], t).agreed
        assert route([top, other, *rest], thresholds=t) is Route.LLM
    # Found through a learned phrasing (a past user's message), not the staff's question.
    learned = signals(1, 0.65, semantic=0.6, lexical=0.4, answer=0.5, phrasing="a user's words")
    assert not evidence(learned, [rival, *rest], t).agreed
    assert route([learned, rival, *rest], thresholds=t) is Route.LLM
    # An entry whose answer other entries give too (an import of user messages): the sum alone decides.
    top.siblings = 2
    assert route([top, rival, *rest], thresholds=t) is Route.LLM
    top.siblings = 0
    # No answer vector or no embeddings: no agreement to speak of.
    top.answer_semantic = None
    assert route([top, rival, *rest], thresholds=t) is Route.LLM
    # A crowded memory raises the agreed bar too (0.9 + 2 x 0.1 = 1.1 > 0.95).
    top.answer_semantic = 0.5
    top.crowding = 0.7
    assert route([top, rival, *rest], thresholds=replace(t, crowding_weight=2.0, crowding_floor=0.6)) is Route.LLM
    # Never answer (SIMILARITY_THRESHOLD=1) covers the agreed bar too.
    top.crowding = None
    assert route([top, rival, *rest], thresholds=Thresholds.from_similarity(1.0)) is Route.LLM


def _with_answer(m: Match, answer: float | None) -> Match:
    m.answer_semantic = answer
    return m


@pytest.mark.parametrize("llm", [True, False])
def test_a_rival_whose_answer_fits_better_keeps_the_saved_answer_back(llm):
    # Confident on the sum (0.8 + 0.4 + 0.5), but entry 3's answer is closer to the message than entry 1's.
    matches = [_with_answer(match(1, 0.8, coverage=1.0, semantic=0.7), 0.3), _with_answer(match(2, 0.4), 0.2)]
    matches.append(_with_answer(match(3, 0.35), 0.45))
    d = decide(matches, llm_available=llm, thresholds=T)
    assert d.route is (Route.LLM if llm else Route.STAFF), "no direct answer, and no fallback either"
    assert "entry 3's answer fits the message better (0.45 vs 0.30)" in d.reason
    assert evidence(matches[0], matches[1:], T).answer_rival is matches[2]


def test_an_answer_rival_with_the_same_answer_or_past_the_top_five_does_not_count():
    top = _with_answer(match(1, 0.8, coverage=1.0, semantic=0.7, response="Reset it here."), 0.3)
    same = _with_answer(match(2, 0.4, response="reset it here"), 0.5)
    assert route([top, same]) is Route.ANSWER
    far = [_with_answer(match(i, 0.3), 0.1) for i in range(3, 7)] + [_with_answer(match(7, 0.2), 0.9)]
    assert route([top, *far]) is Route.ANSWER, "only the next four matches are rivals"
    assert route([top, _with_answer(match(3, 0.4), 0.3)]) is Route.ANSWER, "a tie is no better fit"


def test_without_answer_vectors_nothing_is_compared():
    top = _with_answer(match(1, 0.8, coverage=1.0), None)
    assert route([top, _with_answer(match(2, 0.4), 0.9)]) is Route.ANSWER


def test_a_message_that_repeats_a_stored_question_gets_its_answer_whatever_the_answers_say():
    top = _with_answer(match(1, 0.85, coverage=1.0), 0.2)
    assert route([top, _with_answer(match(2, 0.4), 0.6)]) is Route.ANSWER
    top.semantic = 0.75  # a paraphrase, not the same question: the answers count
    assert route([top, _with_answer(match(2, 0.4), 0.6)]) is Route.LLM
