#!/usr/bin/env bash
# haproxy-router.sh: the --exec command of `codomyrmex-agent router` for
# HAProxy, through its runtime API (`set server BACKEND/SERVER weight N`).
# NOT TESTED by this repository's tests (caddy-router.sh is; this one was
# tried by hand once, on Debian 12): read it, try it
# on a staging HAProxy, then use it. Needs bash, curl, awk, sed and socat.
#
# Same rules as caddy-router.sh: the servers running CODOMYRMEX_VERSION get
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

fail() { echo "haproxy-router: $*" >&2; exit 1; }

socket="${HAPROXY_SOCKET:-/run/haproxy/admin.sock}"
deployment="${CODOMYRMEX_DEPLOYMENT:?CODOMYRMEX_DEPLOYMENT is not set: run this script from codomyrmex-agent router --exec}"
version="${CODOMYRMEX_VERSION:?CODOMYRMEX_VERSION is not set}"
action="${CODOMYRMEX_ACTION:?CODOMYRMEX_ACTION is not set}"
backend="${HAPROXY_BACKEND:-$deployment}"
targets="${ROUTER_TARGETS:-$(dirname "$0")/targets.conf}"
[[ -r "$targets" ]] || fail "cannot read the targets file $targets (ROUTER_TARGETS)"

haproxy() { echo "$*" | socat stdio "unix-connect:$socket"; }

mapfile -t lines < <(awk -v d="$deployment" '$1 !~ /^#/ && $1 == d { print $2, $3, $4 }' "$targets")
((${#lines[@]} > 0)) || fail "no server of deployment $deployment in $targets"

servers=() slots=() versions=()
for line in "${lines[@]}"; do
  read -r server slot agent <<<"$line"
  health="$(
    if [[ -n "${AGENT_TOKEN_FILE:-}" ]]; then
      printf 'header = "Authorization: Bearer %s"\n' "$(tr -d '\r\n' <"$AGENT_TOKEN_FILE")" |
        curl --silent --show-error --max-time 5 --fail --config - "${agent%/}/v1/health"
    else
      curl --silent --show-error --max-time 5 --fail "${agent%/}/v1/health"
    fi
  )" || fail "the agent of $server ($agent) does not answer its health check"
  servers+=("$server")
  slots+=("$slot")
  versions+=("$(sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p' <<<"$health")")
done

n=${#servers[@]}
weights=()
case "$action" in
  weights)
    pct="${CODOMYRMEX_PERCENTAGE:?CODOMYRMEX_PERCENTAGE is not set}"
    [[ "$pct" =~ ^([0-9]+)(\.([0-9]*))?$ ]] || fail "percentage $pct is not a number"
    frac="${BASH_REMATCH[3]}00"
    bp=$((10#${BASH_REMATCH[1]} * 100 + 10#${frac:0:2}))
    ((bp <= 10000)) || fail "percentage $pct is over 100"
    with=0
    for v in "${versions[@]}"; do [[ "$v" == "$version" ]] && with=$((with + 1)); done
    without=$((n - with))
    ((with > 0 || bp == 0)) || fail "no server of $deployment runs $version: cannot send it $pct %"
    for v in "${versions[@]}"; do
      if ((with == 0 || without == 0)); then
        weights+=(1)
      elif [[ "$v" == "$version" ]]; then
        weights+=($((bp * without)))
      else
        weights+=($(((10000 - bp) * with)))
      fi
    done
    ;;
  switch)
    slot="${CODOMYRMEX_SLOT:?CODOMYRMEX_SLOT is not set}"
    live=0
    for i in "${!servers[@]}"; do
      if [[ "${slots[$i]}" == "$slot" && "${versions[$i]}" == "$version" ]]; then
        weights+=(1) live=$((live + 1))
      else
        weights+=(0)
      fi
    done
    ((live > 0)) || fail "no server of slot $slot runs $version: traffic not switched"
    ;;
  *) fail "unknown CODOMYRMEX_ACTION $action" ;;
esac

# Smallest integers in the same proportions; when they exceed HAProxy's 256,
# scaled into 1..256 (rounded), keeping 0 at 0.
gcd() { local a=$1 b=$2; while ((b)); do set -- "$b" $((a % b)); a=$1 b=$2; done; echo "$a"; }
g=0 top=0
for w in "${weights[@]}"; do g="$(gcd "$g" "$w")"; done
for i in "${!weights[@]}"; do
  weights[i]=$((weights[i] / g))
  ((weights[i] > top)) && top=${weights[i]}
done
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
