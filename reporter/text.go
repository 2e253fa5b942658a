package reporter

import (
	"fmt"
	"io"
	"strings"

	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// TextOptions shape the human checklist.
type TextOptions struct {
	Color bool // ANSI colours; only on a terminal, and never when NO_COLOR is set
}

type palette struct{ ok, bad, warn, dim, bold, reset string }

func (o TextOptions) palette() palette {
	if !o.Color {
		return palette{}
	}
	return palette{ok: "\x1b[32m", bad: "\x1b[31m", warn: "\x1b[33m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m"}
}

// WriteText writes the GO / NO-GO checklist of each record: one line per step measured, then the
// findings with their remedies, then the verdict.
func WriteText(w io.Writer, recs []record.Record, o TextOptions) error {
	c := o.palette()
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%s%s%s  %s", c.bold, r.Target, c.reset, r.URL)
		if r.Provider != "" && r.Provider != "generic" {
			fmt.Fprintf(&b, "  %s(provider %s)%s", c.dim, r.Provider, c.reset)
		}
		b.WriteString("\n")
		writeSteps(&b, r, c)
		if len(r.Findings) > 0 {
			b.WriteString("\n")
		}
		for _, f := range r.Findings {
			mark, col := severityMark(f.Severity, c)
			fmt.Fprintf(&b, "  %s%s %s%s  %s\n", col, mark, f.Code, c.reset, f.Message)
			if f.Remedy != "" {
				fmt.Fprintf(&b, "      %s→ %s%s\n", c.dim, f.Remedy, c.reset)
			}
		}
		fmt.Fprintf(&b, "\n  %s\n\n", verdictText(r.Verdict, c))
	}
	if len(recs) > 1 {
		var vs []record.Verdict
		nogo := 0
		for _, r := range recs {
			vs = append(vs, r.Verdict)
			if r.Verdict == record.NoGo {
				nogo++
			}
		}
		fmt.Fprintf(&b, "Overall: %s — %d of %d targets NO-GO\n", verdictText(record.Worst(vs...), c), nogo, len(recs))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSteps(b *strings.Builder, r record.Record, c palette) {
	step := func(ok bool, soft bool, name, text string) {
		mark, col := "✔", c.ok
		if !ok {
			mark, col = "✘", c.bad
			if soft {
				mark, col = "–", c.dim
			}
		}
		fmt.Fprintf(b, "  %s%s%s %-4s %s\n", col, mark, c.reset, name, text)
	}
	if d := r.Results.DNS; d != nil {
		if d.Error != "" {
			step(false, false, "dns", fmt.Sprintf("%s: %s after %s (resolver %s)", d.Host, strings.ToUpper(string(d.Error)), ms(d.DurationSeconds), d.Resolver))
		} else {
			chain := append([]string{d.Host}, d.CNAME...)
			addrs := append(append([]string{}, d.A...), d.AAAA...)
			if len(addrs) == 0 {
				addrs = []string{"no address"}
			}
			step(len(d.A)+len(d.AAAA) > 0, false, "dns", fmt.Sprintf("%s → %s  %s(%s via %s)%s",
				strings.Join(chain, " → "), strings.Join(addrs, ", "), c.dim, ms(d.DurationSeconds), d.Resolver, c.reset))
		}
	}
	for _, t := range r.Results.TCP {
		where := fmt.Sprintf("%s port %d", t.Address, t.Port)
		if strings.Contains(t.Address, ":") {
			where = fmt.Sprintf("[%s] port %d", t.Address, t.Port)
		}
		role := ""
		if t.Role == "alternative" {
			role = c.dim + " (alternative)" + c.reset
		}
		if t.OK {
			step(true, false, "tcp", fmt.Sprintf("%s connected in %s%s", where, ms(t.ConnectSeconds), role))
			continue
		}
		why := string(t.Error)
		if t.Errno != "" {
			why += " (" + t.Errno + ")"
		}
		step(false, t.Role == "alternative", "tcp", fmt.Sprintf("%s %s after %s%s", where, why, ms(t.ConnectSeconds), role))
	}
	if i := r.Results.ICMP; i != nil && i.Error != icmp.Canceled {
		// ICMP is a measurement beside the verdict: only loss is marked as bad; no socket or no
		// reply at all is shown as "not measured".
		switch {
		case i.Error != icmp.OK:
			why := string(i.Error)
			if i.Errno != "" {
				why += " (" + i.Errno + ")"
			}
			step(false, true, "icmp", fmt.Sprintf("%s not measured: %s", i.Address, why))
		case i.Received == 0:
			step(false, true, "icmp", fmt.Sprintf("%s answered none of %d echoes (ICMP filtered?)", i.Address, i.Sent))
		default:
			lost := ""
			if i.Received < i.Sent {
				lost = fmt.Sprintf(" (%.0f %% lost)", i.LossRatio*100)
			}
			step(i.Received == i.Sent, false, "icmp", fmt.Sprintf("%s %d/%d echoes answered%s, rtt min/avg/max %.1f/%.1f/%.1f ms",
				i.Address, i.Received, i.Sent, lost, i.RTTMinSeconds*1000, i.RTTAvgSeconds*1000, i.RTTMaxSeconds*1000))
		}
	}
}

func severityMark(s record.Severity, c palette) (string, string) {
	switch s {
	case record.Error:
		return "✘", c.bad
	case record.Warning:
		return "!", c.warn
	}
	return "i", c.dim
}

func verdictText(v record.Verdict, c palette) string {
	switch v {
	case record.Go:
		return c.ok + c.bold + "GO" + c.reset
	case record.Warn:
		return c.warn + c.bold + "GO, with warnings" + c.reset
	}
	return c.bad + c.bold + "NO-GO" + c.reset
}

func ms(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.1f ms", s*1000)
}

// CheckDocument is what `check --json` prints: the overall verdict and one record per target.
type CheckDocument struct {
	Verdict record.Verdict  `json:"verdict"`
	Targets []record.Record `json:"targets"`
}

// NewCheckDocument builds the document.
func NewCheckDocument(recs []record.Record) CheckDocument {
	vs := make([]record.Verdict, len(recs))
	for i, r := range recs {
		vs[i] = r.Verdict
	}
	if recs == nil {
		recs = []record.Record{}
	}
	return CheckDocument{Verdict: record.Worst(vs...), Targets: recs}
}
