"""split_message and neutralize_mentions, including a property-style loop."""

from __future__ import annotations

import random
import re

import pytest

from ai.split import ZWSP, append_note, neutralize_mentions, split_message

FENCE_LINE = re.compile(r"^ {0,3}```.*$", re.MULTILINE)


def fence_lines(part: str) -> list[str]:
    return [line for line in part.split("\n") if line.lstrip(" ").startswith("```") and line.count("```") % 2]


def squash(text: str) -> str:
    """Content without fence lines or whitespace: what must survive splitting."""
    return re.sub(r"\s+", "", FENCE_LINE.sub("", text))


def random_document(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        if kind < 0.35:
            lang = rng.choice(["", "python", "js", "sh"])
            lines = [
                "    " * rng.randint(0, 2) + " ".join(f"tok{rng.randint(0, 99)}" for _ in range(rng.randint(1, 30)))
                for _ in range(rng.randint(1, 80))
            ]
            if rng.random() < 0.1:
                lines.append("x" * rng.randint(100, 3000))  # one absurdly long code line
            blocks.append(f"```{lang}\n" + "\n".join(lines) + "\n```")
        elif kind < 0.45:
            blocks.append("y" * rng.randint(50, 2500))  # a "word" longer than a message
        else:
            vocabulary = ["the", "ticket", "bot", "reset", "`x`", "**bold**"]
            words = [rng.choice(vocabulary) for _ in range(rng.randint(1, 400))]
            text = " ".join(words)
            blocks.append(text if rng.random() < 0.5 else text.replace(" bot ", "\nbot "))
    return "\n\n".join(blocks)


def test_short_text_is_one_part() -> None:
    assert split_message("hello") == ["hello"]
    assert split_message("") == []
    assert split_message("  \n ") == []


def test_prefers_paragraph_then_line_then_word_boundaries() -> None:
    para = "a" * 60
    assert split_message(f"{para}\n\n{para}", limit=100) == [para, para]
    assert split_message(f"{para}\n{para}", limit=100) == [para, para]
    words = " ".join(["word"] * 50)
    parts = split_message(words, limit=100)
    assert all(len(p) <= 100 and not p.startswith(" ") and not p.endswith(" ") for p in parts)
    assert " ".join(parts) == words


def test_long_code_block_is_closed_and_reopened_with_language() -> None:
    code = "\n".join(f"print({i})" for i in range(100))
    text = f"Here is the script:\n\n```python\n{code}\n```\n\nRun it."
    parts = split_message(text, limit=300)
    assert len(parts) > 3
    for part in parts:
        assert len(part) <= 300
        assert len(fence_lines(part)) % 2 == 0, part
    assert all(p.startswith("```python\n") for p in parts[1:-1])
    assert parts[0].startswith("Here is the script:")
    assert parts[-1].endswith("Run it.")
    assert squash("\n".join(parts)) == squash(text)


def test_code_block_that_fits_moves_whole_to_next_part() -> None:
    prose = "intro " * 30
    code = "```sh\n" + "echo hi\n" * 10 + "```"
    parts = split_message(f"{prose.strip()}\n\n{code}", limit=200)
    assert parts[-1] == code


@pytest.mark.parametrize("limit", [50, 120, 500, 2000])
def test_property_random_documents(limit: int) -> None:
    rng = random.Random(limit)
    for _ in range(150):
        text = random_document(rng)
        parts = split_message(text, limit=limit)
        assert parts, text
        for part in parts:
            assert len(part) <= limit
            assert len(fence_lines(part)) % 2 == 0, part
            assert part.strip()
        assert squash("\n".join(parts)) == squash(text)


def test_neutralize_mentions() -> None:
    text = "Hey @everyone and @here, ask <@&123> or <@456>; mail me@here.com"
    out = neutralize_mentions(text)
    assert "@everyone" not in out and "@here," not in out
    assert f"@{ZWSP}everyone" in out
    assert f"<@{ZWSP}&123>" in out
    assert "<@456>" in out  # user mentions are left to allowed_mentions
    assert neutralize_mentions("no pings") == "no pings"


def test_append_note_closes_an_open_code_fence_first() -> None:
    note = "-# 💾 Saved answer from the support team."
    text = append_note("Run this:\n```bash\nsudo systemctl restart app\n", note)
    assert text == "Run this:\n```bash\nsudo systemctl restart app\n```\n" + note
    # Balanced fences and inline code are left alone; a note with its own spacing keeps it.
    assert append_note("Use ```x``` inline.", note) == "Use ```x``` inline.\n" + note
    assert append_note("```\ncode\n```", "\n\n-# stopped") == "```\ncode\n```\n\n-# stopped"


def test_unmask_links_shows_every_masked_links_address() -> None:
    from ai.split import unmask_links

    text = (
        "[support.ourgame.com](https://evil.example/a) [x](<https://evil.example/b>) "
        '[y](https://evil.example/c "Official") [https://ok.example](https://ok.example) [not a link](ftp://x)'
    )
    assert unmask_links(text) == (
        "support.ourgame.com (https://evil.example/a) x (https://evil.example/b) "
        "y (https://evil.example/c) https://ok.example [not a link](ftp://x)"
    )
