"""memory/things.py: everyday things and services a message names that the matched entry does not ("charge my
electric toothbrush" against a doorbell FAQ), how the index attaches them, and that the decision sends no
saved answer (directly or as the fallback) for such a match while the doorbell's own questions keep theirs."""

from __future__ import annotations

import pytest

from memory import things
from memory.decision import Route, Thresholds, decide
from memory.guild_index import GuildIndex
from memory.models import Entry, Match

FAQ = [
    (
        "How do I connect my doorbell to Wi-Fi?",
        "Open the Halden Home app on your phone, pick the doorbell and enter your router's 2.4 GHz network name.",
    ),
    ("How do I factory reset the doorbell?", "Hold the reset button for 15 seconds until the light flashes red."),
    ("How do I charge the doorbell battery?", "Take the battery out and charge it with the USB-C cable for 5 hours."),
    ("My doorbell was stolen. What do I do?", "Report it to the police, then send us the police report."),
    ("How do I mount the doorbell?", "Screw the bracket to the door frame; on brick, use the wall plugs."),
]
# Lexical-only here, so use bars every lexical match clears: only the thing can stop it. The fallback is
# looked at only when no direct answer is sent: a second set of bars with direct answers off.
LOW = Thresholds(lexical_direct=0.0, lexical_fallback=0.0)
FALLBACK_ONLY = Thresholds(lexical_fallback=0.0)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("how do i charge my electric toothbrush", {"electric toothbrush"}),
        # The longest spelling wins; a plural and a synonym name the same thing.
        ("both our washing machines broke", {"washing machine"}),
        ("my Fridge-Freezer is beeping, and the other fridges too", {"fridge"}),
        ("the television and the telly", {"tv"}),
        ("how do i add my vat number to my electricity bill", {"electricity"}),
        # Brands that are everyday words count only in their longer forms.
        ("my nest protect keeps beeping", {"nest protect"}),
        ("my ring chime pro keeps disconnecting", {"ring chime"}),
        ("birds nest on the doorbell, it wont ring", set()),
        # Verbs and the product's own words are not things.
        ("how do i train the bot to change my keybinds", set()),
        ("my doorbell battery wont charge over wifi", set()),
        ("", set()),
    ],
)
def test_things_in(text: str, found: set[str]) -> None:
    assert things.things_in(text) == found


def test_other_things_against_the_entry_and_the_server() -> None:
    toothbrush = things.things_in("charge my electric toothbrush")
    assert things.other_things(toothbrush, frozenset(), {}) == ("electric toothbrush",)
    assert things.other_things(toothbrush, {"electric toothbrush"}, {"electric toothbrush": 1}) == ()
    # Another entry naming it does not make it this entry's ("router" in the Wi-Fi entry, asked of the reset).
    router = things.things_in("reset my router")
    assert things.other_things(router, frozenset(), {"router": 1}) == ("router",)
    # Many entries naming it make it the server's own subject (a game's FAQ and "pc").
    pc = things.things_in("does it run on my pc")
    assert things.other_things(pc, frozenset(), {"computer": things.SERVER_SUBJECT_ENTRIES - 1}) == ("computer",)
    assert things.other_things(pc, frozenset(), {"computer": things.SERVER_SUBJECT_ENTRIES}) == ()


def entry(entry_id: int, query: str, response: str) -> Entry:
    return Entry(entry_id, 1, query, response, "general", [], None, "", "", 0, 1.0)


def faq_index() -> GuildIndex:
    index = GuildIndex()
    for i, (q, a) in enumerate(FAQ, start=1):
        index.put_entry(entry(i, q, a))
    index.add_phrasings([(10 * i, i, q) for i, (q, _) in enumerate(FAQ, start=1)])
    return index


def top(index: GuildIndex, text: str) -> Match:
    return index.rank(text, None, 5)[0]


@pytest.mark.parametrize(
    ("text", "entry_id", "other"),
    [
        # Not the doorbell.
        ("how do i charge my electric toothbrush", 3, ("electric toothbrush",)),
        ("how do i reset my router to factory settings", 2, ("router",)),
        ("how do i mount a tv on the wall", 5, ("tv",)),
        ("my bike was stolen what do i do", 4, ("bike",)),
        # The doorbell, named with things its own entries name.
        ("my doorbell wont connect to wifi after i changed my router", 1, ()),
        ("my doorbell was stolen, do i need a police report", 4, ()),
        ("how do i mount the doorbell on brick", 5, ()),
        ("how do i connect the doorbell to wifi from the app on my phone", 1, ()),
        # The price: a device named as the setting, which the matched entry does not name, sends the message
        # to the model (which sees the note) instead of a saved answer.
        ("how do i charge the doorbell battery, i use the app on my phone", 3, ("phone",)),
    ],
)
def test_the_index_attaches_the_things_the_entry_does_not_name(
    text: str, entry_id: int, other: tuple[str, ...]
) -> None:
    match = top(faq_index(), text)
    assert match.entry.id == entry_id and match.other_things == other


def test_the_index_follows_edits_and_the_servers_subjects() -> None:
    index = faq_index()
    text = "how do i charge the doorbell battery with a power bank"

    def charging() -> Match:
        return next(m for m in index.rank(text, None, 10) if m.entry.id == 3)

    assert charging().other_things == ("power bank",)
    index.put_entry(entry(3, FAQ[2][0], FAQ[2][1] + " A power bank works too."))
    assert charging().other_things == ()
    index.put_entry(entry(3, *FAQ[2]))
    assert charging().other_things == ("power bank",)
    # Named by SERVER_SUBJECT_ENTRIES entries, it is what the server is about; one fewer, it is not.
    first = 100
    for i in range(first, first + things.SERVER_SUBJECT_ENTRIES):
        index.put_entry(entry(i, f"Accessory {i}: a power bank", "Sold in our shop."))
    assert charging().other_things == ()
    index.remove_entry(first)
    assert charging().other_things == ("power bank",)


def test_a_match_about_another_thing_gets_no_saved_answer() -> None:
    index = faq_index()
    ours = index.rank("how do i charge the doorbell battery", None, 5)
    assert decide(ours, llm_available=True, thresholds=LOW).route is Route.ANSWER
    assert decide(ours, llm_available=False, thresholds=FALLBACK_ONLY).route is Route.FALLBACK
    theirs = index.rank("how do i charge the battery of my electric toothbrush", None, 5)
    assert theirs[0].entry.id == 3
    up = decide(theirs, llm_available=True, thresholds=LOW)
    assert up.route is Route.LLM and "electric toothbrush" in up.reason, "the model (which sees the notes) decides"
    assert decide(theirs, llm_available=False, thresholds=LOW).route is Route.STAFF
    assert decide(theirs, llm_available=False, thresholds=FALLBACK_ONLY).route is Route.STAFF, "no fallback either"
