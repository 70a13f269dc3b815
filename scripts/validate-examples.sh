#!/usr/bin/env bash
# Validates every example configuration under examples/ against a freshly
# built provider, with no network and no `init`:
#   - `fmt -check -recursive examples/`;
#   - `validate` of each directory holding .tf files, once per CLI: OpenTofu
#     1.12.6 and Terraform 1.8.5 from the CLI cache (scripts/install-clis.sh),
#     or the CLIs named in VALIDATE_CLIS (space-separated paths).
# dev_overrides points both registry addresses of codomyrmex/codomyrmex at the
# binary just built, which lets `validate` run without `init`. Examples that
# leave out the `terraform { required_providers }` block (resource examples
# do, as on the Registry) get one added in the scratch copy only. Root
# modules that call a module by its local path (examples/modules/) run
# `get` first, which installs modules and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/versions.sh
source scripts/versions.sh

log() { echo "validate-examples: $*" >&2; }

clis=()
if [[ -n "${VALIDATE_CLIS:-}" ]]; then
  read -r -a clis <<<"$VALIDATE_CLIS"
else
  # Both CLIs, built once into the cache if missing (a no-op when cached).
  ./scripts/install-clis.sh all
  clis=("$CACHE_DIR/tofu-$TOFU_VERSION" "$CACHE_DIR/terraform-$TERRAFORM_VERSION")
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "building the provider"
go build -o "$work/bin/terraform-provider-codomyrmex" .

cat >"$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/codomyrmex/codomyrmex" = "$work/bin"
    "registry.opentofu.org/codomyrmex/codomyrmex" = "$work/bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_LOG TF_LOG_PATH

failed=0

log "fmt -check -recursive examples/ ($(basename "${clis[0]}"))"
if ! "${clis[0]}" fmt -check -recursive -diff -no-color examples/; then
  log "examples are not formatted: run '${clis[0]} fmt -recursive examples/'"
  failed=1
fi

mapfile -t dirs < <(find examples -name '*.tf' -printf '%h\n' | sort -u)
if [[ ${#dirs[@]} -eq 0 ]]; then
  log "no example found under examples/"
  exit 1
fi

for cli in "${clis[@]}"; do
  name="$(basename "$cli")"
  # A copy of the whole tree, so that local module sources resolve.
  mkdir -p "$work/$name"
  cp -r examples "$work/$name/"
  for dir in "${dirs[@]}"; do
    scratch="$work/$name/$dir"
    if ! grep -q 'required_providers' "$scratch"/*.tf; then
      cat >"$scratch/zz_required_providers.tf" <<'TF'
terraform {
  required_providers {
    codomyrmex = {
      source = "codomyrmex/codomyrmex"
    }
  }
}
TF
    fi
    get=true
    if grep -q '^module ' "$scratch"/*.tf; then get=("$cli" get -no-color); fi
    if out="$(cd "$scratch" && { "${get[@]}" >/dev/null && "$cli" validate -no-color; } 2>&1)"; then
      echo "ok    $name  $dir"
    else
      echo "FAIL  $name  $dir"
      sed 's/^/      /' <<<"$out"
      failed=1
    fi
  done
done

if [[ $failed -ne 0 ]]; then
  log "failed"
  exit 1
fi
log "${#dirs[@]} example directories valid on ${#clis[@]} CLI(s)"
