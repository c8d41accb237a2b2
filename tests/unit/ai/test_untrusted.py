"""ai/untrusted.py: user text made safe for titles and log lines."""

from __future__ import annotations

from ai.untrusted import BIDI_CONTROLS, one_line, without_bidi


def test_without_bidi_removes_every_bidi_control_and_nothing_else():
    assert without_bidi("invoice\u202efdp.exe\u202c") == "invoicefdp.exe"
    assert without_bidi("".join(sorted(BIDI_CONTROLS))) == ""
    kept = "عربي English 👩\u200d💻 x\u200by café"  # Arabic letters, a ZWJ emoji sequence, a zero-width space
    assert without_bidi(kept) == kept


def test_one_line_escapes_what_could_start_or_reorder_a_log_line():
    assert one_line("refund pls") == "refund pls"
    assert one_line("a\nERROR fake\r\n\tb") == "a\\nERROR fake\\r\\n\\tb"
    assert one_line("x\u2028y\u2029z\x85\x00") == "x\\u2028y\\u2029z\\x85\\x00"
    assert one_line("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert one_line("café 👍 日本語") == "café 👍 日本語"  # visible text is left alone
    assert one_line(ValueError("bad\nline")) == "bad\\nline"  # anything logged with %s, e.g. an exception
