package agent

import (
	"context"
	"net/netip"
	"sync"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

type pathProbe interface {
	Run(context.Context) path.Result
}

func (p *Pipeline) newPath(c path.Config) pathProbe {
	if p.path != nil {
		return p.path(c)
	}
	return path.New(c)
}

// probePath traces the ingest port where the trace mode asks for it, after the connects: in auto
// mode, per address family, when no address of the family connected on the ingest port (the
// first failing address is traced, and beside it, for comparison, the first alternative port that
// connected on that address); in always mode, the first address of each family, the ingest port
// and, when it failed, that alternative. The traces run together under one budget
// (path.DefaultBudget), so a run on a blocked port ends within its timeout plus the budget.
// srt:// has no TCP ingest port to trace.
func (p *Pipeline) probePath(ctx context.Context, t Target, u *ingesturl.URL, res *record.Results) {
	mode := t.Trace
	if mode == "" {
		mode = path.DefaultMode
	}
	if mode == path.ModeOff || u.Scheme == "srt" || ctx.Err() != nil {
		return
	}
	type trace struct {
		ap   netip.AddrPort
		role string
	}
	var traces []trace
	for _, v6 := range []bool{false, true} {
		var family []tcp.Result
		for _, r := range res.TCP {
			if a, err := netip.ParseAddr(r.Address); err == nil && a.Is6() == v6 {
				family = append(family, r)
			}
		}
		in, alt, ok := pickTrace(family)
		if !ok || (mode == path.ModeAuto && in.OK) || in.Error == tcp.Canceled {
			continue
		}
		a, _ := netip.ParseAddr(in.Address)
		traces = append(traces, trace{netip.AddrPortFrom(a, uint16(in.Port)), "ingest"})
		if !in.OK && alt != nil {
			traces = append(traces, trace{netip.AddrPortFrom(a, uint16(alt.Port)), "alternative"})
		}
	}
	if len(traces) == 0 {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, path.DefaultBudget)
	defer cancel()
	res.Path = make([]path.Result, len(traces))
	var wg sync.WaitGroup
	for i, tr := range traces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.newPath(path.Config{Address: tr.ap}).Run(pctx)
			r.Role = tr.role
			res.Path[i] = r
		}()
	}
	wg.Wait()
}

// pickTrace chooses, among one family's connects, the ingest connect to trace — one that
// connected when any did, else the first whose address had an alternative port connect, else the
// first — and the first alternative that connected on its address.
func pickTrace(rs []tcp.Result) (in tcp.Result, alt *tcp.Result, ok bool) {
	altOf := func(addr string) *tcp.Result {
		for i := range rs {
			if rs[i].Address == addr && rs[i].Role == "alternative" && rs[i].OK {
				return &rs[i]
			}
		}
		return nil
	}
	for _, r := range rs {
		if r.Role != "ingest" {
			continue
		}
		switch {
		case r.OK:
			return r, nil, true
		case !ok || (alt == nil && altOf(r.Address) != nil):
			in, alt, ok = r, altOf(r.Address), true
		}
	}
	return in, alt, ok
}
