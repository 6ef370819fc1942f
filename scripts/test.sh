#!/usr/bin/env bash
# Yardstick's one test command: installs what is missing, then checks
# formatting and lints and runs every test. Exits non-zero on the first
# failing step.
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
step "cargo clippy" cargo clippy --all-targets --locked -- -D warnings
step "cargo test" cargo test --locked
echo "=== all steps passed in ${SECONDS} s"
