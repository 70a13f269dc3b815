# shellcheck shell=bash
# Sourced by the scripts: the CLI cache that scripts/install-clis.sh fills, and
# the version of each tool it builds there (each may be overridden from the
# environment). internal/clicache holds the same versions for the Go code;
# its TestVersionsMatchScript keeps the two the same. The development tools of
# scripts/install-tools.sh are pinned in tools/go.mod instead.
CACHE_DIR="${CODOMYRMEX_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/codomyrmex/bin}"
TOFU_VERSION="${TOFU_VERSION:-1.12.6}"
TERRAFORM_VERSION="${TERRAFORM_VERSION:-1.8.5}"
PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-0.316.0}"
CADDY_VERSION="${CADDY_VERSION:-2.11.9}"
# How install-clis.sh and install-tools.sh build every binary of the cache:
# without debug information (DWARF, the symbol table). Nothing here runs them
# under a debugger, panics still print symbolized stacks, and a cold build
# takes about an eighth less time (Caddy: 151 s instead of 172 s on 2 cores).
NO_DEBUG_GCFLAGS="-gcflags=all=-dwarf=false"
NO_DEBUG_LDFLAGS="-s -w"
