package main

import (
	"strings"
	"testing"
)

// TestBadURLIdentifiable: among several URLs, a bad one is named by its position and shows its
// host (never its stream name); an argument that is neither a URL nor a target lists the
// configured names.
func TestBadURLIdentifiable(t *testing.T) {
	code, out, _ := runCmd(t, "check", "--config", writeConfig(t, ""), "--rtmp", "off", "--timeout", "1s",
		"rtmp://127.0.0.1:1/live/a", "rtmp://bad host:1935/live/"+streamKey, "rtmp://127.0.0.1:99999/live/"+streamKey)
	if code != exitNoGo {
		t.Errorf("exit %d; want 1", code)
	}
	for _, want := range []string{"argument-2  rtmp://bad host:1935/<redacted>", "argument-3  rtmp://127.0.0.1:99999/<redacted>"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, streamKey) {
		t.Errorf("output holds the stream key:\n%s", out)
	}
	cfg := writeConfig(t, "[[targets]]\nname = \"main\"\nurl = \"rtmp://127.0.0.1/live/a\"\n[[targets]]\nname = \"backup\"\nurl = \"rtmp://127.0.0.1/live/b\"\n")
	code, _, errs := runCmd(t, "check", "--config", cfg, "mian")
	if code != exitUsage || !strings.Contains(errs, `"mian" is neither a URL nor a target`) || !strings.Contains(errs, "main, backup") {
		t.Errorf("exit %d, stderr %q; want 2 listing the targets main, backup", code, errs)
	}
}
