#!/bin/sh
# The token file: owned by the agent's user, mode 0600 (the agent refuses a
# token file its group or others can read), empty until you write a token;
# an existing one is left as it is. Then systemd learns of the unit; no
# instance is enabled or started here.
set -e
chgrp codomyrmex /etc/codomyrmex
chmod 0750 /etc/codomyrmex
if [ ! -e /etc/codomyrmex/token ]; then
  install -m 0600 -o codomyrmex -g codomyrmex /dev/null /etc/codomyrmex/token
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  # An upgrade restarts the instances that run.
  systemctl try-restart 'codomyrmex-agent@*.service' >/dev/null 2>&1 || true
fi
