#!/usr/bin/env bash
# make demo: builds the provider and the agent, starts a simulated fleet of 10
# targets running 1.0.0, then with a real CLI (through dev_overrides):
#   1. rolls 2.0.0 out as a canary (10 → 30 → 60 → 100 %);
#   2. tries 2.1.0-bad, which target t4 rejects: the apply fails and every
#      target it touched is rolled back to 2.0.0;
#   3. destroys the deployment, which rolls the fleet back to 1.0.0.
# Everything lives under a temporary directory removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

work="$(mktemp -d)"
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# The CLI: OpenTofu from the cache (built once by install-clis.sh), or a
# terraform already on PATH, or OpenTofu built now.
CACHE_DIR="${CODOMYRMEX_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codomyrmex/bin}"
if [[ -n "${DEMO_CLI:-}" ]]; then
  cli="$DEMO_CLI"
elif [[ -x "$CACHE_DIR/tofu-1.12.6" ]]; then
  cli="$CACHE_DIR/tofu-1.12.6"
elif command -v terraform >/dev/null 2>&1; then
  cli="$(command -v terraform)"
else
  ./scripts/install-clis.sh tofu
  cli="$CACHE_DIR/tofu-1.12.6"
fi

say "building the provider and codomyrmex-agent"
go build -o "$work/bin/terraform-provider-codomyrmex" .
go build -o "$work/bin/codomyrmex-agent" ./cmd/codomyrmex-agent

say "starting a simulated fleet: 10 targets running 1.0.0 (t4 rejects 2.1.0-bad)"
"$work/bin/codomyrmex-agent" simulate --targets 10 --listen 127.0.0.1:0 --initial-version 1.0.0 \
  --latency 20ms --fail-target t4 --fail-version 2.1.0-bad > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$work/sim.out" ]] && break
  sleep 0.1
done
fleet_url="$(head -1 "$work/sim.out")"
[[ "$fleet_url" == http://* ]] || { echo "simulate did not print its address"; cat "$work/sim.err"; exit 1; }
echo "fleet at $fleet_url"

# dev_overrides points the CLI at the binary just built: no registry, no init.
for host in registry.terraform.io registry.opentofu.org; do
  printf '    "%s/codomyrmex/codomyrmex" = "%s"\n' "$host" "$work/bin"
done > "$work/overrides"
cat > "$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
$(cat "$work/overrides")
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
cp -r "$root/examples/demo" "$work/tf"
cd "$work/tf"

# Progress lines the provider logs at INFO, without the log noise around them.
progress() { sed -n 's/.*provider\.terraform-provider-codomyrmex: \([^:]*\):.*/    \1/p' "$1"; }

run() {
  local log="$work/provider.log" rc=0
  : > "$log"
  TF_LOG_PROVIDER=INFO TF_LOG_PATH="$log" "$cli" "$@" -no-color || rc=$?
  echo "  provider progress:"; progress "$log"
  return $rc
}

say "1/3 canary rollout of 2.0.0 with $(basename "$cli")"
run apply -auto-approve -input=false -var "fleet_url=$fleet_url" -var app_version=2.0.0

say "2/3 rolling out 2.1.0-bad: t4 rejects it, the apply fails and rolls back"
if run apply -auto-approve -input=false -var "fleet_url=$fleet_url" -var app_version=2.1.0-bad; then
  echo "expected this apply to fail"; exit 1
fi
say "state after the failed rollout (every target back on 2.0.0):"
"$cli" refresh -input=false -no-color -var "fleet_url=$fleet_url" -var app_version=2.1.0-bad >/dev/null
"$cli" output -no-color target_versions

say "3/3 destroy rolls the fleet back to 1.0.0"
run destroy -auto-approve -input=false -var "fleet_url=$fleet_url" -var app_version=2.0.0
curl -s "$fleet_url/t/t1/v1/health"; echo
say "demo finished; cleaning up"
