#!/bin/sh
# On removal (not on upgrade: deb passes "upgrade", rpm a count above 0),
# stop and disable every instance.
set -e
case "$1" in
  remove | purge | 0) ;;
  *) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
  for unit in $(systemctl list-units --all --plain --no-legend 'codomyrmex-agent@*.service' | awk '{print $1}'); do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
fi
