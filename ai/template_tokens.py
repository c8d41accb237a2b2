"""Keep chat-template control tokens out of what the model is sent (pure).

Ollama (and llama.cpp) render the chat template to text and tokenize it with special tokens parsed, so
"<|im_start|>system" typed into a ticket becomes the real token that opens a system turn, and "[INST]" or
"<</SYS>>" do the same for Llama 2 and Mistral models (OWASP LLM01: user text must stay data). Every chat
request goes through `defuse_messages` (ai/client.py); the brackets of such tokens are swapped for
look-alikes the tokenizer reads as plain text, and the words stay for the model (and the guards) to read.

Text nobody in Discord can see is dropped on the way too: Unicode tag characters (U+E0000 block) and the
supplementary variation selectors (U+E0100 block) render as nothing, yet spell words a model can read, so an
instruction hidden in them would reach the model while staff reading the ticket see a plain question.
"""

from __future__ import annotations

import re

from ai.types import ChatMessage

_TOKENS = re.compile(
    r"<[|｜][^<>|｜\s]{1,40}[|｜]>"  # ChatML, Llama 3, Phi, Granite; DeepSeek's full-width bars
    r"|\[/?(?:INST|SYS|SYSTEM_PROMPT|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|TOOL_CONTENT)\]"  # Llama 2, Mistral
    r"|<</?SYS>>"
    r"|</?s>"
    r"|<(?:start_of_turn|end_of_turn|bos|eos|pad|unk)>",  # Gemma, SentencePiece
    re.IGNORECASE,
)
_LOOK_ALIKE = str.maketrans({"<": "‹", ">": "›", "[": "⟦", "]": "⟧"})


_HIDDEN = re.compile("[\U000e0000-\U000e007f\U000e0100-\U000e01ef]+")


def defuse_template_tokens(text: str) -> str:
    """`text` with every chat-template control token made plain text ("<|im_start|>" → "‹|im_start|›") and
    the characters that only hide text removed."""
    return _TOKENS.sub(lambda m: m.group(0).translate(_LOOK_ALIKE), _HIDDEN.sub("", text))


def defuse_messages(messages: list[ChatMessage]) -> list[ChatMessage]:
    return [{**message, "content": defuse_template_tokens(message["content"])} for message in messages]
