// Package house pins the shape of the repository that docs/architecture.md describes: data flows
// one way — config → agent → probes → diagnose → sinks — and nothing below imports anything above.
package house

import (
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ingestprobe/ingestprobe/"

// packages maps each package of the module (relative path) to the module packages it imports,
// test files left out: a test may reach for any helper.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "bin" || n == "dist") {
			return filepath.SkipDir
		}
		pkg, err := build.Default.ImportDir(p, 0)
		if err != nil {
			return nil // no Go files (or only tests) here
		}
		rel, _ := filepath.Rel(root, p)
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, module) {
				out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], strings.TrimPrefix(imp, module))
			}
		}
		if _, ok := out[filepath.ToSlash(rel)]; !ok {
			out[filepath.ToSlash(rel)] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found %d packages under %s; want the whole module", len(out), root)
	}
	return out
}

func under(pkg string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return pkg == p || strings.HasPrefix(pkg, p+"/") })
}

// TestImportsFlowOneWay: a package imports only what sits below it.
func TestImportsFlowOneWay(t *testing.T) {
	// upper: the packages a lower one must not import.
	upper := []string{"cmd", "service", "agent", "config", "bench"}
	rules := []struct {
		pkgs      []string // packages the rule is about (with their subpackages)
		forbidden []string
		why       string
	}{
		{[]string{"probes"}, append(upper, "diagnose", "reporter", "sink", "spool", "metrics", "render", "status", "record"), "a probe measures; it knows nothing of findings, records or sinks"},
		{[]string{"diagnose"}, append(upper, "reporter", "sink", "spool", "metrics", "render", "status"), "diagnose is a pure function of results"},
		{[]string{"record", "provider", "ingesturl"}, append(upper, "diagnose", "reporter", "sink", "spool", "metrics", "render", "status"), "the record and the URL are leaves every layer shares"},
		{[]string{"reporter", "sink", "spool", "metrics", "render", "status"}, append(upper, "diagnose"), "sinks take records; their own config types live with them"},
		{[]string{"internal/duration", "internal/secret", "internal/capool", "internal/acceptenc", "internal/sockaddr", "neterr"}, []string{""}, "leaves import nothing of the module"},
		{[]string{"config"}, []string{"cmd", "service", "agent", "reporter", "bench"}, "config decodes into the sections other packages own, and is read only above it"},
		{[]string{"agent"}, []string{"cmd", "service", "bench"}, "the agent is the engine the faces share"},
	}
	pkgs := packages(t)
	for pkg, imps := range pkgs {
		for _, r := range rules {
			if !under(pkg, r.pkgs...) {
				continue
			}
			for _, imp := range imps {
				if slices.Contains(r.forbidden, "") || under(imp, r.forbidden...) {
					t.Errorf("%s imports %s: %s", pkg, imp, r.why)
				}
			}
		}
	}
}

// TestProbesStandAlone: a probe imports no other probe — what they share (error classes, the
// URL) sits in a leaf below them — so a new probe is a new folder.
func TestProbesStandAlone(t *testing.T) {
	for pkg, imps := range packages(t) {
		if !under(pkg, "probes") {
			continue
		}
		for _, imp := range imps {
			if under(imp, "probes") && imp != pkg {
				t.Errorf("%s imports %s: probes share through leaves (neterr, ingesturl), not each other", pkg, imp)
			}
		}
	}
}

// TestOnlyTheTopReadsConfig: only the agent, the service and the command (and the harnesses that
// drive them: bench, the integration tests) import config.
func TestOnlyTheTopReadsConfig(t *testing.T) {
	for pkg, imps := range packages(t) {
		if slices.Contains(imps, "config") && !under(pkg, "agent", "service", "cmd", "bench", "test") {
			t.Errorf("%s imports config; only agent, service and cmd may", pkg)
		}
	}
}

// TestNoInit: no package of the module runs code at init (flag registration in tests aside):
// start-up work belongs where it is used.
func TestNoInit(t *testing.T) {
	root, _ := filepath.Abs("../..")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "func init()") && !strings.Contains(string(b), "//go:build memprofile") {
				rel, _ := filepath.Rel(root, p)
				t.Errorf("%s has an init(): do the work where it is needed", rel)
			}
		}
		return nil
	})
}

// TestBinaryAvoidsMethodReflection: the agent's binary links no package that calls methods by
// reflection (text/template, html/template): with one, the linker keeps every exported method of
// every type — 2.6 MB more text in this binary, measured when the service templates used
// text/template — pages the agent maps on every encoder.
func TestBinaryAvoidsMethodReflection(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found: cannot list the binary's packages")
	}
	cmd := exec.Command(goBin, "list", "-deps", "./cmd/ingestprobe")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "text/template" || pkg == "html/template" {
			t.Errorf("cmd/ingestprobe links %s: fill templates without it (strings.Replacer)", pkg)
		}
	}
}
