#!/usr/bin/env bash
# Installs what Yardstick's tests and run need, and only what is missing, so
# running it again is quick and changes nothing. Each need has one install_*
# function below, called in order at the end. `setup.sh --run` installs only
# what running the product needs (no PostgreSQL server, no browser).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FOR_TESTS=true
[[ ${1:-} == --run ]] && FOR_TESTS=false

PG_BIN=/usr/lib/postgresql/15/bin
# trunk 0.22 and later need a newer rustc than the one pinned here.
TRUNK_VERSION=0.21.14
# npm's binaryen: Debian's binaryen 108 produces WASM that fails at run time.
BINARYEN_VERSION=132
BINARYEN_DIR=.tools/binaryen-$BINARYEN_VERSION

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
  # npm fetches the GraphQL explorer's assets and wasm-opt.
  command -v npm >/dev/null || packages+=(nodejs npm)
  if $FOR_TESTS; then
    # The tests start a private PostgreSQL 15 cluster from these binaries.
    [[ -x $PG_BIN/initdb && -x $PG_BIN/postgres ]] || packages+=(postgresql)
    # The browser test drives headless Chromium over WebDriver.
    command -v chromium >/dev/null || packages+=(chromium)
    command -v chromedriver >/dev/null || packages+=(chromium-driver)
  fi
  if [[ ${#packages[@]} -eq 0 ]]; then
    echo "setup: Debian packages present"
    return
  fi
  apt_install "${packages[@]}"
}

install_explorer_assets() {
  scripts/install-explorer.sh
}

install_wasm_target() {
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    echo "setup: wasm32-unknown-unknown target present"
    return
  fi
  rustup target add wasm32-unknown-unknown
}

install_trunk() {
  if [[ "$(trunk --version 2>/dev/null)" == "trunk $TRUNK_VERSION" ]]; then
    echo "setup: trunk $TRUNK_VERSION present"
    return
  fi
  echo "setup: installing trunk $TRUNK_VERSION (several minutes)"
  # Thin LTO and parallel codegen build trunk faster; it behaves the same.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked trunk --version "$TRUNK_VERSION"
}

# The wasm-bindgen CLI must be exactly the version of the library in Cargo.lock.
wasm_bindgen_version() {
  awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' \
    Cargo.lock
}

install_wasm_bindgen() {
  local version
  version=$(wasm_bindgen_version)
  if [[ "$(wasm-bindgen --version 2>/dev/null)" == "wasm-bindgen $version" ]]; then
    echo "setup: wasm-bindgen $version present"
    return
  fi
  echo "setup: installing wasm-bindgen-cli $version (a few minutes)"
  # Not --locked: its lock file pins a webpki-roots release the registry lacks.
  cargo install wasm-bindgen-cli --version "$version"
}

install_binaryen() {
  if [[ -x $BINARYEN_DIR/node_modules/.bin/wasm-opt ]]; then
    echo "setup: binaryen $BINARYEN_VERSION present"
    return
  fi
  echo "setup: installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
  npm install --prefix "$BINARYEN_DIR" --no-audit --no-fund --loglevel=error \
    "binaryen@$BINARYEN_VERSION"
}

install_system_packages
install_explorer_assets
install_wasm_target
install_trunk
install_wasm_bindgen
install_binaryen
