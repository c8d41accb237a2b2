"""Split long answers into Discord-sized messages without breaking code fences.

Pure functions; ``deliver_stream`` and the bot's reply paths share them.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

FENCE = "```"
_CLOSE = "\n" + FENCE
ZWSP = "\u200b"

_MASS_MENTION = re.compile(r"@(everyone|here)\b")
_ROLE_MENTION = re.compile(r"<@&")


def neutralize_mentions(text: str) -> str:
    """Break @everyone/@here and role pings with a zero-width space.

    Defence in depth beside ``allowed_mentions``: a model (or a prompt injection)
    writing "@everyone" must never ping a whole server.
    """
    text = _MASS_MENTION.sub(lambda m: f"@{ZWSP}{m.group(1)}", text)
    return _ROLE_MENTION.sub(f"<@{ZWSP}&", text)


# [text](url), [text](<url>), [text](url "title"): Discord shows only `text`, and a user or a model can make it
# say "support.ourgame.com" while it goes elsewhere.
_MASKED_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?(https?://[^\s<>()]+)>?(?:\s+\"[^\"\n]*\")?\s*\)", re.IGNORECASE)


def unmask_links(text: str) -> str:
    """`text` with every masked link shown as its text followed by its address ("form (https://…)").

    For text someone else wrote that the bot posts in its own messages (a user's description, a quote, a close
    reason, a model's summary): a masked link there would be a phishing link in the server's name.
    """

    def shown(m: re.Match[str]) -> str:
        label, url = m.group(1).strip(), m.group(2)
        return url if not label or label == url else f"{label} ({url})"

    return _MASKED_LINK.sub(shown, text)


def _fence_line(line: str) -> bool:
    """A line that opens or closes a fence (an even count of ``` on it is inline code)."""
    stripped = line.lstrip(" ")
    return stripped.startswith(FENCE) and stripped.count(FENCE) % 2 == 1


def open_fence(text: str, opener: str | None) -> str | None:
    """The opener line of the fence still open at the end of ``text`` (None if outside)."""
    for line in text.split("\n"):
        if _fence_line(line):
            opener = None if opener is not None else line.strip()
    return opener


def append_note(text: str, note: str) -> str:
    """`text` followed by `note`, closing a code fence left open in `text` first.

    Every note the bot adds to text that may hold Markdown (a saved answer, model output) goes
    through here: appended inside an unclosed code block, "💾 Saved answer" would show as code.
    A note starting with whitespace keeps its own spacing; any other starts on a new line.
    """
    text = text.rstrip()
    if open_fence(text, None) is not None:
        text += _CLOSE
    return text + (note if note[:1].isspace() else "\n" + note)


def _has_content(text: str) -> bool:
    return any(line.strip() and not _fence_line(line) for line in text.split("\n"))


def _choose_cut(rest: str, room: int, opener: str | None) -> tuple[int, int]:
    """Where to end this part (``end``) and start the next (``start``) within ``room`` chars."""
    window = rest[:room]
    floor = room // 4  # do not leave tiny parts just to hit a nicer boundary

    def fits(end: int) -> bool:
        # Inside a fence the part needs 4 more characters for the closing "\n```".
        inside = open_fence(rest[:end], opener) is not None
        return end > 0 and (not inside or end + len(_CLOSE) <= room)

    separators = ("\n\n", "\n", " ")
    for sep in separators:
        index = window.rfind(sep)
        while index > floor:
            if fits(index):
                return index, index + len(sep)
            index = window.rfind(sep, 0, index)
    end = room
    while end > 1 and not fits(end):
        end -= 1
    return end, end


def split_message(text: str, limit: int = 2000) -> list[str]:
    """Split at paragraph, then line, then word boundaries; every part <= ``limit``.

    A code block too long for one message is closed at the end of a part and
    reopened, with the same language tag, at the start of the next.
    """
    if limit < 16:
        raise ValueError("limit too small to split safely")
    text = text.strip("\n")
    if len(text) <= limit:
        return [text] if text.strip() else []
    parts: list[str] = []
    rest, opener = text, None
    while rest:
        # A huge language tag would eat the room; reopen with a bare fence then.
        prefix = (opener if len(opener) <= limit // 4 else FENCE) + "\n" if opener else ""
        room = limit - len(prefix)
        if len(rest) <= room:
            if _has_content(rest):
                parts.append(prefix + rest)
            break
        end, start = _choose_cut(rest, room, opener)
        body, rest = rest[:end].rstrip(" "), rest[start:]
        opener = open_fence(body, opener)
        next_opener = opener
        if opener is not None:
            body += _CLOSE
            # If the block closes right here anyway, its own closing line is the one we added.
            first, _, after = rest.partition("\n")
            if first.strip() == FENCE:
                rest, next_opener = after, None
            elif not rest.strip():
                next_opener = None
        if _has_content(body):
            parts.append(prefix + body)
        opener = next_opener
        if opener is None:
            rest = rest.lstrip("\n")
    return parts
