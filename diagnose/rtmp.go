package diagnose

import (
	"fmt"
	"strings"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// rtmpFindings explains an RTMP probe that stopped short, and flags RTMPS run without certificate
// verification. The evidence holds the phase, class, status code and timings — never the stream
// name or its query, which the result does not carry either.
func rtmpFindings(app string, r *rtmp.Result) []record.Finding {
	if r == nil {
		return nil
	}
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
		return f("tls.failed", tlsMessage(where, r), tlsRemedy(r))
	case rtmp.PhaseHandshake:
		return handshakeFinding(f, where, r)
	case rtmp.PhaseRTMPConnect:
		return connectFinding(f, where, app, r)
	case rtmp.PhaseCreateStream, rtmp.PhasePublish:
		if r.Error == rtmp.InUse {
			return f("rtmp.stream_in_use",
				fmt.Sprintf("%s refused the publish with %s: another encoder is already publishing this stream", where, r.Status),
				"Stop the other encoder on this stream (an OBS or hardware encoder left running, a backup encoder), or wait for its session to time out. An ingest accepts one publisher per stream name: give a backup encoder its own stream name.")
		}
		return f("rtmp.publish_rejected", publishMessage(where, r), publishRemedy)
	case rtmp.PhaseHold:
		return f("rtmp.publish_rejected",
			fmt.Sprintf("%s accepted the publish (%s) and then dropped it (%s) within %s: a check that finishes after publishing starts refused it", where, rtmp.StatusPublishStart, heldEnd(r), seconds(r.HoldSeconds)),
			"Ingests that check the signature, an on_publish callback or a stream limit only after accepting drop the publisher this way. "+publishRemedy)
	}
	return out
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
			fmt.Sprintf("%s closed the connection when asked to connect to application %q, without a status: RTMP servers do this for an unknown application", where, app),
			checkApp)
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
	step := "publish"
	if r.Phase == rtmp.PhaseCreateStream {
		step = "createStream"
	}
	switch r.Error {
	case rtmp.Rejected:
		return fmt.Sprintf("%s refused the %s with %s", where, step, r.Status)
	case rtmp.Closed:
		return fmt.Sprintf("%s closed the connection after %s without a status: the usual way an ingest refuses a wrong or expired signature", where, step)
	case rtmp.Timeout:
		return fmt.Sprintf("%s did not answer %s within %s", where, step, seconds(phaseSeconds(r)))
	}
	return fmt.Sprintf("%s answered %s with something an encoder cannot use (%s)", where, step, describeRTMP(r))
}

func tlsMessage(where string, r *rtmp.Result) string {
	switch r.TLSReason {
	case rtmp.TLSUnknownAuthority:
		return fmt.Sprintf("the TLS certificate of %s is not signed by a trusted authority", where)
	case rtmp.TLSNameMismatch:
		return fmt.Sprintf("the TLS certificate of %s is not valid for the URL's host name", where)
	case rtmp.TLSExpired:
		return fmt.Sprintf("the TLS certificate of %s is expired or not yet valid", where)
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

func tlsRemedy(r *rtmp.Result) string {
	switch r.TLSReason {
	case rtmp.TLSUnknownAuthority:
		return "If the ingest uses a private CA, set ca_file to its certificate. If it should have a public certificate, something on this network intercepts TLS (a filtering proxy): test from another uplink (4G/5G)."
	case rtmp.TLSNameMismatch:
		return "Use the host name the provider gives for RTMPS (it may differ from the RTMP push domain). A mismatch on a correct name means something on this network intercepts TLS."
	case rtmp.TLSExpired:
		return "Check this machine's clock first; if it is right, the ingest's certificate has expired: contact the provider."
	case rtmp.TLSNotTLS, rtmp.TLSTimeout:
		return "Check the port: RTMPS is usually on 443, plain RTMP on 1935 — use rtmp:// for a plain port."
	case rtmp.TLSCAFile:
		return "Point ca_file at a readable PEM file holding the CA certificate."
	}
	return "Check the host and port of the rtmps:// URL; test from another uplink (4G/5G) to rule out a filtering proxy."
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
