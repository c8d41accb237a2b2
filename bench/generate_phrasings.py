"""Ask a real model for each dev set topic's generated phrasings (memory/generated.py), once, and keep
the replies in bench/devsets/generated/<set>.json so evaluations are cheap and reproducible.

    python -m bench.generate_phrasings                     # every dev set, Halden included; resumes
    python -m bench.generate_phrasings starfall --redo     # ask again for one set
    python -m bench.generate_phrasings starfall --url http://127.0.0.1:11436 --shard 1/2   # split over servers

The raw reply is stored; bench.devset_eval parses and filters it with the bot's own code
(memory.generated), so a change of the filter needs no new generation. The model, the server's
default settings (temperature, num_predict) and the prompt are what the bot uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp

from ai.factory import create_llm_client
from app.settings import default_llm_settings
from bench import devset as devsets
from memory.generated import paraphrase_prompt

OUT = Path(__file__).resolve().parent / "devsets" / "generated"
MODEL = "qwen2.5:0.5b"
MODEL_FILE = "Qwen2.5-Coder-0.5B-Instruct GGUF (sha256 1d9614638d18…), node-llama-cpp Ollama shim"


def path_for(name: str) -> Path:
    return OUT / f"{name}.json"


def load(name: str) -> dict[str, str]:
    """Topic id -> the model's raw reply, for dev set `name` ({} when never generated)."""
    path = path_for(name)
    if not path.exists():
        return {}
    return {tid: row["reply"] for tid, row in json.loads(path.read_text())["topics"].items()}


async def generate(name: str, url: str, redo: bool, shard: int = 0, shards: int = 1) -> None:
    data = devsets.load(name)
    path = path_for(name)
    saved = json.loads(path.read_text()) if path.exists() and not redo else {}
    topics: dict[str, dict] = saved.get("topics", {})
    async with aiohttp.ClientSession() as session:
        settings = default_llm_settings(base_url=url, model=MODEL, first_token_timeout=900, total_timeout=1200)
        client = create_llm_client(settings, session)
        for i, topic in enumerate(data.topics):
            if i % shards != shard:
                continue
            if topic.id in topics and topics[topic.id]["question"] == topic.question:
                continue
            started = time.monotonic()
            result = await client.chat(paraphrase_prompt(topic.question))
            print(f"{name}/{topic.id} ({time.monotonic() - started:.1f}s): {result.text!r}", flush=True)
            _write(path, settings.temperature, {topic.id: {"question": topic.question, "reply": result.text}})


def _write(path: Path, temperature: float, new: dict[str, dict]) -> None:
    """Add `new` to what the file holds now (several shards may write one file, one topic at a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    topics = json.loads(path.read_text())["topics"] if path.exists() else {}
    topics.update(new)
    body = {"model": MODEL, "model_file": MODEL_FILE, "temperature": temperature,
            "prompt": "memory.generated.paraphrase_prompt", "topics": topics}  # fmt: skip
    path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", default=[*devsets.NAMES, "halden"])
    parser.add_argument("--url", default="http://127.0.0.1:11434")
    parser.add_argument("--redo", action="store_true", help="ask again for every topic")
    parser.add_argument("--shard", default="0/1", help="k/n: only every n-th topic from the k-th (parallel servers)")
    args = parser.parse_args()
    shard, shards = (int(x) for x in args.shard.split("/"))
    for name in args.sets:
        asyncio.run(generate(name, args.url, args.redo, shard, shards))


if __name__ == "__main__":
    main()
