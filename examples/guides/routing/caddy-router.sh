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
# router-common.sh, which must sit beside it, reads the targets file, asks
# each agent what it runs and computes the weights (haproxy-router.sh and
# nginx-router.sh source it too).
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

admin="${CADDY_ADMIN:-http://127.0.0.1:2019}"
server_noun=upstream
# shellcheck source=examples/guides/routing/router-common.sh
source "$(dirname "$0")/router-common.sh"
id="${CADDY_HANDLER_ID:-$deployment}"

curl_opts=(--silent --show-error --max-time 5)
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

# What each upstream is and what its agent runs, then the weights.
read_servers "${dials[@]}"
compute_weights

list="$(IFS=,; echo "${weights[*]}")"
if_match=()
[[ -z "$etag" ]] || if_match=(-H "If-Match: $etag")
code="$(curl "${curl_opts[@]}" -o "$tmp/answer" -w '%{http_code}' -X PATCH \
  -H 'Content-Type: application/json' "${if_match[@]}" \
  --data "{\"policy\":\"weighted_round_robin\",\"weights\":[$list]}" \
  "$admin/id/$id/load_balancing/selection_policy")" || fail "Caddy's admin API at $admin does not answer"
[[ "$code" == 200 ]] || fail "setting the weights of $id to [$list] answered $code: $(head -c 300 "$tmp/answer")"
echo "$deployment: $summary; weights [$list] for ${dials[*]}"
