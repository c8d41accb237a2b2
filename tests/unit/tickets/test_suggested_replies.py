"""What a hand-off offers staff, and what a press posts (tickets/suggested_replies.py)."""

from __future__ import annotations

from memory.models import Entry, Match
from tickets.models import MessageRole, TicketMessage
from tickets.suggested_replies import (
    LABEL_LIMIT,
    MAX_PHRASING,
    SuggestedReply,
    phrasing_to_learn,
    saved_reply_parts,
    suggested_replies,
)


def _entry(entry_id: int, query: str, response: str = "Open Settings → Store.") -> Entry:
    return Entry(entry_id, 1, query, response, "general", [], None, "", "", 0, 1.0)


def _match(entry_id: int, score: float, **evidence) -> Match:
    return Match(_entry(entry_id, f"question {entry_id}"), score, None, None, f"question {entry_id}", **evidence)


def _message(role: MessageRole, content: str) -> TicketMessage:
    return TicketMessage(1, None, 2, "alice", role, content, "")


def test_the_notes_the_model_would_see_are_offered_best_first():
    offered = suggested_replies([_match(1, 0.7), _match(2, 0.5), _match(3, 0.4), _match(4, 0.3), _match(5, 0.1)])
    assert [r.entry_id for r in offered] == [1, 2, 3], "at most 3, none below the note floor"


def test_an_entry_the_message_is_not_about_is_not_offered():
    assert suggested_replies([_match(1, 0.9, foreign=("steam",)), _match(2, 0.6)]) == [
        SuggestedReply(2, "question 2", 0.6)
    ]


def test_labels_fit_a_button_and_stay_on_one_line():
    long = SuggestedReply(1, "How do I\nreset\u202e my password " + "x" * 200, 0.5)
    assert len(long.label) == LABEL_LIMIT and long.label.endswith("…")
    assert "\n" not in long.label and "\u202e" not in long.label


def test_the_posted_answer_names_the_staff_member_and_pings_nobody():
    parts = saved_reply_parts(_entry(1, "q", "Ask @everyone in <@&123> for help."), "@here sam")
    text = "\n".join(parts)
    assert "@everyone" not in text and "@here" not in text and "<@&123>" not in text
    assert "sent by" in parts[-1] and "sam" in parts[-1]


def test_a_long_answer_is_split_into_messages_discord_accepts():
    parts = saved_reply_parts(_entry(1, "q", ("word " * 380).strip()), "sam")
    assert len(parts) >= 1 and all(len(p) <= 2000 for p in parts)


def test_the_users_latest_short_message_is_the_phrasing_to_learn():
    messages = [
        _message(MessageRole.USER, "first question"),
        _message(MessageRole.USER, "  how do i get\n a refund  "),
        _message(MessageRole.BOT, "I couldn't find a reliable answer"),
    ]
    assert phrasing_to_learn(messages) == "how do i get a refund"
    assert phrasing_to_learn([_message(MessageRole.USER, "x" * (MAX_PHRASING + 1))]) is None
    assert phrasing_to_learn([_message(MessageRole.STAFF, "staff wrote")]) is None
