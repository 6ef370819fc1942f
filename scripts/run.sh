#!/usr/bin/env bash
# Yardstick's one run command: installs what is missing, builds the web app
# and the release binary, ingests the real sample data into the default
# SQLite database (yardstick.db in the repository root) and serves the API
# and the web app. Arguments are passed to `yardstick serve`, e.g.
# `scripts/run.sh --addr 127.0.0.1:9000`. YARDSTICK_DATA_DIR overrides the
# data folder (default ../shared/data/real, relative to the repository root)
# and DATABASE_URL the database. Running it again ingests nothing new.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TERM_COLOR=never
DATA_DIR=${YARDSTICK_DATA_DIR:-../shared/data/real}
# Cargo builds into CARGO_TARGET_DIR when a user has set one.
YARDSTICK=${CARGO_TARGET_DIR:-target}/release/yardstick

if [[ ! -d $DATA_DIR ]]; then
  echo "error: the sample data folder \`$DATA_DIR\` does not exist; set" \
    "YARDSTICK_DATA_DIR to the folder holding lm-eval-harness-v0.3-results" \
    "and the other samples" >&2
  exit 1
fi

scripts/setup.sh --run
scripts/build-web.sh
cargo build --release --locked

# The LLaMA-1 v0.3 result files name their model only by a cluster path ending
# in 7B, 13B or 30B, so they are ingested first with the model named; the
# whole-folder ingest below then reports them as already stored.
for size in 7b 13b 30b; do
  llama_dir=$DATA_DIR/lm-eval-harness-v0.3-results/llama/llama-${size^^}
  if [[ ! -d $llama_dir ]]; then
    echo "error: \`$llama_dir\` is missing from the sample data" >&2
    exit 1
  fi
  "$YARDSTICK" ingest "$llama_dir" --model "huggyllama/llama-$size"
done
"$YARDSTICK" ingest "$DATA_DIR"

exec "$YARDSTICK" serve "$@"
