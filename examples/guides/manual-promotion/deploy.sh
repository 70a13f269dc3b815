#!/usr/bin/env bash
# One rollout step, as both CI jobs run it: plan, then apply that plan.
# APP_VERSION is the release; APPROVE_VERSION (and APPROVE_THROUGH) are set
# by the promotion job only.
set -euo pipefail
args=(-input=false -var "app_version=$APP_VERSION")
if [[ -n "${APPROVE_VERSION:-}" ]]; then
  args+=(-var "approve_version=$APPROVE_VERSION" -var "approve_through=${APPROVE_THROUGH:-100}")
fi
terraform plan "${args[@]}" -out=tfplan
terraform apply -input=false tfplan
terraform output -json rollout
