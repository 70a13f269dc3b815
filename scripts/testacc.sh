#!/usr/bin/env bash
# Runs the acceptance tests (TestAcc*) once per CLI: OpenTofu 1.12.6 and
# Terraform 1.8.5 from the cache filled by install-clis.sh, plus any other
# terraform found on PATH. Each run drives the real binary against real HTTP
# servers (the simulated fleet of internal/simulator, in process).
#
# OpenTofu and Terraform 1.8.5 (the oldest Terraform we support) run every
# test. Another Terraform on PATH runs the tests of the CLI's own behaviour by
# default (saved plans, Ctrl-C, messages and plan text, state fixtures,
# modules, functions, `show -json`, the guides, the four strategies once):
# the tests that only exchange protocol messages with the provider behave the
# same on every Terraform, and running all of them a third time would add
# about eight minutes to a CI run. TESTACC_OTHER_RUN='^TestAcc' runs them all
# there too (the GitHub workflow does, one Terraform per job).
#
# The CLIs go one after another. Side by side on two cores the same three
# runs took longer (1587 s, against 1350 s in turn): a run alone leaves about
# a quarter of the cores idle, and together they lost more than that to
# contention.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/versions.sh
source scripts/versions.sh
RUN="${TESTACC_RUN:-^TestAcc}"
CLI_BEHAVIOUR='^TestAcc(CLI|ProviderCLI|RolloutCLI|StateFixtures|Functions|Module|Messages|Interrupt|Status|Secrets|Examples)_'
CLI_BEHAVIOUR+='|^TestAccGates_(cli|sigint|interrupted)|^TestAccAnalysis_sigintDuringBake$'
CLI_BEHAVIOUR+='|^TestAccPaths_(planTextNamesTargets|stateRmChangedTargets|rolloutSavedPlanAppliedLate)$'
CLI_BEHAVIOUR+='|^TestAccDeployment_(rolling|blueGreen|canary|featureFlag)$|^TestAccFeatureRollout_advancesOneStagePerApply$|^TestAccGuides$'
OTHER_RUN="${TESTACC_OTHER_RUN:-${TESTACC_RUN:-$CLI_BEHAVIOUR}}"
PKGS="${TESTACC_PKGS:-./internal/provider/ ./internal/guides/}"

# tofu warns about a missing CLI config file, which breaks plugin-testing's
# version check: give every CLI a config file of our own.
cli_config="$(mktemp)"
trap 'rm -f "$cli_config"' EXIT
export TF_CLI_CONFIG_FILE="$cli_config"
export TF_ACC=1
export CHECKPOINT_DISABLE=1

declare -a names=() paths=() runs=()
names+=("opentofu-$TOFU_VERSION"); paths+=("$CACHE_DIR/tofu-$TOFU_VERSION"); runs+=("$RUN")
names+=("terraform-$TERRAFORM_VERSION"); paths+=("$CACHE_DIR/terraform-$TERRAFORM_VERSION"); runs+=("$RUN")
if path_tf="$(command -v terraform 2>/dev/null)"; then
  v="$("$path_tf" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -1)"
  if [[ -n "$v" && "$v" != "$TERRAFORM_VERSION" ]]; then
    names+=("terraform-$v"); paths+=("$path_tf"); runs+=("$OTHER_RUN")
  fi
fi

status=0
total_passed=0 total_failed=0
for i in "${!names[@]}"; do
  name="${names[$i]}"; bin="${paths[$i]}"
  if [[ ! -x "$bin" ]]; then echo "testacc: $bin is missing; run ./scripts/install-clis.sh" >&2; exit 1; fi
  echo "=== acceptance tests on $name ($bin), -run '${runs[$i]}'"
  if [[ "$name" == opentofu-* ]]; then
    host=registry.opentofu.org
  else
    host=registry.terraform.io
  fi
  start=$(date +%s)
  log="$(mktemp)"
  # -v for the per-test counts; only failures and the package lines are shown.
  set +e
  TF_ACC_TERRAFORM_PATH="$bin" TF_ACC_PROVIDER_HOST="$host" TF_ACC_PROVIDER_NAMESPACE=hashicorp \
    go test -v -race -count=1 -timeout 40m -run "${runs[$i]}" $PKGS ${TESTACC_ARGS:-} > "$log" 2>&1
  rc=$?
  set -e
  passed=$(grep -c -E '^\s*--- PASS' "$log" || true)
  failed=$(grep -c -E '^\s*--- FAIL' "$log" || true)
  skipped=$(grep -c -E '^\s*--- SKIP' "$log" || true)
  if [[ $rc -ne 0 ]]; then
    status=1
    # Show every failing test with its output.
    grep -v -E '^\s*(=== (RUN|PAUSE|CONT)|--- PASS|--- SKIP)' "$log" | tail -400
    echo "testacc: FAILED on $name" >&2
  else
    grep -E '^(ok|FAIL|panic)' "$log"
  fi
  # Where the time goes: the slowest top-level tests of this CLI.
  echo "slowest on $name:"
  sed -n -E 's/^--- (PASS|FAIL): ([^ ]+) \(([0-9.]+)s\)$/\3 \2/p' "$log" | sort -rn | awk 'NR <= 8 {printf "  %7.1fs %s\n", $1, $2}'
  rm -f "$log"
  total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed))
  echo "acceptance $name: $passed passed, $failed failed, $skipped skipped in $(( $(date +%s) - start ))s"
done
echo "testacc: $total_passed passed, $total_failed failed"
exit $status
