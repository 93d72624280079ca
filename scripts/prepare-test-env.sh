#!/usr/bin/env bash
# Everything the test suite needs besides node_modules, installed or built once and cached under .cache/:
# the Kafka broker jars (Maven Central), the real Go module proxy and its offline upstream (Go module proxy), Athens
# (built from its module source, ~2 min of CPU once),
# the launcher that runs chDB's engine as a ClickHouse server (gcc),
# and Debian's chromium for the browser test. Fails loudly when something cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in go java mvn; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "prepare-test-env: missing ${missing[*]} (the tests need Go for the proxy, Java 17 + Maven for the Kafka broker)" >&2
  exit 1
fi

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "prepare-test-env: installing Debian's chromium for the browser test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "prepare-test-env: chromium is missing; install Debian's chromium package (sudo apt-get install chromium)" >&2
    exit 1
  fi
fi

bash scripts/kafka-local.sh fetch
bash scripts/go-proxy-local.sh prepare
bash scripts/clickhouse-local.sh build
bash scripts/athens-local.sh prepare
