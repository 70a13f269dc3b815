#!/usr/bin/env bash
# Installs the CLIs the acceptance tests run against into a cache outside the
# repository, building them from the Go module proxy when they are missing:
#   OpenTofu 1.12.6 and Terraform 1.8.5 (the oldest Terraform we support);
#   Prometheus v0.316.0, which the metric analysis tests run (internal/promtest),
#   and its promtool, which checks the agent's alerting rules (make monitoring);
#   Caddy 2.11.9, the load balancer of the routing tests and guide (internal/caddytest).
# "all" (the default) builds all five; "tofu", "terraform", "prometheus",
# "promtool" or "caddy" builds one; "path NAME" builds it when missing and
# prints its path; "links [DIR]" builds Prometheus and Caddy when missing and
# links them, and every other tool of the cache but Terraform, under their
# plain names (prometheus, caddy, ...) into DIR (default ~/.codomyrmex/bin,
# where README installs the provider and the agent), printing each link:
# the guides run `prometheus` and `caddy` from PATH.
# Prints nothing but progress on stderr (but for path and links); safe to run
# repeatedly.
set -euo pipefail

# shellcheck source=scripts/versions.sh
source "$(dirname "$0")/versions.sh"
mkdir -p "$CACHE_DIR"

log() { echo "install-clis: $*" >&2; }

install_tofu() {
  local bin="$CACHE_DIR/tofu-$TOFU_VERSION"
  if [[ -x "$bin" ]]; then return; fi
  log "building OpenTofu $TOFU_VERSION into $bin (about 8 minutes on 2 cores)"
  local dir work
  dir="$(go mod download -json "github.com/opentofu/opentofu@v$TOFU_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  work="$(mktemp -d)"
  cp -r "$dir/." "$work/"
  chmod -R u+w "$work"
  (cd "$work" && GOFLAGS='' CGO_ENABLED=0 go build -trimpath "$NO_DEBUG_GCFLAGS" \
      -ldflags "$NO_DEBUG_LDFLAGS -X github.com/opentofu/opentofu/version.dev=no" -o "$bin.tmp" ./cmd/tofu)
  mv "$bin.tmp" "$bin"
  rm -rf "$work"
}

# go_install BIN PACKAGE@VERSION LDFLAGS [GO INSTALL FLAGS...]: builds the
# package's command with `go install` into BIN, when BIN is not there yet,
# without debug information (scripts/versions.sh) and with LDFLAGS.
go_install() {
  local bin="$1" pkg="$2" ldflags="$3"
  shift 3
  if [[ -x "$bin" ]]; then return; fi
  local gobin
  gobin="$(mktemp -d)"
  GOBIN="$gobin" GOFLAGS='' CGO_ENABLED=0 go install -trimpath "$NO_DEBUG_GCFLAGS" \
    -ldflags "$NO_DEBUG_LDFLAGS $ldflags" "$@" "$pkg"
  mv "$gobin/$(basename "${pkg%@*}")" "$bin"
  rm -rf "$gobin"
}

install_terraform() {
  local bin="$CACHE_DIR/terraform-$TERRAFORM_VERSION"
  [[ -x "$bin" ]] || log "building Terraform $TERRAFORM_VERSION into $bin (about 6 minutes on 2 cores)"
  go_install "$bin" "github.com/hashicorp/terraform@v$TERRAFORM_VERSION" \
    "-X github.com/hashicorp/terraform/version.dev=no"
}

# Prometheus 3.x for the metric analysis tests, without the service-discovery
# plugins (static scrape configs are all the tests use): 3 to 7 minutes cold
# instead of well over 20.
install_prometheus() {
  local bin="$CACHE_DIR/prometheus-$PROMETHEUS_VERSION"
  [[ -x "$bin" ]] || log "building Prometheus v$PROMETHEUS_VERSION into $bin (3 to 7 minutes on 2 cores)"
  go_install "$bin" "github.com/prometheus/prometheus/cmd/prometheus@v$PROMETHEUS_VERSION" "" \
    -tags remove_all_sd
}

# promtool from the same module, version and tags as Prometheus: `check
# rules` and `test rules` of examples/monitoring/ (most of its packages are
# Prometheus's own, already compiled by install_prometheus).
install_promtool() {
  local bin="$CACHE_DIR/promtool-$PROMETHEUS_VERSION"
  [[ -x "$bin" ]] || log "building promtool v$PROMETHEUS_VERSION into $bin (1 to 5 minutes on 2 cores)"
  go_install "$bin" "github.com/prometheus/prometheus/cmd/promtool@v$PROMETHEUS_VERSION" "" \
    -tags remove_all_sd
}

# Caddy 2 with its standard modules, for the routing tests and guide.
install_caddy() {
  local bin="$CACHE_DIR/caddy-$CADDY_VERSION"
  [[ -x "$bin" ]] || log "building Caddy v$CADDY_VERSION into $bin (about 3 minutes on 2 cores)"
  go_install "$bin" "github.com/caddyserver/caddy/v2/cmd/caddy@v$CADDY_VERSION" ""
}

# bin_path NAME is where NAME is cached.
bin_path() {
  case "$1" in
    tofu) echo "$CACHE_DIR/tofu-$TOFU_VERSION" ;;
    terraform) echo "$CACHE_DIR/terraform-$TERRAFORM_VERSION" ;;
    prometheus) echo "$CACHE_DIR/prometheus-$PROMETHEUS_VERSION" ;;
    promtool) echo "$CACHE_DIR/promtool-$PROMETHEUS_VERSION" ;;
    caddy) echo "$CACHE_DIR/caddy-$CADDY_VERSION" ;;
    *) return 1 ;;
  esac
}

# link_plain DIR links the cached tools under their plain names into DIR.
# Terraform is left out: a `terraform` there would hide the one you
# installed; run `tofu`, or yours.
link_plain() {
  local dir="$1" name bin
  install_prometheus
  install_caddy
  mkdir -p "$dir"
  for name in prometheus caddy promtool tofu; do
    bin="$(bin_path "$name")"
    [[ -x "$bin" ]] || continue
    ln -sfn "$bin" "$dir/$name"
    echo "$dir/$name -> $bin"
  done
  case ":$PATH:" in
    *":$dir:"*) ;;
    *) echo "$dir is not on your PATH: export PATH=\"$dir:\$PATH\"" ;;
  esac
}

usage() { echo "usage: $0 [tofu|terraform|prometheus|promtool|caddy|all | path NAME | links [DIR]]" >&2; exit 2; }

case "${1:-all}" in
  tofu | terraform | prometheus | promtool | caddy) "install_$1" ;;
  all) install_tofu; install_terraform; install_prometheus; install_promtool; install_caddy ;;
  path)
    [[ $# -eq 2 ]] && bin_path "$2" >/dev/null || usage
    "install_$2"
    bin_path "$2"
    ;;
  links)
    [[ $# -le 2 ]] || usage
    link_plain "${2:-$HOME/.codomyrmex/bin}"
    ;;
  *) usage ;;
esac
