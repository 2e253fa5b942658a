#!/usr/bin/env bash
# The Windows build under Wine (make test-wine; .ci/run calls it). Wine is a Windows API
# implementation, not Windows: docs/install.md says what this shows and what only real Windows can.
#
#   1. builds the ProcessPrng shim (packaging/windows/wine/bcryptprimitives.c) with mingw-w64:
#      Wine 8 lacks bcryptprimitives.dll!ProcessPrng, which Go's runtime loads at start;
#   2. makes a Wine prefix in $WINE_DIR/prefix (once; reused while the shim is unchanged) and
#      copies the shim into its system32;
#   3. runs the Windows test binaries of neterr, probes/icmp, probes/tcp and probes/live
#      (GOOS=windows go test -c) under Wine, each from its package directory;
#   4. runs TestIntegrationWindows (test/integration/windows_test.go): the Windows build in the
#      lab's venue namespace, with its own Wine server there.
#
# It skips, saying why, when wine64 or the mingw-w64 compiler is missing, unless
# INGESTPROBE_WINE_REQUIRED=1 (CI), where that fails. Bounded: each binary 120 s, the whole run a
# few minutes (Wine's first start in a fresh prefix is the slow part, ~10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

WINE_DIR="${WINE_DIR:-$PWD/bin/wine}"
GO="${GO:-go}"

need() {
  echo "wine-test: $1" >&2
  if [ "${INGESTPROBE_WINE_REQUIRED:-}" = 1 ]; then exit 1; fi
  echo "wine-test: skipped (INGESTPROBE_WINE_REQUIRED=1 makes this an error)" >&2
  exit 0
}

# Debian's wine64 puts its loader in /usr/lib/wine; /usr/bin/wine is the wine package's wrapper.
WINE="$(command -v wine64 || true)"
[ -n "$WINE" ] || { [ -x /usr/lib/wine/wine64 ] && WINE=/usr/lib/wine/wine64; } || true
WINESERVER="$(command -v wineserver || true)"
[ -n "$WINESERVER" ] || { [ -x /usr/lib/wine/wineserver64 ] && WINESERVER=/usr/lib/wine/wineserver64; } || true
[ -n "$WINE" ] && [ -n "$WINESERVER" ] || need "no wine64 (apt-get install wine64)"
CC=x86_64-w64-mingw32-gcc
command -v "$CC" >/dev/null || need "no $CC (apt-get install gcc-mingw-w64-x86-64)"

export WINEPREFIX="$WINE_DIR/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
unset DISPLAY

mkdir -p "$WINE_DIR"
shim="$WINE_DIR/bcryptprimitives.dll"
src=packaging/windows/wine/bcryptprimitives.c
if [ ! -f "$shim" ] || [ "$src" -nt "$shim" ]; then
  "$CC" -shared -O2 -s -o "$shim" "$src" packaging/windows/wine/bcryptprimitives.def -ladvapi32
  rm -rf "$WINEPREFIX"
fi
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "wine-test: making the prefix $WINEPREFIX"
  timeout 120 "$WINE" wineboot -i >/dev/null 2>&1
  "$WINESERVER" -w
fi
cp "$shim" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
echo "wine-test: $("$WINE" --version), prefix $WINEPREFIX"

fail=0
for pkg in neterr probes/icmp probes/tcp probes/live; do
  exe="$WINE_DIR/$(echo "$pkg" | tr / _).test.exe"
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" test -c -o "$exe" "./$pkg"
  echo "== $pkg (Windows build under Wine)"
  if ! (cd "$pkg" && timeout 120 "$WINE" "$exe" -test.count=1 -test.timeout=100s); then
    echo "wine-test: $pkg FAILED" >&2
    fail=1
  fi
done
# The MSI under Wine's msiexec: an existing config is kept (install and uninstall), a fresh install
# writes the default one, the service is registered with its command line and not started, and
# uninstalling removes the binary and the service. (Wine's msi does not apply
# MsiServiceConfigFailureActions: the recovery actions are checked in the tables only, by msi.sh.)
if command -v wixl >/dev/null && command -v msibuild >/dev/null; then
  echo "== MSI under Wine's msiexec"
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 "$GO" build -trimpath -o "$WINE_DIR/ingestprobe.exe" ./cmd/ingestprobe
  packaging/windows/msi.sh amd64 0.0.0 "$WINE_DIR/ingestprobe.exe" "$WINE_DIR/ingestprobe.msi"
  msi="Z:$(echo "$WINE_DIR/ingestprobe.msi" | tr / '\\')"
  data="$WINEPREFIX/drive_c/ProgramData/ingestprobe" pf="$WINEPREFIX/drive_c/Program Files/ingestprobe"
  msifail() { echo "wine-test: MSI: $1" >&2; fail=1; }
  mkdir -p "$data" && echo "# the user's own" > "$data/config.toml"
  timeout 120 "$WINE" msiexec /i "$msi" /qn || msifail "install failed"
  [ -f "$pf/ingestprobe.exe" ] || msifail "no Program Files\\ingestprobe\\ingestprobe.exe"
  [ "$(cat "$data/config.toml")" = "# the user's own" ] || msifail "an existing config.toml was overwritten"
  svc="$(timeout 30 "$WINE" reg query 'HKLM\System\CurrentControlSet\Services\ingestprobe' 2>&1 || true)"
  echo "$svc" | grep -q 'ingestprobe.exe service run --config "C:\\ProgramData\\ingestprobe\\config.toml"' || msifail "service command line: $svc"
  timeout 30 "$WINE" sc query ingestprobe 2>&1 | grep -q STOPPED || msifail "the service is not stopped after install"
  timeout 120 "$WINE" msiexec /x "$msi" /qn || msifail "uninstall failed"
  [ ! -e "$pf/ingestprobe.exe" ] || msifail "the binary is left after uninstall"
  [ "$(cat "$data/config.toml")" = "# the user's own" ] || msifail "uninstall removed or changed config.toml"
  rm -f "$data/config.toml"
  timeout 120 "$WINE" msiexec /i "$msi" /qn || msifail "fresh install failed"
  cmp -s "$data/config.toml" packaging/windows/config.toml || msifail "a fresh install did not write the default config"
  timeout 120 "$WINE" msiexec /x "$msi" /qn || msifail "second uninstall failed"
  rm -rf "$data"
  [ $fail = 0 ] && echo "MSI: ok"
else
  echo "wine-test: MSI under msiexec skipped: no wixl/msibuild (apt-get install wixl msitools)"
fi

# The unit tests' Wine server runs in this namespace; the integration test starts its own in the
# venue namespace, with a copy of the prefix.
"$WINESERVER" -k 2>/dev/null || true

if [ "$(id -u)" = 0 ]; then
  echo "== TestIntegrationWindows (the Windows build in the lab's venue namespace)"
  INGESTPROBE_WINEPREFIX="$WINEPREFIX" INGESTPROBE_WINE="$WINE" INGESTPROBE_WINESERVER="$WINESERVER" \
    "$GO" test -count=1 -timeout 5m -run '^TestIntegrationWindows$' -v ./test/integration || fail=1
else
  echo "wine-test: TestIntegrationWindows skipped: needs root (network namespaces)"
fi
exit $fail
