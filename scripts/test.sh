#!/usr/bin/env bash
# Yardstick's one test command: installs what is missing, builds the web
# app, then checks formatting and lints and runs every test, the browser test
# included (its screenshots land in target/test-output/browser/). Exits
# non-zero on the first failing step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TERM_COLOR=never

# Runs a step between banners that give its name and how long it took.
step() {
  local name=$1 started=$SECONDS status=0
  shift
  echo "=== ${name}"
  "$@" || status=$?
  if [[ $status -ne 0 ]]; then
    echo "=== ${name}: FAILED (exit ${status}) after $((SECONDS - started)) s"
    return "$status"
  fi
  echo "=== ${name}: ok in $((SECONDS - started)) s"
}

step "setup" scripts/setup.sh
step "cargo fmt --check" cargo fmt --all --check
step "web app: trunk build --release" scripts/build-web.sh
step "cargo clippy" cargo clippy --all-targets --locked -- -D warnings
step "cargo clippy (web app, wasm32)" \
  cargo clippy --locked -p frontend --target wasm32-unknown-unknown -- -D warnings
step "cargo test" cargo test --locked
step "cargo test (web app view logic, host)" cargo test --locked -p frontend
echo "=== all steps passed in ${SECONDS} s"
