#!/usr/bin/env bash
# Builds the web app into dist/ with Trunk, offline: fetches crates first
# (Trunk runs cargo with --offline) and puts npm's wasm-opt first on PATH.
# Needs the tools scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PATH="$PWD/.tools/binaryen-132/node_modules/.bin:$PATH"
cargo fetch --locked
TRUNK_SKIP_VERSION_CHECK=true trunk build --release --locked
echo "web app: $(gzip -9 -c dist/*.wasm | wc -c) bytes of gzipped wasm in dist/"
