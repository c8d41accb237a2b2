"""Which places in line are worth editing a notice for."""

from __future__ import annotations

from tickets.queue_notice import MIN_INTERVAL_S, QueueNotice, bucket


def test_a_notice_walking_down_a_long_line_slowly_is_edited_at_a_few_marks_only():
    notice = QueueNotice()
    shown = [p for p in range(200, 0, -1) if notice.worth_showing(p, now=1000.0 - p * MIN_INTERVAL_S)]
    assert shown == [200, 100, 50, 20, 10, 5, 3, 2, 1]


def test_a_fast_moving_line_edits_a_notice_at_most_once_per_interval_and_for_first_place():
    notice = QueueNotice()
    shown = [p for p in range(200, 0, -1) if notice.worth_showing(p, now=(200 - p) * 0.1)]
    # 20 s for the whole line: the first place, one edit per interval, and "#1".
    assert shown == [200, 100, 1]
    edits_per_minute = len(shown) - 1
    assert edits_per_minute <= 60 / MIN_INTERVAL_S + 1


def test_the_first_place_is_always_shown_and_a_place_in_the_same_bucket_is_not():
    notice = QueueNotice()
    assert notice.worth_showing(37, now=0.0)
    assert not notice.worth_showing(37, now=100.0)
    assert not notice.worth_showing(21, now=200.0)
    assert notice.worth_showing(20, now=300.0)


def test_buckets_are_exact_near_the_front_and_never_go_up_as_the_place_drops():
    assert [bucket(p) for p in (1, 2, 3, 4, 5, 6)] == [1, 2, 3, 5, 5, 10]
    assert all(bucket(p) <= bucket(p + 1) for p in range(1, 20000))
