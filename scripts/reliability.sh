#!/usr/bin/env bash
# The reliability suite of RELIABILITY.md, in four parts:
#   1. fuzz: every fuzz target for FUZZTIME each (default 10s);
#   2. bench: validation and plan of a 10000-target deployment;
#   3. acceptance: the fault matrix, interruption, TLS and secrets tests
#      (TestAccReliability_*, TestAccInterrupt_*, TestAccTLS_*,
#      TestAccSecrets_*) on every CLI, through scripts/testacc.sh;
#   4. pg: two concurrent applies on one state in OpenTofu's pg backend
#      (scripts/pg-lock-test.sh; starts and stops its own PostgreSQL).
# RELIABILITY_PARTS picks parts ("fuzz bench acceptance pg" by default).
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME="${FUZZTIME:-10s}"
PARTS="${RELIABILITY_PARTS:-fuzz bench acceptance pg}"

# package:FuzzTarget, every fuzz target of the repository.
FUZZ_TARGETS=(
  ./internal/protocol:FuzzParseAddress
  ./internal/protocol:FuzzEndpoint
  ./internal/protocol:FuzzHealthAnswer
  ./internal/protocol:FuzzRetryAfter
  ./internal/rollout:FuzzBucket
  ./internal/rollout:FuzzValidateStages
  ./internal/rollout:FuzzLinearStages
  ./internal/strategies:FuzzStageGoal
  ./internal/strategies:FuzzPending
  ./internal/provider:FuzzPositiveDuration
  ./internal/provider:FuzzStagesValidator
  ./internal/provider:FuzzAddressValidator
)

declare -a summary=()
status=0
run_part() {
  local name="$1"; shift
  local start rc
  start=$(date +%s)
  echo "=== reliability: $name"
  set +e
  "$@"
  rc=$?
  set -e
  summary+=("$name: $([[ $rc -eq 0 ]] && echo ok || echo FAILED) in $(( $(date +%s) - start ))s")
  if [[ $rc -ne 0 ]]; then status=1; fi
}

fuzz_all() {
  local rc=0 entry pkg target log
  log="$(mktemp)"
  for entry in "${FUZZ_TARGETS[@]}"; do
    pkg="${entry%%:*}"; target="${entry##*:}"
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" > "$log" 2>&1; then
      echo "ok   $target ($pkg): $(grep -o 'execs: [0-9]*' "$log" | tail -1)"
    elif ! grep -q 'Failing input written to' "$log" && grep -q '^    context deadline exceeded$' "$log"; then
      # Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a
      # failure (go.dev/issue/75804, fixed in Go 1.27): no input failed.
      echo "ok   $target ($pkg): $(grep -o 'execs: [0-9]*' "$log" | tail -1) (stopped by the coordinator's deadline race)"
    else
      echo "FAIL $target ($pkg):"; tail -40 "$log"
      rc=1
    fi
  done
  rm -f "$log"
  return $rc
}

bench_scale() {
  go test -run '^$' -bench 'LargestFleet' -benchtime 1x -benchmem ./internal/provider/ | grep -E '^(Benchmark|ok|FAIL)'
}

acceptance() {
  ./scripts/install-clis.sh all
  TESTACC_RUN='^TestAcc(Reliability|Interrupt|TLS|Secrets)_' ./scripts/testacc.sh
}

for part in $PARTS; do
  case "$part" in
    fuzz) run_part "fuzz (${#FUZZ_TARGETS[@]} targets, $FUZZTIME each)" fuzz_all ;;
    bench) run_part "bench (10000 targets)" bench_scale ;;
    acceptance) run_part "acceptance (fault matrix, interruption, TLS, secrets)" acceptance ;;
    pg) run_part "pg (teams on one state)" ./scripts/pg-lock-test.sh ;;
    *) echo "reliability: unknown part $part (fuzz, bench, acceptance, pg)" >&2; exit 2 ;;
  esac
done

echo "=== reliability summary"
printf '%s\n' "${summary[@]}"
exit $status
