#!/usr/bin/env bash
# nginx-router.sh: the --exec command of `codomyrmex-agent router` for nginx:
# renders the deployment's upstream block with weights, checks the
# configuration and reloads nginx.
# NOT TESTED by this repository's tests (caddy-router.sh is; this one was
# tried by hand once, on Debian 12): read it, try it
# on a staging nginx, then use it. Needs bash, curl, awk, sed and nginx.
#
# Same rules as caddy-router.sh: the servers running CODOMYRMEX_VERSION get
# CODOMYRMEX_PERCENTAGE % of the requests together (weights), or only the
# servers of slot CODOMYRMEX_SLOT running it get any (switch).
#
# Configuration, from the environment:
#   NGINX_UPSTREAM_FILE  the file this script owns, included by nginx.conf's
#                        http block (default /etc/nginx/conf.d/upstream-<deployment>.conf);
#                        it holds `upstream <deployment> { ... }`: proxy_pass http://<deployment>;
#   ROUTER_TARGETS       the targets file (default: targets.conf beside this script):
#                          # deployment  server (host:port)  slot  agent (protocol address)
#                          web           10.0.0.1:8080       blue  https://10.0.0.1:9090
#   AGENT_TOKEN_FILE     the agents' bearer token, when they have one
#
# nginx has no weight 0: such a server is marked `down`. The router runs as
# a user allowed to write the file and to run `nginx -s reload`.
set -euo pipefail

fail() { echo "nginx-router: $*" >&2; exit 1; }

deployment="${CODOMYRMEX_DEPLOYMENT:?CODOMYRMEX_DEPLOYMENT is not set: run this script from codomyrmex-agent router --exec}"
version="${CODOMYRMEX_VERSION:?CODOMYRMEX_VERSION is not set}"
action="${CODOMYRMEX_ACTION:?CODOMYRMEX_ACTION is not set}"
file="${NGINX_UPSTREAM_FILE:-/etc/nginx/conf.d/upstream-$deployment.conf}"
targets="${ROUTER_TARGETS:-$(dirname "$0")/targets.conf}"
[[ -r "$targets" ]] || fail "cannot read the targets file $targets (ROUTER_TARGETS)"

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

gcd() { local a=$1 b=$2; while ((b)); do set -- "$b" $((a % b)); a=$1 b=$2; done; echo "$a"; }
g=0
for w in "${weights[@]}"; do g="$(gcd "$g" "$w")"; done

# Render next to the file, check, then swap it in; put the old one back if
# nginx refuses the new one.
{
  echo "# Written by nginx-router.sh for codomyrmex-agent router: $action of $deployment to $version"
  echo "upstream $deployment {"
  for i in "${!servers[@]}"; do
    w=$((weights[i] / g))
    if ((w == 0)); then echo "    server ${servers[$i]} down;"; else echo "    server ${servers[$i]} weight=$w;"; fi
  done
  echo "}"
} >"$file.new"
[[ ! -e "$file" ]] || cp -p "$file" "$file.old"
mv "$file.new" "$file"
if ! out="$(nginx -t 2>&1)"; then
  if [[ -e "$file.old" ]]; then mv "$file.old" "$file"; else rm -f "$file"; fi
  fail "nginx -t refused the new upstream block: $out"
fi
nginx -s reload
rm -f "$file.old"
echo "$deployment: $n servers written to $file, nginx reloaded"
