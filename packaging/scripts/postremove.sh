#!/bin/sh
# deb: postrm remove|purge|upgrade|…; rpm: %postun 0 (erase) | 1 (upgrade).
# The config is a conffile: dpkg removes it only on purge. The state directory (spool of records
# not yet delivered) goes on purge too; rpm has no purge, so it stays, as the docs say.
set -e
if [ "$1" = purge ]; then
  rm -rf /var/lib/ingestprobe /var/log/ingestprobe
  rmdir /etc/ingestprobe 2>/dev/null || true
fi
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
fi
exit 0
