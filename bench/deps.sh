#!/bin/sh
# Installs what `make bench` needs, as .ci/run does for the tests: only as root, only what is
# missing, from Debian's packages. Without root it says what is missing and carries on: the
# phases that need it are reported as not measured.
set -eu
PATH="$PATH:/usr/sbin:/sbin"
need=""
have() { command -v "$1" >/dev/null 2>&1; }
have prometheus-blackbox-exporter || need="$need prometheus-blackbox-exporter"
have dnsmasq || need="$need dnsmasq-base"
have nft || need="$need nftables"
have ip || need="$need iproute2"
have nginx || need="$need nginx-light"
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need="$need libnginx-mod-rtmp"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "bench: missing:$need (as root: apt-get install$need); the phases needing them will not be measured" >&2
  exit 0
fi
echo "bench: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need >/dev/null
# The packages start their services where an init system runs; the benchmark starts its own
# instances on loopback and wants the machine otherwise quiet.
if have systemctl; then
  for s in prometheus-blackbox-exporter nginx; do
    case "$need" in *"$s"*|*nginx-light*) systemctl stop "$s" 2>/dev/null || true ;; esac
  done
fi
