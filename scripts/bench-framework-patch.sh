#!/usr/bin/env bash
# Measures what the terraform-plugin-framework changes proposed in
# scripts/framework-patches/ would save: builds the provider against a
# patched copy of the framework version go.mod pins and runs
# codomyrmex-bench on it (default: -targets 1000,5000, no baselines). The
# provider itself never ships the patch; compare with `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

GO="${GO:-go}"
module=github.com/hashicorp/terraform-plugin-framework
version="$($GO list -m -f '{{.Version}}' "$module")"
patch_file="$PWD/scripts/framework-patches/terraform-plugin-framework-$version.patch"
if [ ! -f "$patch_file" ]; then
  echo "bench-framework-patch: no patch for $module $version in scripts/framework-patches/" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT

# The module cache is read-only: patch a copy.
cp -R "$($GO list -m -f '{{.Dir}}' "$module")" "$work/framework"
chmod -R u+w "$work/framework"
patch -d "$work/framework" -p1 --quiet --forward < "$patch_file"

# The working tree's tracked files, with go.mod pointing at the copy.
mkdir "$work/repo"
git ls-files -z | xargs -0 cp --parents -t "$work/repo"
(cd "$work/repo" && $GO mod edit -replace "$module=$work/framework")

./scripts/install-clis.sh tofu
if [ "$#" -eq 0 ]; then
  set -- -targets 1000,5000 -sequential "" -delayed ""
fi
# The driver is built from the patched copy too: with -profile it serves
# the provider itself.
(cd "$work/repo" && $GO build -o "$work/codomyrmex-bench" ./cmd/codomyrmex-bench)
"$work/codomyrmex-bench" -repo "$work/repo" "$@"
