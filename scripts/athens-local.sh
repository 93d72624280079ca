#!/usr/bin/env bash
# Athens (github.com/gomods/athens), the most used self-hosted Go module proxy, as a second real fleet node for
# modcast's tests, benchmarks and demo, next to modcast-goproxy.
#
#   scripts/athens-local.sh prepare    build .cache/gobin/athens from Athens' module source (the version and hash
#                                      pinned below; needs the Go module proxy once, then ~2 min of CPU; later runs
#                                      are a no-op)
#
# `go install github.com/gomods/athens/cmd/proxy@…` is refused by the registry for some versions, so the module's
# source is downloaded with `go mod download` and built in place; its go.sum pins every dependency. How a test or
# the demo runs it (disk storage, JSON log, the offline upstream through ATHENS_GO_BINARY_ENV_VARS):
# src/demo/local-proxies.ts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
BIN="$CACHE/gobin/athens"
VERSION="v0.18.1"
# h1: hash of the module zip as the Go module proxy served it when this was written (2026-12); checked because the
# checksum database is not reachable here.
SUM="h1:d/fCAEAjgrp1KXcgPrOJJT5g2Kx+KYQNgXFiiwlGdsQ="
# shellcheck source=lib/go-env.sh
source "$ROOT/scripts/lib/go-env.sh"

build() {
  local stamp; stamp="$VERSION-$SUM-$(go env GOVERSION)"
  if [[ -x "$BIN" && "$(cat "$BIN.stamp" 2>/dev/null)" == "$stamp" ]]; then return 0; fi
  echo "athens-local: building $BIN from github.com/gomods/athens@$VERSION (about 2 min of CPU, once)" >&2
  local modcache="$CACHE/gomodcache-build" work="$CACHE/athens-build"
  mkdir -p "$CACHE/gobin"
  local json; json="$(go_env "$modcache" go mod download -json "github.com/gomods/athens@$VERSION")"
  local got; got="$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"$json")"
  if [[ "$got" != "$SUM" ]]; then
    echo "athens-local: github.com/gomods/athens@$VERSION has hash '$got', expected $SUM" >&2
    exit 1
  fi
  local dir; dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  if [[ -d "$work" ]]; then chmod -R u+w "$work"; rm -rf "$work"; fi
  cp -r "$dir" "$work"
  chmod -R u+w "$work"
  (cd "$work" && go_env "$modcache" go build -trimpath -o "$BIN.tmp" ./cmd/proxy)
  mv "$BIN.tmp" "$BIN"
  echo "$stamp" > "$BIN.stamp"
  rm -rf "$work"
}

case "${1:-}" in
  prepare) build; echo "athens-local: ready ($BIN)" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
