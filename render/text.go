// Package render turns records into what a person or a script reads from `check` and `url check`:
// the GO / NO-GO checklist with causes and remedies, and the JSON document of --json.
package render

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/record"
)

// Options shape the human checklist.
type Options struct {
	Color bool // ANSI colours; only on a terminal, and never when NO_COLOR is set
}

type palette struct{ ok, bad, warn, dim, bold, reset string }

func (o Options) palette() palette {
	if !o.Color {
		return palette{}
	}
	return palette{ok: "\x1b[32m", bad: "\x1b[31m", warn: "\x1b[33m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m"}
}

// Checklist writes the GO / NO-GO checklist of each record: one line per step measured, then the
// findings with their remedies, then the verdict.
func Checklist(w io.Writer, recs []record.Record, o Options) error {
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
				fmt.Fprintf(&b, "      %s→%s %s\n", c.dim, c.reset, f.Remedy) // what to do: never the faintest text
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
		// The mark is the worse of the measurement and the step's own findings: a ✔ never sits
		// beside an error of that step, and a warning is "!".
		sev := stepSeverity(r, name)
		mark, col := "✔", c.ok
		switch {
		case !ok && soft && sev != record.Error:
			mark, col = "–", c.dim
		case !ok || sev == record.Error:
			mark, col = "✘", c.bad
		case sev == record.Warning:
			mark, col = "!", c.warn
		}
		fmt.Fprintf(b, "  %s%s%s %-4s %s\n", col, mark, c.reset, name, text)
	}
	writeURLSteps(r, c, step)
	if d := r.Results.DNS; d != nil {
		if d.Error != "" {
			step(false, false, "dns", fmt.Sprintf("%s: %s after %s (resolver %s)", d.Host, dnsFailure(d.Error), ms(d.DurationSeconds), d.Resolver))
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
	// An srt:// target's handshake is its ingest step: it comes before the TCP connects, which
	// for SRT are all to alternative ports.
	if x := r.Results.SRT; x != nil && x.Error != srt.Canceled {
		step(x.OK, false, "srt", srtStep(x, c))
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
		why := tcpFailure(t.Error)
		if t.Errno != "" {
			why += " (" + t.Errno + ")"
		}
		step(false, t.Role == "alternative", "tcp", fmt.Sprintf("%s %s after %s%s", where, why, ms(t.ConnectSeconds), role))
	}
	for _, t := range r.Results.Path {
		if t.Error != path.Canceled {
			ok, soft, text := pathStep(t, c)
			step(ok, soft, "path", text)
		}
	}
	if x := r.Results.RTMP; x != nil {
		step(x.OK, false, "rtmp", rtmpStep(x, c))
	}
	for _, x := range r.Results.RTMPSegments {
		step(x.OK, true, "rtmp", fmt.Sprintf("%s %s(segments of %d bytes)%s", rtmpStep(&x, c), c.dim, x.MaxSegment, c.reset))
	}
	if x := r.Results.RTMPOther; x != nil {
		step(x.OK, false, "rtmp", rtmpStep(x, c))
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
			step(i.Received == i.Sent, false, "icmp", fmt.Sprintf("%s %d/%d echoes answered%s, rtt min/avg/max %s/%s/%s ms",
				i.Address, i.Received, i.Sent, lost, msValue(i.RTTMinSeconds), msValue(i.RTTAvgSeconds), msValue(i.RTTMaxSeconds)))
		}
	}
	if u := r.Results.Uplink; u != nil && u.Error != uplink.Canceled {
		ok, text := uplinkStep(u)
		step(ok, u.Error == uplink.NotPublished, "uplink", text)
	}
	if l := r.Results.Live; l != nil && l.HeldBack == "" {
		ok, soft, text := liveStep(l)
		step(ok, soft, "live", text)
	}
}

// liveStep is the live watch's line (watch, and a live window's record): who publishes, what the
// ingest acknowledged, and the connection's health. No publisher is not a failure: it is shown as
// not measured ("–"), as a show that has not started is normal.
func liveStep(l *live.Result) (ok, soft bool, text string) {
	switch {
	case l.Error != live.OK:
		return false, true, "not available on this system: " + l.Detail
	case l.Publishers == 0:
		text = "no encoder on this host publishes to " + l.Ingest
		if l.LastSeenSecondsAgo > 0 {
			text += fmt.Sprintf(" (the last one left %.0f s ago)", l.LastSeenSecondsAgo)
		}
		return false, true, text
	}
	var procs []string
	for _, c := range l.Connections {
		if !slices.Contains(procs, c.Process) {
			procs = append(procs, c.Process)
		}
	}
	text = fmt.Sprintf("%d publisher(s) to %s (%s)", l.Publishers, l.Ingest, strings.Join(procs, ", "))
	if l.FiguresUnknown != "" && l.UnknownConnections >= l.Publishers {
		return true, false, text + ": figures unknown, " + l.FiguresUnknown
	}
	text += fmt.Sprintf(": %s acknowledged, rtt %s ms, %.1f %% retransmitted, backlog %s",
		uplink.FormatRate(l.AckedBps), msRound(l.RTTSeconds), 100*l.RetransmitRatio, backlogText(l))
	if l.ReconnectsTotal > 0 {
		text += fmt.Sprintf(", %d reconnect(s)", l.ReconnectsTotal)
	}
	return true, false, text
}

func backlogText(l *live.Result) string {
	if l.BacklogSeconds > 0 || l.StreamBps > 0 {
		return fmt.Sprintf("%.2f s", l.BacklogSeconds)
	}
	return fmt.Sprintf("%d B", l.BacklogBytes)
}

// uplinkStep is the soak's line: the show's rate, what was sustained, the RTT under load and the
// retransmissions. It is marked bad below the show's rate; no headroom, loss and bloat are the
// findings' to tell.
func uplinkStep(u *uplink.Result) (bool, string) {
	show := uplink.FormatRate(float64(u.TargetBPS)) + " show: "
	switch u.Error {
	case uplink.NotPublished:
		return false, show + "not measured: the publish was not accepted, nothing was sent"
	case uplink.Dropped:
		return false, show + "the publish ended during the soak"
	case uplink.Unmeasured:
		return false, show + fmt.Sprintf("sent %s, but nothing measured what arrived", uplink.FormatRate(u.SentBPS))
	}
	text := fmt.Sprintf("%s%s sustained over %.0f s", show, uplink.FormatRate(u.AchievedBPS), u.DurationSeconds)
	if u.RTTAvgSeconds > 0 {
		text += fmt.Sprintf(", rtt %s/%s/%s ms", msRound(u.RTTMinSeconds), msRound(u.RTTAvgSeconds), msRound(u.RTTMaxSeconds))
		text += fmt.Sprintf(", %.1f %% retransmitted", 100*u.RetransmitRatio)
	} else {
		text += " (by the ingest's acknowledgements)"
	}
	return u.AchievedBPS >= float64(u.TargetBPS), text
}

// msRound is a duration in seconds as whole milliseconds ("12"), or one decimal below 10 ms.
func msRound(s float64) string {
	if v := s * 1000; v < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", s*1000)
}

// rtmpStep is the RTMP line in plain words: what was tried, what happened, how long each step
// took. Phase and class names stay in the record; a status code the server sent is quoted in
// parentheses, as the server's own words.
func rtmpStep(x *rtmp.Result, c palette) string {
	where := fmt.Sprintf("%s port %d", x.Address, x.Port)
	if strings.Contains(x.Address, ":") {
		where = fmt.Sprintf("[%s] port %d", x.Address, x.Port)
	}
	level := string(x.Level)
	if x.TLS {
		level += " over TLS"
	}
	head := fmt.Sprintf("%s to %s: %s", level, where, rtmpOutcome(x))
	// What the ingest said to the Enhanced RTMP offer: information, never a failure.
	if x.Connected() {
		if len(x.Codecs) > 0 {
			head += "; Enhanced RTMP: " + strings.Join(x.Codecs, ", ")
		} else {
			head += "; Enhanced RTMP: none announced"
		}
		if x.EnhancedRefused {
			head += " (the offer was refused; a plain connect was accepted)"
		}
	}
	var times []string
	for _, p := range []struct {
		name string
		s    float64
	}{{"tcp", x.ConnectSeconds}, {"tls", x.TLSSeconds}, {"handshake", x.HandshakeSeconds}, {"connect", x.RTMPConnectSeconds},
		{"stream setup", x.CreateStreamSeconds}, {"publish", x.PublishSeconds}} {
		if p.s > 0 {
			times = append(times, p.name+" "+ms(p.s))
		}
	}
	if len(times) == 0 {
		return head
	}
	return fmt.Sprintf("%s  %s(%s)%s", head, c.dim, strings.Join(times, ", "), c.reset)
}

// rtmpOutcome says what happened, in words: how far the session got and how it ended.
func rtmpOutcome(x *rtmp.Result) string {
	if x.OK {
		switch x.Phase {
		case rtmp.PhaseHold, rtmp.PhasePublish:
			if x.HoldSeconds > 0 {
				return "accepted and held for " + ms(x.HoldSeconds)
			}
			return "accepted"
		case rtmp.PhaseRTMPConnect:
			return "the application accepted the connection"
		}
		return "handshake completed"
	}
	step := map[rtmp.Phase]string{
		rtmp.PhaseConnect: "the TCP connect", rtmp.PhaseTLS: "the TLS handshake", rtmp.PhaseHandshake: "the handshake",
		rtmp.PhaseRTMPConnect: "the connect to the application", rtmp.PhaseCreateStream: "the stream setup",
		rtmp.PhasePublish: "the publish request", rtmp.PhaseHold: "the publish",
	}[x.Phase]
	status := ""
	if x.Status != "" && x.Status != rtmp.StatusPublishStart {
		status = " (" + x.Status + ")"
	}
	errno := ""
	if x.Errno != "" {
		errno = " (" + x.Errno + ")"
	}
	switch x.Error {
	case rtmp.Canceled:
		return "stopped before it finished"
	case rtmp.Timeout:
		if x.Phase == rtmp.PhaseHandshake && x.BytesReceived == 0 {
			return fmt.Sprintf("no answer to the handshake in %s", ms(x.HandshakeSeconds))
		}
		return "no answer to " + step + " in time"
	case rtmp.ConnectFailed:
		return "the TCP connect failed" + errno
	case rtmp.TLS:
		return tlsOutcome(x)
	case rtmp.NotRTMP:
		switch x.LooksLike {
		case "http", "html":
			if x.HTTPStatus != 0 {
				return fmt.Sprintf("answered with a web page (HTTP status %d), not RTMP", x.HTTPStatus)
			}
			return "answered with a web page, not RTMP"
		case "tls":
			return "answered with TLS, not plain RTMP"
		case "ssh":
			return "answered with SSH, not RTMP"
		}
		return fmt.Sprintf("answered with something that is not RTMP (first byte %s)", x.S0)
	case rtmp.InUse:
		return "refused: another encoder is already publishing this stream" + status
	case rtmp.Rejected:
		return "the server refused " + step + status
	case rtmp.Closed:
		if x.Phase == rtmp.PhaseHold {
			if x.HoldSeconds < 1 {
				return "accepted, then closed by the server at once" + status
			}
			return fmt.Sprintf("accepted, then closed by the server after %s%s", ms(x.HoldSeconds), status)
		}
		if x.Phase == rtmp.PhaseHandshake {
			return fmt.Sprintf("closed by the server during the handshake, after %d bytes%s", x.BytesReceived, errno)
		}
		return "closed by the server after " + step + ", without a status" + errno
	case rtmp.Protocol:
		return "the server broke the RTMP protocol during " + step
	}
	return step + " failed" + errno
}

// tlsOutcome says in words why the TLS session failed, naming the certificate where there is one.
func tlsOutcome(x *rtmp.Result) string {
	issuer := ""
	if c := x.Certificate; c != nil {
		name := c.IssuerCN
		if name == "" {
			name = c.IssuerO
		}
		if name != "" && !c.SelfSigned {
			issuer = fmt.Sprintf(" (issued by '%s')", name)
		}
	}
	switch x.TLSReason {
	case rtmp.TLSUnknownAuthority:
		if c := x.Certificate; c != nil && c.SelfSigned {
			return "the certificate is self-signed, and this machine does not trust it"
		}
		return "the certificate is not from an authority this machine trusts" + issuer
	case rtmp.TLSNameMismatch:
		return "the certificate is for another host name" + issuer
	case rtmp.TLSExpired:
		if c := x.Certificate; c != nil {
			return "the certificate expired on " + c.NotAfter.UTC().Format("2006-01-02")
		}
		return "the certificate has expired"
	case rtmp.TLSNotYetValid:
		return "the certificate is not valid yet (check this machine's clock)"
	case rtmp.TLSNotTLS:
		return "the server did not answer with TLS"
	case rtmp.TLSTimeout:
		return "no answer to the TLS hello in " + ms(x.TLSSeconds)
	case rtmp.TLSAlert:
		return "the server refused the TLS handshake"
	case rtmp.TLSClosed:
		return "closed by the server during the TLS handshake"
	case rtmp.TLSCAFile:
		return "the configured ca_file could not be used"
	}
	return "the TLS handshake failed"
}

// srtStep is the SRT line: what the handshake reached, what was sent (never the values), and the
// round trip. It avoids the handshake's own jargon (induction, conclusion): the finding below
// explains a failure in words.
func srtStep(x *srt.Result, c palette) string {
	where := fmt.Sprintf("%s port %d (UDP)", x.Address, x.Port)
	if strings.Contains(x.Address, ":") {
		where = fmt.Sprintf("[%s] port %d (UDP)", x.Address, x.Port)
	}
	var times []string
	if x.RTTSeconds > 0 {
		times = append(times, "rtt "+ms(x.RTTSeconds))
	}
	if hs := x.InductionSeconds + x.ConclusionSeconds; x.ConclusionSeconds > 0 {
		times = append(times, "handshake "+ms(hs))
	}
	var head string
	switch x.Error {
	case srt.OK:
		var what []string
		if x.PeerVersion != "" {
			what = append(what, "listener SRT "+x.PeerVersion)
		}
		if x.Encrypted {
			what = append(what, fmt.Sprintf("AES-%d, passphrase accepted", x.KeyLength*8))
		} else {
			what = append(what, "not encrypted")
		}
		if x.StreamID {
			what = append(what, "stream id accepted")
		}
		if x.LatencySeconds > 0 {
			what = append(what, fmt.Sprintf("latency %.0f ms", x.LatencySeconds*1000))
		}
		head = fmt.Sprintf("handshake with %s ok: %s", where, strings.Join(what, ", "))
	case srt.Rejected:
		why := string(x.RejectReason)
		if sym := x.RejectReason.Symbol(); sym != "" {
			why = sym
		}
		if x.KMState != "" && x.RejectCode == 0 {
			why += " (key material " + x.KMState + ")"
		}
		head = fmt.Sprintf("%s rejected the connection: %s", where, why)
	case srt.Timeout:
		if x.Phase == srt.PhaseConclusion {
			head = fmt.Sprintf("%s answered the first handshake packet, not the second, in %s", where, ms(x.ElapsedSeconds))
		} else {
			head = fmt.Sprintf("%s: no answer to the handshake in %s (%d packets sent)", where, ms(x.ElapsedSeconds), x.Sends)
		}
	case srt.Refused:
		head = fmt.Sprintf("%s: ICMP port unreachable (%s) after %s", where, x.Errno, ms(x.ElapsedSeconds))
	default:
		why := string(x.Error)
		if x.Errno != "" {
			why += " (" + x.Errno + ")"
		}
		head = fmt.Sprintf("%s: %s after %s", where, why, ms(x.ElapsedSeconds))
	}
	if len(times) == 0 {
		return head
	}
	return fmt.Sprintf("%s  %s(%s)%s", head, c.dim, strings.Join(times, ", "), c.reset)
}

// tcpFailure says in words how a connect failed.
func tcpFailure(c tcp.Class) string {
	switch c {
	case tcp.Timeout:
		return "no answer"
	case tcp.Refused:
		return "refused"
	case tcp.Unreachable:
		return "unreachable"
	case tcp.Reset:
		return "reset"
	case tcp.Denied:
		return "blocked by this machine's firewall"
	case tcp.Canceled:
		return "stopped"
	}
	return "failed"
}

// dnsFailure names a failed lookup for the checklist: rcodes as DNS tools print them (NXDOMAIN,
// SERVFAIL), the other classes in words — a technician cannot act on "NETWORK".
func dnsFailure(c dns.Class) string {
	switch c {
	case dns.Timeout:
		return "no answer"
	case dns.Network:
		return "resolver unreachable"
	case dns.Canceled:
		return "canceled"
	}
	return strings.ToUpper(string(c))
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

// ms prints a duration in seconds for a reader: "2.0 s", "12.3 ms", and below a millisecond two
// decimals ("0.04 ms"), so a LAN or loopback time does not read as zero.
func ms(s float64) string {
	if s >= 1 {
		return fmt.Sprintf("%.1f s", s)
	}
	return msValue(s) + " ms"
}

// msValue is a duration in seconds as a number of milliseconds, without the unit.
func msValue(s float64) string {
	if v := s * 1000; v < 1 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", s*1000)
}

// Document is what `check --json` prints: the overall verdict and one record per target.
type Document struct {
	Verdict record.Verdict  `json:"verdict"`
	Targets []record.Record `json:"targets"`
}

// NewDocument builds the document.
func NewDocument(recs []record.Record) Document {
	vs := make([]record.Verdict, len(recs))
	for i, r := range recs {
		vs[i] = r.Verdict
	}
	if recs == nil {
		recs = []record.Record{}
	}
	return Document{Verdict: record.Worst(vs...), Targets: recs}
}

// writeURLSteps writes the URL doctor's line and the clock reference's: what was checked offline,
// so a GO says the signature and the expiry were looked at, not only the network.
func writeURLSteps(r record.Record, c palette, step func(ok, soft bool, name, text string)) {
	var offset time.Duration
	if k := r.Results.Clock; k != nil {
		if k.OK {
			offset = k.Offset()
			dir := "behind" // the offset is the reference's time minus ours
			if offset < 0 {
				dir = "ahead of"
			}
			size := ms(offset.Abs().Seconds())
			if offset.Abs() >= time.Minute {
				size = shortDuration(offset.Abs())
			}
			step(!hasFinding(r, "clock.skew", record.Error), false, "time", fmt.Sprintf("this clock is %s %s %s %s  %s(rtt %s)%s",
				size, dir, strings.ToUpper(k.Source), k.Server, c.dim, ms(k.RTTSeconds), c.reset))
		} else {
			step(false, true, "time", fmt.Sprintf("%s %s: %s — txTime judged by this host's clock", strings.ToUpper(k.Source), k.Server, k.Error))
		}
	}
	l := r.Results.URL
	if l == nil {
		return
	}
	parts := []string{l.Scheme + "://"}
	if l.ModeDeclared {
		parts[0] += " (mode " + string(l.Mode) + ")"
	}
	switch l.Signature {
	case "ok":
		parts = append(parts, "signature ok")
	case "ok_backup":
		parts = append(parts, "signature ok (backup key)")
	case "mismatch":
		parts = append(parts, "signature does not match")
	case "not_checked":
		parts = append(parts, "signature not checked (no key configured)")
	}
	if !l.Expires.IsZero() {
		left := l.Expires.Sub(r.Time.Add(offset))
		when := l.Expires.UTC().Format("2006-01-02 15:04 UTC")
		if left > 0 {
			parts = append(parts, fmt.Sprintf("valid until %s (%s left)", when, shortDuration(left)))
		} else {
			parts = append(parts, fmt.Sprintf("expired %s (%s ago)", when, shortDuration(-left)))
		}
	}
	if n := len(l.Issues); n > 0 {
		parts = append(parts, fmt.Sprintf("%d issue(s) below", n))
	} else if l.IngestRules != "" {
		// A GO must say the platform's rules were looked at, not only that the URL parses.
		parts[0] += " URL well-formed"
		parts = append(parts, "host, port and application as the "+l.IngestRules+" ingest takes them")
	} else if len(parts) == 1 {
		parts[0] += " URL well-formed, not signed" // a bare "rtmp://" reads like a fragment
	}
	step(!hasPrefixFinding(r, "url.", record.Error), false, "url", strings.Join(parts, ", "))
}

// stepFindings are the finding code prefixes that belong to a checklist step with one line. TCP,
// with a line per address and port, is marked by each connect alone: a tcp.blocked must not mark
// the alternative port that connected.
var stepFindings = map[string][]string{
	"url": {"url."}, "time": {"clock."}, "dns": {"dns."}, "rtmp": {"rtmp.", "tls.", "net.mtu_blackhole"}, "srt": {"srt."},
	"icmp": {"net.packet_loss", "net.high_latency", "icmp."}, "live": {"live."},
	// net.ipv6_broken marks no single line: the failing family's TCP lines carry it.
}

// stepSeverity is the worst severity among the findings of step (error, warning, or "" for none
// or information only).
func stepSeverity(r record.Record, step string) record.Severity {
	var worst record.Severity
	for _, f := range r.Findings {
		for _, p := range stepFindings[step] {
			if !strings.HasPrefix(f.Code, p) {
				continue
			}
			switch f.Severity {
			case record.Error:
				return record.Error
			case record.Warning:
				worst = record.Warning
			}
		}
	}
	return worst
}

func hasFinding(r record.Record, code string, sev record.Severity) bool {
	for _, f := range r.Findings {
		if f.Code == code && f.Severity == sev {
			return true
		}
	}
	return false
}

func hasPrefixFinding(r record.Record, prefix string, sev record.Severity) bool {
	for _, f := range r.Findings {
		if strings.HasPrefix(f.Code, prefix) && f.Severity == sev {
			return true
		}
	}
	return false
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
