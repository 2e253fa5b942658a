package diagnose

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestRTMPFindings(t *testing.T) {
	base := rtmp.Result{Probe: "rtmp", Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, ConnectSeconds: 0.01, HandshakeSeconds: 0.02}
	with := func(f func(r *rtmp.Result)) *rtmp.Result {
		r := base
		f(&r)
		return &r
	}
	cases := []struct {
		name     string
		r        *rtmp.Result
		want     []string // codes, in order
		severity record.Severity
		contains string // in the last finding's message
	}{
		{"ok", with(func(r *rtmp.Result) { r.OK, r.Phase = true, rtmp.PhaseHold }), nil, "", ""},
		{"canceled", with(func(r *rtmp.Result) { r.Error, r.Phase = rtmp.Canceled, rtmp.PhaseHandshake }), nil, "", ""},
		{"silent server", with(func(r *rtmp.Result) { r.Error, r.Phase = rtmp.Timeout, rtmp.PhaseHandshake }),
			[]string{"rtmp.handshake_timeout"}, record.Error, "sent nothing"},
		{"slow handshake", with(func(r *rtmp.Result) { r.Error, r.Phase, r.BytesReceived = rtmp.Timeout, rtmp.PhaseHandshake, 12 }),
			[]string{"rtmp.handshake_timeout"}, record.Error, "12 of 3073 bytes"},
		{"captive portal", with(func(r *rtmp.Result) {
			r.Error, r.Phase, r.LooksLike, r.HTTPStatus = rtmp.NotRTMP, rtmp.PhaseHandshake, "http", 302
		}), []string{"rtmp.not_rtmp"}, record.Error, "captive portal"},
		{"TLS port", with(func(r *rtmp.Result) { r.Error, r.Phase, r.LooksLike = rtmp.NotRTMP, rtmp.PhaseHandshake, "tls" }),
			[]string{"rtmp.not_rtmp"}, record.Error, "expects RTMPS"},
		{"wrong version", with(func(r *rtmp.Result) { r.Error, r.Phase, r.S0 = rtmp.NotRTMP, rtmp.PhaseHandshake, "0x06" }),
			[]string{"rtmp.not_rtmp"}, record.Error, "0x06 instead of version 3"},
		{"closed in handshake", with(func(r *rtmp.Result) { r.Error, r.Phase, r.BytesReceived = rtmp.Closed, rtmp.PhaseHandshake, 701 }),
			[]string{"rtmp.not_rtmp"}, record.Error, "after 701 bytes"},
		{"connect rejected", with(func(r *rtmp.Result) {
			r.Error, r.Phase, r.Status = rtmp.Rejected, rtmp.PhaseRTMPConnect, "NetConnection.Connect.Rejected"
		}), []string{"rtmp.connect_rejected"}, record.Error, "NetConnection.Connect.Rejected"},
		{"unknown app", with(func(r *rtmp.Result) { r.Error, r.Phase = rtmp.Closed, rtmp.PhaseRTMPConnect }),
			[]string{"rtmp.connect_rejected"}, record.Error, `application "live", without a status`},
		{"bad name", with(func(r *rtmp.Result) {
			r.Error, r.Phase, r.Status = rtmp.InUse, rtmp.PhasePublish, rtmp.StatusPublishBadName
		}), []string{"rtmp.stream_in_use"}, record.Error, "already publishing"},
		{"signature refused", with(func(r *rtmp.Result) { r.Error, r.Phase = rtmp.Closed, rtmp.PhasePublish }),
			[]string{"rtmp.publish_rejected"}, record.Error, "without a status"},
		{"publish denied", with(func(r *rtmp.Result) {
			r.Error, r.Phase, r.Status = rtmp.Rejected, rtmp.PhasePublish, "NetStream.Publish.Denied"
		}), []string{"rtmp.publish_rejected"}, record.Error, "NetStream.Publish.Denied"},
		{"dropped while held", with(func(r *rtmp.Result) {
			r.Error, r.Phase, r.Status, r.HoldSeconds = rtmp.Closed, rtmp.PhaseHold, rtmp.StatusPublishStart, 0.8
		}), []string{"rtmp.publish_rejected"}, record.Error, "then closed the connection at once"},
		{"unknown authority", with(func(r *rtmp.Result) {
			r.TLS, r.Error, r.Phase, r.TLSReason = true, rtmp.TLS, rtmp.PhaseTLS, rtmp.TLSUnknownAuthority
		}), []string{"tls.failed"}, record.Error, "not signed by a trusted authority"},
		{"verification off", with(func(r *rtmp.Result) { r.TLS, r.InsecureSkipVerify, r.OK, r.Phase = true, true, true, rtmp.PhaseHold }),
			[]string{"tls.verify_disabled"}, record.Warning, "insecure_skip_verify"},
	}
	u, err := ingesturl.Parse("rtmp://push.example.com/live/show42?txSecret=f85a2ab363fe4deaffef9754d79da6fe&txTime=5C271099")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := Findings(Input{URL: u, Results: record.Results{
				TCP:  []tcp.Result{{Probe: "tcp", Address: "10.0.0.2", Port: 1935, Role: "ingest", OK: true}},
				RTMP: c.r,
			}})
			var codes []string
			for _, f := range fs {
				codes = append(codes, f.Code)
				if !Known(f.Code) {
					t.Errorf("got code %q; want one from the catalogue", f.Code)
				}
			}
			if strings.Join(codes, ",") != strings.Join(c.want, ",") {
				t.Fatalf("got codes %v; want %v", codes, c.want)
			}
			if len(fs) == 0 {
				return
			}
			last := fs[len(fs)-1]
			if last.Severity != c.severity || !strings.Contains(last.Message, c.contains) || last.Remedy == "" {
				t.Errorf("got %s %q (remedy %q); want %s containing %q and a remedy", last.Severity, last.Message, last.Remedy, c.severity, c.contains)
			}
			if last.Evidence["phase"] != string(c.r.Phase) {
				t.Errorf("got evidence phase %v; want %q", last.Evidence["phase"], c.r.Phase)
			}
			b, _ := json.Marshal(fs)
			for _, secret := range []string{"show42", "f85a2ab3", "5C271099"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("got %q in the findings %s; want no stream name or query", secret, b)
				}
			}
		})
	}
}

func TestRTMPEvidenceHasStatusAndTimings(t *testing.T) {
	r := &rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhasePublish, Error: rtmp.InUse,
		Status: rtmp.StatusPublishBadName, ConnectSeconds: 0.0101, HandshakeSeconds: 0.02, RTMPConnectSeconds: 0.03, PublishSeconds: 0.004}
	fs := rtmpFindings(rtmpTarget{app: "live", host: "push.example.com"}, r)
	if len(fs) != 1 {
		t.Fatalf("got %d findings; want 1", len(fs))
	}
	ev := fs[0].Evidence
	for k, want := range map[string]any{"status": rtmp.StatusPublishBadName, "phase": "publish", "error": "in_use",
		"connect_seconds": 0.0101, "rtmp_connect_seconds": 0.03, "publish_seconds": 0.004} {
		if ev[k] != want {
			t.Errorf("got evidence %s = %v; want %v", k, ev[k], want)
		}
	}
}
