#!/usr/bin/env bash
# haproxy-router.sh: the --exec command of `codomyrmex-agent router` for
# HAProxy, through its runtime API (`set server BACKEND/SERVER weight N`).
# NOT TESTED by this repository's tests (caddy-router.sh is; this one was
# tried by hand once, on Debian 12): read it, try it
# on a staging HAProxy, then use it. Needs bash, curl, awk, sed and socat.
#
# router-common.sh, which must sit beside it, reads the targets and the
# version each server runs, and computes the weights with the same rules as
# caddy-router.sh: the servers running CODOMYRMEX_VERSION get
# CODOMYRMEX_PERCENTAGE % of the requests together (weights), or only the
# servers of slot CODOMYRMEX_SLOT running it get any (switch).
#
# Configuration, from the environment:
#   HAPROXY_SOCKET   the runtime API socket (default /run/haproxy/admin.sock;
#                    haproxy.cfg: `stats socket /run/haproxy/admin.sock level admin`)
#   HAPROXY_BACKEND  the backend (default: the deployment's name)
#   ROUTER_TARGETS   the targets file (default: targets.conf beside this script):
#                      # deployment  server (HAProxy name)  slot  agent (protocol address)
#                      web           web1                   blue  https://10.0.0.1:9090
#   AGENT_TOKEN_FILE the agents' bearer token, when they have one
#
# HAProxy weights go from 0 to 256: shares that need larger integers are
# rounded to fit. Weights are
# set one server at a time, each at once, and the runtime API does not
# survive a reload of HAProxy: keep haproxy.cfg (or a server-state-file) in
# step, or send the last call again after a reload (GET /v1/state of the
# router says what it was).
set -euo pipefail

socket="${HAPROXY_SOCKET:-/run/haproxy/admin.sock}"
# shellcheck source=examples/guides/routing/router-common.sh
source "$(dirname "$0")/router-common.sh"
backend="${HAPROXY_BACKEND:-$deployment}"

haproxy() { echo "$*" | socat stdio "unix-connect:$socket"; }

read_servers
compute_weights

# When the weights exceed HAProxy's 256, scaled into 1..256 (rounded),
# keeping 0 at 0.
top=0
for w in "${weights[@]}"; do ((w > top)) && top=$w; done
if ((top > 256)); then
  for i in "${!weights[@]}"; do
    w=${weights[$i]}
    ((w == 0)) || weights[i]=$(((w * 256 + top / 2) / top > 0 ? (w * 256 + top / 2) / top : 1))
  done
fi

# Raise before lowering, so that no moment has every server at 0.
for pass in up down; do
  for i in "${!servers[@]}"; do
    w=${weights[$i]}
    if [[ $pass == up && $w -eq 0 ]] || [[ $pass == down && $w -gt 0 ]]; then continue; fi
    answer="$(haproxy "set server $backend/${servers[$i]} weight $w")" || fail "HAProxy's runtime API at $socket does not answer"
    [[ -z "${answer//[[:space:]]/}" ]] || fail "set server $backend/${servers[$i]} weight $w: $answer"
  done
done
echo "$deployment: weights ${weights[*]} for ${servers[*]} in backend $backend"
