"""User text placed where it could mislead: thread names and embed titles, and log lines.

In `ai/` because every layer (memory, tickets, cogs, ai itself) may import it; it knows nothing of them.
"""

from __future__ import annotations

import unicodedata

# Directional embeddings, overrides and isolates, and the marks (LRM, RLM, ALM): in a title a right-to-left
# override reverses what follows ("invoice\u202efdp.exe" reads "invoiceexe.pdf"), in the forum list too.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_NO_BIDI = {ord(ch): None for ch in BIDI_CONTROLS}
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Line and paragraph separators end a line in some log viewers; controls and format characters (bidi ones
# included) can forge a record or reorder what a terminal shows.
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


def without_bidi(text: str) -> str:
    """`text` for a thread name or an embed title: bidi controls removed, nothing else changed."""
    return text.translate(_NO_BIDI)


def one_line(value: object) -> str:
    """`value` as text that stays on one log line: line breaks, other control characters and format characters
    escaped ("\\n", "\\u202e"). For user text logged with %s (a subject, a message, a name, an import line)."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(_escaped(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text)


def _escaped(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
