#!/usr/bin/env bash
# Fails when docs/ is stale: regenerates it with `make docs` (schema
# descriptions + templates/ + examples/) and compares the result with what git
# has. Modified or deleted files show as a diff; new files as untracked.
# Also fails when `make docs` reformatted an example.
set -euo pipefail
cd "$(dirname "$0")/.."

make --no-print-directory docs >/dev/null

status=0
if ! git diff --exit-code --stat -- docs/ examples/; then
  echo "check-docs: docs/ or examples/ changed when regenerated (diff above)" >&2
  git --no-pager diff -- docs/ examples/ | head -200 >&2 || true
  status=1
fi
untracked="$(git ls-files --others --exclude-standard -- docs/)"
if [[ -n "$untracked" ]]; then
  echo "check-docs: docs/ has files git does not track:" >&2
  sed 's/^/  /' <<<"$untracked" >&2
  status=1
fi
if [[ $status -ne 0 ]]; then
  echo "check-docs: run 'make docs' and commit docs/ (never edit docs/ by hand)" >&2
  exit 1
fi
echo "check-docs: docs/ is up to date"
