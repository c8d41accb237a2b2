"""ai/untrusted.py: user text made safe for titles."""

from __future__ import annotations

from ai.untrusted import BIDI_CONTROLS, without_bidi


def test_without_bidi_removes_every_bidi_control_and_nothing_else():
    assert without_bidi("invoice\u202efdp.exe\u202c") == "invoicefdp.exe"
    assert without_bidi("".join(sorted(BIDI_CONTROLS))) == ""
    kept = "عربي English 👩\u200d💻 x\u200by café"  # Arabic letters, a ZWJ emoji sequence, a zero-width space
    assert without_bidi(kept) == kept
