#!/bin/sh
# deb: postinst configure [old-version]; rpm: %post 1 (install) | 2 (upgrade).
set -e
first=false
case "$1" in
  configure) [ -z "$2" ] && first=true ;;
  1) first=true ;;
esac

# The state directory (record sequence, spool). systemd's StateDirectory= creates it too; this
# serves a start without systemd and keeps the owner right after a manual cleanup.
install -d -o ingestprobe -g ingestprobe -m 0750 /var/lib/ingestprobe

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
  if $first; then
    # Safe to start at once: with the shipped config (no target yet) the agent runs idle and
    # logs that it waits; it does not fail or restart in a loop.
    systemctl enable --now ingestprobe.service || true
  else
    systemctl try-restart ingestprobe.service || true
  fi
elif $first; then
  # No running systemd (a container or a chroot): enable for the next boot, as
  # `systemctl enable` would, so a later boot with systemd starts the agent.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl enable ingestprobe.service >/dev/null 2>&1 || true
  else
    mkdir -p /etc/systemd/system/multi-user.target.wants
    ln -sf /usr/lib/systemd/system/ingestprobe.service /etc/systemd/system/multi-user.target.wants/ingestprobe.service
  fi
fi

if $first; then
  cat <<'MSG'
ingestprobe is installed and enabled. It has no target yet and waits:
  1. edit /etc/ingestprobe/config.toml and add a [[targets]] table (name, url)
  2. check it:  ingestprobe config validate /etc/ingestprobe/config.toml
  3. apply it:  systemctl reload ingestprobe
Logs: journalctl -u ingestprobe -f    Metrics: http://127.0.0.1:9935/metrics
MSG
fi
exit 0
