"""User text placed where it could mislead: thread names and embed titles.

In `ai/` because every layer (memory, tickets, cogs, ai itself) may import it; it knows nothing of them.
"""

from __future__ import annotations

# Directional embeddings, overrides and isolates, and the marks (LRM, RLM, ALM): in a title a right-to-left
# override reverses what follows ("invoice\u202efdp.exe" reads "invoiceexe.pdf"), in the forum list too.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_NO_BIDI = {ord(ch): None for ch in BIDI_CONTROLS}


def without_bidi(text: str) -> str:
    """`text` for a thread name or an embed title: bidi controls removed, nothing else changed."""
    return text.translate(_NO_BIDI)
