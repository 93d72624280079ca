#!/usr/bin/env bash
# A real Go module proxy on loopback for modcast's tests, benchmarks and demos, with an offline upstream.
#
#   scripts/go-proxy-local.sh prepare        build .cache/gobin/modcast-goproxy (github.com/goproxy/goproxy, pinned
#                                            in scripts/goproxy-server/go.mod) and fill .cache/goproxy-upstream from
#                                            the real modules of test/fixtures/goproxy-modules/go.mod (needs the Go
#                                            module proxy once; later runs are offline and take well under a second)
#   scripts/go-proxy-local.sh start [DIR]    start upstream + proxy in the background (state in DIR, default
#                                            .cache/goproxy-run); prints GOPROXY=... and the access log path
#   scripts/go-proxy-local.sh stop [DIR]     stop them
#
# Environment: UPSTREAM_LATENCY (default 50ms) delay per upstream response, to mimic a WAN.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
BIN="$CACHE/gobin/modcast-goproxy"
SRC="$ROOT/scripts/goproxy-server"
SET="$ROOT/test/fixtures/goproxy-modules/go.mod"
UPSTREAM="$CACHE/goproxy-upstream"

# Build and prepare with private caches.
# shellcheck source=lib/go-env.sh
source "$ROOT/scripts/lib/go-env.sh"

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

build() {
  local stamp; stamp="$(stamp_of "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum")-$(go env GOVERSION)"
  if [[ -x "$BIN" && "$(cat "$BIN.stamp" 2>/dev/null)" == "$stamp" ]]; then return 0; fi
  echo "go-proxy-local: building $BIN" >&2
  mkdir -p "$CACHE/gobin"
  # go.sum pins the module hashes; the checksum database is not consulted (it is not reachable here).
  (cd "$SRC" && go_env "$CACHE/gomodcache-build" go build -trimpath -o "$BIN.tmp" .)
  mv "$BIN.tmp" "$BIN"
  echo "$stamp" > "$BIN.stamp"
}

upstream() {
  local stamp; stamp="$(stamp_of "$SET")"
  if [[ -f "$UPSTREAM/.stamp" && "$(cat "$UPSTREAM/.stamp")" == "$stamp" ]]; then return 0; fi
  echo "go-proxy-local: downloading the module set into $UPSTREAM" >&2
  local work="$CACHE/goproxy-prep"
  if [[ -d "$work" ]]; then chmod -R u+w "$work"; rm -rf "$work"; fi
  mkdir -p "$work/mod"
  cp "$SET" "$work/mod/go.mod"
  # Every module@version of the module graph (not only the build list), each in full (info, mod, zip):
  # the go command reads all their go.mod files, and a GOPROXY server fetches info+mod+zip together.
  (cd "$work/mod" && go_env "$work/modcache" go mod graph > "$work/graph.txt" \
     && tr ' ' '\n' < "$work/graph.txt" | grep '@' | grep -v -E '^(go|toolchain)@' | sort -u > "$work/versions.txt" \
     && xargs env GOMODCACHE="$work/modcache" GOFLAGS=-mod=mod GOTOOLCHAIN=local GONOSUMDB='*' GOSUMDB=off GOWORK=off go mod download -json < "$work/versions.txt" > "$work/download.json")
  if grep -q '"Error"' "$work/download.json"; then grep '"Error"' "$work/download.json" >&2; exit 1; fi
  chmod -R u+w "$work/modcache"
  rm -rf "$UPSTREAM.tmp" "$UPSTREAM"
  cp -r "$work/modcache/cache/download" "$UPSTREAM.tmp"
  find "$UPSTREAM.tmp" \( -name '*.lock' -o -name '*.ziphash' \) -delete
  echo "$stamp" > "$UPSTREAM.tmp/.stamp"
  mv "$UPSTREAM.tmp" "$UPSTREAM"
  rm -rf "$work"
  echo "go-proxy-local: $(find "$UPSTREAM" -name '*.zip' | wc -l) module zips, $(find "$UPSTREAM" -name '*.mod' | wc -l) go.mod files" >&2
}

wait_addr() {
  for _ in $(seq 1 100); do [[ -s "$1" ]] && { cat "$1"; return 0; }; sleep 0.1; done
  echo "go-proxy-local: $2 did not start (see ${1%.addr}.out)" >&2; exit 1
}

start() {
  local dir="${1:-$CACHE/goproxy-run}"
  build; upstream
  mkdir -p "$dir"; rm -f "$dir"/*.addr
  "$BIN" upstream -dir "$UPSTREAM" -latency "${UPSTREAM_LATENCY:-50ms}" -addr-file "$dir/upstream.addr" > "$dir/upstream.out" 2>&1 &
  echo $! > "$dir/upstream.pid"
  local up; up="$(wait_addr "$dir/upstream.addr" upstream)"
  "$BIN" serve -storage "$dir/storage" -upstream "http://$up" -access-log "$dir/access.log" -addr-file "$dir/proxy.addr" > "$dir/proxy.out" 2>&1 &
  echo $! > "$dir/proxy.pid"
  local px; px="$(wait_addr "$dir/proxy.addr" proxy)"
  echo "GOPROXY=http://$px"
  echo "UPSTREAM=http://$up"
  echo "ACCESS_LOG=$dir/access.log"
}

stop() {
  local dir="${1:-$CACHE/goproxy-run}"
  for p in proxy upstream; do
    if [[ -f "$dir/$p.pid" ]]; then kill "$(cat "$dir/$p.pid")" 2>/dev/null || true; rm -f "$dir/$p.pid"; fi
  done
}

case "${1:-}" in
  prepare) build; upstream; echo "go-proxy-local: ready ($BIN, $UPSTREAM)" ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
