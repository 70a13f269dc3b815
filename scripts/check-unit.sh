#!/usr/bin/env bash
# The agent's package pieces that need no goreleaser (make test): the unit
# packaging/systemd/codomyrmex-agent@.service passes `systemd-analyze verify`
# with nothing to say (its ExecStart pointed at a freshly built agent), the
# package scripts parse with sh -n, and each mode accepts the arguments of
# its environment file in packaging/etc. scripts/check-release.sh checks the
# built packages.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
CGO_ENABLED=0 go build -o "$root/codomyrmex-agent" ./cmd/codomyrmex-agent
for mode in serve router flags; do
  sed "s#/usr/bin/codomyrmex-agent#$root/codomyrmex-agent#" packaging/systemd/codomyrmex-agent@.service >"$root/codomyrmex-agent@$mode.service"
  out="$(systemd-analyze verify --man=no "$root/codomyrmex-agent@$mode.service" 2>&1)" || { echo "check-unit: systemd-analyze verify failed: $out" >&2; exit 1; }
  if [[ -n "$out" ]]; then echo "check-unit: systemd-analyze verify says: $out" >&2; exit 1; fi
  # The arguments parse (-h stops before anything starts).
  opts="$(sed -n 's/^CODOMYRMEX_AGENT_OPTS=//p' "packaging/etc/$mode.env")"
  # shellcheck disable=SC2086 # split at whitespace, as systemd does
  "$root/codomyrmex-agent" "$mode" $opts -h >/dev/null 2>"$root/err" ||
    { echo "check-unit: packaging/etc/$mode.env: $(cat "$root/err")" >&2; exit 1; }
done
for s in packaging/scripts/*.sh; do sh -n "$s"; done
echo "check-unit: the unit, the environment files and the package scripts are sound"
