#!/usr/bin/env bash
# Installs the GraphQL explorer's assets (GraphiQL and React, as UMD builds)
# from the npm registry into .tools/explorer, which Yardstick serves at
# /explorer/ so the explorer works offline. Does nothing when the pinned
# versions are already there. The assets are never committed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PREFIX=.tools/explorer
MODULES=$PREFIX/node_modules
PACKAGES=(graphiql@3.8.3 react@18.3.1 react-dom@18.3.1)
# The files the explorer page loads; backend/src/explorer.rs lists the same.
FILES=(
  react/umd/react.production.min.js
  react-dom/umd/react-dom.production.min.js
  graphiql/graphiql.min.js
  graphiql/graphiql.min.css
)

installed_version() {
  local manifest=$MODULES/$1/package.json
  [[ -f $manifest ]] || return 0
  grep -m 1 -o '"version"[[:space:]]*:[[:space:]]*"[^"]*"' "$manifest" | sed 's/.*"\([^"]*\)"$/\1/'
}

is_installed() {
  local package file
  for package in "${PACKAGES[@]}"; do
    [[ "$(installed_version "${package%@*}")" == "${package##*@}" ]] || return 1
  done
  for file in "${FILES[@]}"; do
    [[ -f $MODULES/$file ]] || return 1
  done
}

if is_installed; then
  echo "explorer assets: present (${PACKAGES[*]})"
  exit 0
fi

if ! command -v npm >/dev/null; then
  echo "error: npm not found; install Node.js and npm (scripts/setup.sh does)" >&2
  exit 1
fi

echo "explorer assets: installing ${PACKAGES[*]} into $PREFIX"
# Start from scratch: npm leaves a package alone when one of its files is gone.
rm -rf "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund "${PACKAGES[@]}"

if ! is_installed; then
  echo "error: npm finished but the explorer assets are incomplete in $MODULES" >&2
  exit 1
fi
