package agent

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/nginxrtmp"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestPipelineProviderLoopback runs the real pipeline — URL doctor with a platform's rules, TCP,
// RTMP connect with the Enhanced RTMP offer — against nginx-rtmp on loopback: provider "youtube" on
// rtmp://127.0.0.1:<port>/live2/KEY. The application is YouTube's, so only the loopback address
// (not a YouTube host: a warning) and its port (not 1935: an error) are reported, while nginx
// takes the connect and announces no codecs. With provider "generic" the same URL is a GO.
func TestPipelineProviderLoopback(t *testing.T) {
	nginxrtmp.Require(t, false)
	ng := nginxrtmp.Start(t, nginxrtmp.Config{Apps: map[string]string{"live2": ""}})
	url := "rtmp://127.0.0.1:" + strconv.Itoa(int(ng.RTMPAddr.Port())) + "/live2/loopkey9"
	p := &Pipeline{Profiles: provider.Builtin()}
	tests := []struct {
		provider string
		verdict  record.Verdict
		codes    []string
	}{
		{provider.YouTube, record.NoGo, []string{"url.unknown_host", "url.wrong_port"}},
		{provider.Generic, record.Go, nil},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			rec := p.Run(t.Context(), Target{Name: "loop", URL: url, Provider: tt.provider, AltPorts: []int{},
				Timeout: 3 * time.Second, RTMP: rtmp.LevelConnect, SkipICMP: true})
			var codes []string
			for _, f := range rec.Findings {
				codes = append(codes, f.Code)
			}
			if rec.Verdict != tt.verdict || !slices.Equal(codes, tt.codes) {
				t.Errorf("got %s %v; want %s %v", rec.Verdict, codes, tt.verdict, tt.codes)
			}
			x := rec.Results.RTMP
			if x == nil || !x.OK || !x.Connected() || len(x.Codecs) != 0 || x.EnhancedRefused {
				t.Errorf("rtmp: got %+v; want connected, nothing announced, nothing refused", x)
			}
			if l := rec.Results.URL; tt.provider == provider.YouTube && (l == nil || l.IngestRules != provider.YouTube) {
				t.Errorf("url lint: got %+v; want the youtube rules checked", l)
			}
		})
	}
}
