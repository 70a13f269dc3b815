#!/usr/bin/env bash
# caddy-router.sh: the --exec command of `codomyrmex-agent router` for Caddy.
# Needs bash, curl, awk, grep and sed; talks to Caddy's admin API only.
#
# For each call it reads the version every upstream of the deployment runs
# (GET {agent}/v1/health) and sets the weights of Caddy's weighted_round_robin
# policy, in the order of the handler's upstreams, in one admin API request:
#   weights: the upstreams running CODOMYRMEX_VERSION get CODOMYRMEX_PERCENTAGE %
#            of the requests together (to 0.01 %), the others the rest;
#   switch:  the upstreams of slot CODOMYRMEX_SLOT running CODOMYRMEX_VERSION
#            get every request, the others none (weight 0).
# Weights are integers, reduced by their greatest common divisor.
#
# Configuration, from the environment:
#   CADDY_ADMIN       Caddy's admin API (default http://127.0.0.1:2019)
#   CADDY_HANDLER_ID  the "@id" of the deployment's reverse_proxy handler
#                     (default: the deployment's name)
#   ROUTER_TARGETS    the targets file (default: targets.conf beside this script),
#                     one upstream per line, in any order:
#                       # deployment  upstream (Caddy dial)  slot  agent (protocol address)
#                       web           10.0.0.1:8080          blue  https://10.0.0.1:9090
#                     slot is blue, green or - (canary only)
#   AGENT_TOKEN_FILE  the agents' bearer token, when they have one
#
# The handler must already use weighted_round_robin:
#   {"@id": "web", "handler": "reverse_proxy", "upstreams": [...],
#    "load_balancing": {"selection_policy": {"policy": "weighted_round_robin", "weights": [...]}}}
# Every upstream of the handler must be in ROUTER_TARGETS, and every agent must
# answer: otherwise nothing changes and the call fails.
set -euo pipefail

fail() { echo "caddy-router: $*" >&2; exit 1; }

admin="${CADDY_ADMIN:-http://127.0.0.1:2019}"
deployment="${CODOMYRMEX_DEPLOYMENT:?CODOMYRMEX_DEPLOYMENT is not set: run this script from codomyrmex-agent router --exec}"
version="${CODOMYRMEX_VERSION:?CODOMYRMEX_VERSION is not set}"
action="${CODOMYRMEX_ACTION:?CODOMYRMEX_ACTION is not set}"
id="${CADDY_HANDLER_ID:-$deployment}"
targets="${ROUTER_TARGETS:-$(dirname "$0")/targets.conf}"
[[ -r "$targets" ]] || fail "cannot read the targets file $targets (ROUTER_TARGETS)"

curl_opts=(--silent --show-error --max-time 5)
agent_auth=()
if [[ -n "${AGENT_TOKEN_FILE:-}" ]]; then
  # A curl config on stdin keeps the token out of the process list.
  agent_auth=(--config -)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The handler's upstreams, in order, with the Etag of that list: the change
# below applies only if nobody changed the upstreams in between.
code="$(curl "${curl_opts[@]}" -D "$tmp/headers" -o "$tmp/upstreams" -w '%{http_code}' "$admin/id/$id/upstreams")" ||
  fail "Caddy's admin API at $admin does not answer"
[[ "$code" == 200 ]] || fail "GET $admin/id/$id/upstreams answered $code: $(head -c 300 "$tmp/upstreams")"
etag="$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$tmp/headers" | tr -d '\r')"
mapfile -t dials < <(grep -o '"dial":"[^"]*"' "$tmp/upstreams" | sed 's/^"dial":"\(.*\)"$/\1/')
((${#dials[@]} > 0)) || fail "handler $id has no upstream"

# What each upstream is, then what its agent runs.
slots=() agents=() versions=()
for dial in "${dials[@]}"; do
  line="$(awk -v d="$deployment" -v u="$dial" '$1 !~ /^#/ && $1 == d && $2 == u { print $3, $4; exit }' "$targets")"
  [[ -n "$line" ]] || fail "upstream $dial of handler $id is not a target of deployment $deployment in $targets"
  read -r slot agent <<<"$line"
  slots+=("$slot")
  agents+=("$agent")
done
for i in "${!dials[@]}"; do
  agent="${agents[$i]}"
  health="$(
    if ((${#agent_auth[@]})); then
      printf 'header = "Authorization: Bearer %s"\n' "$(tr -d '\r\n' <"$AGENT_TOKEN_FILE")"
    fi | curl "${curl_opts[@]}" --fail "${agent_auth[@]}" "${agent%/}/v1/health"
  )" || fail "the agent of ${dials[$i]} ($agent) does not answer its health check"
  versions+=("$(sed -n 's/.*"version" *: *"\([^"]*\)".*/\1/p' <<<"$health")")
done

n=${#dials[@]}
weights=()
case "$action" in
  weights)
    pct="${CODOMYRMEX_PERCENTAGE:?CODOMYRMEX_PERCENTAGE is not set}"
    [[ "$pct" =~ ^([0-9]+)(\.([0-9]*))?$ ]] || fail "percentage $pct is not a number"
    frac="${BASH_REMATCH[3]}00"
    bp=$((10#${BASH_REMATCH[1]} * 100 + 10#${frac:0:2})) # in hundredths of a percent
    ((bp <= 10000)) || fail "percentage $pct is over 100"
    with=0
    for v in "${versions[@]}"; do [[ "$v" == "$version" ]] && with=$((with + 1)); done
    without=$((n - with))
    if ((with == 0 && bp > 0)); then
      fail "no upstream of $deployment runs $version: cannot send it $pct %"
    fi
    for v in "${versions[@]}"; do
      if ((with == 0)); then
        weights+=(1) # 0 % to a version nobody runs: everything to the rest
      elif ((without == 0)); then
        # Every upstream runs the version: there is nothing else to send
        # traffic to, even at 0 % (a rollback that restores them next).
        weights+=(1)
      elif [[ "$v" == "$version" ]]; then
        weights+=($((bp * without)))
      else
        weights+=($(((10000 - bp) * with)))
      fi
    done
    summary="$pct % to $version on $with of $n upstreams"
    ;;
  switch)
    slot="${CODOMYRMEX_SLOT:?CODOMYRMEX_SLOT is not set}"
    live=0
    for i in "${!dials[@]}"; do
      if [[ "${slots[$i]}" == "$slot" && "${versions[$i]}" == "$version" ]]; then
        weights+=(1)
        live=$((live + 1))
      else
        weights+=(0)
      fi
    done
    ((live > 0)) || fail "no upstream of slot $slot runs $version: traffic not switched"
    summary="every request to slot $slot ($version) on $live of $n upstreams"
    ;;
  *) fail "unknown CODOMYRMEX_ACTION $action" ;;
esac

# Smallest integers in the same proportions.
gcd() { local a=$1 b=$2; while ((b)); do set -- "$b" $((a % b)); a=$1 b=$2; done; echo "$a"; }
g=0
for w in "${weights[@]}"; do g="$(gcd "$g" "$w")"; done
for i in "${!weights[@]}"; do weights[i]=$((weights[i] / g)); done

list="$(IFS=,; echo "${weights[*]}")"
if_match=()
[[ -z "$etag" ]] || if_match=(-H "If-Match: $etag")
code="$(curl "${curl_opts[@]}" -o "$tmp/answer" -w '%{http_code}' -X PATCH \
  -H 'Content-Type: application/json' "${if_match[@]}" \
  --data "{\"policy\":\"weighted_round_robin\",\"weights\":[$list]}" \
  "$admin/id/$id/load_balancing/selection_policy")" || fail "Caddy's admin API at $admin does not answer"
[[ "$code" == 200 ]] || fail "setting the weights of $id to [$list] answered $code: $(head -c 300 "$tmp/answer")"
echo "$deployment: $summary; weights [$list] for ${dials[*]}"
