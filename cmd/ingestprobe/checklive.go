package main

import (
	"context"
	"fmt"

	"github.com/ingestprobe/ingestprobe/agent"
	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
)

// guardShow keeps check's publish and uplink soak off a show that is live from this host, as the
// agent does for live = true targets: an encoder here publishing to a target's ingest (or one
// seen within the target's live_quiet) holds that target's publish back to connect, and the
// record says why (live.publish_held). Where the live watch is not available check cannot tell;
// it says so and publishes as asked. The returned function stops the watch.
func guardShow(ctx context.Context, e env, cfg *config.Config, p *agent.Pipeline, targets []agent.Target, soak bool) func() {
	var watched []agent.Target
	for i := range targets {
		if soak || targets[i].RTMP == rtmp.LevelPublish {
			targets[i].Live = true
			watched = append(watched, targets[i])
		}
	}
	if len(watched) == 0 {
		return func() {}
	}
	ls := agent.NewLiveSampler(cfg.Agent.ID, watched, cfg.Agent.Resolvers, nil)
	if !ls.Available() {
		ls.Close()
		for i := range targets {
			targets[i].Live = false
		}
		fmt.Fprintln(e.stderr, "warning: the live watch is not available on this system, so check cannot see whether an encoder here is live on the stream: publishing as asked")
		return func() {}
	}
	ls.Start(ctx)
	p.ShowLive = ls.Holding
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ls.Run(wctx) // for --watch: a show that starts later holds the next rounds back
	}()
	return func() {
		cancel()
		<-done
		ls.Close()
	}
}
