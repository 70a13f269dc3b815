# shellcheck shell=bash
# router-common.sh: what haproxy-router.sh and nginx-router.sh share, sourced
# by both (keep it beside them). NOT TESTED by this repository's tests, like
# them. Needs bash, curl, awk and sed.
#
# Sourcing it reads the call from the environment codomyrmex-agent router
# sets (CODOMYRMEX_DEPLOYMENT, CODOMYRMEX_VERSION, CODOMYRMEX_ACTION) and
# ROUTER_TARGETS (default: targets.conf beside the script):
#   # deployment  server  slot  agent (protocol address)
# then defines:
#   fail MESSAGE     prints "<script name>: MESSAGE" and exits 1
#   read_servers     servers, slots and versions of the deployment's servers,
#                    each version read from its agent (GET {agent}/v1/health,
#                    with AGENT_TOKEN_FILE's bearer token when set)
#   compute_weights  weights, one per server, as caddy-router.sh computes
#                    them: the servers running CODOMYRMEX_VERSION get
#                    CODOMYRMEX_PERCENTAGE % of the requests together
#                    (weights), or only the servers of slot CODOMYRMEX_SLOT
#                    running it get any (switch); reduced to the smallest
#                    integers in the same proportions

fail() { echo "$(basename "$0" .sh): $*" >&2; exit 1; }

deployment="${CODOMYRMEX_DEPLOYMENT:?CODOMYRMEX_DEPLOYMENT is not set: run this script from codomyrmex-agent router --exec}"
version="${CODOMYRMEX_VERSION:?CODOMYRMEX_VERSION is not set}"
action="${CODOMYRMEX_ACTION:?CODOMYRMEX_ACTION is not set}"
targets="${ROUTER_TARGETS:-$(dirname "$0")/targets.conf}"
[[ -r "$targets" ]] || fail "cannot read the targets file $targets (ROUTER_TARGETS)"

read_servers() {
  local lines line server slot agent health
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
}

compute_weights() {
  local n=${#servers[@]} pct frac bp with without v slot live i g w
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
  g=0
  for w in "${weights[@]}"; do g="$(gcd "$g" "$w")"; done
  for i in "${!weights[@]}"; do weights[i]=$((weights[i] / g)); done
}

gcd() { local a=$1 b=$2; while ((b)); do set -- "$b" $((a % b)); a=$1 b=$2; done; echo "$a"; }
