"""The learning loop in Discord: feedback on trained answers, suggestions from solved tickets,
'Train from this message', /memory import, list paging and show."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.clock import advance
from tests.fakes.ollama import Reply
from tests.grounded import answer as grounded
from tests.grounded import train_faq
from tests.sim import make_world, text_of

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Open Settings → Account → Reset password, then follow the link we email you."


async def _train(world, question=PASSWORD_Q, answer=PASSWORD_A) -> int:
    result = await world.staff.slash(world.panel_channel, "train", question=question, answer=answer)
    assert "Saved as entry" in text_of(result), text_of(result)
    entry = await world.core.memory.get_by_query(world.guild.id, question)
    return entry.id


def _modal_values(modal: dict[str, Any]) -> dict[str, str]:
    """custom_id → prefilled value of every text input in a raw modal payload (any nesting)."""
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == 4:
                found[node["custom_id"]] = node.get("value") or ""
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(modal.get("components", []))
    return found


# -- feedback on trained answers --------------------------------------------------------------


async def test_solved_after_trained_answer_raises_confidence_and_proposes_the_phrasing(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    entry_id = await _train(world)
    # A new entry starts fully trusted; one "Talk to staff" first, so there is room to rise.
    await world.open_ticket(world.bob, "Password", "how do i reset my password")
    await world.bob.click(world.bot_messages(world.forum.threads[-1])[-1], label="Talk to staff")
    before = await world.core.memory.get(world.guild.id, entry_id)
    assert before.confidence < 1.0
    fake_ollama.script(Reply("UNSURE"))  # an odd account problem no note covers
    await world.open_ticket(world.alice, "Account", "Something odd happened to my account settings page.")
    thread = world.forum.threads[-1]
    phrasing = "Hi, how do I reset my password?"
    await world.alice.send(thread, phrasing)
    answer = world.bot_messages(thread)[-1]
    assert PASSWORD_A in answer.content and "Saved answer" in answer.content
    assert await world.core.memory.list_suggestions(world.guild.id) == []
    await world.alice.click(answer, label="Solved")
    after = await world.core.memory.get(world.guild.id, entry_id)
    assert after.confidence > before.confidence
    assert after.usage_count == before.usage_count + 1
    [suggestion] = await world.core.memory.list_suggestions(world.guild.id)
    assert (suggestion.kind, suggestion.entry_id, suggestion.status) == ("alternate", entry_id, "pending")
    assert suggestion.query == phrasing and suggestion.ticket_id == thread.id
    assert after.alternates == [], "the phrasing waits for staff; it is not added by itself"
    # Approving the alternate adds the user's wording to the entry.
    approved = await world.staff.slash(world.panel_channel, "memory approve", suggestion_id=suggestion.id)
    assert f"saved as entry #{entry_id}" in text_of(approved)
    assert (await world.core.memory.get(world.guild.id, entry_id)).alternates == [phrasing]


async def test_talk_to_staff_after_trained_answer_lowers_confidence(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    entry_id = await _train(world)
    before = await world.core.memory.get(world.guild.id, entry_id)
    await world.open_ticket(world.alice, "Password", "how do i reset my password")
    [thread] = world.forum.threads
    answer = world.bot_messages(thread)[-1]
    assert PASSWORD_A in answer.content
    await world.alice.click(answer, label="Talk to staff")
    after = await world.core.memory.get(world.guild.id, entry_id)
    assert after.confidence < before.confidence
    assert after.usage_count == before.usage_count
    assert await world.core.memory.list_suggestions(world.guild.id) == []


async def test_repeated_talk_to_staff_stops_direct_answers(simcord_env, fake_ollama):
    """An entry users keep rejecting loses its direct-answer privilege (the LLM answers instead)."""
    world = await make_world(simcord_env)
    entry_id = await _train(world)
    for user in (world.alice, world.bob):
        await world.open_ticket(user, "Password", "how do i reset my password")
        thread = world.forum.threads[-1]
        answer = world.bot_messages(thread)[-1]
        assert "Saved answer" in answer.content
        await user.click(answer, label="Talk to staff")
    assert (await world.core.memory.get(world.guild.id, entry_id)).confidence < 0.5
    fake_ollama.script(Reply(grounded(f"Maybe try the reset link? {PASSWORD_A}")))  # from the entry, as a note
    third = world.guild.add_member(simcord_env.create_user("carol"))
    await world.open_ticket(third, "Password", "how do i reset my password")
    reply = world.bot_messages(world.forum.threads[-1])[-1]
    assert reply.content.startswith("Maybe try the reset link?")
    assert len(fake_ollama.chat_requests()) == 1


# -- Q&A suggestions from solved tickets ------------------------------------------------------

STAFF_ANSWER = "You can change the billing e-mail under Billing → Contacts; invoices follow within a day."
# Near the trained refund note (tests.grounded), so the model answers from it before staff answer for real.
RECEIPTS_Q = "How do I change the e-mail address my refund receipts go to?"


async def _staff_answered_and_solved(world, question: str = RECEIPTS_Q, title: str = "Billing e-mail") -> Any:
    await world.open_ticket(world.alice, title, question)
    [thread] = world.forum.threads
    llm_answer = world.bot_messages(thread)[-1]
    await world.staff.send(thread, STAFF_ANSWER)
    result = await world.alice.click(llm_answer, label="Solved")
    assert "Glad" in text_of(result)
    assert (await world.core.store.get_ticket(thread.id)).status == "resolved"
    return thread


async def test_solved_staff_answered_ticket_closed_becomes_a_pending_suggestion(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    trained = await world.core.memory.count(world.guild.id)
    thread = await _staff_answered_and_solved(world)
    assert await world.core.memory.list_suggestions(world.guild.id) == [], "only on close"
    await world.alice.slash(thread, "close")
    [suggestion] = await world.core.memory.list_suggestions(world.guild.id)
    assert suggestion.kind == "qa" and suggestion.status == "pending" and suggestion.ticket_id == thread.id
    assert RECEIPTS_Q in suggestion.query
    assert suggestion.response == STAFF_ANSWER
    assert await world.core.memory.count(world.guild.id) == trained, "nothing enters the memory before approval"

    listed = await world.staff.slash(world.panel_channel, "memory suggestions")
    assert listed.ephemeral and f"S{suggestion.id}" in text_of(listed) and "(qa)" in text_of(listed)
    assert "Billing → Contacts" in text_of(listed)

    question = "How do I change my billing e-mail?"
    approved = await world.staff.slash(
        world.panel_channel, "memory approve", suggestion_id=suggestion.id, question=question
    )
    assert f"S{suggestion.id} saved as entry #" in text_of(approved)
    entry = await world.core.memory.get_by_query(world.guild.id, question)
    assert entry is not None and entry.response == STAFF_ANSWER and entry.category == "general"
    assert await world.core.memory.list_suggestions(world.guild.id) == []
    again = await world.staff.slash(world.panel_channel, "memory approve", suggestion_id=suggestion.id)
    assert again.ephemeral and f"no pending suggestion S{suggestion.id}" in text_of(again)

    # The approved pair now answers directly, without the LLM.
    calls = len(fake_ollama.chat_requests())
    await world.open_ticket(world.bob, "Billing", "how do i change my billing e-mail")
    reply = world.bot_messages(world.forum.threads[-1])[-1]
    assert STAFF_ANSWER in reply.content and "Saved answer" in reply.content
    assert len(fake_ollama.chat_requests()) == calls


@pytest.mark.bot_env(SOLVED_CLOSE_DELAY_HOURS="1", AUTOCLOSE_CHECK_SECONDS="300")
async def test_auto_closed_solved_ticket_suggests_and_reject_removes_it(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    trained = await world.core.memory.count(world.guild.id)
    thread = await _staff_answered_and_solved(world)
    await advance(simcord_env, 3600 + 400, step=900)
    assert (await world.core.store.get_ticket(thread.id)).status == "closed"
    [suggestion] = await world.core.memory.list_suggestions(world.guild.id)
    assert suggestion.kind == "qa" and suggestion.response == STAFF_ANSWER
    rejected = await world.staff.slash(world.panel_channel, "memory reject", suggestion_id=suggestion.id)
    assert f"S{suggestion.id} rejected" in text_of(rejected)
    assert await world.core.memory.list_suggestions(world.guild.id) == []
    [decided] = await world.core.memory.list_suggestions(world.guild.id, status="rejected")
    assert decided.id == suggestion.id and decided.decided_by == world.staff.id
    listed = await world.staff.slash(world.panel_channel, "memory suggestions")
    assert "No pending suggestions." in text_of(listed)
    assert await world.core.memory.count(world.guild.id) == trained
    missing = await world.staff.slash(world.panel_channel, "memory reject", suggestion_id=suggestion.id)
    assert missing.ephemeral and "no pending suggestion" in text_of(missing)


async def test_no_suggestion_without_staff_answer_or_without_solved(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await train_faq(world, fake_ollama)
    trained = await world.core.memory.count(world.guild.id)
    # Solved, but only the AI answered: nothing to learn from staff.
    await world.open_ticket(world.alice, "Question one", "Where do I find the changelog for refunds?")
    first = world.forum.threads[-1]
    await world.alice.click(world.bot_messages(first)[-1], label="Solved")
    await world.alice.slash(first, "close")
    # Staff answered, but the user never said it was solved.
    await world.open_ticket(world.bob, "Question two", "Can I pause my subscription?")
    second = world.forum.threads[-1]
    await world.staff.send(second, "Yes, under Billing → Pause for up to three months.")
    await world.bob.slash(second, "close")
    assert await world.core.memory.list_suggestions(world.guild.id) == []
    assert await world.core.memory.count(world.guild.id) == trained


# -- Train from this message ------------------------------------------------------------------


async def test_train_from_this_message_prefills_question_and_staff_answer(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Export", "I have a question about my data.")
    [thread] = world.forum.threads
    question = "Can I export my data as a CSV file?"
    await world.alice.send(thread, question)
    staff_answer = "Yes: Settings → Data → Export, then choose CSV."
    staff_message = await world.staff.send(thread, staff_answer)
    await world.alice.send(thread, "Thanks, found it!")  # after the answer: must not become the question
    shown = await world.staff.context_menu(thread, "Train from this message", staff_message)
    assert shown.modal is not None, text_of(shown)
    assert _modal_values(shown.modal) == {"question": question, "answer": staff_answer}
    edited = "How do I export my data as CSV?"
    saved = await world.staff.submit_modal(shown, {"question": edited, "answer": staff_answer})
    assert saved.ephemeral and "Saved as entry" in text_of(saved)
    entry = await world.core.memory.get_by_query(world.guild.id, edited)
    assert entry is not None and entry.response == staff_answer and entry.created_by == world.staff.id


async def test_train_from_this_message_validates_the_edited_pair(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Export", "Can I export my data?")
    [thread] = world.forum.threads
    staff_message = await world.staff.send(thread, "Yes, under Settings → Data.")
    shown = await world.staff.context_menu(thread, "Train from this message", staff_message)
    refused = await world.staff.submit_modal(shown, {"question": "   ", "answer": "Yes, under Settings → Data."})
    assert refused.ephemeral and "question is empty" in text_of(refused)
    assert await world.core.memory.count(world.guild.id) == 0


async def test_train_from_this_message_is_staff_only(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    await world.open_ticket(world.alice, "Export", "Can I export my data?")
    [thread] = world.forum.threads
    staff_message = await world.staff.send(thread, "Yes, under Settings → Data.")
    for member in (world.alice, world.bob):
        refused = await member.context_menu(thread, "Train from this message", staff_message)
        assert refused.ephemeral and refused.modal is None
        assert "Only staff" in text_of(refused)
    assert await world.core.memory.count(world.guild.id) == 0


# -- /memory import, list, show ---------------------------------------------------------------

IMPORT_CSV = (
    "query,response,category,alternates\n"
    f'{PASSWORD_Q},"{PASSWORD_A}",technical,forgot password|lost my login\n'
    "Where is my invoice?,Billing → Invoices.,billing,\n"
    "No answer here?,,general,\n"
)


async def test_memory_import_attachment(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    result = await world.staff.slash(world.panel_channel, "memory import", file=("faq.csv", IMPORT_CSV.encode()))
    text = text_of(result)
    assert result.ephemeral and "2 added, 0 updated, 0 unchanged" in text, text
    assert "1 row(s) skipped" in text and "line 4: answer is empty" in text
    entry = await world.core.memory.get_by_query(world.guild.id, PASSWORD_Q)
    assert entry.alternates == ["forgot password", "lost my login"] and entry.created_by == world.staff.id
    again = await world.staff.slash(world.panel_channel, "memory import", file=("faq.csv", IMPORT_CSV.encode()))
    assert "0 added, 0 updated, 2 unchanged" in text_of(again)
    assert await world.core.memory.count(world.guild.id) == 2
    # Imported entries answer in tickets.
    await world.open_ticket(world.alice, "Invoice", "where is my invoice")
    assert "Billing → Invoices." in world.bot_messages(world.forum.threads[-1])[-1].content


async def test_memory_import_refuses_other_file_types(simcord_env):
    world = await make_world(simcord_env)
    result = await world.staff.slash(world.panel_channel, "memory import", file=("faq.txt", b"query,response\na,b\n"))
    assert result.ephemeral and ".csv or .jsonl" in text_of(result)
    assert await world.core.memory.count(world.guild.id) == 0


async def test_memory_list_pages_and_show(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    rows = "".join(f"Question number {i}?,Answer number {i}.,general,\n" for i in range(1, 13))
    result = await world.staff.slash(
        world.panel_channel,
        "memory import",
        file=("many.csv", ("query,response,category,alternates\n" + rows).encode()),
    )
    assert "12 added" in text_of(result)
    first = (await world.staff.slash(world.panel_channel, "memory list")).response.embeds[0]
    assert first.title == "Trained answers (12)" and first.footer.text == "Page 1/2"
    assert len(first.description.splitlines()) == 10 and "Question number 1?" in first.description
    second = (await world.staff.slash(world.panel_channel, "memory list", page=2)).response.embeds[0]
    assert second.footer.text == "Page 2/2"
    assert [line.split("]", 1)[1].split(" — ")[0].strip() for line in second.description.splitlines()] == [
        "Question number 11?",
        "Question number 12?",
    ]
    beyond = await world.staff.slash(world.panel_channel, "memory list", page=3)
    assert beyond.ephemeral and "only 2 page(s)" in text_of(beyond)

    shown = (await world.staff.slash(world.panel_channel, "memory show", entry_id=11)).response
    assert shown.embeds[0].title == "Entry #11 · general" and shown.embeds[0].description == "Answer number 11."
    assert [field.name for field in shown.embeds[0].fields] == ["Question"]  # its answer is no other phrasing
    missing = await world.staff.slash(world.panel_channel, "memory show", entry_id=999)
    assert missing.ephemeral and "There is no entry #999." in text_of(missing)


async def test_memory_list_when_empty(simcord_env):
    world = await make_world(simcord_env)
    embed = (await world.staff.slash(world.panel_channel, "memory list")).response.embeds[0]
    assert "Nothing trained yet" in embed.description and embed.footer.text == "Page 1/1"
    beyond = await world.staff.slash(world.panel_channel, "memory list", page=2)
    assert "only 1 page(s)" in text_of(beyond)


# -- teaching a question that is already trained ----------------------------------------------


async def test_training_a_known_question_again_updates_it_instead_of_duplicating(simcord_env, fake_ollama):
    """Two entries with the same question and different answers would be 'too close' to each
    other, so neither could be answered directly any more."""
    world = await make_world(simcord_env)
    entry_id = await _train(world)
    corrected = "Go to Settings → Security → Reset password; the link is valid for one hour."
    result = await world.staff.slash(
        world.panel_channel, "train", question="how do I reset my password", answer=corrected
    )
    assert f"#{entry_id}" in text_of(result) and "updated" in text_of(result).lower(), text_of(result)
    assert await world.core.memory.count(world.guild.id) == 1
    assert (await world.core.memory.get(world.guild.id, entry_id)).response == corrected
    await world.open_ticket(world.alice, "Password", "how do i reset my password")
    reply = world.bot_messages(world.forum.threads[-1])[-1]
    assert corrected in reply.content and "Saved answer" in reply.content


async def test_approving_a_suggestion_for_a_known_question_updates_the_entry(simcord_env, fake_ollama):
    world = await make_world(simcord_env)
    entry_id = await _train(world, "How do I change my billing e-mail?", "Write to billing@example.com.")
    await train_faq(world, fake_ollama)
    trained = await world.core.memory.count(world.guild.id)
    # Worded unlike the trained question, so the LLM answers (a saved answer would propose an alternate too).
    await _staff_answered_and_solved(world, title="Receipts")
    await world.alice.slash(world.forum.threads[-1], "close")
    [suggestion] = await world.core.memory.list_suggestions(world.guild.id)
    approved = await world.staff.slash(
        world.panel_channel, "memory approve", suggestion_id=suggestion.id, question="how do I change my billing e-mail"
    )
    assert f"saved as entry #{entry_id}" in text_of(approved), text_of(approved)
    assert await world.core.memory.count(world.guild.id) == trained
    assert (await world.core.memory.get(world.guild.id, entry_id)).response == STAFF_ANSWER


async def test_editing_an_answer_restores_trust_lost_to_talk_to_staff(simcord_env, fake_ollama):
    """Feedback was about the old answer: after staff fix it, it is answered directly again."""
    world = await make_world(simcord_env)
    entry_id = await _train(world)
    for user in (world.alice, world.bob):
        await world.open_ticket(user, "Password", "how do i reset my password")
        await user.click(world.bot_messages(world.forum.threads[-1])[-1], label="Talk to staff")
    assert (await world.core.memory.get(world.guild.id, entry_id)).confidence < 0.5
    # Editing only the category keeps the feedback.
    await world.staff.slash(world.panel_channel, "memory edit", entry_id=entry_id, category="technical")
    assert (await world.core.memory.get(world.guild.id, entry_id)).confidence < 0.5
    fixed = "Use Settings → Security → Reset password; check your spam folder for the e-mail."
    await world.staff.slash(world.panel_channel, "memory edit", entry_id=entry_id, answer=fixed)
    assert (await world.core.memory.get(world.guild.id, entry_id)).confidence == 1.0
    carol = world.guild.add_member(simcord_env.create_user("carol"))
    await world.open_ticket(carol, "Password", "how do i reset my password")
    reply = world.bot_messages(world.forum.threads[-1])[-1]
    assert fixed in reply.content and "Saved answer" in reply.content


async def test_editing_a_question_into_another_entrys_question_is_refused(simcord_env):
    world = await make_world(simcord_env)
    await _train(world)
    other = await _train(world, "Where is my invoice?", "Billing → Invoices.")
    result = await world.staff.slash(world.panel_channel, "memory edit", entry_id=other, question=PASSWORD_Q.lower())
    assert result.ephemeral and "Entry #1 already has that question" in text_of(result)
    assert (await world.core.memory.get(world.guild.id, other)).query == "Where is my invoice?"
    ok = await world.staff.slash(world.panel_channel, "memory edit", entry_id=other, question="Where are my invoices?")
    assert "updated" in text_of(ok)


async def test_an_imported_entry_with_a_long_category_can_be_shown(simcord_env, fake_ollama):
    """An import file names any category (it is data, not one of the server's): one longer than an embed title
    (256 characters) made /memory show fail with Discord's 400."""
    world = await make_world(simcord_env)
    category = "c" * 300
    rows = json.dumps({"query": "Where is the map?", "response": "Under Menu → Map.", "category": category})
    imported = await world.staff.slash(world.panel_channel, "memory import", file=("faq.jsonl", rows.encode()))
    assert "1" in text_of(imported), text_of(imported)
    shown = await world.staff.slash(world.panel_channel, "memory show", entry_id=1)
    [embed] = shown.response.embeds
    assert embed.description == "Under Menu → Map." and embed.title.startswith("Entry #1 · ccc")
    listed = await world.staff.slash(world.panel_channel, "memory list")
    assert "Where is the map?" in listed.response.embeds[0].description
