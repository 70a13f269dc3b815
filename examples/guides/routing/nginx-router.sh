#!/usr/bin/env bash
# nginx-router.sh: the --exec command of `codomyrmex-agent router` for nginx:
# renders the deployment's upstream block with weights, checks the
# configuration and reloads nginx.
# NOT TESTED by this repository's tests (caddy-router.sh is; this one was
# tried by hand once, on Debian 12): read it, try it
# on a staging nginx, then use it. Needs bash, curl, awk, sed and nginx.
#
# router-common.sh, which must sit beside it, reads the targets and the
# version each server runs, and computes the weights with the same rules as
# caddy-router.sh: the servers running CODOMYRMEX_VERSION get
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

# shellcheck source=examples/guides/routing/router-common.sh
source "$(dirname "$0")/router-common.sh"
file="${NGINX_UPSTREAM_FILE:-/etc/nginx/conf.d/upstream-$deployment.conf}"

read_servers
compute_weights

# Render next to the file, check, then swap it in; put the old one back if
# nginx refuses the new one.
{
  echo "# Written by nginx-router.sh for codomyrmex-agent router: $action of $deployment to $version"
  echo "upstream $deployment {"
  for i in "${!servers[@]}"; do
    w=${weights[$i]}
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
echo "$deployment: ${#servers[@]} servers written to $file, nginx reloaded"
