"""memory/segments.py: long and multi-question messages are searched question by question."""

from __future__ import annotations

import time

import pytest

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


def test_also_inside_one_question_does_not_split_it():
    # "also" in the middle of a question ("does X also do Y") belongs to it: cutting there leaves two
    # halves that each miss the point ("does deleting the team" / "delete backups").
    for text in [
        "does deleting the team also delete backups",
        "how does my wife also get the doorbell on her phone",
        "can i also use my voyager pass on the ps5 version",
        "will the refund also cancel my odysey plus sub",
        "does the doorbel also record when the wifi is down",
        "if i change my email will it also change my login",
        "can my team mates also see the invoices or only the owner",
        "will it also do the backups automaticaly",
        "does the ring also do it when the power is out",
    ]:
        assert questions(text) == [text]


def test_also_starting_a_new_question_splits():
    assert questions("refund pls. also how do i reset my pw") == ["refund pls.", "also how do i reset my pw"]
    assert questions("refund pls also how do i reset my pw") == ["refund pls", "how do i reset my pw"]
    assert questions("can i get a refund for the annual plan and also how do i reset my password") == [
        "can i get a refund for the annual plan",
        "also how do i reset my password",
    ]
    assert questions("my game keeps crashing on launch also is there maintenance today") == [
        "my game keeps crashing on launch",
        "is there maintenance today",
    ]
    assert questions("i cant login on my phone also my doorbell is offline since yesterday") == [
        "i cant login on my phone",
        "my doorbell is offline since yesterday",
    ]
    assert questions("the doorbel went offline after the update, also whats the warranty") == [
        "the doorbel went offline after the update",
        "whats the warranty",
    ]
    assert questions("how do i add my wife as a user also can she get notifications on her phone") == [
        "how do i add my wife as a user",
        "can she get notifications on her phone",
    ]
    assert questions("billing page shows the wrong vat number also, where do i download invoices") == [
        "billing page shows the wrong vat number",
        "where do i download invoices",
    ]
    # "and also" before a verb adds a second request (two topics in the dev set's messages)
    assert questions("we want to invite 3 devs to the team and also make them all use 2fa") == [
        "we want to invite 3 devs to the team",
        "also make them all use 2fa",
    ]
    assert questions("the app is slow also does it work on android") == ["the app is slow", "does it work on android"]
    assert questions("my ping is 180 every match and also my ps5 controller doesnt work on steam") == [
        "my ping is 180 every match",
        "also my ps5 controller doesnt work on steam",
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
    # Answers that say what they answer: the decision also wants the best match's answer to fit best.
    refund = await memory.add(GUILD, "How do I get a refund?", "To get a refund, open Settings → Store within 14 days.")
    password = await memory.add(GUILD, "How do I reset my password?", "To reset your password, use the login link.")
    loose = Thresholds(direct=0.5)
    text = "How do I get a refund? How do I reset my password? And how do I get a refund?"
    decided = decide_each(await find_per_question(memory, GUILD, text), llm_available=True, thresholds=loose)
    assert [(d.route, d.match.entry.id) for _, d in decided] == [
        (Route.ANSWER, refund.id),
        (Route.ANSWER, password.id),
        (Route.LLM, refund.id),  # the same answer is not sent twice
    ]
    assert [q.answered_above for q, _ in decided] == [False, False, True]  # ...and it covers that question
    down = decide_each(await find_per_question(memory, GUILD, text), llm_available=False, thresholds=loose)
    assert [d.route for _, d in down] == [Route.ANSWER, Route.ANSWER, Route.STAFF]


@pytest.mark.parametrize(
    "text",
    [
        "how" + " " * 8000 + "now?",  # every space started a clause search that ran to the end of the run
        "refund pls and" + " " * 8000 + "z",  # after "and", two runs of spaces split every way
        "~" + " " * 8000 + "how",  # before the first word, the same
        "refund pls also" + "\n" * 8000 + "z",
    ],
    ids=["spaces", "after and", "leading", "after also"],
)
def test_a_long_run_of_blanks_is_split_in_linear_time(text):
    """A message is split on the event loop, and paced messages are split joined together (five messages of 2,000
    characters are one text of 10,000): blanks a user pads them with must not cost seconds (8,000 spaces: 2.7 s)."""
    started = time.perf_counter()
    sentences(text)
    segments.segments(text)
    assert time.perf_counter() - started < 0.25
