#!/bin/sh
# Runs before the files are unpacked (deb: preinst install|upgrade; rpm: %pre 1|2): the service
# user must exist first, because the config is unpacked owned by its group.
set -e
if ! getent passwd ingestprobe >/dev/null 2>&1; then
  shell=/usr/sbin/nologin
  [ -x "$shell" ] || shell=/sbin/nologin
  [ -x "$shell" ] || shell=/bin/false
  useradd --system --user-group --no-create-home --home-dir /var/lib/ingestprobe \
    --shell "$shell" --comment "ingestprobe agent" ingestprobe
fi
exit 0
