#!/usr/bin/env bash
# API fuzzing: schemathesis (PyPI) with all its checks against `modcast serve` on a small demo store on 127.0.0.1.
# Every operation of the served OpenAPI document gets generated valid and invalid requests (a bounded number each),
# with a bearer token; the run fails on any failed check. Usage: scripts/fuzz-api.sh [max-examples]   (default 25)
set -euo pipefail
cd "$(dirname "$0")/.."

EXAMPLES="${1:-${FUZZ_MAX_EXAMPLES:-25}}"
VENV="${FUZZ_VENV:-.cache/schemathesis-venv}"
if [ ! -x "$VENV/bin/st" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'schemathesis>=4,<5'
fi

WORK="$(mktemp -d -t modcast-fuzz-XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

TOKEN="fuzz-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
PORT="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
# The demo fleet's nodes point at a closed port: triggered warm-ups plan and record, their fetches fail fast.
cat >"$WORK/modcast.yaml" <<EOF
dataDir: $WORK/data
logLevel: error
api:
  rateLimitPerMinute: 1000000
  metricsRateLimitPerMinute: 1000000
fleet:
  nodes:
    - { name: eu-1, region: eu, baseUrl: 'http://127.0.0.1:9/', requestTimeoutMs: 500 }
    - { name: us-1, region: us, baseUrl: 'http://127.0.0.1:9/', requestTimeoutMs: 500 }
EOF
export MODCAST_CONFIG="$WORK/modcast.yaml" MODCAST_API_TOKENS="$TOKEN" MODCAST_HOOK_SECRET="fuzz-hook-secret-0123456789"

echo "fuzz: demo store (3 days)" >&2
node --import tsx src/cli/index.ts demo --days 3 --modules 60 --rate 30 >/dev/null
node --import tsx src/cli/index.ts serve --host 127.0.0.1 --port "$PORT" --no-dashboard >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  node -e "fetch('http://127.0.0.1:$PORT/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; exit 1; }
  sleep 0.2
done

echo "fuzz: schemathesis, --checks all, --max-examples $EXAMPLES" >&2
status=0
"$VENV/bin/st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/docs/json" \
  --checks all \
  --max-examples "$EXAMPLES" \
  --header "Authorization: Bearer $TOKEN" \
  --workers 1 \
  --seed "${FUZZ_SEED:-1}" \
  --generation-database none \
  --request-timeout 30 \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz: server log tail:" >&2
  tail -n 30 "$WORK/serve.log" >&2
fi
exit "$status"
