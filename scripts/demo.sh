#!/usr/bin/env bash
# make demo: builds the provider and the agent, starts a simulated fleet of 10
# targets running 1.0.0, then with a real CLI (through dev_overrides):
#   1. rolls 2.0.0 out as a canary (10 → 30 → 60 → 100 %);
#   2. tries 2.1.0-bad, which target t4 rejects: the apply fails and every
#      target it touched is rolled back to 2.0.0;
#   3. destroys the deployment, which rolls the fleet back to 1.0.0;
#   4. moves a feature flag 10 → 50 → 100 %, one stage per apply, the plan
#      showing each advance before it happens, on `codomyrmex-agent flags`,
#      with an OFREP evaluation of a few users after each apply;
#   5. rolls 2.2.0-errors out as a canary gated on a real Prometheus: every
#      target is healthy, but Prometheus sees the version answer 20 % 5xx,
#      so the first stage's analysis fails and the apply rolls back;
#   6. a canary that stops at a manual gate (exit 0, status paused, an empty
#      plan), then continues once approve names its version.
# Everything lives under a temporary directory removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

work="$(mktemp -d)"
sim_pid=""
prom_pid=""
flags_pid=""
cleanup() {
  for pid in $sim_pid $prom_pid $flags_pid; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  [[ -n "${DEMO_KEEP:-}" ]] && cp -r "$work" /tmp/demodbg/; rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# act TEXT: the next act of the demo, numbered as it runs (no total to keep
# in step when an act is added).
acts=0
act() { acts=$((acts + 1)); say "act $acts: $*"; }

# first_line FILE: the first line a server started in the background wrote
# to FILE (its address), once there is one (10 s at most).
first_line() {
  for _ in $(seq 1 100); do
    [[ -s "$1" ]] && break
    sleep 0.1
  done
  head -1 "$1"
}

# The CLI: OpenTofu from the cache (built once by install-clis.sh), or a
# terraform already on PATH, or OpenTofu built now.
# shellcheck source=scripts/versions.sh
source scripts/versions.sh
if [[ -n "${DEMO_CLI:-}" ]]; then
  cli="$DEMO_CLI"
elif [[ -x "$CACHE_DIR/tofu-$TOFU_VERSION" ]]; then
  cli="$CACHE_DIR/tofu-$TOFU_VERSION"
elif command -v terraform >/dev/null 2>&1; then
  cli="$(command -v terraform)"
else
  ./scripts/install-clis.sh tofu
  cli="$CACHE_DIR/tofu-$TOFU_VERSION"
fi
# Act 5's Prometheus, built once (about 7 minutes) when the cache lacks it.
./scripts/install-clis.sh prometheus
prometheus="$CACHE_DIR/prometheus-$PROMETHEUS_VERSION"

say "building the provider and codomyrmex-agent"
go build -o "$work/bin/terraform-provider-codomyrmex" .
go build -o "$work/bin/codomyrmex-agent" ./cmd/codomyrmex-agent

say "starting a simulated fleet: 10 targets running 1.0.0 (t4 rejects 2.1.0-bad; 2.2.0-errors answers 20 % of its traffic with 500)"
echo "  \$ codomyrmex-agent simulate --targets 10 --listen 127.0.0.1:0 --initial-version 1.0.0 --latency 20ms --fail-target t4 --fail-version 2.1.0-bad --rps 400 --error-rate 2.2.0-errors=0.2"
"$work/bin/codomyrmex-agent" simulate --targets 10 --listen 127.0.0.1:0 --initial-version 1.0.0 \
  --latency 20ms --fail-target t4 --fail-version 2.1.0-bad --rps 400 --error-rate 2.2.0-errors=0.2 > "$work/sim.out" 2> "$work/sim.err" &
sim_pid=$!
fleet_url="$(first_line "$work/sim.out")"
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
progress() {
  grep -E 'deployment=|flag=' "$1" | grep -v 'tf_rpc=Configure' |
    sed -n 's/^[^ ]* \[\([A-Z]*\)\] *provider\.terraform-provider-codomyrmex: \(.*\): [@a-z_]*=.*/    [\1] \2/p'
}

# plan (showing only which targets change), then apply that plan.
run() {
  local cmd="$1"; shift
  local log="$work/provider.log" rc=0
  local plan_args=()
  [[ "$cmd" == destroy ]] && plan_args=(-destroy)
  echo "  \$ $(basename "$cli") plan ${plan_args[*]} -out=tfplan $*"
  "$cli" plan "${plan_args[@]}" -input=false -no-color -out="$work/tfplan" "$@" > "$work/plan.txt"
  echo "  plan: $(grep '^Plan:' "$work/plan.txt")"
  if [[ "$cmd" != destroy ]]; then
    echo "  changed_targets (known at plan time): $("$cli" show -json "$work/tfplan" | grep -o '"changed_targets":\[[^]]*\]' | head -1 | sed 's/"changed_targets"://')"
  fi
  : > "$log"
  echo "  \$ TF_LOG_PROVIDER=INFO $(basename "$cli") apply tfplan"
  TF_LOG_PROVIDER=INFO TF_LOG_PATH="$log" "$cli" apply -input=false -no-color "$work/tfplan" > "$work/apply.txt" 2>&1 || rc=$?
  echo "  provider progress:"; progress "$log"
  sed -n -e '/^Error/,$p' -e '/^Apply complete/,$p' -e '/^Destroy complete/p' "$work/apply.txt" | sed 's/^/  /'
  return $rc
}

act "canary rollout of 2.0.0 with $(basename "$cli")"
run apply -var "fleet_url=$fleet_url" -var app_version=2.0.0

act "rolling out 2.1.0-bad: t4 rejects it, the apply fails and rolls back"
if run apply -var "fleet_url=$fleet_url" -var app_version=2.1.0-bad; then
  echo "expected this apply to fail"; exit 1
fi
say "state after the failed rollout (every target back on 2.0.0):"
"$cli" refresh -input=false -no-color -var "fleet_url=$fleet_url" -var app_version=2.1.0-bad >/dev/null
"$cli" output -no-color target_versions

act "destroy rolls the fleet back to 1.0.0"
run destroy -var "fleet_url=$fleet_url" -var app_version=2.0.0
curl -s "$fleet_url/t/t1/v1/health"; echo

act "a feature flag rolled out one stage per apply (stage_delay = 3s), served by codomyrmex-agent flags"
echo "  \$ codomyrmex-agent flags --listen 127.0.0.1:0 --data-dir flags-data"
"$work/bin/codomyrmex-agent" flags --listen 127.0.0.1:0 --data-dir "$work/flags-data" > "$work/flags.out" 2> "$work/flags.err" &
flags_pid=$!
flags_url="$(first_line "$work/flags.out")"
[[ "$flags_url" == http* ]] || { echo "codomyrmex-agent flags did not print its address"; cat "$work/flags.err"; exit 1; }
# What an application sees: an OFREP evaluation of the flag for a few users.
ofrep() {
  local line="  OFREP says new-checkout is on for:"
  for user in user-1 user-2 user-3 user-4 user-5 user-6; do
    if curl -s -X POST "$flags_url/ofrep/v1/evaluate/flags/new-checkout" -H 'Content-Type: application/json' \
      -d "{\"context\": {\"targetingKey\": \"$user\"}}" | grep -q '"value":true'; then
      line+=" $user"
    fi
  done
  echo "$line"
}
cp -r "$root/examples/demo-rollout" "$work/rollout"
cd "$work/rollout"
echo "  \$ $(basename "$cli") apply -var flag_endpoint=$flags_url"
"$cli" apply -auto-approve -input=false -no-color -var "flag_endpoint=$flags_url" | sed -n '/^Outputs:/,$p' | sed 's/^/  /'
ofrep
for round in 1 2 3; do
  sleep 3
  echo "  after stage_delay, plan $round shows the advance before it happens:"
  echo "  \$ $(basename "$cli") plan -out=rollout.tfplan -var flag_endpoint=$flags_url && $(basename "$cli") apply rollout.tfplan"
  "$cli" plan -input=false -no-color -var "flag_endpoint=$flags_url" -out="$work/rollout.tfplan" |
    grep -E '^ +[~+-] (current_stage|percentage|state) ' | sed 's/^/  /'
  "$cli" apply -input=false -no-color "$work/rollout.tfplan" | sed -n '/^Outputs:/,$p' | sed 's/^/  /'
  ofrep
done
"$cli" destroy -auto-approve -input=false -no-color -var "flag_endpoint=$flags_url" | tail -1

act "a canary gated on Prometheus: 2.2.0-errors is healthy but serves 20 % errors"
prom_port="${DEMO_PROMETHEUS_PORT:-9099}"
cat > "$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: fleet
    static_configs:
      - targets: ["${fleet_url#http://}"]
YML
echo "  \$ prometheus --config.file=prometheus.yml --web.listen-address=127.0.0.1:$prom_port (scraping $fleet_url/metrics every second)"
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus-data" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
prom_pid=$!
prom_url="http://127.0.0.1:$prom_port"
for _ in $(seq 1 60); do
  curl -s "$prom_url/api/v1/targets" | grep -q '"health":"up"' && break
  kill -0 "$prom_pid" 2>/dev/null || { echo "prometheus exited (port $prom_port busy? set DEMO_PROMETHEUS_PORT)"; tail -5 "$work/prometheus.log"; exit 1; }
  sleep 1
done
cp -r "$root/examples/guides/prometheus-analysis" "$work/analysis"
cd "$work/analysis"
echo "  the error-rate metric of docs/guides/prometheus-analysis.md: max 0.05, measured 3s after traffic moved, then every 2s"
if run apply -var "fleet_url=$fleet_url" -var "prometheus_url=$prom_url" -var app_version=2.2.0-errors; then
  echo "expected this apply to fail"; exit 1
fi
echo "  fleet: $(curl -s "$fleet_url/_sim/state" | grep -o '"targets":{[^}]*}')"

act "a manual gate: the canary stops at 25 % with the apply green, and continues once approved"
cp -r "$root/examples/guides/manual-promotion" "$work/gate"
cd "$work/gate"
gate_apply() {
  echo "  \$ $(basename "$cli") apply $*"
  "$cli" apply -auto-approve -input=false -no-color -var "fleet_url=$fleet_url" "$@" > "$work/gate.txt" 2>&1
  awk '/^Warning: Rollout paused/ {p = 1} /^Apply complete/ {print; p = 0} p && NF' "$work/gate.txt" | sed 's/^/  /'
  echo "  rollout = $("$cli" output -no-color -json rollout)"
}
gate_apply -var app_version=2.0.0
echo "  \$ $(basename "$cli") plan -detailed-exitcode -var app_version=2.0.0   # paused: nothing to do"
rc=0
"$cli" plan -detailed-exitcode -input=false -no-color -var "fleet_url=$fleet_url" -var app_version=2.0.0 > "$work/gate-plan.txt" 2>&1 || rc=$?
echo "  exit code $rc: $(grep -o 'No changes.*' "$work/gate-plan.txt" | head -1)"
[[ $rc -eq 0 ]] || { echo "expected an empty plan while paused"; exit 1; }
echo "  \$ $(basename "$cli") show -json | codomyrmex-agent status   # state beside what the fleet runs"
"$cli" show -json -no-color | "$work/bin/codomyrmex-agent" status | sed 's/^/  /'
gate_apply -var app_version=2.0.0 -var approve_version=2.0.0 -var approve_through=25
"$cli" destroy -auto-approve -input=false -no-color -var "fleet_url=$fleet_url" -var app_version=2.0.0 | tail -1
say "demo finished; cleaning up"
