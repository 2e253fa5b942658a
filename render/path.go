package render

import (
	"fmt"
	"strings"

	"github.com/ingestprobe/ingestprobe/probes/path"
)

// pathStep is a trace's checklist line: the hops in order ("*" for silence) and how the path
// ended. ok says the SYNs reached the server and it accepted them.
func pathStep(t path.Result, c palette) (ok, soft bool, text string) {
	where := fmt.Sprintf("%s port %d", t.Address, t.Port)
	if strings.Contains(t.Address, ":") {
		where = fmt.Sprintf("[%s] port %d", t.Address, t.Port)
	}
	if !t.OK {
		return false, true, fmt.Sprintf("%s: %s", where, t.Reason)
	}
	var hops []string
	end := ""
	open := false
	for _, h := range t.Hops {
		switch h.Answer {
		case path.TimeExceeded:
			hops = append(hops, h.Address)
		case path.NoAnswer:
			hops = append(hops, "*")
		case path.SynAck:
			hops = append(hops, h.Address)
			end, open = fmt.Sprintf("reaches the server at hop %d", h.TTL), true
		case path.Reset:
			hops = append(hops, h.Address)
			end = fmt.Sprintf("reset at hop %d", h.TTL)
		case path.Unreachable:
			end = fmt.Sprintf("rejected by %s: %s", h.Address, h.Reason)
		case path.LocalError:
			end = "not sent: " + h.Reason
		}
	}
	if end == "" {
		end = "no answer past hop " + fmt.Sprint(len(hops)-1)
		if last, ok := t.LastRouter(); ok {
			end = fmt.Sprintf("dropped after hop %d", last.TTL)
		}
	}
	if len(hops) == 0 {
		hops = []string{"–"}
	}
	syns := fmt.Sprintf("%d SYNs", t.Sent)
	if t.Sent == 1 {
		syns = "1 SYN"
	}
	return open, false, fmt.Sprintf("%s: %s %s(%s; %s)%s", where, strings.Join(hops, " → "), c.dim, end, syns, c.reset)
}
