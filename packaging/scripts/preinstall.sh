#!/bin/sh
# The agent's system user and group, codomyrmex, created once and kept on
# removal (files it owned may remain).
set -e
if ! getent group codomyrmex >/dev/null; then
  groupadd --system codomyrmex
fi
if ! getent passwd codomyrmex >/dev/null; then
  useradd --system --gid codomyrmex --home-dir /var/lib/codomyrmex --no-create-home \
    --shell /usr/sbin/nologin --comment "codomyrmex agent" codomyrmex
fi
