package rtmp

import (
	"context"
	"testing"
	"time"
)

// BenchmarkProbe measures whole probes against a loopback fake: dial, handshake and, for connect,
// NetConnection.connect. Allocations include the fake server's, which runs in the same process.
func BenchmarkProbe(b *testing.B) {
	for _, level := range []Level{LevelHandshake, LevelConnect} {
		b.Run(string(level), func(b *testing.B) {
			srv := startFake(b, nil, script{}.serve)
			p := New(Config{Address: srv.addr(), URL: mustURL(b, "rtmp", "127.0.0.1", srv.addr().Port()), Level: level})
			b.ReportAllocs()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				r := p.Run(ctx)
				cancel()
				if !r.OK {
					b.Fatalf("got %+v; want ok", r)
				}
			}
		})
	}
}
