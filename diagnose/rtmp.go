package diagnose

import (
	"fmt"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// rtmpTarget is what diagnose knows of the URL an RTMP probe used: the application, the host the
// certificate must be for, and what the URL doctor found of its signature.
type rtmpTarget struct {
	app, host string
	sig       sigKnown
}

// rtmpFindings explains an RTMP probe that stopped short, and flags RTMPS run without certificate
// verification. The evidence holds the phase, class, status code and timings — never the stream
// name or its query, which the result does not carry either.
func rtmpFindings(tg rtmpTarget, r *rtmp.Result) []record.Finding {
	if r == nil {
		return nil
	}
	app := tg.app
	ev := rtmpEvidence(r)
	var out []record.Finding
	if r.InsecureSkipVerify {
		out = append(out, record.Finding{Code: "tls.verify_disabled", Severity: record.Warning,
			Message:  "RTMPS certificate verification is turned off for this target (insecure_skip_verify): the probe cannot tell the real ingest from an impostor",
			Remedy:   "Remove insecure_skip_verify. If the ingest uses a private CA, set ca_file to that CA's certificate instead.",
			Evidence: ev})
	}
	if r.OK || r.Error == rtmp.OK || r.Error == rtmp.Canceled {
		return out
	}
	f := func(code, msg, remedy string) []record.Finding {
		return append(out, record.Finding{Code: code, Severity: record.Error, Message: msg, Remedy: remedy, Evidence: ev})
	}
	where := fmt.Sprintf("%s port %d", r.Address, r.Port)
	if strings.Contains(r.Address, ":") {
		where = fmt.Sprintf("[%s] port %d", r.Address, r.Port)
	}
	switch r.Phase {
	case rtmp.PhaseConnect:
		if r.Error == rtmp.Timeout {
			return f("rtmp.handshake_timeout",
				fmt.Sprintf("the connection for the RTMP session to %s timed out after %s, although the port connected moments before: the path is unstable", where, seconds(r.ConnectSeconds)),
				"Retry; if it persists, the uplink is losing connections: test another uplink (4G/5G) and ask venue IT about connection limits.")
		}
		return f("rtmp.not_rtmp",
			fmt.Sprintf("the connection for the RTMP session to %s failed (%s) although the port connected moments before: something on the path accepts and then refuses connections", where, orText(r.Errno, string(r.Error))),
			"A proxy or firewall that limits connections may be in the way: test from another uplink (4G/5G) and ask venue IT.")
	case rtmp.PhaseTLS:
		if c := r.Certificate; c != nil {
			ev["certificate"] = certEvidence(c)
		}
		return f("tls.failed", tlsMessage(where, tg.host, r), tlsRemedy(tg.host, r))
	case rtmp.PhaseHandshake:
		return handshakeFinding(f, where, r)
	case rtmp.PhaseRTMPConnect:
		return connectFinding(f, where, app, r)
	case rtmp.PhaseCreateStream, rtmp.PhasePublish:
		if r.Error == rtmp.InUse {
			// The one reply that tells the causes apart: nginx-rtmp's and others' BadName.
			return f("rtmp.stream_in_use",
				fmt.Sprintf("%s refused the publish with %s: another encoder is already publishing this stream", where, r.Status),
				"Stop the other encoder on this stream (an OBS or hardware encoder left running, a backup encoder), or wait for its session to time out. An ingest accepts one publisher per stream name: give a backup encoder its own stream name.")
		}
		if r.Error == rtmp.Closed {
			// A close without a status is how ingests refuse a signature, and how several refuse a
			// second publisher: the reply does not tell them apart.
			cs := orderCauses(tg.sig, false)
			ev["causes"] = causeKeys(cs)
			return f("rtmp.publish_rejected",
				fmt.Sprintf("%s closed the connection after the %s request without a status: %s%s", where, stepName(r), causesText(cs), sigNote(tg.sig)),
				causesRemedy(cs))
		}
		return f("rtmp.publish_rejected", publishMessage(where, r), publishRemedy)
	case rtmp.PhaseHold:
		return holdFinding(f, ev, where, tg.sig, r)
	}
	return out
}

// atOnce is how soon after accepting a publish a drop reads as "at once": a second covers a
// signature or duplicate check that runs right after the start, on any uplink.
const atOnce = 1.0

// holdFinding explains a publish the ingest accepted and then ended. Ingests answer a second
// publisher on a stream with NetStream.Publish.Start and then close at once — exactly as they
// answer a wrong or expired signature — so the finding names both, in the order what the URL
// doctor knows makes likelier; a later drop adds the checks that finish after the start.
func holdFinding(f func(code, msg, remedy string) []record.Finding, ev map[string]any, where string, sig sigKnown, r *rtmp.Result) []record.Finding {
	cs := orderCauses(sig, r.HoldSeconds >= atOnce)
	ev["causes"] = causeKeys(cs)
	how := "closed the connection"
	if end := heldEnd(r); end != string(rtmp.Closed) {
		how = "ended it with " + end
	}
	when := "at once"
	if r.HoldSeconds >= atOnce {
		when = "after " + seconds(r.HoldSeconds)
	}
	return f("rtmp.publish_rejected",
		fmt.Sprintf("%s accepted the publish (%s), then %s %s: %s%s", where, rtmp.StatusPublishStart, how, when, causesText(cs), sigNote(sig)),
		causesRemedy(cs))
}

// sigKnown is what the URL doctor found of the URL's signature, offline.
type sigKnown int

const (
	sigUnchecked sigKnown = iota // signed, but no key is configured to check it
	sigUnsigned                  // no signature in the URL: a plain stream key
	sigVerified                  // txSecret checked out against the configured key, txTime not expired
	sigBad                       // expired, mismatched, or a signature parameter missing
)

// signatureOf reads the URL doctor's verdict on the signature from its lint and its findings.
func signatureOf(l *ingesturl.Lint, fs []record.Finding) sigKnown {
	for _, f := range fs {
		switch f.Code {
		case "url.txtime_expired", "url.txsecret_mismatch", "url.missing_param":
			if f.Severity == record.Error {
				return sigBad
			}
		}
	}
	switch {
	case l == nil:
		return sigUnchecked
	case l.Signature == ingesturl.SigOK || l.Signature == ingesturl.SigOKBackup:
		return sigVerified
	case l.Signature == ingesturl.SigNotChecked:
		return sigUnchecked
	}
	return sigUnsigned
}

// cause is one possible cause of an answer that does not tell causes apart.
type cause struct{ key, text, remedy string }

var (
	causeInUse = cause{"stream_in_use", "the stream is already being published by another encoder",
		"Another encoder may be live on this stream — a backup encoder, a forgotten test, a colleague's laptop: the provider console's list of live streams (Tencent CSS: Stream Management > Live Streams) shows the stream while it publishes; stop that encoder, or give a backup encoder its own stream name. Check the console's disabled streams too (Tencent: Stream Management > Disabled Streams): a disabled stream is refused the same way."}
	causeSignature = cause{"signature", "the ingest refused the signature",
		"Generate a freshly signed URL (the provider console's address generator, or `ingestprobe url sign --valid 24h` with the domain's current key) and load it into the encoder whole, query included."}
	causeStreamKey = cause{"stream_key", "the ingest refused the stream key",
		"Copy the stream key again from the provider's console and paste it into the encoder whole; check that the stream is allowed to publish (console: authentication settings)."}
	causeLateCheck = cause{"publish_check", "a check that ends after publishing starts (an on_publish callback, a limit on streams or bitrate) refused it",
		"Ask whoever runs the ingest what its publish callback or stream limits answered for this stream at this time."}
)

// orderCauses orders the causes of a publish that was accepted, or answered, without a reason:
// a signature the URL doctor found bad comes first; otherwise another encoder does (a signature
// that checked out, or none at all, makes it the likelier one). late adds the checks that end
// after the start.
func orderCauses(sig sigKnown, late bool) []cause {
	auth := causeSignature
	if sig == sigUnsigned {
		auth = causeStreamKey
	}
	cs := []cause{causeInUse, auth}
	if sig == sigBad {
		cs = []cause{auth, causeInUse}
	}
	if late {
		// A drop seconds after the start is more often a check that ran late than a duplicate.
		cs = []cause{auth, causeLateCheck, causeInUse}
	}
	return cs
}

func causesText(cs []cause) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.text
	}
	if len(parts) == 2 {
		return parts[0] + ", or " + parts[1]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + ", or " + parts[len(parts)-1]
}

func causesRemedy(cs []cause) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%d) %s", i+1, c.remedy)
	}
	return strings.Join(parts, " ")
}

func causeKeys(cs []cause) []string {
	keys := make([]string, len(cs))
	for i, c := range cs {
		keys[i] = c.key
	}
	return keys
}

// sigNote says why the causes come in their order, when the URL doctor knows something.
func sigNote(sig sigKnown) string {
	if sig == sigVerified {
		return " — the URL's signature checked out offline, so another encoder is the likelier cause"
	}
	return ""
}

func stepName(r *rtmp.Result) string {
	if r.Phase == rtmp.PhaseCreateStream {
		return "stream setup"
	}
	return "publish"
}

const publishRemedy = "Check the stream key: for a signed URL (txSecret/txTime), generate a fresh one in the provider's console — a wrong or expired signature is refused at publish, usually by closing the connection without a status. Check too that the stream is allowed to publish (console: stream management, auth settings)."

func handshakeFinding(f func(code, msg, remedy string) []record.Finding, where string, r *rtmp.Result) []record.Finding {
	if r.Error == rtmp.Timeout {
		if r.BytesReceived == 0 {
			return f("rtmp.handshake_timeout",
				fmt.Sprintf("%s accepted TCP but sent nothing in reply to the RTMP handshake within %s: a transparent proxy or firewall may be holding the connection, or the server is overloaded", where, seconds(r.HandshakeSeconds)),
				"Test from another uplink (4G/5G): if the handshake completes there, this network intercepts the port — ask venue IT to let the ingest through unproxied, or use RTMPS on 443. Otherwise contact the provider.")
		}
		return f("rtmp.handshake_timeout",
			fmt.Sprintf("the RTMP handshake with %s did not finish within %s (%d of 3073 bytes received): the path or the server is very slow", where, seconds(r.HandshakeSeconds), r.BytesReceived),
			"Test from another uplink (4G/5G); if it is slow there too, the ingest server is overloaded: contact the provider or use another ingest region.")
	}
	switch {
	case r.LooksLike == "http" || r.LooksLike == "html":
		status := ""
		if r.HTTPStatus != 0 {
			status = fmt.Sprintf(" (status %d)", r.HTTPStatus)
		}
		return f("rtmp.not_rtmp",
			fmt.Sprintf("%s answered the RTMP handshake with an HTTP response%s: a captive portal or web proxy intercepts port %d", where, status, r.Port),
			"Log in to the venue's captive portal (open any http:// page in a browser on this network), or ask venue IT to exempt the ingest from their web proxy; or use another uplink (4G/5G).")
	case r.LooksLike == "tls":
		return f("rtmp.not_rtmp",
			fmt.Sprintf("%s answered the RTMP handshake with TLS: this port expects RTMPS", where),
			fmt.Sprintf("Use rtmps:// for port %d, or the provider's plain RTMP port (1935) with rtmp://.", r.Port))
	case r.Error == rtmp.NotRTMP:
		return f("rtmp.not_rtmp",
			fmt.Sprintf("%s answered the RTMP handshake with %s instead of version 3%s: it is not an RTMP ingest, or something on the path answers for it", where, orText(r.S0, "another first byte"), orSuffix(r.LooksLike)),
			"Check the host and port in the URL. If they are right, a proxy or captive portal on this network answers instead of the ingest: test from another uplink (4G/5G) and ask venue IT.")
	case r.Error == rtmp.Closed:
		return f("rtmp.not_rtmp",
			fmt.Sprintf("%s closed the connection during the RTMP handshake, after %d bytes: a filtering proxy or firewall, a server that is not RTMP, or a TLS port", where, r.BytesReceived),
			"If the port serves RTMPS, use rtmps://. Otherwise test from another uplink (4G/5G): if the handshake completes there, this network blocks RTMP — ask venue IT.")
	}
	return f("rtmp.not_rtmp",
		fmt.Sprintf("the RTMP handshake with %s failed (%s): the server does not speak RTMP as an encoder expects", where, describeRTMP(r)),
		"Check the host and port in the URL, then test from another uplink (4G/5G).")
}

func connectFinding(f func(code, msg, remedy string) []record.Finding, where, app string, r *rtmp.Result) []record.Finding {
	const code = "rtmp.connect_rejected"
	checkApp := fmt.Sprintf("Check the application part of the URL (rtmp://host/%s/…) against the provider's console; it is usually \"live\".", app)
	switch r.Error {
	case rtmp.Rejected:
		msg := fmt.Sprintf("%s rejected the RTMP connect to application %q with %s", where, app, r.Status)
		if r.StatusDescription != "" {
			msg += " (" + r.StatusDescription + ")"
		}
		if r.Status == "NetConnection.Connect.InvalidApp" {
			return f(code, msg, checkApp)
		}
		return f(code, msg, checkApp+" If the ingest requires authentication on connect, check the credentials configured for it.")
	case rtmp.Closed:
		return f(code,
			fmt.Sprintf("%s closed the connection when asked to connect to application %q, without a status: RTMP servers do this for an unknown application, or for a push domain they do not serve", where, app),
			checkApp+" Check too that the push domain in the URL is the one the console lists for this stream.")
	case rtmp.Timeout:
		return f(code,
			fmt.Sprintf("%s completed the handshake but did not answer the connect to application %q within %s", where, app, seconds(r.RTMPConnectSeconds)),
			"The ingest is overloaded or something on the path stalls RTMP after the handshake: retry, test from another uplink (4G/5G), and contact the provider if it persists.")
	}
	return f(code,
		fmt.Sprintf("%s answered the RTMP connect to application %q with something an encoder cannot use (%s)", where, app, describeRTMP(r)),
		"Check the host, port and application in the URL; if they are right, contact the provider.")
}

func publishMessage(where string, r *rtmp.Result) string {
	step := stepName(r)
	switch r.Error {
	case rtmp.Rejected:
		return fmt.Sprintf("%s refused the %s request with %s", where, step, r.Status)
	case rtmp.Timeout:
		return fmt.Sprintf("%s did not answer the %s request within %s", where, step, seconds(phaseSeconds(r)))
	}
	return fmt.Sprintf("%s answered the %s request with something an encoder cannot use (%s)", where, step, describeRTMP(r))
}

func tlsMessage(where, host string, r *rtmp.Result) string {
	c := r.Certificate
	switch r.TLSReason {
	case rtmp.TLSUnknownAuthority:
		if c == nil {
			return fmt.Sprintf("the TLS certificate of %s is not signed by a trusted authority", where)
		}
		if c.SelfSigned {
			return fmt.Sprintf("the certificate for %s from %s is self-signed (%s, %s), which this machine does not trust", host, where, certName(c.SubjectCN, c.SubjectO), validity(c))
		}
		msg := fmt.Sprintf("the certificate for %s from %s was issued by %s, which this machine does not trust (%s)", host, where, certName(c.IssuerCN, c.IssuerO), validity(c))
		switch issuerKind(host, c) {
		case issuerAppliance:
			msg += ": that is a network security appliance's CA — this network inspects TLS and re-signs every certificate with it"
		case issuerOther:
			msg += ": neither a public CA nor the ingest's own — this network may inspect TLS, or the ingest uses a private CA"
		case issuerOwn:
			msg += ": a private CA of the ingest's own"
		}
		return msg
	case rtmp.TLSNameMismatch:
		if c == nil || len(c.Names) == 0 && c.SubjectCN == "" {
			return fmt.Sprintf("the TLS certificate of %s is not valid for the URL's host name", where)
		}
		names := strings.Join(c.Names, ", ")
		if names == "" {
			names = c.SubjectCN
		}
		return fmt.Sprintf("%s presented a certificate for %s, not for %s (issued by %s)", where, names, host, certName(c.IssuerCN, c.IssuerO))
	case rtmp.TLSExpired:
		if c == nil {
			return fmt.Sprintf("the TLS certificate of %s has expired", where)
		}
		return fmt.Sprintf("the certificate for %s from %s expired on %s (issued by %s)", host, where, day(c.NotAfter), certName(c.IssuerCN, c.IssuerO))
	case rtmp.TLSNotYetValid:
		if c == nil {
			return fmt.Sprintf("the TLS certificate of %s is not valid yet", where)
		}
		return fmt.Sprintf("the certificate for %s from %s is not valid before %s: this machine's clock is probably behind", host, where, c.NotBefore.Format("2006-01-02 15:04 UTC"))
	case rtmp.TLSNotTLS:
		return fmt.Sprintf("%s does not speak TLS on this port: it answered the TLS hello with something else", where)
	case rtmp.TLSTimeout:
		return fmt.Sprintf("%s did not answer the TLS hello within %s", where, seconds(r.TLSSeconds))
	case rtmp.TLSAlert:
		return fmt.Sprintf("%s refused the TLS handshake with an alert", where)
	case rtmp.TLSClosed:
		return fmt.Sprintf("%s closed the connection during the TLS handshake", where)
	case rtmp.TLSCAFile:
		return "the configured ca_file could not be read or holds no certificate"
	}
	return fmt.Sprintf("the TLS handshake with %s failed", where)
}

func tlsRemedy(host string, r *rtmp.Result) string {
	switch r.TLSReason {
	case rtmp.TLSUnknownAuthority:
		exempt := fmt.Sprintf("Ask venue IT to exempt %s from TLS inspection (an SSL/TLS decryption bypass for that host), or use another uplink (4G/5G). Adding their CA to ca_file would only hide it: the encoder does not trust that CA either.", host)
		if c := r.Certificate; c != nil {
			switch {
			case c.SelfSigned:
				return "A self-signed certificate is a test server's or an appliance's default: check the host in the URL against the provider's RTMPS host. If this ingest is yours and self-signed on purpose, set ca_file to its certificate. " + exempt
			case issuerKind(host, c) == issuerAppliance:
				return exempt
			case issuerKind(host, c) == issuerOwn:
				return "If the provider gave you its CA certificate, set ca_file to it; otherwise ask the provider why its RTMPS certificate is not from a public CA."
			}
		}
		return "If the ingest uses a private CA, set ca_file to its certificate. If it should have a public certificate, this network inspects TLS: " + exempt
	case rtmp.TLSNameMismatch:
		return "Use the host name the provider gives for RTMPS (it may differ from the RTMP push domain). A mismatch on a correct name means something on this network intercepts TLS: test from another uplink (4G/5G)."
	case rtmp.TLSExpired:
		return "Check this machine's clock first; if it is right, the ingest's certificate has expired: contact the provider."
	case rtmp.TLSNotYetValid:
		return "Set this machine's clock right (turn on time synchronisation); if it is right, the ingest's certificate was issued for a later date: contact the provider."
	case rtmp.TLSNotTLS, rtmp.TLSTimeout:
		return "Check the port: RTMPS is usually on 443, plain RTMP on 1935 — use rtmp:// for a plain port."
	case rtmp.TLSCAFile:
		return "Point ca_file at a readable PEM file holding the CA certificate."
	}
	return "Check the host and port of the rtmps:// URL; test from another uplink (4G/5G) to rule out a filtering proxy."
}

// issuerKinds: who an untrusted issuer looks like.
const (
	issuerOther     = iota // neither an appliance nor the ingest's own: a private CA of someone's
	issuerAppliance        // a firewall, proxy or security product that inspects TLS
	issuerOwn              // the same organisation or domain as the certificate's subject
)

// appliances are words in the CA names of products that inspect TLS by re-signing certificates:
// firewalls, secure web gateways, filters, antivirus and debugging proxies.
var appliances = []string{"fortinet", "fortigate", "palo alto", "paloalto", "zscaler", "sophos", "cisco", "umbrella",
	"check point", "checkpoint", "barracuda", "blue coat", "bluecoat", "netskope", "mcafee", "skyhigh", "forcepoint",
	"websense", "watchguard", "sonicwall", "untangle", "pfsense", "opnsense", "kaspersky", "avast", "eset", "bitdefender",
	"squid", "mitmproxy", "charles proxy", "fiddler", "portswigger", "burp", "securly", "goguardian", "lightspeed",
	"iboss", "smoothwall", "menlo", "cloudflare gateway", "inspection", "firewall", "proxy", "decrypt"}

// issuerKind says who an untrusted certificate's issuer looks like.
func issuerKind(host string, c *rtmp.Certificate) int {
	issuer := strings.ToLower(c.IssuerCN + " " + c.IssuerO)
	for _, a := range appliances {
		if strings.Contains(issuer, a) {
			return issuerAppliance
		}
	}
	if c.IssuerO != "" && strings.EqualFold(c.IssuerO, c.SubjectO) {
		return issuerOwn
	}
	// The host's registered name ("example" of push.example.com) in the issuer's.
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	if len(labels) >= 2 {
		if l := labels[len(labels)-2]; len(l) >= 4 && strings.Contains(issuer, l) {
			return issuerOwn
		}
	}
	return issuerOther
}

// certName writes a certificate name as "'FortiGate CA' (Fortinet)".
func certName(cn, o string) string {
	switch {
	case cn != "" && o != "" && !strings.EqualFold(cn, o):
		return fmt.Sprintf("'%s' (%s)", cn, o)
	case cn != "":
		return "'" + cn + "'"
	case o != "":
		return "'" + o + "'"
	}
	return "an unnamed authority"
}

func validity(c *rtmp.Certificate) string {
	return "valid " + day(c.NotBefore) + " to " + day(c.NotAfter)
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func certEvidence(c *rtmp.Certificate) map[string]any {
	ev := map[string]any{"not_before": c.NotBefore.UTC().Format(time.RFC3339), "not_after": c.NotAfter.UTC().Format(time.RFC3339)}
	for k, v := range map[string]string{"subject_cn": c.SubjectCN, "subject_o": c.SubjectO, "issuer_cn": c.IssuerCN, "issuer_o": c.IssuerO} {
		if v != "" {
			ev[k] = v
		}
	}
	if len(c.Names) > 0 {
		ev["names"] = c.Names
	}
	if c.SelfSigned {
		ev["self_signed"] = true
	}
	return ev
}

func rtmpEvidence(r *rtmp.Result) map[string]any {
	ev := map[string]any{"address": r.Address, "port": r.Port, "level": string(r.Level), "tls": r.TLS}
	set := func(k string, v string) {
		if v != "" {
			ev[k] = v
		}
	}
	set("phase", string(r.Phase))
	set("error", string(r.Error))
	set("errno", r.Errno)
	set("status", r.Status)
	set("status_description", r.StatusDescription)
	set("tls_reason", string(r.TLSReason))
	set("s0", r.S0)
	set("looks_like", r.LooksLike)
	if r.HTTPStatus != 0 {
		ev["http_status"] = r.HTTPStatus
	}
	if r.Phase != rtmp.PhaseConnect && r.Phase != rtmp.PhaseTLS {
		ev["bytes_received"] = r.BytesReceived
	}
	for k, v := range map[string]float64{
		"connect_seconds": r.ConnectSeconds, "tls_seconds": r.TLSSeconds, "handshake_seconds": r.HandshakeSeconds,
		"rtmp_connect_seconds": r.RTMPConnectSeconds, "create_stream_seconds": r.CreateStreamSeconds,
		"publish_seconds": r.PublishSeconds, "hold_seconds": r.HoldSeconds,
	} {
		if v > 0 {
			ev[k] = round(v)
		}
	}
	return ev
}

func describeRTMP(r *rtmp.Result) string {
	s := string(r.Error)
	if r.Status != "" {
		s += " " + r.Status
	}
	if r.Errno != "" {
		s += " (" + r.Errno + ")"
	}
	return s
}

// heldEnd says how a held publish ended: the status that ended it, or the class.
func heldEnd(r *rtmp.Result) string {
	if r.Status != "" && r.Status != rtmp.StatusPublishStart {
		return r.Status
	}
	return string(r.Error)
}

func phaseSeconds(r *rtmp.Result) float64 {
	if r.Phase == rtmp.PhaseCreateStream {
		return r.CreateStreamSeconds
	}
	return r.PublishSeconds
}

func orText(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}

func orSuffix(looksLike string) string {
	if looksLike == "" {
		return ""
	}
	return " (it looks like " + looksLike + ")"
}
