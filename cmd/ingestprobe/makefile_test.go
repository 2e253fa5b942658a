//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMakeRunURL: `make run URL=…` hands the URL to check as one argument, exactly as given: a
// signed URL's '&' cut it in two and sent the check to the background, so the exit line came
// before the checklist and the URL lacked txTime. The binary is a stand-in that prints its
// arguments (-o build: make does not rebuild it).
func TestMakeRunURL(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make not installed")
	}
	repo, _ := filepath.Abs("../..")
	bin := filepath.Join("bin", "test-makerun-"+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(filepath.Join(repo, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, bin), []byte("#!/bin/sh\nfor a in \"$@\"; do printf 'arg<%s>\\n' \"$a\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(filepath.Join(repo, bin)) })
	for _, u := range []string{
		"rtmp://push.example.com/live/show?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099",
		"rtmp://push.example.com/live/it's `id` \"x\" ;y",
	} {
		out, err := exec.Command(mk, "-s", "-C", repo, "-o", "build", "run", "BIN="+bin, "URL="+u).CombinedOutput()
		if err != nil {
			t.Fatalf("make run: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != 3 || lines[0] != "arg<check>" || lines[1] != "arg<"+u+">" || !strings.HasPrefix(lines[2], "(exit code 0") {
			t.Errorf("make run URL=%s printed:\n%s\nwant check, the URL as one argument, then the exit line", u, out)
		}
	}
}
