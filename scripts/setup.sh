#!/usr/bin/env bash
# Installs what Yardstick's tests and run need, and only what is missing, so
# running it again is quick and changes nothing. Each need has one install_*
# function below, called in order at the end; the web app's tools (trunk,
# wasm-bindgen, wasm-opt, chromium) are to be added the same way.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PG_BIN=/usr/lib/postgresql/15/bin

# Installs Debian packages, running `apt-get update` first; needs root.
apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: missing Debian packages: $*; run this script as root" \
      "or install them yourself" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

install_system_packages() {
  local packages=()
  # The tests start a private PostgreSQL 15 cluster from these binaries.
  [[ -x $PG_BIN/initdb && -x $PG_BIN/postgres ]] || packages+=(postgresql)
  # npm fetches the GraphQL explorer's assets.
  command -v npm >/dev/null || packages+=(nodejs npm)
  if [[ ${#packages[@]} -eq 0 ]]; then
    echo "setup: Debian packages present"
    return
  fi
  apt_install "${packages[@]}"
}

install_explorer_assets() {
  scripts/install-explorer.sh
}

install_system_packages
install_explorer_assets
