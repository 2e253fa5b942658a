package packaging

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDebPackage builds the packages twice from the same commit with `make package` and checks
// that the bytes are the same (SOURCE_DATE_EPOCH: the commit's time stamps every file), and that
// the .deb has what Debian expects: a copyright file and a changelog, a summary without a trailing
// period, and Pre-Depends on passwd, whose useradd the preinst runs before anything is unpacked.
func TestDebPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the packages twice")
	}
	for _, tool := range []string{"make", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	var sums [2][]byte
	var debs []string
	for i := range sums {
		dist := t.TempDir()
		run(t, 5*time.Minute, "make", "-C", "..", "package", "DIST="+dist, "VERSION=v9.8.7-test", "COMMIT=abc1234")
		files, _ := filepath.Glob(filepath.Join(dist, "*"))
		var b bytes.Buffer
		for _, f := range files {
			b.WriteString(filepath.Base(f) + " ")
			b.Write(fileBytes(t, f))
			b.WriteString("\n")
			if strings.HasSuffix(f, "_amd64.deb") {
				debs = append(debs, f)
			}
		}
		sums[i] = b.Bytes()
	}
	if len(debs) != 2 {
		t.Fatalf("got .debs %v; want one amd64 .deb per build", debs)
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Errorf("two builds of the same commit differ (%s vs %s)", debs[0], debs[1])
	}
	info := run(t, time.Minute, "dpkg-deb", "--info", debs[0])
	contents := run(t, time.Minute, "dpkg-deb", "--contents", debs[0])
	for _, want := range []string{"Pre-Depends: passwd", "Description: Network probe agent for live-streaming teams\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("control lacks %q:\n%s", want, info)
		}
	}
	for _, want := range []string{"./usr/share/doc/ingestprobe/copyright", "./usr/share/doc/ingestprobe/changelog.Debian.gz"} {
		if !strings.Contains(contents, want) {
			t.Errorf("package lacks %s:\n%s", want, contents)
		}
	}
	if b, err := os.ReadFile("../LICENSE"); err != nil || len(b) == 0 {
		t.Errorf("no LICENSE in the repository: %v", err)
	}
}

// TestArchiveShipsLinkedDocs: the release archives ship every document that a document they ship
// links to (the README linked docs the archive did not hold), and the LICENSE.
func TestArchiveShipsLinkedDocs(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("needs make")
	}
	out := run(t, time.Minute, "make", "-s", "-C", "..", "--eval", "print-%: ; @echo $($*)", "print-ARCHIVE_FILES")
	shipped := map[string]bool{}
	for _, f := range strings.Fields(out) {
		shipped[f] = true
	}
	if !shipped["LICENSE"] {
		t.Errorf("ARCHIVE_FILES lacks LICENSE: %s", out)
	}
	link := regexp.MustCompile(`\]\(([A-Za-z0-9_./-]+\.(?:md|toml))(?:#[^)]*)?\)`)
	for f := range shipped {
		if !strings.HasSuffix(f, ".md") {
			continue
		}
		for _, m := range link.FindAllStringSubmatch(string(fileBytes(t, filepath.Join("..", f))), -1) {
			target := filepath.Clean(filepath.Join(filepath.Dir(f), m[1]))
			if strings.HasPrefix(target, "..") || strings.Contains(m[1], "://") {
				continue
			}
			if !shipped[target] {
				t.Errorf("%s links %s, which the archives do not ship", f, target)
			}
		}
	}
}

// TestReadmeGoVersion: README.md states the Go version go.mod's go line needs, exactly.
func TestReadmeGoVersion(t *testing.T) {
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(fileBytes(t, "../go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if want := "Go " + string(m[1]); !strings.Contains(string(fileBytes(t, "../README.md")), want) {
		t.Errorf("README.md does not say %q (go.mod's go line)", want)
	}
}
