#!/usr/bin/env bash
# Builds the MSI for one architecture with msitools (wixl, msibuild), then checks it with msiinfo.
#
#   packaging/windows/msi.sh ARCH VERSION BINARY OUT      e.g. amd64 1.2.3 bin/windows-amd64/ingestprobe.exe dist/x.msi
#
# VERSION is the MSI's ProductVersion (numbers only: a.b.c). wixl (0.101) knows x86 and x64
# only, and ignores a Component's NeverOverwrite and Permanent and has no ServiceConfig: those are
# set afterwards with SQL through msibuild:
#   - the config's component: never overwritten, kept on uninstall (Attributes 256+128+16);
#   - the service's recovery actions (MsiServiceConfigFailureActions, Windows Installer 5):
#     restart 5 s after each of the first three failures, the count reset after a day — what
#     `ingestprobe service install` sets, and what the systemd unit's Restart= does;
#   - arm64: the x64 database with the summary's platform Arm64 (64-bit components alike).
set -euo pipefail
cd "$(dirname "$0")/../.."
arch="$1" version="$2" binary="$3" out="$4"
for t in wixl msibuild msiinfo; do
  command -v "$t" >/dev/null || { echo "msi.sh: $t missing (apt-get install wixl msitools)" >&2; exit 1; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# wixl wants the sources relative to the working directory.
cp "$binary" "$tmp/ingestprobe.exe"
cp packaging/windows/config.toml README.md packaging/windows/ingestprobe.wxs "$tmp/"
(cd "$tmp" && wixl -a x64 -D Version="$version" -D Binary=ingestprobe.exe -D Config=config.toml -D Readme=README.md \
  -o ingestprobe.msi ingestprobe.wxs 2>&1 | grep -v -e "has no property named 'InstallPrivileges'" \
  -e "has no property named 'NeverOverwrite'" -e "has no property named 'Permanent'" -e '^$' >&2 || true)
msi="$tmp/ingestprobe.msi"
[ -f "$msi" ] || { echo "msi.sh: wixl made no MSI" >&2; exit 1; }
msibuild "$msi" -q "UPDATE \`Component\` SET \`Attributes\` = 400 WHERE \`Component\` = 'Config'"
msibuild "$msi" -q "CREATE TABLE \`MsiServiceConfigFailureActions\` (\`MsiServiceConfigFailureActions\` CHAR(72) NOT NULL, \`Name\` CHAR(255) NOT NULL LOCALIZABLE, \`Event\` SHORT NOT NULL, \`ResetPeriod\` LONG, \`RebootMessage\` CHAR(255) LOCALIZABLE, \`Command\` CHAR(255) LOCALIZABLE, \`Actions\` CHAR(255), \`DelayActions\` CHAR(255), \`Component_\` CHAR(72) NOT NULL PRIMARY KEY \`MsiServiceConfigFailureActions\`)"
msibuild "$msi" -q "INSERT INTO \`MsiServiceConfigFailureActions\` (\`MsiServiceConfigFailureActions\`, \`Name\`, \`Event\`, \`ResetPeriod\`, \`Actions\`, \`DelayActions\`, \`Component_\`) VALUES ('Recovery', 'ingestprobe', 5, 86400, '1[~]1[~]1', '5000[~]5000[~]5000', 'Binary')"
msibuild "$msi" -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Condition\`, \`Sequence\`) VALUES ('MsiConfigureServices', 'VersionNT>=600', 5850)"
if [ "$arch" = arm64 ]; then
  msibuild "$msi" -s "ingestprobe agent $version" ingestprobe "Arm64;1033" "{$(cat /proc/sys/kernel/random/uuid | tr a-z A-Z)}"
fi
# Read it back: the tables must hold what is claimed above.
msiinfo export "$msi" Component | grep -q $'^Config\t.*\t400\t' || { echo "msi.sh: config component attributes not set" >&2; exit 1; }
msiinfo export "$msi" MsiServiceConfigFailureActions | grep -q '1\[~\]1\[~\]1' || { echo "msi.sh: recovery actions missing" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp "$msi" "$out"
echo "msi $arch: $out ($(msiinfo suminfo "$out" | sed -n 's/^Template: //p'))"
