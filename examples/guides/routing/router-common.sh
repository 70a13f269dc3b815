# shellcheck shell=bash
# router-common.sh: what caddy-router.sh, haproxy-router.sh and nginx-router.sh
# share, sourced by each (keep it beside them). Needs bash, curl, awk and sed.
#
# Sourcing it reads the call from the environment codomyrmex-agent router
# sets (CODOMYRMEX_DEPLOYMENT, CODOMYRMEX_VERSION, CODOMYRMEX_ACTION) and
# ROUTER_TARGETS (default: targets.conf beside the script):
#   # deployment  server  slot  agent (protocol address)
# then defines:
#   fail MESSAGE     prints "<script name>: MESSAGE" and exits 1
#   read_servers [SERVER...]
#                    servers, slots, agents and versions: the deployment's
#                    servers in the order of the targets file, or the SERVERs
#                    given, in their order (each must be in the file); each
#                    version read from its agent (GET {agent}/v1/health, with
#                    AGENT_TOKEN_FILE's bearer token when set)
#   compute_weights  weights, one per server: the servers running
#                    CODOMYRMEX_VERSION get CODOMYRMEX_PERCENTAGE % of the
#                    requests together, to 0.01 % (weights), or only the
#                    servers of slot CODOMYRMEX_SLOT running it get any
#                    (switch); reduced to the smallest integers in the same
#                    proportions; and summary, a line that says so
# Messages call a server what server_noun says (default: server), set before
# sourcing.

fail() { echo "$(basename "$0" .sh): $*" >&2; exit 1; }

server_noun="${server_noun:-server}"
deployment="${CODOMYRMEX_DEPLOYMENT:?CODOMYRMEX_DEPLOYMENT is not set: run this script from codomyrmex-agent router --exec}"
version="${CODOMYRMEX_VERSION:?CODOMYRMEX_VERSION is not set}"
action="${CODOMYRMEX_ACTION:?CODOMYRMEX_ACTION is not set}"
targets="${ROUTER_TARGETS:-$(dirname "$0")/targets.conf}"
[[ -r "$targets" ]] || fail "cannot read the targets file $targets (ROUTER_TARGETS)"

read_servers() {
  local lines=() line server slot agent health i
  if (($#)); then
    for server; do
      line="$(awk -v d="$deployment" -v s="$server" '$1 !~ /^#/ && $1 == d && $2 == s { print $2, $3, $4; exit }' "$targets")"
      [[ -n "$line" ]] || fail "$server_noun $server is not a target of deployment $deployment in $targets"
      lines+=("$line")
    done
  else
    mapfile -t lines < <(awk -v d="$deployment" '$1 !~ /^#/ && $1 == d { print $2, $3, $4 }' "$targets")
    ((${#lines[@]} > 0)) || fail "no $server_noun of deployment $deployment in $targets"
  fi
  servers=() slots=() agents=() versions=()
  for line in "${lines[@]}"; do
    read -r server slot agent <<<"$line"
    servers+=("$server")
    slots+=("$slot")
    agents+=("$agent")
  done
  for i in "${!servers[@]}"; do
    agent="${agents[$i]}"
    health="$(
      if [[ -n "${AGENT_TOKEN_FILE:-}" ]]; then
        # A curl config on stdin keeps the token out of the process list.
        printf 'header = "Authorization: Bearer %s"\n' "$(tr -d '\r\n' <"$AGENT_TOKEN_FILE")" |
          curl --silent --show-error --max-time 5 --fail --config - "${agent%/}/v1/health"
      else
        curl --silent --show-error --max-time 5 --fail "${agent%/}/v1/health"
      fi
    )" || fail "the agent of ${servers[$i]} ($agent) does not answer its health check"
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
      bp=$((10#${BASH_REMATCH[1]} * 100 + 10#${frac:0:2})) # in hundredths of a percent
      ((bp <= 10000)) || fail "percentage $pct is over 100"
      with=0
      for v in "${versions[@]}"; do [[ "$v" == "$version" ]] && with=$((with + 1)); done
      without=$((n - with))
      ((with > 0 || bp == 0)) || fail "no $server_noun of $deployment runs $version: cannot send it $pct %"
      for v in "${versions[@]}"; do
        if ((with == 0)); then
          weights+=(1) # 0 % to a version nobody runs: everything to the rest
        elif ((without == 0)); then
          # Every server runs the version: there is nothing else to send
          # traffic to, even at 0 % (a rollback that restores them next).
          weights+=(1)
        elif [[ "$v" == "$version" ]]; then
          weights+=($((bp * without)))
        else
          weights+=($(((10000 - bp) * with)))
        fi
      done
      summary="$pct % to $version on $with of $n ${server_noun}s"
      ;;
    switch)
      slot="${CODOMYRMEX_SLOT:?CODOMYRMEX_SLOT is not set}"
      live=0
      for i in "${!servers[@]}"; do
        if [[ "${slots[$i]}" == "$slot" && "${versions[$i]}" == "$version" ]]; then
          weights+=(1)
          live=$((live + 1))
        else
          weights+=(0)
        fi
      done
      ((live > 0)) || fail "no $server_noun of slot $slot runs $version: traffic not switched"
      summary="every request to slot $slot ($version) on $live of $n ${server_noun}s"
      ;;
    *) fail "unknown CODOMYRMEX_ACTION $action" ;;
  esac
  g=0
  for w in "${weights[@]}"; do g="$(gcd "$g" "$w")"; done
  for i in "${!weights[@]}"; do weights[i]=$((weights[i] / g)); done
}

gcd() { local a=$1 b=$2; while ((b)); do set -- "$b" $((a % b)); a=$1 b=$2; done; echo "$a"; }
