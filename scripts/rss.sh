#!/bin/sh
# Steady RSS of builds of ingestprobe side by side, as the benchmark's footprint phase measures it
# (docs/performance.md §2): bench/cmd/iprss runs each build for 70 s against 50 loopback targets with
# all four sinks, three rounds, and prints the medians (anonymous, file-backed, total) and how much
# of the binary's text, read-only data and data is resident. Needs dnsmasq (bench/deps.sh).
#
#   scripts/rss.sh HEAD~3 HEAD                # two commits
#   scripts/rss.sh HEAD 'HEAD -gcflags=all=-l'  # a commit with extra build flags
#   ROUNDS=5 PARALLEL=0 DUR=70s scripts/rss.sh main HEAD
#
# Each argument is a git revision, optionally followed by go build flags (one quoted argument). The
# builds are static and stripped like `make build`, with the revision's BUILD_TAGS from its Makefile
# (same -X values for all, so only the code differs). PARALLEL=1 (the default) runs the builds of a round at the same time: RSS is per
# process and each agent uses a few per cent of a core; set PARALLEL=0 to run them one by one.
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { sed -n '2,14p' "$0"; exit 2; }
ROUNDS=${ROUNDS:-3}
PARALLEL=${PARALLEL:-1}
DUR=${DUR:-70s}
root=$(pwd)
out=bin/rss
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
go build -o bin/iprss ./bench/cmd/iprss
variants=""
i=0
for spec in "$@"; do
	i=$((i + 1))
	rev=${spec%% *}
	flags=""
	[ "$rev" != "$spec" ] && flags=${spec#* }
	src="$scratch/src$i"
	mkdir -p "$src"
	git archive "$rev" | tar -x -C "$src"
	# The build tags of that revision's Makefile (BUILD_TAGS), as make build uses them.
	tags=$(sed -n 's/^BUILD_TAGS ?= *//p' "$src/Makefile")
	name=$(printf '%s' "$i-$spec" | tr -c 'A-Za-z0-9_.~-' '_')
	# shellcheck disable=SC2086 # flags are words
	(cd "$src" && CGO_ENABLED=0 go build -tags "$tags" -trimpath -ldflags '-s -w -X main.version=rss -X main.commit=rss' $flags \
		-o "$root/$out/$name" ./cmd/ingestprobe)
	echo "rss: $name: $(wc -c <"$out/$name") bytes" >&2
	variants="$variants $name=$out/$name"
done
par=""
[ "$PARALLEL" = 1 ] && par=-parallel
# shellcheck disable=SC2086
./bin/iprss -rounds "$ROUNDS" -dur "$DUR" $par $variants
