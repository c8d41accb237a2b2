"""memory/scope.py: other products' names in a message, content words and coverage; and how the index
attaches them to matches (the near-miss veto of memory/decision.py)."""

from __future__ import annotations

import pytest

from memory import scope
from memory.guild_index import GuildIndex
from memory.models import Entry


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("what is the refund policy of steam", {"steam"}),
        ("What's Steam's refund policy?", {"steam"}),  # case and possessive
        ("how do i redeem a PSN gift card on my PS5", {"psn", "ps5"}),
        ("refund on the epic games store", {"epic games store"}),  # the longest listed name wins
        ("i use Windows 11 and two xboxes", {"windows 11", "xbox"}),
        ("how do i cancel my gym membership", {"gym membership"}),
        ("AT&T says my line is fine", {"at t"}),
        ("how do i get my api key for openai", {"openai"}),
        # Everyday words that are also brand names are listed only in an unambiguous form.
        ("how do i zoom in on the map", set()),
        ("switch to the other server", set()),
        ("the doorbell didn't ring", set()),
        ("pop ups everywhere after the update", set()),
        ("", set()),
    ],
)
def test_names_in(text, names):
    assert scope.names_in(text) == names


def test_foreign_names_only_counts_what_the_entry_does_not_mention():
    entry = scope.mentioned(
        ["How do I link my PlayStation account?"], "Open Settings → Accounts → PlayStation Network."
    )
    assert scope.foreign_names(scope.names_in("link my playstation pls"), entry) == ()
    assert scope.foreign_names(scope.names_in("link psn and steam"), entry) == ("psn", "steam")
    # A longer or shorter form of a name the entry mentions is covered either way.
    assert scope.foreign_names(scope.names_in("playstation store refund"), entry) == ()
    assert scope.foreign_names(scope.names_in("playstation"), scope.mentioned(["PlayStation Store refunds"])) == ()


@pytest.mark.parametrize(
    ("text", "name", "entry_question", "entry_answer"),
    [
        # One name from each of several categories of the extended list: brokerage, tax software,
        # dating, workplace SaaS, a game by its unambiguous form, a university platform, a bank, a VPN.
        ("reset my robinhood password", "robinhood", "Reset my password", "Reset it in Robinhood."),
        ("turbotax charged me twice", "turbotax", "I was charged twice", "Refunds for TurboTax go through Intuit."),
        ("cancel my bumble premium", "bumble", "How do I cancel?", "Cancel Bumble Premium in Settings."),
        ("quickbooks export is broken", "quickbooks", "How do I export data?", "QuickBooks export: Reports → Export."),
        ("airtable base wont sync", "airtable", "Sync is stuck", "Re-connect Airtable under Integrations."),
        ("rust game keeps crashing on start", "rust game", "Crash on start", "Rust game players: verify files."),
        ("canvas lms login loop", "canvas lms", "Login loop", "If you use Canvas LMS, clear its cookies."),
        ("chase bank froze my card", "chase bank", "My card is frozen", "Chase Bank cards: call Chase Bank."),
        ("nordvpn subscription refund", "nordvpn", "How do I get a refund?", "NordVPN refunds are not handled here."),
    ],
)
def test_extended_names_veto_only_entries_that_do_not_mention_them(text, name, entry_question, entry_answer):
    names = scope.names_in(text)
    assert name in names
    assert name in scope.foreign_names(names, scope.mentioned([entry_question], "Open Settings → Account."))
    assert scope.foreign_names(names, scope.mentioned([entry_question], entry_answer)) == ()


@pytest.mark.parametrize(
    "text",
    [
        # Everyday words that are also brands stay unlisted alone (they veto nothing).
        "rust on my bike",
        "i want to target the boss",
        "be wise with your points",
        "the doorbell chime is too quiet",
        "my new balance is wrong after the transfer",
        "set up bank transfer",
        "i got outplayed",
        "the game stops responding",
        "144 hertz monitor",
        "sign in with google one tap",
        "can i switch 2 accounts",
        "i play console and pc",
    ],
)
def test_everyday_words_are_no_names(text):
    assert scope.names_in(text) == frozenset()


def test_spacing_of_a_name_does_not_count():
    entry = scope.mentioned(["Can I order through Uber Eats?"])
    assert scope.foreign_names(scope.names_in("my ubereats order"), entry) == ()


def test_an_entry_mentions_the_listed_names_inside_a_longer_one():
    entry = scope.mentioned(["Does it work with Apple CarPlay?"], "Yes, on iOS 16 or later.")
    assert "apple carplay" in entry
    assert scope.foreign_names(scope.names_in("carplay support?"), entry) == ()
    assert scope.foreign_names(scope.names_in("android auto support?"), entry) == ("android",)


def test_the_host_platform_counts_only_in_questions():
    answer = "Open a ticket in our Discord's #support channel; we answer within a day."
    assert scope.mentioned(["How do I contact support?"], answer) == frozenset()
    assert scope.mentioned(["Can I link my Discord account?"], answer) == {"discord"}
    assert scope.mentioned([], "Refunds for Steam purchases go through Steam.") == {"steam"}


@pytest.mark.parametrize(
    ("forms"), [("bundles", "bundle"), ("charged", "charge", "charges"), ("replies", "reply"), ("refunds", "refund")]
)
def test_root_joins_forms(forms):
    assert len({scope.root(form) for form in forms}) == 1


def test_content_words_and_coverage():
    words = scope.content_words("hey so i bought the nebula bundle 3 days ago, can i get a refund??")
    assert words == ["bought", "nebula", "bundl", "day", "ago", "refund"]
    vocab = scope.vocabulary(["How do I get a refund?", "Refunds within 14 days for bundles bought in the store."])
    assert scope.coverage(words, vocab) == pytest.approx(4 / 6)  # bought, bundle, day, refund
    assert scope.coverage([], vocab) == 0.0


def entry(entry_id, query, response, alternates=()):
    return Entry(entry_id, 1, query, response, "general", list(alternates), None, "", "", 0, 1.0)


def test_index_attaches_coverage_and_foreign_names():
    index = GuildIndex()
    index.put_entry(entry(1, "How do I get a refund?", "Open Settings → Store → Purchase History."))
    index.put_entry(entry(2, "Can I play on Steam Deck?", "Yes, Steam Deck is verified.", ["steam deck support"]))
    index.add_phrasings([(10, 1, "How do I get a refund?"), (20, 2, "Can I play on Steam Deck?")])
    (refund, *_) = index.rank("what is the refund policy of steam", None, 5)
    assert refund.entry.id == 1 and refund.foreign == ("steam",)
    assert refund.coverage == pytest.approx(1 / 3)  # refund of (refund, policy, steam)
    deck = next(m for m in index.rank("does it run on my steam deck", None, 5) if m.entry.id == 2)
    assert deck.foreign == ()  # the entry names it itself
    # An edit that adds the name to the entry lifts the veto.
    index.put_entry(entry(1, "How do I get a refund?", "Refunds for Steam purchases go through Steam."))
    (refund, *_) = index.rank("what is the refund policy of steam", None, 5)
    assert refund.entry.id == 1 and refund.foreign == ()


def test_listed_names_are_normalised_and_unique():
    lines = [
        line.strip()
        for line in scope.NAMES_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) > 500
    assert all(line == line.lower() for line in lines)
    assert len(set(lines)) == len(lines)


def test_index_counts_entries_giving_the_same_answer():
    index = GuildIndex()
    for entry_id, answer in ((1, "Reset it in settings."), (2, "reset it in settings"), (3, "Call the bank.")):
        index.put_entry(entry(entry_id, f"question {entry_id}", answer))
    index.add_phrasings([(10, 1, "reset my password"), (20, 2, "password reset please"), (30, 3, "card stolen")])
    siblings = {m.entry.id: m.siblings for m in index.rank("reset my password", None, 5)}
    assert siblings[1] == siblings[2] == 1 and siblings.get(3, 0) == 0
    index.put_entry(entry(2, "question 2", "Something else now."))  # an edit moves it out
    assert {m.entry.id: m.siblings for m in index.rank("reset my password", None, 5)}[1] == 0
    index.remove_entry(1)
    assert all(m.siblings == 0 for m in index.rank("reset my password", None, 5))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("game lags but my ping is fine, is it my pc", {"ping"}),
        ("my friends cant hear me but discord works fine", {"discord"}),
        ("its not a wifi problem", {"wifi"}),
        ("no lag issues but fps drops", {"lag"}),
        ("my fps is low", set()),  # a problem, not ruled out
        ("everything is fine now thanks", set()),
    ],
)
def test_ruled_out(text, words):
    assert scope.ruled_out(text) == {scope.root(w) for w in words}


def test_index_marks_the_entry_whose_question_the_user_rules_out():
    index = GuildIndex()
    index.put_entry(entry(1, "Why is my ping so high?", "Pick the nearest region."))
    index.put_entry(entry(2, "My FPS is low, how do I fix it?", "Use the Performance preset; ping is unrelated."))
    index.add_phrasings([(10, 1, "Why is my ping so high?"), (20, 2, "My FPS is low, how do I fix it?")])
    ruled = {m.entry.id: m.ruled_out for m in index.rank("game lags but my ping is fine", None, 5)}
    assert ruled[1] == ("ping",)
    assert ruled.get(2, ()) == ()  # only the entry's questions count, not its answer


def test_crowding_measures_how_close_questions_with_other_answers_are():
    index = GuildIndex()
    assert index.crowding() is None  # nothing embedded
    for entry_id, (question, vector) in enumerate([("refund", [1, 0, 0]), ("password", [0, 1, 0])], 1):
        index.put_entry(entry(entry_id, question, f"answer {entry_id}"))
        index.add_phrasings([(entry_id * 10, entry_id, question)])
        index.set_vector(entry_id * 10, vector)
    assert index.crowding() == pytest.approx(0.0)  # orthogonal questions
    index.put_entry(entry(3, "refund please", "answer 3"))
    index.add_phrasings([(30, 3, "refund please")])
    index.set_vector(30, [0.96, 0.28, 0])  # nearly the refund question, another answer
    assert index.crowding() == pytest.approx(0.96, abs=0.01)  # median of 0.96, 0.28, 0.96
    ranked = index.rank("refund", [1, 0, 0], 5)
    assert all(m.crowding == pytest.approx(index.crowding()) for m in ranked)
    # The same answer is no crowding: entry 3 now gives the refund answer.
    index.put_entry(entry(3, "refund please", "answer 1"))
    assert index.crowding() == pytest.approx(0.28, abs=0.01)
