"""The admin CLI (`train import/export`, `ask`, `search`) as subprocesses against a real SQLite
file and the fake Ollama server: what an admin sees on stdout/stderr and the exit codes."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from app.runtime import open_core
from app.settings import load_settings
from memory.io import import_bytes
from tests.fakes.ollama import Reply

ROOT = Path(__file__).resolve().parents[3]
GUILD, OTHER_GUILD = 111, 222

PASSWORD_Q = "How do I reset my password?"
PASSWORD_A = "Use the reset link on the login page."
FAQ_CSV = (
    "query,response,category,alternates\n"
    f"{PASSWORD_Q},{PASSWORD_A},technical,forgot password|lost login\n"
    "Where is my invoice?,On the billing page under Invoices.,billing,\n"
    ",An answer without a question,general,\n"
    "Can I get a refund?,,billing,\n"
    '"Do you ship abroad, to Canada for example?","Yes, we ship worldwide.",general,\n'
)
FAQ_JSONL_ROWS: list[object] = [
    {"query": "What are your opening hours?", "response": "9 to 5, Monday to Friday.", "category": "general"},
    {
        "query": "How do I delete my account?",
        "response": "Settings → Account → Delete.",
        "alternates": ["close account"],
    },
    "not an object",
    {
        "query": "Which payment methods do you accept?",
        "response": "Visa, Mastercard and PayPal.",
        "category": "billing",
    },
    {"query": "Is there a student discount?", "response": "Yes, 50 % with a student e-mail.", "alternates": 7},
    {"query": "Do you have an API?", "response": "Yes, see developers.example.com.", "category": "technical"},
    {"query": "Can I change my username?", "response": "Once a month, in Settings → Profile."},
]


def cli_env(tmp_path: Path, ollama_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLLAMA", "DISCORD", "LLM_", "DB_PATH"))}
    env.update(
        {
            "DB_PATH": str(tmp_path / "cli.db"),
            "OLLAMA_URL": ollama_url,
            "OLLAMA_MODEL": "llama3",
            "LLM_CONNECT_TIMEOUT": "1",
            "LLM_FIRST_TOKEN_TIMEOUT": "3",
            "LLM_CHUNK_TIMEOUT": "2",
            "LLM_TOTAL_TIMEOUT": "5",
            "ANSWER_CHECKS": "false",  # free-form scripted replies (the checks: test_ask_with_answer_checks_*)
            "EMBED_SCALE": "native",  # the fake's hashed vectors as they are, like the bot tests (tests/conftest.py)
        }
    )
    return env


def cli(tmp_path: Path, *args: str, ollama_url: str) -> subprocess.CompletedProcess[str]:
    base = cli_env(tmp_path, ollama_url)
    # cwd=tmp_path so a developer's own .env is not picked up
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args], cwd=tmp_path, env=base, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(tmp_path: Path, name: str, rows: list[object]) -> Path:
    return write(tmp_path, name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def export_rows(tmp_path: Path, url: str, guild: int, name: str = "export.jsonl") -> list[dict]:
    out = tmp_path / name
    proc = ok(cli(tmp_path, "train", "export", str(out), "--guild", str(guild), ollama_url=url))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert f"exported {len(rows)} entries" in proc.stdout
    return rows


async def seed(tmp_path: Path, url: str, guild: int = GUILD) -> None:
    """Put the FAQ into the CLI's database in-process, through the same core the CLI opens (the
    import command itself is tested as a subprocess below); ids 1-5 from the JSONL, then 6-8."""
    good = [r for r in FAQ_JSONL_ROWS if isinstance(r, dict) and not isinstance(r.get("alternates", []), int)]
    core = await open_core(load_settings(cli_env(tmp_path, url)))
    try:
        jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good).encode()
        assert (await import_bytes(core.memory, guild, jsonl, "faq.jsonl")).added == len(good)
        assert (await import_bytes(core.memory, guild, FAQ_CSV.encode(), "faq.csv")).added == 3
    finally:
        await core.close()


# -- train import / export -------------------------------------------------------------------


def test_csv_import_counts_reports_bad_rows_by_line_and_keeps_good_ones(tmp_path, fake_ollama):
    path = write(tmp_path, "faq.csv", FAQ_CSV)
    proc = cli(tmp_path, "train", "import", str(path), "--guild", str(GUILD), ollama_url=fake_ollama.url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "added 3, updated 0, unchanged 0, errors 2" in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith(f"{path}: ")]
    assert errors == [f"{path}: line 4: question is empty", f"{path}: line 5: answer is empty"]
    # A progress bar on stderr that reaches the end on a line of its own (not glued to the next output).
    assert any(line.rstrip().endswith("[" + "#" * 30 + "] 5/5") for line in proc.stderr.splitlines()), proc.stderr
    assert "/5" not in proc.stdout, "the progress bar belongs on stderr, stdout stays parseable"
    rows = export_rows(tmp_path, fake_ollama.url, GUILD)
    assert [(r["query"], r["category"], r["alternates"]) for r in rows] == [
        (PASSWORD_Q, "technical", ["forgot password", "lost login"]),
        ("Where is my invoice?", "billing", []),
        ("Do you ship abroad, to Canada for example?", "general", []),
    ]
    assert rows[2]["response"] == "Yes, we ship worldwide."


def test_jsonl_import_with_bad_lines_and_idempotent_reimport(tmp_path, fake_ollama):
    path = write_jsonl(tmp_path, "faq.jsonl", FAQ_JSONL_ROWS)
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    first = cli(tmp_path, "train", "import", str(path), "--guild", str(GUILD), ollama_url=fake_ollama.url)
    assert first.returncode == 1
    assert "added 5, updated 0, unchanged 0, errors 3" in first.stdout
    errors = [line.removeprefix(f"{path}: ") for line in first.stderr.splitlines() if line.startswith(f"{path}: ")]
    assert errors[0] == "line 3: expected a JSON object"
    assert errors[1] == "line 5: alternates must be a list of strings"
    assert errors[2].startswith("line 8: invalid JSON")
    before = export_rows(tmp_path, fake_ollama.url, GUILD)
    assert len(before) == 5
    second = cli(tmp_path, "train", "import", str(path), "--guild", str(GUILD), ollama_url=fake_ollama.url)
    assert "added 0, updated 0, unchanged 5, errors 3" in second.stdout
    after = export_rows(tmp_path, fake_ollama.url, GUILD)
    assert after == before, "re-importing the same file must not duplicate or change entries"
    # A changed answer for a known question (different case/punctuation) updates, never duplicates.
    changed = write_jsonl(tmp_path, "changed.jsonl", [{"query": "what are your opening hours", "response": "8 to 6."}])
    proc = ok(cli(tmp_path, "train", "import", str(changed), "--guild", str(GUILD), ollama_url=fake_ollama.url))
    assert "added 0, updated 1, unchanged 0, errors 0" in proc.stdout
    rows = export_rows(tmp_path, fake_ollama.url, GUILD)
    assert len(rows) == 5
    assert [r["response"] for r in rows if r["query"] == "What are your opening hours?"] == ["8 to 6."]


def test_import_of_a_missing_file_is_a_clear_error(tmp_path, fake_ollama):
    proc = cli(tmp_path, "train", "import", "nope.csv", "--guild", str(GUILD), ollama_url=fake_ollama.url)
    assert proc.returncode == 1 and "nope.csv: no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


async def test_export_round_trip_into_another_guild(tmp_path, fake_ollama):
    await seed(tmp_path, fake_ollama.url)
    original = export_rows(tmp_path, fake_ollama.url, GUILD, "a.jsonl")
    assert len(original) == 8
    for suffix in (".csv", ".jsonl"):
        out = tmp_path / f"faq-export{suffix}"
        ok(cli(tmp_path, "train", "export", str(out), "--guild", str(GUILD), ollama_url=fake_ollama.url))
        if suffix == ".csv":
            with out.open(encoding="utf-8", newline="") as f:
                assert len(list(csv.DictReader(f))) == 8
        target = OTHER_GUILD if suffix == ".csv" else OTHER_GUILD + 1
        proc = ok(cli(tmp_path, "train", "import", str(out), "--guild", str(target), ollama_url=fake_ollama.url))
        assert "added 8, updated 0, unchanged 0, errors 0" in proc.stdout
        assert export_rows(tmp_path, fake_ollama.url, target, f"b{suffix}.jsonl") == original


def test_export_to_an_unknown_format_is_a_clear_error(tmp_path, fake_ollama):
    proc = cli(tmp_path, "train", "export", "faq.txt", "--guild", str(GUILD), ollama_url=fake_ollama.url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "use .csv or .jsonl" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "faq.txt").exists()


# -- ask -------------------------------------------------------------------------------------


async def test_ask_exact_trained_question_is_answered_from_memory(tmp_path, fake_ollama):
    await seed(tmp_path, fake_ollama.url)
    calls = len(fake_ollama.chat_requests())
    proc = ok(cli(tmp_path, "ask", "--guild", str(GUILD), "--json", PASSWORD_Q, ollama_url=fake_ollama.url))
    result = json.loads(proc.stdout)
    assert result["route"] == "answer"
    assert result["reply"].startswith(PASSWORD_A)
    assert result["matches"][0]["query"] == PASSWORD_Q and result["matches"][0]["score"] >= 0.84
    assert len(fake_ollama.chat_requests()) == calls, "a confident trained answer must not call the LLM"


async def test_ask_unrelated_question_goes_to_the_llm(tmp_path, fake_ollama):
    await seed(tmp_path, fake_ollama.url)
    fake_ollama.script(Reply("Mars is cold today, about -60 °C."))
    question = "What is the weather like on Mars?"
    proc = ok(cli(tmp_path, "ask", "--guild", str(GUILD), "--json", question, ollama_url=fake_ollama.url))
    result = json.loads(proc.stdout)
    assert result["route"] == "llm", result
    assert result["reply"] == "Mars is cold today, about -60 °C."
    [request] = fake_ollama.chat_requests()
    assert request["model"] == "llama3"
    assert question in request["messages"][-1]["content"]
    scores = [m["score"] for m in result["matches"]]
    assert scores and scores == sorted(scores, reverse=True)


async def test_ask_with_answer_checks_on_hands_an_unrelated_question_to_staff(tmp_path, fake_ollama):
    await seed(tmp_path, fake_ollama.url)
    base = {**cli_env(tmp_path, fake_ollama.url), "ANSWER_CHECKS": "true"}
    run = [sys.executable, str(ROOT / "bot.py"), "ask", "--guild", str(GUILD), "--json"]

    def ask(question: str) -> dict:
        proc = subprocess.run([*run, question], cwd=tmp_path, env=base, capture_output=True, text=True, timeout=60)
        return json.loads(ok(proc).stdout)

    result = ask("What is the weather like on Mars?")
    assert result["route"] == "staff" and "staff" in result["reply"].lower(), result
    assert ask("thanks!")["route"] == "chitchat"
    assert fake_ollama.chat_requests() == [], "no saved answer is about either: the model is never asked"


async def test_ask_with_the_server_down_is_honest(tmp_path, fake_ollama, closed_port_url):
    await seed(tmp_path, fake_ollama.url)
    fake_ollama.stop()
    # Unrelated: nothing close enough, so staff are promised, and the reply says the AI is down.
    proc = ok(
        cli(tmp_path, "ask", "--guild", str(GUILD), "--json", "My spaceship leaks fuel", ollama_url=closed_port_url)
    )
    result = json.loads(proc.stdout)
    assert result["route"] == "staff", result
    assert "unavailable" in result["reply"] and "staff" in result["reply"].lower()
    # Close to a trained question: without embeddings nothing is answered directly, but the closest
    # saved answer is sent, saying the AI is offline.
    proc = ok(
        cli(tmp_path, "ask", "--guild", str(GUILD), "--json", "how to reset password", ollama_url=closed_port_url)
    )
    result = json.loads(proc.stdout)
    assert result["route"] == "fallback", result
    assert result["reply"].startswith(PASSWORD_A) and "unavailable" in result["reply"]
    assert result["matches"][0]["query"] == PASSWORD_Q


async def test_ask_plain_text_prints_route_reply_and_matches(tmp_path, fake_ollama):
    await seed(tmp_path, fake_ollama.url)
    proc = ok(cli(tmp_path, "ask", "--guild", str(GUILD), "Where is my invoice?", ollama_url=fake_ollama.url))
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("route: answer (")
    assert lines[1] == "reply:" and lines[2] == "On the billing page under Invoices."
    top = lines[lines.index("top matches:") + 1]
    # ids 1-5 come from the JSONL file, then the CSV: password #6, invoice #7
    assert top.split()[1] == "#7" and top.endswith("Where is my invoice?")
    assert float(top.split()[0]) >= 0.84


# -- search ----------------------------------------------------------------------------------


async def test_search_batch_prints_one_json_line_per_query(tmp_path, fake_ollama):
    await seed(tmp_path, fake_ollama.url)
    queries = [PASSWORD_Q, "What is the weather like on Mars?", "close account"]
    batch = write(tmp_path, "q.jsonl", "\n".join(json.dumps({"query": q}) for q in queries[:2]) + "\n\n")
    batch.write_text(batch.read_text() + json.dumps({"query": queries[2], "extra": 1}) + "\n")
    proc = ok(cli(tmp_path, "search", "--guild", str(GUILD), "--batch", str(batch), ollama_url=fake_ollama.url))
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["query"] for r in rows] == queries
    assert [r["decision"] for r in rows] == ["answer", "llm", "answer"]
    for row in rows:
        assert set(row) == {"query", "decision", "matches"}
        assert len(row["matches"]) >= 5
        for match in row["matches"]:
            assert set(match) == {"id", "query", "response", "category", "score"}
        scores = [m["score"] for m in row["matches"]]
        assert scores == sorted(scores, reverse=True)
    assert rows[0]["matches"][0]["query"] == PASSWORD_Q
    assert rows[0]["matches"][0]["response"] == PASSWORD_A
    assert rows[2]["matches"][0]["query"] == "How do I delete my account?"
    assert fake_ollama.chat_requests() == [], "search decides, it never asks the LLM"


async def test_search_with_the_server_down_decides_staff_not_llm(tmp_path, fake_ollama, closed_port_url):
    await seed(tmp_path, fake_ollama.url)
    fake_ollama.stop()
    batch = write_jsonl(tmp_path, "q.jsonl", [{"query": "What is the weather like on Mars?"}, {"query": PASSWORD_Q}])
    proc = ok(cli(tmp_path, "search", "--guild", str(GUILD), "--batch", str(batch), ollama_url=closed_port_url))
    unknown, known = [json.loads(line) for line in proc.stdout.splitlines()]
    assert unknown["decision"] == "staff"
    # Lexical only (no query embedding) is never answered directly, but the trained question
    # itself clears the fallback bar: sent with the "AI offline" note, not handed to staff.
    assert known["decision"] == "fallback" and known["matches"][0]["query"] == PASSWORD_Q


def test_search_rejects_malformed_lines_clearly(tmp_path, fake_ollama):
    for bad in ("{not json", '["a list"]', '{"question": "wrong key"}', '{"query": null}', '{"query": "  "}'):
        batch = write(tmp_path, "bad.jsonl", json.dumps({"query": "fine"}) + "\n" + bad + "\n")
        proc = cli(tmp_path, "search", "--guild", str(GUILD), "--batch", str(batch), ollama_url=fake_ollama.url)
        assert proc.returncode == 1, (bad, proc.stdout)
        assert f"{batch}:2:" in proc.stderr and "query" in proc.stderr, (bad, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == ""
    proc = cli(tmp_path, "search", "--guild", str(GUILD), "--batch", "missing.jsonl", ollama_url=fake_ollama.url)
    assert proc.returncode == 1 and "missing.jsonl" in proc.stderr and "Traceback" not in proc.stderr


async def test_guilds_are_isolated(tmp_path, fake_ollama):
    await seed(tmp_path, fake_ollama.url, guild=GUILD)
    batch = write_jsonl(tmp_path, "q.jsonl", [{"query": PASSWORD_Q}])
    proc = ok(cli(tmp_path, "search", "--guild", str(OTHER_GUILD), "--batch", str(batch), ollama_url=fake_ollama.url))
    [row] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert row["matches"] == [] and row["decision"] == "llm"
    assert export_rows(tmp_path, fake_ollama.url, OTHER_GUILD) == []
    proc = ok(cli(tmp_path, "search", "--guild", str(GUILD), "--batch", str(batch), ollama_url=fake_ollama.url))
    [row] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert row["decision"] == "answer" and row["matches"][0]["query"] == PASSWORD_Q
