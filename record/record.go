// Package record holds the shapes that leave the agent: a Finding (what is wrong, why, what to do),
// a target's Verdict, the probe Results, and the Record that carries them to every sink and to
// `check --json`.
package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/clock"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
)

// Severity of a finding.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Finding is one diagnosis. Code is a stable public contract (docs/findings.md).
type Finding struct {
	Code     string         `json:"code"`
	Severity Severity       `json:"severity"`
	Message  string         `json:"message"`
	Remedy   string         `json:"remedy"`
	Evidence map[string]any `json:"evidence,omitempty"`
}

// Verdict of a target: go (no error or warning), warn (warnings only), no-go (any error).
type Verdict string

const (
	Go   Verdict = "go"
	Warn Verdict = "warn"
	NoGo Verdict = "no-go"
)

// VerdictOf the findings.
func VerdictOf(fs []Finding) Verdict {
	v := Go
	for _, f := range fs {
		switch f.Severity {
		case Error:
			return NoGo
		case Warning:
			v = Warn
		}
	}
	return v
}

// Worst of several verdicts.
func Worst(vs ...Verdict) Verdict {
	w := Go
	for _, v := range vs {
		if v == NoGo {
			return NoGo
		}
		if v == Warn {
			w = Warn
		}
	}
	return w
}

// Results is what the probes of one target run measured. It is written as a JSON list of objects,
// each naming its probe, in the order the pipeline ran them.
type Results struct {
	URL   *ingesturl.Lint // the URL doctor's offline lint
	Clock *clock.Result   // the clock reference, when one is configured
	DNS   *dns.Result
	TCP   []tcp.Result
	Path  []path.Result // traces of the ingest port (and an alternative port that connected), by trace mode
	SRT   *srt.Result   // srt:// targets: the SRT handshake, beside the TCP connects to the alternative ports
	RTMP  *rtmp.Result
	// RTMPSegments are the handshakes retried with TCP_MAXSEG lowered after RTMP stalled in the
	// handshake (the path MTU black-hole test), in the order they ran; each has max_segment set.
	RTMPSegments []rtmp.Result
	// RTMPOther is the handshake on the other address family, when the host has addresses of both
	// and the ingest port connected on both (role "other_family").
	RTMPOther *rtmp.Result
	ICMP      *icmp.Result // nil when icmp = false, or no address was resolved
	// Live is a window of the encoder's own connection (live = true targets): alone in the live
	// sampler's records, or, with HeldBack, in a pipeline record whose publish probe was held back.
	Live *live.Result
	// Uplink is the uplink soak (check --uplink, a target's uplink on its own schedule): nil
	// on the runs that did not soak.
	Uplink *uplink.Result
}

// LiveWindow says the record is one window of the live watch (not a pipeline run).
func (r Record) LiveWindow() bool { return r.Results.Live != nil && r.Results.Live.HeldBack == "" }

// MarshalJSON writes the list.
func (r Results) MarshalJSON() ([]byte, error) {
	list := []any{}
	if r.URL != nil {
		list = append(list, r.URL)
	}
	if r.Clock != nil {
		list = append(list, r.Clock)
	}
	if r.DNS != nil {
		list = append(list, r.DNS)
	}
	for i := range r.TCP {
		list = append(list, &r.TCP[i])
	}
	for i := range r.Path {
		list = append(list, &r.Path[i])
	}
	if r.SRT != nil {
		list = append(list, r.SRT)
	}
	if r.RTMP != nil {
		list = append(list, r.RTMP)
	}
	for i := range r.RTMPSegments {
		list = append(list, &r.RTMPSegments[i])
	}
	if r.RTMPOther != nil {
		list = append(list, r.RTMPOther)
	}
	if r.ICMP != nil {
		list = append(list, r.ICMP)
	}
	if r.Live != nil {
		list = append(list, r.Live)
	}
	if r.Uplink != nil {
		list = append(list, r.Uplink)
	}
	return json.Marshal(list)
}

// UnmarshalJSON reads the list back, by each object's "probe".
func (r *Results) UnmarshalJSON(b []byte) error {
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*r = Results{}
	for _, raw := range list {
		var head struct{ Probe string }
		if err := json.Unmarshal(raw, &head); err != nil {
			return err
		}
		switch head.Probe {
		case "url":
			r.URL = new(ingesturl.Lint)
			if err := json.Unmarshal(raw, r.URL); err != nil {
				return err
			}
		case "clock":
			r.Clock = new(clock.Result)
			if err := json.Unmarshal(raw, r.Clock); err != nil {
				return err
			}
		case "dns":
			r.DNS = new(dns.Result)
			if err := json.Unmarshal(raw, r.DNS); err != nil {
				return err
			}
		case "tcp":
			var t tcp.Result
			if err := json.Unmarshal(raw, &t); err != nil {
				return err
			}
			r.TCP = append(r.TCP, t)
		case "path":
			var p path.Result
			if err := json.Unmarshal(raw, &p); err != nil {
				return err
			}
			r.Path = append(r.Path, p)
		case "srt":
			r.SRT = new(srt.Result)
			if err := json.Unmarshal(raw, r.SRT); err != nil {
				return err
			}
		case "rtmp":
			var x rtmp.Result
			if err := json.Unmarshal(raw, &x); err != nil {
				return err
			}
			switch {
			case x.MaxSegment > 0:
				r.RTMPSegments = append(r.RTMPSegments, x)
			case x.Role == "other_family":
				r.RTMPOther = &x
			default:
				r.RTMP = &x
			}
		case "icmp":
			r.ICMP = new(icmp.Result)
			if err := json.Unmarshal(raw, r.ICMP); err != nil {
				return err
			}
		case "live":
			r.Live = new(live.Result)
			if err := json.Unmarshal(raw, r.Live); err != nil {
				return err
			}
		case "uplink":
			r.Uplink = new(uplink.Result)
			if err := json.Unmarshal(raw, r.Uplink); err != nil {
				return err
			}
		default:
			return fmt.Errorf("record: unknown probe %q in results", head.Probe)
		}
	}
	return nil
}

// Record is one run of one target: the same object in jsonl, http and `check --json`'s targets[].
type Record struct {
	ID              string            `json:"id,omitempty"` // "<agent id>:<sequence>", unique across restarts
	Agent           string            `json:"agent,omitempty"`
	Target          string            `json:"target"` // the configured name; never the URL
	URL             string            `json:"url"`    // redacted
	Provider        string            `json:"provider,omitempty"`
	Time            time.Time         `json:"time"`
	DurationSeconds float64           `json:"duration_seconds"`
	Verdict         Verdict           `json:"verdict"`
	Findings        []Finding         `json:"findings"`
	Results         Results           `json:"results"`
	Labels          map[string]string `json:"labels,omitempty"`
}

// Marshal encodes a record as one line of JSON, without HTML escaping (so "<redacted>" stays
// readable) and without the trailing newline.
func Marshal(rec Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
