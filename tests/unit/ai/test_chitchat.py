"""Chit-chat gets a canned reply without the model; anything with a question in it does not."""

from __future__ import annotations

import pytest

from ai.chitchat import Kind, canned_reply, classify

CHITCHAT = {
    # the dev sets' chit-chat messages (bench/devsets)
    "hello": Kind.GREETING,
    "hi there!": Kind.GREETING,
    "hey": Kind.GREETING,
    "hello!": Kind.GREETING,
    "gm everyone ☀️": Kind.GREETING,
    "good morning folks": Kind.GREETING,
    "thanks!": Kind.THANKS,
    "thank you so much": Kind.THANKS,
    "thx": Kind.THANKS,
    "good bot": Kind.THANKS,
    "you guys are awesome": Kind.THANKS,
    "ty that worked": Kind.RESOLVED,
    "nvm i figured it out": Kind.RESOLVED,
    "never mind, fixed it": Kind.RESOLVED,
    "lol": Kind.ACK,
    "lmao": Kind.ACK,
    "bruh": Kind.ACK,
    "ok": Kind.ACK,
    "cool": Kind.ACK,
    "ok cool": Kind.ACK,
    "😂😂😂": Kind.ACK,
    "👍": Kind.ACK,
    "anyone here?": Kind.PRESENCE,
    "is anyone around?": Kind.PRESENCE,
    # spelling people use
    "heyyy": Kind.GREETING,
    "Hi!!": Kind.GREETING,
    "thxxx": Kind.THANKS,
    "hahahaha": Kind.ACK,
    "ok thanks": Kind.THANKS,
    "thanks a lot, bye": Kind.THANKS,
    "cya": Kind.BYE,
    # other languages
    "hallo": Kind.GREETING,
    "danke!": Kind.THANKS,
    "merci beaucoup": Kind.THANKS,
    "hola": Kind.GREETING,
    "gracias": Kind.THANKS,
    "obrigado": Kind.THANKS,
    "спасибо": Kind.THANKS,
    "ありがとう": Kind.THANKS,
}

NOT_CHITCHAT = [
    "thanks, but how do I reset my password",
    "thanks! also where do i redeem codes",
    "hi my game crashes on startup",
    "hello? my payment failed",
    "lol the game crashed again",
    "ok so my refund never arrived",
    "ok but what about the refund",
    "is anyone here who can help with billing",
    "good morning, i can't log in since the update",
    "thanks for nothing, still broken",
    "what time is it in tokyo",
    "refund pls",
    "SF-1004",
    "?",
    "...",
    "",
    "   ",
    "hi " * 20,
]


@pytest.mark.parametrize(("text", "kind"), CHITCHAT.items())
def test_chitchat_is_recognised(text: str, kind: Kind) -> None:
    assert classify(text) is kind
    assert canned_reply(text)


@pytest.mark.parametrize("text", NOT_CHITCHAT)
def test_anything_else_goes_to_the_answer_pipeline(text: str) -> None:
    assert classify(text) is None
    assert canned_reply(text) is None


def test_replies_are_short_and_in_the_users_language_where_we_have_one() -> None:
    assert canned_reply("thanks!") == canned_reply("thank you so much")
    assert canned_reply("danke!") != canned_reply("thanks!")
    assert "Gern" in (canned_reply("danke!") or "")
    assert "plaisir" in (canned_reply("merci") or "")
    assert "nada" in (canned_reply("gracias") or "")
    for text in CHITCHAT:
        reply = canned_reply(text) or ""
        assert 0 < len(reply) <= 200 and "@" not in reply
