package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

// The SRT findings, and the URL doctor's words for srt:// URLs, whose Tencent signature is inside
// the stream id.

const (
	srtStreamMissing = "the stream id has no r=<AppName>/<StreamName>: Tencent routes an SRT push by r=, and the signature covers StreamName"
	srtPushRemedy    = "Tencent's SRT push URL carries the stream and its signature in the stream id: srt://<push domain>:9000?streamid=#!::h=<push domain>,r=live/<StreamName>,txSecret=…,txTime=… — copy it again from " + tencentConsole + ". txSecret is computed as for RTMP, over StreamName (not live/StreamName)."
)

// paramPlace is where a missing parameter belongs: the URL, or for srt:// the stream id.
func paramPlace(l *ingesturl.Lint, param string) string {
	if l.Scheme == "srt" && param != ingesturl.ParamStreamID {
		return "the URL's stream id"
	}
	return "the URL"
}

// signedParams are the parameters a Tencent signature is read from: the query, or for srt:// the
// stream id's fields.
func signedParams(u *ingesturl.URL) []ingesturl.Param {
	if u.Scheme == "srt" {
		return ingesturl.StreamIDFields(u.SRT().StreamID)
	}
	return u.Params()
}

// srtMalformed words the SRT options libsrt refuses; ok is false for any other issue.
func srtMalformed(is ingesturl.Issue) (msg, remedy string, ok bool) {
	switch is.Param {
	case ingesturl.ParamPassphrase:
		return "the SRT passphrase must be 10 to 79 characters: an encoder refuses this one before it connects",
			"Use the passphrase the ingest was set up with (10 to 79 characters); if the ingest has none, remove passphrase= from the URL.", true
	case ingesturl.ParamStreamID:
		return "the SRT stream id is longer than 512 bytes: an encoder refuses it",
			"Copy the push URL again from the provider; a stream id is at most 512 bytes.", true
	}
	return "", "", false
}

// srtFindings judges the SRT handshake. ICMP and the TCP connects to the alternative ports ran at
// the same moment, to the same host: when the handshake got no answer they tell a network that
// drops UDP to the ingest port from a server that answers nothing at all. The evidence holds the
// phase, class, reason and timings — never the stream id or the passphrase, which the result
// does not carry either (only whether each was set).
func srtFindings(r *srt.Result, tcps []tcp.Result, ic *icmp.Result) []record.Finding {
	if r == nil || r.OK || r.Error == srt.Canceled {
		return nil
	}
	where := fmt.Sprintf("%s port %d", r.Address, r.Port)
	if strings.Contains(r.Address, ":") {
		where = fmt.Sprintf("[%s] port %d", r.Address, r.Port)
	}
	ev := map[string]any{
		"address":         r.Address,
		"port":            r.Port,
		"transport":       "udp",
		"error":           string(r.Error),
		"phase":           string(r.Phase),
		"elapsed_seconds": round(r.ElapsedSeconds),
		"packets_sent":    r.Sends,
		"passphrase_set":  r.Encrypted,
		"stream_id_set":   r.StreamID,
	}
	if r.Errno != "" {
		ev["errno"] = r.Errno
	}
	f := func(code, msg, remedy string) []record.Finding {
		return []record.Finding{{Code: code, Severity: record.Error, Message: msg, Remedy: remedy, Evidence: ev}}
	}
	switch r.Error {
	case srt.Rejected:
		ev["reject_reason"] = string(r.RejectReason)
		if r.RejectCode != 0 {
			ev["reject_code"] = r.RejectCode
		}
		if r.KMState != "" {
			ev["km_state"] = r.KMState
		}
		if r.Detail != "" {
			ev["detail"] = r.Detail
		}
		words, remedy := rejectWords(r)
		msg := fmt.Sprintf("the SRT ingest at %s (UDP) rejected the connection: %s", where, words)
		switch sym := r.RejectReason.Symbol(); {
		case r.RejectCode != 0 && sym != "":
			msg += fmt.Sprintf(" (%s, reject code %d)", sym, r.RejectCode)
		case r.RejectCode != 0:
			msg += fmt.Sprintf(" (reject code %d)", r.RejectCode)
		}
		return f("srt.rejected", msg, remedy)
	case srt.Timeout:
		msg, remedy := timeoutWords(r, where, tcps, ic, ev)
		return f("srt.timeout", msg, remedy)
	case srt.Refused:
		return f("srt.unreachable",
			fmt.Sprintf("nothing listens for SRT at %s (UDP): the host answered the handshake with ICMP port unreachable", where),
			fmt.Sprintf("Check the port in the URL (SRT ingests commonly use UDP 9000 or 10080) and that the ingest is running. A firewall can also answer port unreachable for a port it rejects: if the URL is right, test from another network (4G/5G); if it connects there, ask venue IT to allow outbound UDP %d to %s.", r.Port, r.Address))
	case srt.Unreachable:
		return f("srt.unreachable",
			fmt.Sprintf("%s (UDP) cannot be reached: %s — a router or firewall on the path rejects it, or there is no route", where, orText(r.Errno, "ICMP unreachable")),
			fmt.Sprintf("Check the encoder's uplink and gateway; then test from another network (4G/5G): if the ingest answers there, ask venue IT to allow outbound UDP %d to %s.", r.Port, r.Address))
	case srt.Denied:
		return f("srt.unreachable",
			fmt.Sprintf("this host refused to send UDP to %s (%s): its own firewall or policy blocks it", where, orText(r.Errno, "denied")),
			fmt.Sprintf("Allow outbound UDP %d in this machine's firewall (or security software), then check again.", r.Port))
	case srt.NotSRT:
		if r.Detail != "" {
			ev["detail"] = r.Detail
		}
		return f("srt.not_srt",
			fmt.Sprintf("%s (UDP) answered the SRT handshake with something that is not SRT: another service listens on this port", where),
			"Check the host and port in the URL against the provider's SRT settings: the ingest's SRT port is probably another one.")
	}
	return f("srt.unreachable",
		fmt.Sprintf("the SRT handshake to %s (UDP) failed (%s)", where, orText(r.Errno, string(r.Error))),
		"Check the encoder's network settings, then test from another network (4G/5G).")
}

// srtReached says the SRT handshake met the server: it answered, or its kernel said nothing
// listens — so "nothing reaches it" would be false whatever ICMP echo says.
func srtReached(r *srt.Result) bool {
	return r != nil && (r.OK || r.Error == srt.Rejected || r.Error == srt.NotSRT || r.Error == srt.Refused || r.Phase == srt.PhaseConclusion)
}

// timeoutWords explains a handshake that got no answer, with what else on the same host answered.
func timeoutWords(r *srt.Result, where string, tcps []tcp.Result, ic *icmp.Result, ev map[string]any) (string, string) {
	wait := seconds(r.ElapsedSeconds)
	if r.Phase == srt.PhaseConclusion {
		return fmt.Sprintf("the SRT ingest at %s (UDP) answered the first handshake packet (induction) but not the conclusion within %s", where, wait),
			"Some SRT servers stay silent instead of rejecting a stream id or passphrase they do not accept: check both against the provider's settings. If they are right, the path may drop the larger conclusion packet (it carries the stream id and key material): try another uplink (4G/5G)."
	}
	var open []tcp.Result
	for _, t := range tcps {
		if t.OK && t.Address == r.Address {
			open = append(open, t)
		}
	}
	var answered []string
	var ports []int
	for _, t := range open {
		ports = append(ports, t.Port)
	}
	slices.Sort(ports)
	if len(open) > 0 {
		// Named: the first alternative that connected, in the configured order (443 by default).
		ev["open_ports"] = ports
		answered = append(answered, fmt.Sprintf("TCP %d on the same server connects (%s)", open[0].Port, millis(open[0].ConnectSeconds)))
	}
	if ic != nil && ic.Address == r.Address && ic.Measured() {
		ev["icmp_answered"] = ic.Received > 0
		if ic.Received > 0 {
			answered = append(answered, fmt.Sprintf("it answers ICMP echo (%s)", millis(ic.RTTAvgSeconds)))
		}
	}
	ask := fmt.Sprintf("Ask venue IT to allow outbound UDP %d to %s (SRT)", r.Port, r.Address)
	if len(answered) > 0 {
		return fmt.Sprintf("no answer to the SRT handshake from %s (UDP) in %s, while %s: UDP %d is dropped on the way — by this network's firewall, or by the server's",
				where, wait, strings.Join(answered, " and "), r.Port),
			ask + ". If it is allowed, check the port in the URL and that the ingest is up (a server firewall may drop a port nothing listens on). Meanwhile, push over RTMP or RTMPS (TCP) if the provider offers it, or use another uplink (4G/5G)."
	}
	tried := "ICMP echo not measured"
	if _, ok := ev["icmp_answered"]; ok {
		tried = "no ICMP echo answered"
	}
	if len(tcps) > 0 {
		tried = "no TCP port connected, " + tried
	}
	return fmt.Sprintf("no answer to the SRT handshake from %s (UDP) in %s, and nothing else on the server answered (%s): it cannot be reached from here", where, wait, tried),
		"Check the encoder's uplink (cable, Wi-Fi, gateway) and any captive portal login; then test from another uplink (4G/5G): if the ingest answers there, this network blocks it — " + strings.ToLower(ask[:1]) + ask[1:] + "; if not, the server is down or the address is wrong — contact the provider."
}

// rejectWords says why a listener refused, in words, and what to do.
func rejectWords(r *srt.Result) (string, string) {
	const checkSID = "Check the stream id (streamid=…) against the provider's push settings — the stream name, and for signed URLs txSecret and txTime — and copy the push URL again."
	switch r.RejectReason {
	case srt.RejectBadSecret:
		w := "wrong passphrase"
		if r.KMState == srt.KMBad {
			w += " (the ingest accepted the connection but could not unwrap the key: an encoder gives up)"
		}
		return w, "The passphrase in the URL differs from the ingest's: copy it again from the provider (it is case-sensitive, 10 to 79 characters)."
	case srt.RejectUnsecure:
		if r.Encrypted {
			return "the ingest is not encrypted, but the URL sets a passphrase",
				"Remove passphrase= from the URL, or have the same passphrase set on the ingest."
		}
		return "a passphrase is required", "Add the ingest's passphrase to the URL: …&passphrase=<10 to 79 characters>, as the provider gives it."
	case srt.RejectPeer, srt.RejectXFallback:
		return "refused without a reason — servers answer so when they do not accept the stream id", checkSID
	case srt.RejectXUnauthorized:
		return "stream id refused: not authorized", checkSID + " A signed stream id past its txTime is refused like this too."
	case srt.RejectXForbidden:
		return "stream id refused: access forbidden", checkSID
	case srt.RejectXNotFound, srt.RejectXFilePath:
		return "stream id refused: the ingest does not know this stream (r=)", checkSID
	case srt.RejectXHostNotFound:
		return "stream id refused: the ingest does not know the host in h=", "Set h= in the stream id to the push domain, as the provider gives it. " + checkSID
	case srt.RejectXBadRequest, srt.RejectXKeyNotSup, srt.RejectXBadMode, srt.RejectXUnacceptable, srt.RejectXNotSupMedia:
		return "stream id refused: malformed or not supported by this ingest", checkSID + " Publishing needs m=publish where the provider asks for it."
	case srt.RejectXConflict, srt.RejectXLocked:
		return "resource busy: another encoder already publishes this stream",
			"Stop the other encoder on this stream (an encoder left running, a backup encoder), or wait for its session to time out. Give a backup encoder its own stream id."
	case srt.RejectResource, srt.RejectBacklog, srt.RejectXOverload, srt.RejectXNoRoom:
		return "resource busy: the ingest has no room for another connection now", "Retry in a minute; if it persists, contact the provider (the ingest is overloaded or at its connection limit)."
	case srt.RejectXDown, srt.RejectXISE, srt.RejectXUnimplemented, srt.RejectXGateway, srt.RejectSystem, srt.RejectIPE, srt.RejectClose:
		return "the ingest failed or is going down", "Retry in a minute; if it persists, contact the provider with the reject code."
	case srt.RejectVersion, srt.RejectXVersion:
		if r.Detail == "hsv4" {
			return "the ingest speaks only the old SRT handshake (v4, SRT before 1.3), which carries no stream id",
				"Ask the provider for an SRT 1.3 or newer ingest; encoders today connect with the v5 handshake."
		}
		return "the ingest requires another SRT version", "Update the encoder's SRT library, or ask the provider which SRT version the ingest requires."
	case srt.RejectCrypto:
		return "the encryption mode does not match the ingest's (AES-CTR or AES-GCM)", "Set the encoder's encryption mode to the ingest's (cryptomode), as the provider gives it."
	case srt.RejectMessageAPI, srt.RejectCongestion, srt.RejectFilter, srt.RejectGroup:
		return "the connection settings do not match the ingest's (" + string(r.RejectReason) + ")", "Use the SRT settings the provider gives (transtype=live, no packet filter unless asked); remove options the provider did not ask for."
	case srt.RejectRogue:
		return "the ingest could not interpret the handshake", "Retry; if it persists, contact the provider with the reject code."
	}
	return "for a reason ingestprobe does not know (" + string(r.RejectReason) + ")", "Contact the provider with the reject code."
}
