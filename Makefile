# ingestprobe — build, test and run. `make help` lists the targets.
GO       ?= go
BIN      := bin/ingestprobe
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# The URL `make run` checks: an embedded default that needs no network (loopback), so a newcomer
# sees a real checklist at once. Override: make run URL='rtmp://push.example.com/live/stream?txSecret=…&txTime=…'
# (quote it for your shell; make passes it on as it is).
URL      ?= rtmp://127.0.0.1:1935/live/demo

.PHONY: help build run test test-unit test-wine lint vet-cross fuzz bench bench-deps clean cross dist package

help:
	@echo "make build   build $(BIN)"
	@echo "make run     build, then check URL=$(URL)"
	@echo "make test    unit and integration tests (integration needs root; it skips otherwise)"
	@echo "make test-wine  the Windows build's tests under Wine, and in the lab (skips without wine64; scripts/wine-test.sh)"
	@echo "make lint    gofmt and go vet (here, then as Windows and macOS build it: vet-cross)"
	@echo "make vet-cross  go vet ./... with GOOS=windows and GOOS=darwin, tests included"
	@echo "make fuzz    run each fuzz test for a short while"
	@echo "make bench   Go micro-benchmarks, then the suite of docs/performance.md (ours beside blackbox_exporter)"
	@echo "make cross   build for windows/amd64, darwin/arm64 and linux/arm64 (a compile check)"
	@echo "make package .deb and .rpm for linux amd64 and arm64 into $(DIST)/"
	@echo "make dist    archives for linux, macOS and Windows (amd64, arm64), packages, MSIs (wixl), SHA256SUMS"

# A static binary (no cgo): no dynamic loader at start and no libc mapped in, which docs/performance.md
# measured at about 4 ms less time to verdict and 1.5-2 MB less RSS. Go's own resolver is used for
# the OS lookups, which on Linux reads the same /etc/resolv.conf and /etc/nsswitch.conf.
# (Only here: `go test -race` needs cgo.) The release artefacts below are static too.
BUILD_CGO ?= 0
# nethttpomithttp2 leaves net/http's bundled HTTP/2 out of the binary (golang/go#35082, a build tag
# made for binaries whose RSS counts): 0.53 MB of 9.1, and the binary's pages are most of the agent's
# RSS (docs/performance.md). The agent needs no HTTP/2: the push sinks' collectors and remote-write
# receivers all speak HTTP/1.1, and scrapers of /metrics use HTTP/1.1. Tests run without it.
BUILD_TAGS ?= nethttpomithttp2

build:
	CGO_ENABLED=$(BUILD_CGO) $(GO) build -tags '$(BUILD_TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ingestprobe

# The URL reaches the check through the environment, not through the shell's command line: a
# signed URL's '&' (txSecret=…&txTime=…), a space or a quote stays part of it.
run: export URL := $(URL)
run: build
	@./$(BIN) check "$$URL"; echo "(exit code $$?: 0 = go/warn, 1 = no-go, 2 = usage or config error)"

test: lint
	$(GO) test -race -count=1 -timeout 15m ./...

# The Windows build under Wine (wine64, gcc-mingw-w64-x86-64): the neterr, icmp and tcp test
# binaries, then TestIntegrationWindows in the lab (root). A separate target because Wine's start
# is slow: about a minute in all, 10 s of it making the prefix the first time (bin/wine/prefix).
test-wine:
	GO=$(GO) scripts/wine-test.sh

test-unit:
	$(GO) test -short -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(MAKE) --no-print-directory vet-cross

# go vet type-checks every package and its tests as Windows and macOS would build them: a
# Linux-only API (unix.TCP_INFO, SysProcAttr.Pdeathsig, /proc helpers …) in a file without a
# `//go:build linux` constraint fails here rather than in a release build. No binary is linked,
# so it takes seconds with a warm build cache; `make cross` still links the real binaries.
vet-cross:
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The suite (bench/cmd/ipbench) prints one table and writes bin/bench.json; BENCH_FLAGS passes
# flags to it, e.g. BENCH_FLAGS='-phases timing,scale' or '-smoke'. It waits (at most 2 min) for
# the machine's load to settle, and ends within 10 min.
BENCH_FLAGS ?=
bench: build bench-deps
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...
	$(GO) build -o bin/ipbench ./bench/cmd/ipbench
	./bin/ipbench -bin $(BIN) -go $(GO) -json bin/bench.json -load-wait 2m $(BENCH_FLAGS)

bench-deps:
	@sh bench/deps.sh

clean:
	rm -rf bin dist

# --- release artefacts --------------------------------------------------------------------------
DIST      ?= dist
# Package versions must start with a digit and rpm forbids "-": v1.2.3 → 1.2.3, v1.2.3-4-gabc →
# 1.2.3.4.gabc, an untagged 2b4a4ed-dirty → 0.0.0~git2b4a4ed.dirty (before any real release).
PKG_VERSION ?= $(shell echo '$(VERSION)' | sed -E 's/^v([0-9]+\.)/\1/; /^[0-9]+\.[0-9]+/!s/^/0.0.0~git/; s/-/./g')
# An MSI's ProductVersion is numbers only: 1.2.3-4-gabc → 1.2.3, an untagged build → 0.0.0.
MSI_VERSION ?= $(shell echo '$(PKG_VERSION)' | sed -E 's/^([0-9]+\.[0-9]+\.[0-9]+).*/\1/; /^[0-9]+\.[0-9]+\.[0-9]+$$/!s/.*/0.0.0/')
# nfpm is a build tool, run at a pinned version; it is not in go.mod.
NFPM      ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
CROSS     := windows/amd64 darwin/arm64 linux/arm64
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
# What goes into every archive beside the binary: every document, as they link one another.
ARCHIVE_FILES := README.md LICENSE config.example.toml $(sort $(wildcard docs/*.md))

# bin/<os>-<arch>/ingestprobe[.exe]: one static binary per platform.
bin/%/ingestprobe bin/%/ingestprobe.exe:
	@os=$$(echo $* | cut -d- -f1); arch=$$(echo $* | cut -d- -f2); ext=; [ $$os = windows ] && ext=.exe; \
	  echo "build $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -tags '$(BUILD_TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o bin/$*/ingestprobe$$ext ./cmd/ingestprobe

cross:
	@for p in $(CROSS); do $(MAKE) --no-print-directory -B bin/$$(echo $$p | tr / -)/ingestprobe$$(case $$p in windows/*) echo .exe;; esac) || exit 1; done

# Two builds of the same commit give the same bytes: nfpm stamps every file with SOURCE_DATE_EPOCH
# (the commit's time), the binaries are built with -trimpath, and the archives are made with fixed
# owners, order and times.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

package:
	@mkdir -p $(DIST)
	@for arch in amd64 arm64; do \
	  $(MAKE) --no-print-directory -B bin/linux-$$arch/ingestprobe || exit 1; \
	  mkdir -p bin/package && cp bin/linux-$$arch/ingestprobe bin/package/ingestprobe; \
	  for fmt in deb rpm; do \
	    PKG_ARCH=$$arch PKG_VERSION=$(PKG_VERSION) \
	      $(NFPM) package --config packaging/nfpm.yaml --packager $$fmt --target $(DIST)/ || exit 1; \
	  done; \
	done

dist: package
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  $(MAKE) --no-print-directory -B bin/$$os-$$arch/ingestprobe$$ext || exit 1; \
	  name=ingestprobe_$(PKG_VERSION)_$${os}_$$arch; stage=$(DIST)/.stage/$$name; \
	  rm -rf $$stage; mkdir -p $$stage/docs; \
	  cp bin/$$os-$$arch/ingestprobe$$ext $$stage/; \
	  for f in $(ARCHIVE_FILES); do cp $$f $$stage/$$f; done; \
	  if [ $$os = windows ]; then (cd $(DIST)/.stage && rm -f ../$$name.zip && find $$name -exec touch -d @$(SOURCE_DATE_EPOCH) {} + && find $$name | sort | zip -qX ../$$name.zip -@) || exit 1; \
	    packaging/windows/msi.sh $$arch $(MSI_VERSION) bin/$$os-$$arch/ingestprobe$$ext $(DIST)/$$name.msi || exit 1; \
	  else tar -C $(DIST)/.stage --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner -cf - $$name | gzip -n9 > $(DIST)/$$name.tar.gz || exit 1; fi; \
	done
	@rm -rf $(DIST)/.stage
	@cd $(DIST) && rm -f SHA256SUMS && sha256sum *.tar.gz *.zip *.msi *.deb *.rpm > SHA256SUMS && cat SHA256SUMS
