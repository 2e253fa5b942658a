package render

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestTextRTMPLine(t *testing.T) {
	cert := &rtmp.Certificate{SubjectCN: "push.example.com", IssuerCN: "FortiGate CA", IssuerO: "Fortinet",
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		name string
		r    rtmp.Result
		want string
	}{
		{"publish held", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, OK: true, Phase: rtmp.PhaseHold,
			Status: rtmp.StatusPublishStart, ConnectSeconds: 0.0101, HandshakeSeconds: 0.0202, RTMPConnectSeconds: 0.03, CreateStreamSeconds: 0.004, PublishSeconds: 0.005, HoldSeconds: 2.0},
			"  ✔ rtmp publish to 10.0.0.2 port 1935: accepted and held for 2.0 s; Enhanced RTMP: none announced  (tcp 10.1 ms, handshake 20.2 ms, connect 30.0 ms, stream setup 4.0 ms, publish 5.0 ms)\n"},
		{"accepted, then closed at once", rtmp.Result{Address: "127.0.0.1", Port: 21935, Level: rtmp.LevelPublish, Phase: rtmp.PhaseHold, Error: rtmp.Closed,
			Status: rtmp.StatusPublishStart, ReusedConnection: true, HandshakeSeconds: 0.0019, RTMPConnectSeconds: 0.042, CreateStreamSeconds: 0.0004, PublishSeconds: 0.0005, HoldSeconds: 0.003},
			"  ✘ rtmp publish to 127.0.0.1 port 21935: accepted, then closed by the server at once; Enhanced RTMP: none announced  (handshake 1.9 ms, connect 42.0 ms, stream setup 0.40 ms, publish 0.50 ms)\n"},
		{"accepted, then closed later", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhaseHold, Error: rtmp.Closed,
			Status: rtmp.StatusPublishStart, HoldSeconds: 1.5},
			"  ✘ rtmp publish to 10.0.0.2 port 1935: accepted, then closed by the server after 1.5 s; Enhanced RTMP: none announced\n"},
		{"closed after the publish request", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhasePublish, Error: rtmp.Closed},
			"  ✘ rtmp publish to 10.0.0.2 port 1935: closed by the server after the publish request, without a status; Enhanced RTMP: none announced\n"},
		{"in use", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhasePublish, Error: rtmp.InUse, Status: rtmp.StatusPublishBadName},
			"  ✘ rtmp publish to 10.0.0.2 port 1935: refused: another encoder is already publishing this stream (NetStream.Publish.BadName); Enhanced RTMP: none announced\n"},
		{"connect, codecs announced", rtmp.Result{Address: "10.0.0.2", Port: 443, TLS: true, Level: rtmp.LevelConnect, OK: true, Phase: rtmp.PhaseRTMPConnect,
			Status: rtmp.StatusConnectSuccess, Codecs: []string{"hvc1", "av01"}, ConnectSeconds: 0.01, TLSSeconds: 0.02, HandshakeSeconds: 0.03, RTMPConnectSeconds: 0.04},
			"  ✔ rtmp connect over TLS to 10.0.0.2 port 443: the application accepted the connection; Enhanced RTMP: hvc1, av01  (tcp 10.0 ms, tls 20.0 ms, handshake 30.0 ms, connect 40.0 ms)\n"},
		{"connect, the offer refused", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelConnect, OK: true, Phase: rtmp.PhaseRTMPConnect,
			Status: rtmp.StatusConnectSuccess, EnhancedRefused: true, RTMPConnectSeconds: 0.004},
			"  ✔ rtmp connect to 10.0.0.2 port 1935: the application accepted the connection; Enhanced RTMP: none announced (the offer was refused; a plain connect was accepted)  (connect 4.0 ms)\n"},
		{"handshake ok", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelHandshake, OK: true, Phase: rtmp.PhaseHandshake, HandshakeSeconds: 0.003},
			"  ✔ rtmp handshake to 10.0.0.2 port 1935: handshake completed  (handshake 3.0 ms)\n"},
		{"publish rejected after a connect that announced codecs", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelPublish, Phase: rtmp.PhasePublish,
			Error: rtmp.Rejected, Status: "NetStream.Publish.Failed", Codecs: []string{"hvc1"}},
			"  ✘ rtmp publish to 10.0.0.2 port 1935: the server refused the publish request (NetStream.Publish.Failed); Enhanced RTMP: hvc1\n"},
		{"connect rejected: nothing said of codecs", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelConnect, Phase: rtmp.PhaseRTMPConnect,
			Error: rtmp.Rejected, Status: "NetConnection.Connect.Rejected"},
			"  ✘ rtmp connect to 10.0.0.2 port 1935: the server refused the connect to the application (NetConnection.Connect.Rejected)\n"},
		{"connect closed", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelConnect, Phase: rtmp.PhaseRTMPConnect, Error: rtmp.Closed, HandshakeSeconds: 0.002},
			"  ✘ rtmp connect to 10.0.0.2 port 1935: closed by the server after the connect to the application, without a status  (handshake 2.0 ms)\n"},
		{"silent", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelHandshake, Phase: rtmp.PhaseHandshake, Error: rtmp.Timeout, ConnectSeconds: 0.001, HandshakeSeconds: 4.9},
			"  ✘ rtmp handshake to 10.0.0.2 port 1935: no answer to the handshake in 4.9 s  (tcp 1.0 ms, handshake 4.9 s)\n"},
		{"tls untrusted, with the issuer", rtmp.Result{Address: "2001:db8::1", Port: 443, TLS: true, Level: rtmp.LevelHandshake, Phase: rtmp.PhaseTLS,
			Error: rtmp.TLS, TLSReason: rtmp.TLSUnknownAuthority, Certificate: cert, ConnectSeconds: 0.01, TLSSeconds: 0.02},
			"  ✘ rtmp handshake over TLS to [2001:db8::1] port 443: the certificate is not from an authority this machine trusts (issued by 'FortiGate CA')  (tcp 10.0 ms, tls 20.0 ms)\n"},
		{"tls expired", rtmp.Result{Address: "127.0.0.1", Port: 21936, TLS: true, Level: rtmp.LevelConnect, Phase: rtmp.PhaseTLS,
			Error: rtmp.TLS, TLSReason: rtmp.TLSExpired, Certificate: cert, TLSSeconds: 0.002},
			"  ✘ rtmp connect over TLS to 127.0.0.1 port 21936: the certificate expired on 2026-03-01  (tls 2.0 ms)\n"},
		{"captive portal", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelHandshake, Phase: rtmp.PhaseHandshake,
			Error: rtmp.NotRTMP, LooksLike: "http", HTTPStatus: 302, ConnectSeconds: 0.01, HandshakeSeconds: 0.002},
			"  ✘ rtmp handshake to 10.0.0.2 port 1935: answered with a web page (HTTP status 302), not RTMP  (tcp 10.0 ms, handshake 2.0 ms)\n"},
		{"connect refused", rtmp.Result{Address: "10.0.0.2", Port: 1935, Level: rtmp.LevelHandshake, Phase: rtmp.PhaseConnect,
			Error: rtmp.ConnectFailed, Errno: "ECONNREFUSED", ConnectSeconds: 0.0001},
			"  ✘ rtmp handshake to 10.0.0.2 port 1935: the TCP connect failed (ECONNREFUSED)  (tcp 0.10 ms)\n"},
	}
	// No line carries a phase or class name of the record.
	codeWords := regexp.MustCompile(`\b(at hold|at tls|at handshake|not_rtmp|unknown_authority|rtmp_connect|create_stream|createStream|in_use|connect_failed)\b`)
	for _, c := range cases {
		if codeWords.MatchString(c.want) {
			t.Errorf("%s: the golden line %q has a code word", c.name, c.want)
		}
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
