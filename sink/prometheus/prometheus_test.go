package prometheus

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/metrics"
)

// TestServe: /metrics answers with the catalogue, / says where the metrics are, anything else is
// 404, and Close frees the port.
func TestServe(t *testing.T) {
	s, err := New("prometheus", "127.0.0.1:0", metrics.New("v", "c", nil))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "ingestprobe_build_info") {
		t.Errorf("/metrics: %d %.80q; want 200 with ingestprobe_build_info", code, body)
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "/metrics") {
		t.Errorf("/: %d %q; want a pointer to /metrics", code, body)
	}
	if code, _ := get("/debug/pprof/"); code != 404 {
		t.Errorf("/debug/pprof/: %d; want 404", code)
	}
	addr := s.Addr()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := New("again", addr, metrics.New("v", "c", nil))
	if err != nil {
		t.Fatalf("port not free after Close: %v", err)
	}
	again.Close(ctx)
	client.CloseIdleConnections()
}
