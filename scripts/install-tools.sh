#!/usr/bin/env bash
# Builds the development tools pinned in tools/go.mod into a cache outside the
# repository, from source through the Go module proxy (nothing prebuilt is
# downloaded), and skips a tool whose pinned version is already there:
#   tfplugindocs   (docs/)            ~/.cache/codomyrmex/bin/tfplugindocs-<version>
#   golangci-lint  (make lint)        ~/.cache/codomyrmex/bin/golangci-lint-<version>
#   goreleaser     (make release-check) ~/.cache/codomyrmex/bin/goreleaser-<version>
#   actionlint     (make actionlint)  ~/.cache/codomyrmex/bin/actionlint-<version>
#                  (pinned in tools/actionlint/go.mod: its YAML library is not goreleaser's)
#
#   install-tools.sh [all | NAME...]   install (default: all)
#   install-tools.sh path NAME         install if missing, print the binary's path
#                                      (NAME terraform: the Terraform CLI tfplugindocs uses)
#   install-tools.sh run NAME ARGS...  install if missing, run it
#
# `run tfplugindocs` also puts a Terraform CLI first on PATH as `terraform`
# (Terraform 1.8.5 from scripts/install-clis.sh, or TFPLUGINDOCS_TERRAFORM),
# so tfplugindocs reads the provider schema without downloading Terraform.
# Progress goes to stderr. To upgrade a tool, change its version in
# tools/go.mod (`cd tools && go get MODULE@VERSION`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

# shellcheck source=scripts/versions.sh
source scripts/versions.sh

log() { echo "install-tools: $*" >&2; }

# module and package of each tool; the version comes from tools/go.mod.
module_of() {
  case "$1" in
    tfplugindocs) echo github.com/hashicorp/terraform-plugin-docs ;;
    golangci-lint) echo github.com/golangci/golangci-lint/v2 ;;
    goreleaser) echo github.com/goreleaser/goreleaser/v2 ;;
    actionlint) echo github.com/rhysd/actionlint ;;
    *) return 1 ;;
  esac
}
package_of() {
  case "$1" in
    tfplugindocs) echo github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs ;;
    golangci-lint) echo github.com/golangci/golangci-lint/v2/cmd/golangci-lint ;;
    goreleaser) echo github.com/goreleaser/goreleaser/v2 ;;
    actionlint) echo github.com/rhysd/actionlint/cmd/actionlint ;;
  esac
}

# dir_of is the module directory pinning the tool.
dir_of() {
  case "$1" in
    actionlint) echo "$root/tools/actionlint" ;;
    *) echo "$root/tools" ;;
  esac
}

tool_path() {
  local name="$1" module version
  module="$(module_of "$name")" || { echo "install-tools: unknown tool $name (tfplugindocs, golangci-lint, goreleaser, actionlint)" >&2; exit 2; }
  version="$(cd "$(dir_of "$name")" && GOWORK=off go list -m -f '{{.Version}}' "$module")"
  echo "$CACHE_DIR/$name-$version"
}

# Built without debug information, as the CLIs are (scripts/versions.sh).
install_tool() {
  local name="$1" bin start
  bin="$(tool_path "$name")"
  [[ -x "$bin" ]] && return
  mkdir -p "$CACHE_DIR"
  log "building $(basename "$bin") into $CACHE_DIR (once; a few minutes on 2 cores)"
  start=$SECONDS
  (cd "$(dir_of "$name")" && GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=readonly" CGO_ENABLED=0 \
    go build -trimpath "$NO_DEBUG_GCFLAGS" -ldflags "$NO_DEBUG_LDFLAGS" -o "$bin.tmp" "$(package_of "$name")")
  mv "$bin.tmp" "$bin"
  log "built $(basename "$bin") in $((SECONDS - start))s"
}

# terraform_for_docs prints a directory holding `terraform`, for tfplugindocs.
terraform_for_docs() {
  local tf="${TFPLUGINDOCS_TERRAFORM:-$CACHE_DIR/terraform-$TERRAFORM_VERSION}" dir
  if [[ ! -x "$tf" ]]; then
    "$root/scripts/install-clis.sh" terraform
  fi
  dir="$CACHE_DIR/tfplugindocs-path"
  mkdir -p "$dir"
  ln -sf "$tf" "$dir/terraform"
  echo "$dir"
}

case "${1:-all}" in
  all)
    for t in tfplugindocs golangci-lint goreleaser actionlint; do install_tool "$t"; done
    ;;
  path)
    [[ $# -eq 2 ]] || { echo "usage: $0 path NAME" >&2; exit 2; }
    if [[ "$2" == terraform ]]; then
      echo "$(terraform_for_docs)/terraform"
      exit 0
    fi
    install_tool "$2"
    tool_path "$2"
    ;;
  run)
    [[ $# -ge 2 ]] || { echo "usage: $0 run NAME ARGS..." >&2; exit 2; }
    name="$2"
    shift 2
    install_tool "$name"
    bin="$(tool_path "$name")"
    if [[ "$name" == tfplugindocs ]]; then
      PATH="$(terraform_for_docs):$PATH"
      # An empty CLI configuration: a developer's dev_overrides or mirrors must
      # not change what tfplugindocs' `terraform init -plugin-dir` does.
      : >"$CACHE_DIR/tfplugindocs.tfrc"
      export PATH CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE="$CACHE_DIR/tfplugindocs.tfrc"
      unset TF_LOG TF_LOG_PATH
      # tfplugindocs logs [DEBUG] lines unconditionally: keep its output readable.
      exec "$bin" "$@" 2> >(grep -v '\[DEBUG\]' >&2)
    fi
    exec "$bin" "$@"
    ;;
  *)
    for t in "$@"; do install_tool "$t"; done
    ;;
esac
