package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zaptest/observer"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/status"
)

// boardAddress is the address of the n-th board the daemon logged it serves.
func boardAddress(t *testing.T, logs *observer.ObservedLogs, n int) string {
	t.Helper()
	waitLog(t, logs, "serving the status board", n)
	return logs.FilterMessageSnippet("serving the status board").All()[n-1].ContextMap()["address"].(string)
}

// boardStatus polls the board until its first target has a verdict.
func boardStatus(t *testing.T, addr string) status.Document {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var doc status.Document
		resp, err := client.Get(addr + "api/status")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&doc)
			resp.Body.Close()
		}
		if err == nil && len(doc.Targets) > 0 && doc.Targets[0].Verdict != nil {
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("board %s: no verdict within 5 s (last: %+v, %v)", addr, doc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDaemonServesBoard: with [status] the daemon serves the board and feeds it every record; a
// reload serves it again with its history kept; a reload without [status] and the stop take it
// down.
func TestDaemonServesBoard(t *testing.T) {
	dir := t.TempDir()
	text := loopTarget(t, dir) + "[status]\nlisten = \"127.0.0.1:0\"\n"
	d, logs, _ := testDaemon(t, text)
	d.Version = "9.9.9"
	cfg, err := config.Load(d.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	reload := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, cfg, reload) }()

	first := boardAddress(t, logs, 1)
	doc := boardStatus(t, first)
	if doc.Agent != "a1" || doc.Version != "9.9.9" || doc.Targets[0].Name != "main" || *doc.Targets[0].Verdict != "go" {
		t.Fatalf("got agent %s version %s target %s verdict %s; want a1 9.9.9 main go", doc.Agent, doc.Version, doc.Targets[0].Name, *doc.Targets[0].Verdict)
	}

	reload <- struct{}{}
	second := boardAddress(t, logs, 2)
	if doc := boardStatus(t, second); len(doc.Targets[0].History) == 0 {
		t.Error("after a reload: the history is gone; want it kept")
	}
	if _, err := http.Get(first + "api/status"); err == nil {
		t.Errorf("the first generation's board %s still answers after the reload", first)
	}

	os.WriteFile(d.ConfigPath, []byte(loopTarget(t, dir)), 0o644)
	reload <- struct{}{}
	waitLog(t, logs, "reloaded", 2)
	if _, err := http.Get(second + "api/status"); err == nil {
		t.Errorf("a reload without [status]: the board %s still answers", second)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
