"""cogs._discord.whole_lines: lists in an embed keep whole lines and say how many were left out."""

from __future__ import annotations

import random

from cogs._discord import whole_lines


def test_lines_that_fit_are_all_shown():
    assert whole_lines(["a", "b"], limit=10) == "a\nb"
    assert whole_lines([], limit=10) == ""


def test_what_does_not_fit_is_counted_not_cut():
    lines = [f"<@{i}> · " + "x" * 280 for i in range(20)]
    text = whole_lines(lines)
    shown = text.split("\n")
    assert len(text) <= 4096
    assert shown[:-1] == lines[: len(shown) - 1], "whole lines, in order"
    assert shown[-1] == f"… and {20 - (len(shown) - 1)} more"


def test_any_mix_stays_within_the_limit_and_counts_right():
    rng = random.Random(7)
    for _ in range(500):
        lines = ["y" * rng.randint(0, 60) for _ in range(rng.randint(0, 30))]
        limit = rng.randint(20, 300)
        text = whole_lines(lines, limit=limit)
        assert len(text) <= limit
        shown = text.split("\n") if text else []
        if shown and shown[-1].startswith("… and "):
            kept = shown[:-1]
            assert kept == lines[: len(kept)] and int(shown[-1].split()[2]) == len(lines) - len(kept)
        else:
            assert shown == lines or (not lines and not shown) or (lines == [""] and shown == [])
