package render

import (
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestTextRTMPLine(t *testing.T) {
	cases := []struct {
		name string
		r    rtmp.Result
		want string
	}{
		{"publish held", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, OK: true, Phase: rtmp.PhaseHold,
			Status: rtmp.StatusPublishStart, ConnectSeconds: 0.0101, HandshakeSeconds: 0.0202, RTMPConnectSeconds: 0.03, CreateStreamSeconds: 0.004, PublishSeconds: 0.005, HoldSeconds: 2.0},
			"  ✔ rtmp publish to 10.0.0.2 port 1935 ok (NetStream.Publish.Start); Enhanced RTMP: none announced  (tcp 10.1 ms, handshake 20.2 ms, connect 30.0 ms, createStream 4.0 ms, publish 5.0 ms, held 2.0 s)\n"},
		{"connect, codecs announced", rtmp.Result{Address: "10.0.0.2", Port: 443, TLS: true, Level: rtmp.LevelConnect, OK: true, Phase: rtmp.PhaseRTMPConnect,
			Status: rtmp.StatusConnectSuccess, Codecs: []string{"hvc1", "av01"}, ConnectSeconds: 0.01, TLSSeconds: 0.02, HandshakeSeconds: 0.03, RTMPConnectSeconds: 0.04},
			"  ✔ rtmp connect over TLS to 10.0.0.2 port 443 ok (NetConnection.Connect.Success); Enhanced RTMP: hvc1, av01  (tcp 10.0 ms, tls 20.0 ms, handshake 30.0 ms, connect 40.0 ms)\n"},
		{"connect, the offer refused", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelConnect, OK: true, Phase: rtmp.PhaseRTMPConnect,
			Status: rtmp.StatusConnectSuccess, EnhancedRefused: true, RTMPConnectSeconds: 0.004},
			"  ✔ rtmp connect to 10.0.0.2 port 1935 ok (NetConnection.Connect.Success); Enhanced RTMP: none announced (the offer was refused; a plain connect was accepted)  (connect 4.0 ms)\n"},
		{"publish rejected after a connect that announced codecs", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhasePublish,
			Error: rtmp.Rejected, Status: "NetStream.Publish.Failed", Codecs: []string{"hvc1"}},
			"  ✘ rtmp publish to 10.0.0.2 port 1935: rejected NetStream.Publish.Failed at publish; Enhanced RTMP: hvc1\n"},
		{"connect rejected: nothing said of codecs", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelConnect, Phase: rtmp.PhaseRTMPConnect,
			Error: rtmp.Rejected, Status: "NetConnection.Connect.Rejected"},
			"  ✘ rtmp connect to 10.0.0.2 port 1935: rejected NetConnection.Connect.Rejected at rtmp connect\n"},
		{"tls failure", rtmp.Result{Address: "2001:db8::1", Port: 443, TLS: true, Level: rtmp.LevelHandshake, Phase: rtmp.PhaseTLS,
			Error: rtmp.TLS, TLSReason: rtmp.TLSUnknownAuthority, ConnectSeconds: 0.01, TLSSeconds: 0.02},
			"  ✘ rtmp handshake over TLS to [2001:db8::1] port 443: tls unknown_authority at tls  (tcp 10.0 ms, tls 20.0 ms)\n"},
		{"captive portal", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelHandshake, Phase: rtmp.PhaseHandshake,
			Error: rtmp.NotRTMP, LooksLike: "http", ConnectSeconds: 0.01, HandshakeSeconds: 0.002},
			"  ✘ rtmp handshake to 10.0.0.2 port 1935: not_rtmp, looks like http at handshake  (tcp 10.0 ms, handshake 2.0 ms)\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b strings.Builder
			r := c.r
			if err := Checklist(&b, []record.Record{{Target: "main", Results: record.Results{RTMP: &r}}}, Options{}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), c.want) {
				t.Errorf("got\n%s\nwant a line\n%s", b.String(), c.want)
			}
		})
	}
}
