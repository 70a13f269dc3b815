#!/usr/bin/env bash
# One pipeline run: plan, save the plan, apply exactly that plan, then tell
# a release that completed from one that paused at its approval gate. Both
# end with exit 0: a pause is a successful apply.
set -euo pipefail

set +e
terraform plan -input=false -no-color -detailed-exitcode -lock-timeout=10m -out=tfplan > plan.log
code=$?
set -e
case $code in
  0) echo "nothing to do"; exit 0 ;;
  2) ;; # changes: apply them below
  *) cat plan.log; exit "$code" ;;
esac

# In a pipeline with a review step, the plan job stops here and keeps
# tfplan (and plan.log) as its artifacts; the apply job starts from them.
terraform apply -input=false -no-color -lock-timeout=10m tfplan > apply.log

status="$(terraform output -raw status)"
release="$(terraform output -raw release)"
case "$status" in
  completed)
    echo "release $release completed: every host runs $(terraform output -raw live_version)"
    ;;
  paused)
    echo "release $release paused at $(terraform output -raw paused_at) %: waiting for approval"
    echo "to continue, set approved_version = \"$release\" and run the pipeline again"
    ;;
  *)
    echo "release $release ended with status $status" >&2
    exit 1
    ;;
esac
