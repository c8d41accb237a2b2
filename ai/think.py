"""Reasoning models' thinking (`<think>…</think>`) is never shown to users (pure).

Ollama ≥ 0.9 moves it into a separate field when asked with `think` (we send `think: false`), but
older servers, OpenAI-compatible ones and models whose template is not marked as thinking put it
in the answer text itself, sometimes without the opening tag (the template already wrote it).
"""

from __future__ import annotations

import re

_TAGS = "think|thinking|reasoning|thought"
_BLOCK = re.compile(rf"<\s*({_TAGS})\s*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_OPEN = re.compile(rf"<\s*(?:{_TAGS})\s*>", re.IGNORECASE)
_CLOSE = re.compile(rf"<\s*/\s*(?:{_TAGS})\s*>", re.IGNORECASE)


def strip_think(text: str) -> str:
    """`text` without thinking: closed blocks, a block still open at the end, and everything before
    a closing tag whose opening tag is missing."""
    text = _BLOCK.sub("", text)
    closes = list(_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    opened = _OPEN.search(text)
    if opened is not None:
        text = text[: opened.start()]
    return text.strip()


def thinking_open(text: str) -> bool:
    """True while a streamed reply is inside a thinking block (or might be starting one)."""
    last_open = max((m.end() for m in _OPEN.finditer(text)), default=-1)
    last_close = max((m.end() for m in _CLOSE.finditer(text)), default=-1)
    if last_open > last_close:
        return True
    # "<thi" at the very end may become "<think>": hold it back.
    tail = text[text.rfind("<") :] if "<" in text else ""
    return bool(tail) and ">" not in tail and re.fullmatch(r"<\s*/?\s*[a-z]*", tail, re.IGNORECASE) is not None
