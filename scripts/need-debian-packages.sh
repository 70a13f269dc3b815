#!/usr/bin/env bash
# Makes sure the commands a script needs are on PATH:
#   need-debian-packages.sh COMMAND:PACKAGE ...
# each COMMAND missing is installed from its Debian PACKAGE with apt-get when
# this runs as root (as on CI, and on a fresh machine), else named with the
# apt-get line to run, exiting 2.
set -euo pipefail
missing=()
for pair in "$@"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
((${#missing[@]} == 0)) && exit 0
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "need-debian-packages: missing; run: apt-get install ${missing[*]}" >&2
  exit 2
fi
echo "need-debian-packages: installing ${missing[*]} (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
  { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
for pair in "$@"; do
  command -v "${pair%%:*}" >/dev/null || { echo "need-debian-packages: ${pair%%:*} still missing after apt-get install ${pair#*:}" >&2; exit 2; }
done
