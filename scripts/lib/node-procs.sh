# Shared by scripts/kafka-local.sh and scripts/clickhouse-local.sh (sourced): the process of one node in a directory.

# watch_owner OWNER PID: SIGTERM to PID once OWNER exits (even by kill -9), so a test's servers die with the test.
watch_owner() {
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 2; done; kill -TERM "$2" 2>/dev/null' \
    _ "$1" "$2" >/dev/null 2>&1 </dev/null &
}

# stop_pidfile FILE SECONDS LABEL: SIGTERM the process in FILE, SIGKILL after SECONDS, then remove FILE.
stop_pidfile() {
  local file=$1 seconds=$2 label=$3 pid
  if [[ ! -f $file ]] || ! kill -0 "$(cat "$file")" 2>/dev/null; then
    rm -f "$file"
    return 0
  fi
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$label ($pid) did not stop in $seconds s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$file"
}
