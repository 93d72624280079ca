# Sourced by the scripts that build Go programs for the tests: runs a command with a private module cache ($1), so
# the machine's own GOMODCACHE/GOFLAGS never leak in; go.sum files pin the hashes (the checksum database is not
# reachable here).
go_env() {
  env GOMODCACHE="$1" GOFLAGS=-mod=mod GOTOOLCHAIN=local GONOSUMDB='*' GOSUMDB=off GOWORK=off "${@:2}"
}
