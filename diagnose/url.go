package diagnose

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/record"
)

// DefaultMinURLValidity is how much validity a signed URL must have left: Tencent advises setting
// txTime 12 to 24 hours ahead, longer than a show, so that an encoder reconnecting late in the show
// is not turned away (seed check 3).
const DefaultMinURLValidity = 12 * time.Hour

// Clock skew thresholds. 30 s is far beyond what any synchronised clock drifts, so it means time sync
// is off; 5 min is the window in which signed URLs and tokens of short validity (the seed's "5
// minutes from now" example) are already expired, or not yet valid, on this host.
const (
	DefaultClockSkewWarn  = 30 * time.Second
	DefaultClockSkewError = 5 * time.Minute
)

const tencentConsole = "the CSS console (Domain Management > your push domain > Push Configuration, or CSS Toolkit > Address Generator)"

// urlFindings turns the URL doctor's lint into findings, and judges txTime against the most trusted
// clock known: the reference's when a clock probe succeeded, else this host's.
func urlFindings(in Input) []record.Finding {
	l := in.Results.URL
	if l == nil || in.URL == nil {
		return nil
	}
	var out []record.Finding
	add := func(code string, sev record.Severity, msg, remedy string, ev map[string]any) {
		out = append(out, record.Finding{Code: code, Severity: sev, Message: msg, Remedy: remedy, Evidence: ev})
	}
	scheme := l.Scheme + "://"
	for _, is := range l.Issues {
		ev := map[string]any{"scheme": l.Scheme, "issue": string(is.Kind)}
		if is.Param != "" {
			ev["param"] = is.Param
		}
		switch is.Kind {
		// A transport ingestprobe cannot probe is never a GO: each of these is an error whose
		// message says the transport was not checked.
		case ingesturl.SchemePlayback:
			add("url.scheme_unsupported", record.Error,
				"this is a playback URL (HTTP-FLV or HLS), not a publishing URL: nothing can be pushed to it, and no publishing transport was checked",
				"Use the push URL of the push domain, rtmp://<push domain>/<AppName>/<StreamName>?txSecret=…&txTime=…, from the provider's console; playback domains and .flv/.m3u8 URLs only serve viewers.", ev)
		case ingesturl.SchemeHTTP:
			add("url.scheme_unsupported", record.Error,
				scheme+" is not a publishing protocol ingestprobe can check: the transport was not checked",
				"Give the rtmp://, rtmps:// or srt:// push URL from the provider's console. (WHIP endpoints are not probed.)", ev)
		case ingesturl.SchemeTRTC, ingesturl.SchemeWebRTC:
			rtc := l.ModeDeclared && l.Mode == ingesturl.ModeRTC
			what := "a TRTC (RTC) URL"
			remedy := "Push trtc:// only from the Tencent SDK's V2TXLivePusher in V2TXLiveMode_RTC, with the LiteAV_All or LiteAV_Enterprise edition: LiteAVSDK_Smart has no TRTC and startPush returns -2. For an RTMP encoder (OBS, ffmpeg, hardware), use the rtmp:// push URL instead."
			if is.Kind == ingesturl.SchemeWebRTC {
				what = "a WebRTC (LEB) push URL"
				remedy = "Push webrtc:// only from a WebRTC pusher (browser, or the Tencent SDK in RTC mode). For an RTMP encoder (OBS, ffmpeg, hardware), use the rtmp:// push URL of the same domain instead."
			}
			msg := scheme + " is " + what + ": its transport was not checked — ingestprobe probes only DNS and TCP to its signalling port, not the RTC media path"
			if rtc {
				// The target says it is an RTC pusher: the URL is right for it, but a check that
				// never reached the media path must not read as GO.
				remedy = "Test this push with the pusher itself (startPush in the Tencent SDK, or the WebRTC pusher) before the show: ingestprobe vouches only for DNS and TCP to the signalling port. To have the network path checked end to end, also configure the domain's rtmp:// push URL as a target."
			} else {
				msg += ", and no RTMP encoder can push it"
				remedy += " If this target is an RTC pusher, declare mode = \"rtc\"."
			}
			add("url.scheme_unsupported", record.Error, msg, remedy, ev)
		case ingesturl.SRTModeNotCaller:
			add("url.scheme_unsupported", record.Error,
				"srt:// with mode="+in.URL.SRT().Mode+": the ingest calls the encoder, so there is no listener to probe from here — the transport was not checked",
				"If the ingest is the SRT listener (the usual case for a push), remove mode= from the URL or set mode=caller. If the ingest really calls the encoder, the venue must let inbound UDP reach the encoder's port: check that with venue IT; ingestprobe cannot.", ev)
		case ingesturl.ModeMismatch:
			if l.Mode == ingesturl.ModeRTC {
				add("url.mode_mismatch", record.Error,
					fmt.Sprintf("the target is declared mode = \"rtc\" but the URL is %s: a pusher created in V2TXLiveMode_RTC refuses it and startPush returns -2", scheme),
					"Use the trtc:// URL with an RTC pusher, or create the pusher in V2TXLiveMode_RTMP and set mode = \"rtmp\" on this target.", ev)
			} else {
				add("url.mode_mismatch", record.Error,
					fmt.Sprintf("the target is declared mode = \"rtmp\" but the URL is %s: a pusher created in V2TXLiveMode_RTMP (and any RTMP encoder) refuses it", scheme),
					"Use the rtmp:// push URL with an RTMP pusher, or create the pusher in V2TXLiveMode_RTC (LiteAV_All or LiteAV_Enterprise) and set mode = \"rtc\" on this target.", ev)
			}
		case ingesturl.StreamMissing:
			if l.Scheme == "srt" {
				add("url.missing_param", record.Error, srtStreamMissing, srtPushRemedy, ev)
				break
			}
			if is.Reason != "" { // not signed: any provider's push URL
				what := "one part in its path where a push URL has two: the application or the stream name is missing"
				if is.Reason == ingesturl.ReasonNoPath {
					what = "no application and no stream name"
				}
				add("url.missing_param", record.Error,
					"the URL has "+what+": a push URL is "+scheme+"<host>[:port]/<application>/<stream name>, and an encoder given less is refused",
					"Copy the full push URL again from the provider's console. In OBS, Server is "+scheme+"<host>/<application> and Stream Key is the stream name.", ev)
				break
			}
			add("url.missing_param", record.Error,
				"the URL has no stream name: a push URL is "+scheme+"<domain>/<AppName>/<StreamName>?…, and the signature covers StreamName",
				"Copy the full push URL again from "+tencentConsole+". In OBS the part after the AppName goes into Stream Key, query included.", ev)
		case ingesturl.ExtraQuestion:
			add("url.missing_param", record.Warning,
				"the URL has a second '?': the stream name or a parameter value contains '?', so what follows is not read as the parameters it looks like",
				"Stream names must not contain '?', '&' or '#'. Copy the push URL again, or rename the stream to letters, digits, '-' and '_'.", ev)
		case ingesturl.ParamMissing:
			add("url.missing_param", record.Error, is.Param+" is missing from "+paramPlace(l, is.Param), missingRemedy(l, is.Param), ev)
		case ingesturl.ParamDuplicate:
			ev["count"] = is.Count
			add("url.missing_param", record.Error,
				fmt.Sprintf("%s appears %d times in the URL: servers disagree on which one counts", is.Param, is.Count),
				"Keep exactly one "+is.Param+": copy the push URL again from the console rather than appending parameters to it.", ev)
		case ingesturl.ParamCase:
			ev["found"] = is.Found
			add("url.missing_param", record.Error,
				fmt.Sprintf("the URL has %s, not %s: parameter names are case-sensitive", is.Found, is.Param),
				fmt.Sprintf("Rename the parameter to %s exactly.", is.Param), ev)
		case ingesturl.ParamMalformed:
			ev["reason"] = is.Reason
			msg, remedy := malformed(in.URL, is)
			add("url.missing_param", record.Error, msg, remedy, ev)
		}
	}
	if l.Signature == ingesturl.SigMismatch {
		msg, remedy := mismatch(l)
		add("url.txsecret_mismatch", record.Error, msg, remedy, map[string]any{
			"formula":    "lowercase hex MD5(KEY + StreamName + txTime)",
			"tx_time":    l.TxTime,
			"keys_tried": l.KeysTried,
			"hint":       string(l.Hint),
		})
	}
	out = append(out, expiryFindings(in, l)...)
	return out
}

func missingRemedy(l *ingesturl.Lint, param string) string {
	if l.Scheme == "trtc" {
		return "A TRTC push URL needs sdkappid, userId and usersig: trtc://cloud.tencent.com/push/<streamid>?sdkappid=…&userId=…&usersig=… (userSig is generated by your server from the app's secret key)."
	}
	if l.Scheme == "srt" {
		return srtPushRemedy
	}
	return "Signed push URLs carry both txSecret and txTime: copy the full push URL from " + tencentConsole +
		", or build one with `ingestprobe url sign`. If publishing authentication is off for this domain, set provider = \"generic\" on the target."
}

func malformed(u *ingesturl.URL, is ingesturl.Issue) (string, string) {
	if msg, remedy, ok := srtMalformed(is); ok {
		return msg, remedy
	}
	switch is.Param {
	case ingesturl.ParamTxTime:
		var v string
		for _, p := range signedParams(u) {
			if p.Name == ingesturl.ParamTxTime {
				v = p.Value // an expiry, not a secret
			}
		}
		if t, ok := ingesturl.DecimalTxTime(v); ok && is.Reason == ingesturl.ReasonDecimal {
			return fmt.Sprintf("txTime %s is decimal Unix seconds (%s): Tencent reads it as hexadecimal, which is %s", v, t.Format(time.RFC3339), ingesturl.FormatTxTime(t)),
				"Write txTime in hexadecimal (" + ingesturl.FormatTxTime(t) + ") and compute txSecret over that exact string; `ingestprobe url sign` does both."
		}
		return "txTime is not hexadecimal Unix seconds (" + reasonText(is.Reason) + "): Tencent writes it as 8 hex digits, like 5C271099",
			"Write txTime as the expiry's Unix time in uppercase hex and compute txSecret over that exact string; `ingestprobe url sign` does both."
	case ingesturl.ParamTxSecret:
		return "txSecret is not an MD5 digest of 32 hexadecimal digits (" + reasonText(is.Reason) + ")",
			"Copy the push URL again without cutting it, or recompute txSecret = lowercase hex MD5(KEY + StreamName + txTime)."
	}
	return is.Param + " is " + reasonText(is.Reason), "Generate the URL again with every parameter filled in."
}

func reasonText(r string) string {
	switch r {
	case ingesturl.ReasonEmpty:
		return "empty"
	case ingesturl.ReasonNotHex:
		return "it holds characters other than 0-9 and A-F"
	case ingesturl.ReasonLength:
		return "wrong length"
	case ingesturl.ReasonDecimal:
		return "decimal"
	}
	return r
}

// mismatch says which part of a bad signature to look at. It never shows the key or the secret
// that was expected: either would let anyone reading the report sign URLs.
func mismatch(l *ingesturl.Lint) (string, string) {
	keys := "the configured key"
	if l.KeysTried > 1 {
		keys = "either configured key (primary or backup)"
	}
	switch l.Hint {
	case ingesturl.HintSecretCase:
		return "txSecret is the right digest written in uppercase: it must be lowercase hex",
			"Write txSecret in lowercase: the signing code upper-cases the MD5 (strtoupper, toUpperCase)."
	case ingesturl.HintTxTimeCase:
		return fmt.Sprintf("txSecret was computed over txTime in another letter case than the URL's %s: the signature covers the literal txTime string", l.TxTime),
			"Keep txTime exactly as it was signed (Tencent writes uppercase hex), or recompute txSecret over the txTime in the URL."
	case ingesturl.HintTxTimeDecimal:
		return "txSecret was computed over the expiry in decimal, but the URL carries txTime in hex",
			"Compute txSecret over the hex txTime string that is in the URL: MD5(KEY + StreamName + txTime)."
	case ingesturl.HintKeyWhitespace:
		return "txSecret was computed with a newline or space after the key: the signer read its key file without trimming it",
			"Trim the key before signing, then generate the URL again."
	case ingesturl.HintStreamWithApp:
		return "txSecret was computed over AppName/StreamName: Tencent signs the stream name alone",
			"Compute MD5(KEY + StreamName + txTime) with StreamName = the last path segment of the URL only."
	case ingesturl.HintStreamEscape:
		return "txSecret was computed over the decoded stream name, but the URL carries it percent-escaped, which is what an encoder sends",
			"Use a stream name of letters, digits, '-' and '_' only, which needs no escaping, and sign it again."
	case ingesturl.HintFieldOrder:
		return "txSecret was computed as MD5(KEY + txTime + StreamName): the order is KEY, StreamName, txTime",
			"Fix the order in the signing code: MD5(KEY + StreamName + txTime)."
	}
	return "txSecret does not match " + keys + " for this stream name and txTime: the key, the stream name or txTime differs from what was signed",
		"Check, in this order: that the key is this push domain's current authentication key, shown in " + tencentConsole +
			" — if the backup key is in use, configure it too (sign_backup_key_file, or --backup-key-file); that the stream name is exactly the one signed (same case, nothing appended); that txTime was not edited after signing. Then generate the URL again."
}

// expiryFindings judges txTime. The reference is the clock probe's when it measured one: a host
// whose clock is off would otherwise call a dead URL good, or a good one dead.
func expiryFindings(in Input, l *ingesturl.Lint) []record.Finding {
	if l.Expires.IsZero() || in.Now.IsZero() {
		return nil
	}
	now, ref := in.Now, "this host's clock"
	if c := in.Results.Clock; c != nil {
		if c.OK {
			now, ref = in.Now.Add(c.Offset()), "the time of NTP server "+c.Server
		} else {
			ref = "this host's clock (the clock reference failed: " + string(c.Error) + ")"
		}
	}
	loc := in.Now.Location()
	left := l.Expires.Sub(now)
	minValidity := in.MinValidity
	if minValidity <= 0 {
		minValidity = DefaultMinURLValidity
	}
	ev := map[string]any{
		"tx_time":           l.TxTime,
		"expires_utc":       l.Expires.UTC().Format(time.RFC3339),
		"expires_local":     l.Expires.In(loc).Format(time.RFC3339),
		"time_left_seconds": math.Round(left.Seconds()),
		"time_left":         human(left),
		"time_reference":    ref,
		"min_validity":      minValidity.String(),
	}
	if !in.EventEnd.IsZero() {
		ev["event_end"] = in.EventEnd.Format(time.RFC3339)
	}
	when := fmt.Sprintf("%s UTC (%s local)", l.Expires.UTC().Format("2006-01-02 15:04:05"), l.Expires.In(loc).Format("2006-01-02 15:04 MST"))
	regen := "Generate a new push URL with txTime 12–24 hours past the end of the show, from " + tencentConsole + " or with `ingestprobe url sign --valid 24h`, and load it into the encoder."
	switch {
	case left <= 0:
		return []record.Finding{{Code: "url.txtime_expired", Severity: record.Error,
			Message:  fmt.Sprintf("the URL expired %s ago, at %s, judged by %s: the ingest rejects it", human(-left), when, ref),
			Remedy:   regen,
			Evidence: ev}}
	case !in.EventEnd.IsZero() && l.Expires.Before(in.EventEnd):
		return []record.Finding{{Code: "url.txtime_short", Severity: record.Warning,
			Message: fmt.Sprintf("the URL expires at %s, %s before the event ends (%s): an encoder that reconnects after that is turned away",
				when, human(in.EventEnd.Sub(l.Expires)), in.EventEnd.In(loc).Format("2006-01-02 15:04 MST")),
			Remedy:   regen,
			Evidence: ev}}
	case left < minValidity:
		return []record.Finding{{Code: "url.txtime_short", Severity: record.Warning,
			Message: fmt.Sprintf("the URL expires in %s, at %s — less than the %s minimum: an encoder that reconnects after that is turned away",
				human(left), when, human(minValidity)),
			Remedy:   regen,
			Evidence: ev}}
	}
	return nil
}

// clockFindings reports a clock that differs from the reference by more than the thresholds.
func clockFindings(in Input) []record.Finding {
	c := in.Results.Clock
	if c == nil || !c.OK {
		return nil
	}
	warn, errAt := in.ClockSkewWarn, in.ClockSkewError
	if warn <= 0 {
		warn = DefaultClockSkewWarn
	}
	if errAt <= 0 {
		errAt = DefaultClockSkewError
	}
	off := c.Offset()
	abs := off.Abs()
	sev := record.Warning
	switch {
	case abs > errAt:
		sev = record.Error
	case abs > warn:
	default:
		return nil
	}
	dir := "behind"
	if off < 0 {
		dir = "ahead of"
	}
	ev := map[string]any{
		"server":          c.Server,
		"source":          c.Source,
		"offset_seconds":  math.Round(c.OffsetSeconds*1000) / 1000,
		"rtt_seconds":     round(c.RTTSeconds),
		"stratum":         c.Stratum,
		"warn_threshold":  warn.String(),
		"error_threshold": errAt.String(),
	}
	if !in.Now.IsZero() {
		ev["local_time"] = in.Now.UTC().Format(time.RFC3339)
		ev["reference_time"] = in.Now.Add(off).UTC().Format(time.RFC3339)
	}
	return []record.Finding{{Code: "clock.skew", Severity: sev,
		Message: fmt.Sprintf("this host's clock is %s %s NTP server %s (round trip %s): signed URLs and TLS certificates are judged against it",
			human(abs), dir, c.Server, millis(c.RTTSeconds)),
		Remedy:   "Turn on time synchronisation — Linux: timedatectl set-ntp true; Windows: w32tm /resync; macOS: Date & Time > Set automatically — or, if UDP 123 is blocked here, set the time by hand. ingestprobe judged txTime against the NTP time.",
		Evidence: ev}}
}

// likelyCauses amends a finding that a live step reports with the offline cause that explains it: a
// publish rejected on a URL already known to be expired or badly signed was rejected for that. It
// keys only on code strings, so it works whichever probe raises the live finding.
func likelyCauses(fs []record.Finding) []record.Finding {
	causes := []struct{ code, why string }{
		{"url.txtime_expired", "the URL's txTime has expired"},
		{"url.txsecret_mismatch", "txSecret does not match the signing key"},
		{"url.missing_param", "the URL lacks a required parameter"},
	}
	for i := range fs {
		if fs[i].Code != "rtmp.publish_rejected" && fs[i].Code != "srt.rejected" {
			continue
		}
		for _, c := range causes {
			j := indexOf(fs, c.code)
			if j < 0 || fs[j].Severity != record.Error {
				continue
			}
			f := fs[i]
			f.Message = strings.TrimSuffix(f.Message, ".") + " — likely because " + c.why + " (" + c.code + ")"
			f.Remedy = fs[j].Remedy + " " + f.Remedy
			ev := copyEvidence(f.Evidence)
			ev["likely_cause"] = c.code
			f.Evidence = ev
			fs[i] = f
			break
		}
	}
	return fs
}

func indexOf(fs []record.Finding, code string) int {
	for i, f := range fs {
		if f.Code == code {
			return i
		}
	}
	return -1
}

// human writes a duration for people: "3d4h", "7h12m", "4m30s", "12s".
func human(d time.Duration) string {
	d = d.Abs()
	switch {
	case d >= 48*time.Hour:
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%.0fs", d.Seconds())
}
