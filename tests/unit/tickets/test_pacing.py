"""tickets/pacing.py: the sliding window and how waiting messages become one question."""

from __future__ import annotations

from tickets.pacing import AnswerPacing, RateWindow


def test_rate_window_allows_limit_events_per_window_and_says_how_long_to_wait() -> None:
    now = [100.0]
    window = RateWindow(60.0, clock=lambda: now[0])
    for _ in range(3):
        assert window.try_add("k", 3)
        now[0] += 1
    assert not window.try_add("k", 3)
    assert window.wait("k", 3) == 57.0  # the first of the three leaves the window at 160
    assert window.wait("other", 3) == 0 and window.wait("k", 0) == 0  # per key; 0 = no limit
    now[0] = 160.0
    assert window.try_add("k", 3)


def test_messages_that_wait_together_become_one_question_in_order() -> None:
    pacing = AnswerPacing(clock=lambda: 0.0)
    key = (1, 2)
    pending = pacing.join(key, 30, "third")
    assert pending is not None
    assert pacing.join(key, 10, "first") is None and pacing.join(key, 20, "second") is None
    assert pacing.join((1, 3), 25, "someone else") is not None  # another user waits on their own

    assert pending.message_id == 10 and pending.question == "first\nsecond\nthird"
    assert pending.searches == ("first", "second", "third")

    pacing.started(key, pending)
    later = pacing.join(key, 40, "after the answer began")
    assert later is not None and later is not pending
    assert pacing.delay(key, 1) > 0 and pacing.delay(key, 2) == 0


def test_a_single_message_keeps_its_own_search_texts() -> None:
    pacing = AnswerPacing(clock=lambda: 0.0)
    pending = pacing.join("k", 1, "Subject\nDescription", ("Subject", "Description"))
    assert pending is not None and pending.searches == ("Subject", "Description")
    assert pending.question == "Subject\nDescription"
