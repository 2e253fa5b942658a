package rtmp

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
)

// TestEnhancedRTMP: connect offers hvc1, av01, vp09; the codecs an ingest announces back are
// reported; an ingest that ignores the offer connects as before; one that refuses a connect
// carrying it is asked again without it, and only that plain connect getting further says so.
func TestEnhancedRTMP(t *testing.T) {
	tests := []struct {
		name      string
		sc        script
		level     Level
		wantClass Class
		wantPhase Phase
		codecs    []string
		refused   bool
		offers    []string // the fourCcList of each connect the server saw, in order
	}{
		{name: "announces fourCcList in its properties", sc: script{enhanced: "list"}, level: LevelConnect,
			wantPhase: PhaseRTMPConnect, codecs: []string{"hvc1", "av01"}, offers: []string{"hvc1,av01,vp09"}},
		{name: "announces videoFourCcInfoMap in its information", sc: script{enhanced: "infomap"}, level: LevelConnect,
			wantPhase: PhaseRTMPConnect, codecs: []string{"av01", "hvc1"}, offers: []string{"hvc1,av01,vp09"}},
		{name: "ignores the offer, as nginx-rtmp", sc: script{}, level: LevelConnect,
			wantPhase: PhaseRTMPConnect, offers: []string{"hvc1,av01,vp09"}},
		{name: "refuses a connect carrying the offer", sc: script{enhanced: "refuse"}, level: LevelConnect,
			wantPhase: PhaseRTMPConnect, refused: true, offers: []string{"hvc1,av01,vp09", ""}},
		{name: "closes on a connect carrying the offer, publish goes on plain", sc: script{enhanced: "close"}, level: LevelPublish,
			wantPhase: PhaseHold, refused: true, offers: []string{"hvc1,av01,vp09", ""}},
		{name: "refuses every connect: the offer was not the cause", sc: script{connect: "error"}, level: LevelConnect,
			wantClass: Rejected, wantPhase: PhaseRTMPConnect, offers: []string{"hvc1,av01,vp09", ""}},
		{name: "handshake only: nothing offered", sc: script{enhanced: "list"}, level: LevelHandshake,
			wantPhase: PhaseHandshake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offersCh := make(chan string, 4)
			var conns atomic.Int32
			sc := tt.sc
			sc.offers = offersCh
			h := hostile{level: tt.level, wantClass: tt.wantClass, wantPhase: tt.wantPhase,
				handle: func(f *fakeConn) { conns.Add(1); sc.serve(f) }}
			h.check = func(t *testing.T, r Result) {
				if !slices.Equal(r.Codecs, tt.codecs) {
					t.Errorf("codecs: got %q; want %q", r.Codecs, tt.codecs)
				}
				if r.EnhancedRefused != tt.refused {
					t.Errorf("enhanced_rtmp_refused: got %v; want %v", r.EnhancedRefused, tt.refused)
				}
			}
			runHostile(t, h)
			if got := int(conns.Load()); got != max(len(tt.offers), 1) {
				t.Errorf("connections: got %d; want %d", got, max(len(tt.offers), 1))
			}
			close(offersCh)
			var offers []string
			for o := range offersCh {
				offers = append(offers, o)
			}
			if !slices.Equal(offers, tt.offers) {
				t.Errorf("offers the server saw: got %q; want %q", offers, tt.offers)
			}
		})
	}
}

// A connect that times out is not asked again: a second one could only time out too, and the
// deadline is spent.
func TestEnhancedRTMPNoRetryOnTimeout(t *testing.T) {
	var conns atomic.Int32
	runHostile(t, hostile{level: LevelConnect, wantClass: Timeout, wantPhase: PhaseRTMPConnect,
		handle: func(f *fakeConn) { conns.Add(1); script{connect: "silent"}.serve(f) }})
	if n := conns.Load(); n != 1 {
		t.Errorf("connections: got %d; want 1", n)
	}
}

func TestAnnouncedCodecs(t *testing.T) {
	many := map[string]any{}
	for i := range 40 {
		many[fmt.Sprintf("c%03d", i)] = 1.0
	}
	tests := []struct {
		name string
		args []any
		want []string
	}{
		{"none", []any{map[string]any{"fmsVer": "FMS/3,0,1,123"}, status("status", StatusConnectSuccess, "")}, nil},
		{"strict array in the properties", []any{map[string]any{"fourCcList": []any{"hvc1", "av01"}}, nil}, []string{"hvc1", "av01"}},
		{"ECMA array in the information", []any{nil, map[string]any{"code": StatusConnectSuccess, "fourCcList": map[string]any{"0": "vp09", "1": "hvc1"}}}, []string{"vp09", "hvc1"}},
		{"the wildcard", []any{map[string]any{"fourCcList": []any{"*"}}}, []string{"*"}},
		{"malformed entries dropped", []any{map[string]any{"fourCcList": []any{"hvc", "hvc1x", "\x00\x01\x02\x03", 3.0, nil, "Opus"}}}, []string{"Opus"}},
		{"info maps: decode or forward, audio too", []any{map[string]any{
			"videoFourCcInfoMap": map[string]any{"hvc1": 1.0, "av01": 4.0, "vp09": 2.0, "vp08": 0.0},
			"audioFourCcInfoMap": map[string]any{"Opus": 7.0, "fLaC": "yes"}}}, []string{"av01", "hvc1", "Opus"}},
		{"both forms, each codec once", []any{map[string]any{"fourCcList": []any{"hvc1"}, "videoFourCcInfoMap": map[string]any{"hvc1": 1.0, "av01": 1.0}}}, []string{"hvc1", "av01"}},
		{"bounded", []any{map[string]any{"videoFourCcInfoMap": many}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := announcedCodecs(tt.args)
			if tt.name == "bounded" {
				if len(got) != maxCodecs {
					t.Errorf("got %d codecs; want at most %d", len(got), maxCodecs)
				}
				return
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
