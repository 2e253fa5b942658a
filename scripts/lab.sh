#!/usr/bin/env bash
# Stand the integration lab up by hand and run `ingestprobe check` inside it. See docs/lab.md.
#
#   scripts/lab.sh up                       build a lab and leave it running
#   scripts/lab.sh check URL [FLAGS…]       build ingestprobe and run `check URL` from the venue
#   scripts/lab.sh firewall [RULE…]         e.g. drop:1935, reset:all, prohibit:1935, drop:dns, drop:udp/9000; none = open
#   scripts/lab.sh shell                    a shell in the venue namespace
#   scripts/lab.sh status                   list the labs on this host
#   scripts/lab.sh down                     remove the lab (and any leftovers)
#
# Needs root, iproute2, nftables, dnsmasq(-base) and nginx(-light); libnginx-mod-rtmp makes port
# 1935 a real RTMP server.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "lab.sh: needs root (network namespaces): run it with sudo" >&2
  exit 2
fi
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

labctl() { go run ./internal/lab/labctl "$@"; }

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  up|down|status|firewall)
    labctl "$cmd" "$@"
    ;;
  check)
    if [ $# -eq 0 ]; then
      echo "usage: scripts/lab.sh check URL [check flags…]   e.g. rtmp://open.lab.test/live/stream" >&2
      exit 2
    fi
    venue="$(labctl venue)"
    go build -o bin/ingestprobe ./cmd/ingestprobe
    # --config /dev/null: the host's /etc/ingestprobe/config.toml (resolvers!) must not change
    # what the lab measures. A later --config wins.
    exec ip netns exec "$venue" bin/ingestprobe check --config /dev/null "$@"
    ;;
  shell)
    venue="$(labctl venue)"
    echo "lab.sh: entering $venue (exit to leave)" >&2
    exec ip netns exec "$venue" "${SHELL:-/bin/bash}"
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
