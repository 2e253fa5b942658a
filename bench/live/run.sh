#!/bin/bash
# The live watch's cost (docs/performance.md, "The live watch"): two agents side by side on one
# loopback target — live = false and live = true (live_every 5s) — while N connections from
# bench/cmd/liveload publish to it at 20 kbit/s each; CPU (utime+stime, 10 ms ticks) and the mean
# RSS of each agent over 60 s after a 10 s warm-up. Usage: bench/live/run.sh BIN N [DIR]
set -euo pipefail
BIN=$(realpath "$1"); N=$2; DIR=${3:-$(mktemp -d)}
cd "$(dirname "$0")/../.." && go build -o "$DIR/liveload" ./bench/cmd/liveload
for live in false true; do
  mkdir -p "$DIR/$live/state"
  cat > "$DIR/$live/config.toml" <<CFG
[agent]
id = "bench-$live"
state_dir = "$DIR/$live/state"
[[targets]]
name = "main"
url = "rtmp://127.0.0.1:19351/live/k"
interval = "60s"
rtmp = "off"
icmp = false
alt_ports = []
live = $live
[[sinks]]
type = "jsonl"
path = "$DIR/$live/records.jsonl"
CFG
done
"$DIR/liveload" -n "$N" -for 90s > "$DIR/load.out" & LP=$!
sleep 2
"$BIN" run --config "$DIR/false/config.toml" --log-level warn > "$DIR/false/log" 2>&1 & A=$!
"$BIN" run --config "$DIR/true/config.toml" --log-level warn > "$DIR/true/log" 2>&1 & B=$!
trap 'kill $A $B $LP 2>/dev/null || true' EXIT
sleep 10
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
rss() { awk '/VmRSS/{print $2}' /proc/$1/status; }
a0=$(cpu $A); b0=$(cpu $B); ra=0; rb=0
for i in $(seq 1 60); do sleep 1; ra=$((ra+$(rss $A))); rb=$((rb+$(rss $B))); done
a1=$(cpu $A); b1=$(cpu $B)
echo "N=$N  without live: CPU $(( (a1-a0)*10 )) ms, RSS $((ra/60)) kB;  with live: CPU $(( (b1-b0)*10 )) ms, RSS $((rb/60)) kB  (60 s)"
grep -c '"probe":"live"' "$DIR/true/records.jsonl" | sed 's/^/live records: /'
