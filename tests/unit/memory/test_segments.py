"""memory/segments.py: long and multi-question messages are searched question by question."""

from __future__ import annotations

from memory import segments
from memory.decision import Route, Thresholds
from memory.segments import MAX_SEGMENTS, decide_each, find_per_question, sentences

GUILD = 1


def questions(text):
    return [q.text for q in segments.segments(text)[0]]


def test_a_short_single_question_is_searched_whole():
    qs, searched = segments.segments("refund pls i havent even used the item")
    assert [q.text for q in qs] == ["refund pls i havent even used the item"]
    assert [s.text for s in searched] == ["refund pls i havent even used the item"]


def test_two_questions_in_one_line():
    assert questions("Can I get a refund for the annual plan? Also, how do I reset my password?") == [
        "Can I get a refund for the annual plan?",
        "Also, how do I reset my password?",
    ]
    assert questions("how do i add my domain and why is https not working on it yet") == [
        "how do i add my domain",
        "why is https not working on it yet",
    ]
    assert questions("1) how much is the voyager pass 2) how do i cancel odyssey plus") == [
        "1) how much is the voyager pass",
        "2) how do i cancel odyssey plus",
    ]


def test_in_a_short_message_every_clause_is_a_request():
    assert questions("game crashes on startup after the update. also when is maintenance this week") == [
        "game crashes on startup after the update.",
        "also when is maintenance this week",
    ]


def test_sentences_keep_their_offsets():
    text = "First line here.\nSecond one is a question? Third, a statement."
    for s in sentences(text):
        assert text[s.start : s.start + len(s.text)] == s.text
    assert [s.question for s in sentences(text)] == [False, True, False]


def test_a_long_message_searches_its_late_question_within_bounds():
    story = "We moved house last month and set everything up again without trouble. " * 25
    text = story + "Anyway, the real problem: the app says offline. How do I reconnect the doorbell to the new wifi?"
    assert len(text) > 1800
    qs, searched = segments.segments(text)
    assert [q.text for q in qs] == ["How do I reconnect the doorbell to the new wifi?"]
    assert qs[0].start == text.index("How do I reconnect")
    assert len(searched) <= MAX_SEGMENTS
    texts = [s.text for s in searched]
    assert texts[0] == text[: segments.MAX_SEARCH_CHARS].strip()  # the head, as before
    assert "Anyway, the real problem: the app says offline. How do I reconnect the doorbell to the new wifi?" in texts


def test_a_long_message_without_question_mark_uses_its_last_sentences():
    text = (
        "I have been playing for years and never had trouble until now. " * 30
        + "The game crashes at launch. It shows error 42."
    )
    (q,) = segments.segments(text)[0]
    assert q.text == "The game crashes at launch. It shows error 42."


def test_many_questions_are_bounded():
    text = " ".join(f"How do I do thing number {i} here?" for i in range(40))
    qs, searched = segments.segments(text)
    assert len(qs) == segments.MAX_QUESTIONS and qs[-1].text == "How do I do thing number 39 here?"
    assert len(searched) <= MAX_SEGMENTS


async def test_find_per_question_finds_both_topics_and_a_question_past_the_head(memory):
    refund = await memory.add(GUILD, "How do I get a refund?", "Refunds within 14 days in Settings → Store.")
    password = await memory.add(GUILD, "How do I reset my password?", "Use the reset link on the login page.")
    found = await find_per_question(memory, GUILD, "Can I get a refund? Also, how do I reset my password?")
    assert [q.matches[0].entry.id for q in found] == [refund.id, password.id]
    story = "My cat walked over the keyboard and I lost track of what I was doing, sorry. " * 20
    text = story + "How do I reset my password?"
    assert text.index("How do I reset") > 1300
    (late,) = await find_per_question(memory, GUILD, text)
    assert late.matches[0].entry.id == password.id and late.start == text.index("How do I reset")


async def test_find_similar_each_keeps_order_and_blanks(memory):
    await memory.add(GUILD, "How do I get a refund?", "Refunds within 14 days.")
    results = await memory.find_similar_each(GUILD, ["refund please", "  ", "refund please"])
    assert len(results) == 3 and results[1] == [] and results[0][0].entry.id == results[2][0].entry.id


async def test_decide_each_answers_each_confident_question_once(memory):
    refund = await memory.add(GUILD, "How do I get a refund?", "Refunds within 14 days in Settings → Store.")
    password = await memory.add(GUILD, "How do I reset my password?", "Use the reset link on the login page.")
    loose = Thresholds(direct=0.5)
    text = "How do I get a refund? How do I reset my password? And how do I get a refund?"
    decided = decide_each(await find_per_question(memory, GUILD, text), llm_available=True, thresholds=loose)
    assert [(d.route, d.match.entry.id) for _, d in decided] == [
        (Route.ANSWER, refund.id),
        (Route.ANSWER, password.id),
        (Route.LLM, refund.id),  # the same answer is not sent twice
    ]
    down = decide_each(await find_per_question(memory, GUILD, text), llm_available=False, thresholds=loose)
    assert [d.route for _, d in down] == [Route.ANSWER, Route.ANSWER, Route.STAFF]
