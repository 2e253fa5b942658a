#!/bin/sh
# deb: prerm remove|upgrade|deconfigure; rpm: %preun 0 (erase) | 1 (upgrade).
# Stop and disable only when the package goes away, not on upgrade (postinstall restarts then).
set -e
case "$1" in
  remove|deconfigure|0)
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      systemctl disable --now ingestprobe.service || true
    else
      rm -f /etc/systemd/system/multi-user.target.wants/ingestprobe.service
    fi
    ;;
esac
exit 0
