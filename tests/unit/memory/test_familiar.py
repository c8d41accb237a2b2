"""memory/familiar.py: words no entry of the server uses and everyday English does not either (another
product's name the names list lacks), how the index attaches them, and that the decision never sends a
saved answer (directly or as the fallback) for such a message."""

from __future__ import annotations

import pytest

from memory import familiar, scope
from memory.decision import Route, Thresholds, decide
from memory.guild_index import GuildIndex
from memory.models import Entry

FAQ = [
    ("How do I get a refund?", "Settings → Store → Purchase History, pick the item. PayPal refunds take 5 days."),
    ("How do I reset my password?", "Use Forgot password on the login screen; the e-mail link works for 30 minutes."),
    ("My account was hacked", "Reset your password, then turn on two-factor authentication in Settings → Security."),
]
KNOWN = familiar.KnownWords(scope.vocabulary(text for pair in FAQ for text in pair))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # Not in the names list, not everyday English, not in the FAQ.
        ("how do i get a refund from nike for shoes i never wore", ("nike",)),
        ("my robinhood account got hacked what do i do", ("robinhood",)),
        ("forgot my turbotax password and the reset email never comes", ("turbotax",)),
        ("where do i find my quickbooks invoices or my airtable ones", ("quickbooks", "airtable")),
        # The FAQ names it: ours.
        ("i paid with paypal and got nothing", ()),
        # Everyday English, chat shorthand, affixes on common words, jargon, typos of the FAQ's words.
        ("got unbanned yesterday but cant relink my acc, so laggy wtf", ()),
        ("pls help bro my keybinds reset after the hotfix", ()),
        ("i forgot my pasword and the recovery mail never came", ()),
        ("its been twice this week, refundable or not?", ()),
        # A user's own site, e-mail address or file is not another product.
        ("moving mysite.com over, my email is bob@kryptomail.io, logs in C:/zorbo/app.log", ()),
        ("", ()),
    ],
)
def test_unfamiliar(text: str, names: tuple[str, ...]) -> None:
    assert familiar.unfamiliar(text, KNOWN) == names


def test_short_rare_words_are_names_not_typos() -> None:
    # "nike" is one letter from "nice" and "bike": words under 5 letters are never taken for typos.
    assert familiar.unfamiliar("nike refund", KNOWN) == ("nike",)
    assert familiar.is_everyday("bannable") and familiar.is_everyday("replies") and not familiar.is_everyday("netlify")


def entry(entry_id: int, query: str, response: str) -> Entry:
    return Entry(entry_id, 1, query, response, "general", [], None, "", "", 0, 1.0)


def test_the_index_knows_the_words_of_every_entry_and_forgets_removed_ones() -> None:
    index = GuildIndex()
    for i, (q, a) in enumerate(FAQ, start=1):
        index.put_entry(entry(i, q, a))
    index.add_phrasings([(10 * i, i, q) for i, (q, _) in enumerate(FAQ, start=1)])
    (top, *rest) = index.rank("forgot my turbotax password", None, 5)
    assert top.entry.id == 2 and top.unfamiliar == ("turbotax",)
    assert all(m.unfamiliar == ("turbotax",) for m in rest), "the word is unknown to the whole server"
    # Another entry that mentions it makes it the server's word, for every entry.
    index.put_entry(entry(4, "Do you support TurboTax exports?", "Yes: Settings → Export → TurboTax."))
    assert index.rank("forgot my turbotax password", None, 5)[0].unfamiliar == ()
    # Edited away or removed, it is unfamiliar again.
    index.put_entry(entry(4, "Do you support tax exports?", "Yes: Settings → Export."))
    assert index.rank("forgot my turbotax password", None, 5)[0].unfamiliar == ("turbotax",)
    index.put_entry(entry(4, "Do you support TurboTax exports?", "Yes: Settings → Export → TurboTax."))
    index.remove_entry(4)
    assert index.rank("forgot my turbotax password", None, 5)[0].unfamiliar == ("turbotax",)


def test_a_message_naming_an_unfamiliar_thing_gets_no_saved_answer() -> None:
    index = GuildIndex()
    for i, (q, a) in enumerate(FAQ, start=1):
        index.put_entry(entry(i, q, a))
    index.add_phrasings([(10 * i, i, q) for i, (q, _) in enumerate(FAQ, start=1)])
    matches = index.rank("how do i reset my password", None, 5)
    # Lexical-only here, so use bars every lexical match clears: only the unfamiliar word can stop it.
    low = Thresholds(lexical_direct=0.0, lexical_fallback=0.0)
    assert decide(matches, llm_available=True, thresholds=low).route is Route.ANSWER
    matches = index.rank("how do i reset my turbotax password", None, 5)
    up = decide(matches, llm_available=True, thresholds=low)
    assert up.route is Route.LLM and "turbotax" in up.reason, "the model (which sees the notes) decides"
    assert decide(matches, llm_available=False, thresholds=low).route is Route.STAFF, "no fallback answer either"
