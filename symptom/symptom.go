// Package symptom maps what an encoder shows — ffmpeg's error texts, OBS's dialog texts, the
// Tencent LiteAV SDK's events and error codes — to the findings that can cause it, and names the
// checks that tell those findings apart. `ingestprobe explain` reads it; docs/findings.md lists the
// same texts under each finding (a test keeps the two in step).
//
// A message an encoder shows rarely names one cause: ffmpeg's "Input/output error" follows a
// refused signature, a TLS failure and a closed handshake alike. So a symptom lists every finding
// code it can stand for, and the checks whose results separate them.
package symptom

import (
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Check is one step of the pipeline that tells findings apart.
type Check string

const (
	CheckURL       Check = "url"       // the URL doctor, offline: signature, expiry, parameters, provider rules
	CheckDNS       Check = "dns"       // the push domain's resolution and CNAME chain
	CheckTCP       Check = "tcp"       // the ingest port and the alternative ports on the same server
	CheckTLS       Check = "tls"       // the RTMPS certificate and handshake (rtmps:// only)
	CheckHandshake Check = "handshake" // the RTMP handshake
	CheckConnect   Check = "connect"   // NetConnection.connect to the application
	CheckPublish   Check = "publish"   // a publish of the stream, held briefly: occupies it (--publish)
)

// Checks in pipeline order.
var Checks = []Check{CheckURL, CheckDNS, CheckTCP, CheckTLS, CheckHandshake, CheckConnect, CheckPublish}

// Symptom is one message an encoder shows.
type Symptom struct {
	Source string // "ffmpeg", "OBS", "Tencent LiteAV SDK"
	Text   string // the message as the encoder shows it (an event name with its code for the SDK)
	// Match are further lowercase fragments that identify the message in a longer paste (a log
	// line, a code alone); Text always matches.
	Match  []string
	Codes  []string // the finding codes that can cause it, likeliest first
	Checks []Check  // the checks that tell those findings apart
	Note   string   // what the message means, in a sentence
}

// Catalogue is every symptom known. The codes are diagnose's; a test checks each is catalogued.
var Catalogue = []Symptom{
	// ffmpeg — the texts of its log lines (libavformat's tcp, tls and rtmp protocols).
	{Source: "ffmpeg", Text: "Connection refused", Match: []string{"econnrefused"},
		Codes:  []string{"tcp.refused", "tcp.rejected"},
		Checks: []Check{CheckTCP},
		Note:   "a TCP reset answered the connect: nothing listens on the port, or a firewall rejects it"},
	{Source: "ffmpeg", Text: "Connection timed out", Match: []string{"etimedout"},
		Codes:  []string{"tcp.blocked", "tcp.unreachable", "rtmp.handshake_timeout"},
		Checks: []Check{CheckTCP, CheckHandshake},
		Note:   "no answer to the connect: a network that drops the port, or a server that cannot be reached"},
	{Source: "ffmpeg", Text: "No route to host", Match: []string{"ehostunreach"},
		Codes:  []string{"tcp.rejected", "tcp.unreachable"},
		Checks: []Check{CheckTCP},
		Note:   "an ICMP unreachable or admin-prohibited answered the connect: a firewall, or no route"},
	{Source: "ffmpeg", Text: "Network is unreachable", Match: []string{"enetunreach"},
		Codes:  []string{"tcp.unreachable"},
		Checks: []Check{CheckTCP},
		Note:   "this machine has no route to the ingest: no uplink, or no route for the address family"},
	{Source: "ffmpeg", Text: "Failed to resolve hostname", Match: []string{"name or service not known", "temporary failure in name resolution"},
		Codes:  []string{"dns.nxdomain", "dns.timeout", "dns.servfail", "dns.no_address"},
		Checks: []Check{CheckDNS},
		Note:   "the push domain did not resolve"},
	{Source: "ffmpeg", Text: "Cannot read RTMP handshake response",
		Codes:  []string{"rtmp.not_rtmp", "rtmp.handshake_timeout"},
		Checks: []Check{CheckTCP, CheckHandshake},
		Note:   "the port connected but did not answer as an RTMP server: a captive portal, a proxy, a TLS port"},
	{Source: "ffmpeg", Text: "Server error: Already publishing", Match: []string{"already publishing"},
		Codes:  []string{"rtmp.stream_in_use"},
		Checks: []Check{CheckPublish},
		Note:   "the ingest refused the publish with NetStream.Publish.BadName: another encoder publishes the stream"},
	{Source: "ffmpeg", Text: "Input/output error", Match: []string{"i/o error"},
		Codes:  []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "url.txtime_expired", "url.txsecret_mismatch", "rtmp.connect_rejected", "tls.failed", "rtmp.not_rtmp"},
		Checks: []Check{CheckURL, CheckTCP, CheckTLS, CheckHandshake, CheckConnect, CheckPublish},
		Note:   "ffmpeg's answer to any session the server ended: a refused signature or stream key, a second publisher, an unknown application, a TLS failure (the [tcp], [tls] and [rtmp] lines before it say more)"},
	{Source: "ffmpeg", Text: "Broken pipe", Match: []string{"epipe", "error in the push function"},
		Codes:  []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "url.txtime_expired", "url.txsecret_mismatch"},
		Checks: []Check{CheckURL, CheckPublish},
		Note:   "the server closed the connection while ffmpeg was sending: a publish accepted and then dropped"},
	{Source: "ffmpeg", Text: "Connection reset by peer", Match: []string{"econnreset"},
		Codes:  []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "rtmp.not_rtmp"},
		Checks: []Check{CheckURL, CheckHandshake, CheckPublish},
		Note:   "the server, or something on the path, reset the connection"},
	{Source: "ffmpeg", Text: "certificate verify failed", Match: []string{"the certificate is not trusted", "certificate has expired", "self-signed certificate", "unable to get local issuer certificate"},
		Codes:  []string{"tls.failed", "clock.skew"},
		Checks: []Check{CheckTLS},
		Note:   "the RTMPS certificate was refused: untrusted issuer (often a network inspecting TLS), wrong name, expired or not yet valid"},

	// OBS — the texts of its connection dialogs (en-US).
	{Source: "OBS", Text: "Failed to connect to server",
		Codes:  []string{"dns.nxdomain", "dns.timeout", "dns.servfail", "dns.hijacked", "tcp.blocked", "tcp.rejected", "tcp.refused", "tcp.unreachable", "rtmp.not_rtmp", "rtmp.handshake_timeout", "tls.failed"},
		Checks: []Check{CheckDNS, CheckTCP, CheckTLS, CheckHandshake},
		Note:   "OBS could not open an RTMP session: the name, the port, the path or TLS failed before any stream was asked for"},
	{Source: "OBS", Text: "Could not access the specified channel or stream key, please double-check your stream key. If it is correct, there may be a problem connecting to the server.",
		Match:  []string{"could not access the specified channel or stream key", "double-check your stream key"},
		Codes:  []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "url.txtime_expired", "url.txsecret_mismatch", "url.missing_param", "rtmp.connect_rejected"},
		Checks: []Check{CheckURL, CheckConnect, CheckPublish},
		Note:   "the ingest refused or dropped the publish: a signature or key it does not accept, another encoder on the stream, an application it does not serve"},
	{Source: "OBS", Text: "Invalid Path or Connection URL. Please check your settings to confirm that they are valid.",
		Match:  []string{"invalid path or connection url"},
		Codes:  []string{"url.invalid", "url.scheme_unsupported", "url.wrong_app", "rtmp.connect_rejected"},
		Checks: []Check{CheckURL, CheckConnect},
		Note:   "the server URL or the application in it is not one the ingest takes"},
	{Source: "OBS", Text: "Disconnected from server.", Match: []string{"disconnected from server", "reconnecting"},
		Codes:  []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "url.txtime_short", "url.txtime_expired", "net.packet_loss"},
		Checks: []Check{CheckURL, CheckTCP, CheckPublish},
		Note:   "a live session was cut: the server dropped the publisher (a signature that expired, another encoder taking over) or the path failed"},

	// Tencent LiteAV SDK — events of TXLivePusher and codes of V2TXLivePusher (Tencent's docs).
	{Source: "Tencent LiteAV SDK", Text: "PUSH_WARNING_SERVER_DISCONNECT (3004)", Match: []string{"push_warning_server_disconnect", "3004"},
		Codes:  []string{"rtmp.publish_rejected", "url.txtime_expired", "url.txsecret_mismatch", "url.missing_param", "rtmp.stream_in_use"},
		Checks: []Check{CheckURL, CheckPublish},
		Note:   "the server ended the push: Tencent's docs name an expired or miscalculated signature; a second publisher on the stream reads the same"},
	{Source: "Tencent LiteAV SDK", Text: "PUSH_WARNING_DNS_FAIL (3001)", Match: []string{"push_warning_dns_fail", "3001"},
		Codes:  []string{"dns.nxdomain", "dns.timeout", "dns.servfail", "dns.no_address", "dns.cname_missing", "dns.cname_unexpected"},
		Checks: []Check{CheckDNS},
		Note:   "the push domain did not resolve"},
	{Source: "Tencent LiteAV SDK", Text: "PUSH_WARNING_SEVER_CONN_FAIL (3002)", Match: []string{"push_warning_sever_conn_fail", "push_warning_server_conn_fail", "3002"},
		Codes:  []string{"tcp.blocked", "tcp.rejected", "tcp.refused", "tcp.unreachable"},
		Checks: []Check{CheckTCP},
		Note:   "the TCP connect to the ingest failed"},
	{Source: "Tencent LiteAV SDK", Text: "PUSH_WARNING_SHAKE_FAIL (3003)", Match: []string{"push_warning_shake_fail", "3003"},
		Codes:  []string{"rtmp.not_rtmp", "rtmp.handshake_timeout"},
		Checks: []Check{CheckTCP, CheckHandshake},
		Note:   "the RTMP handshake failed after the port connected"},
	{Source: "Tencent LiteAV SDK", Text: "PUSH_ERR_NET_DISCONNECT (-1307)", Match: []string{"push_err_net_disconnect", "-1307"},
		Codes:  []string{"tcp.blocked", "tcp.unreachable", "rtmp.publish_rejected", "net.packet_loss"},
		Checks: []Check{CheckTCP, CheckPublish},
		Note:   "the SDK gave up after its reconnects failed"},
	{Source: "Tencent LiteAV SDK", Text: "startPush returns -2 (V2TXLIVE_ERROR_INVALID_PARAMETER)", Match: []string{"v2txlive_error_invalid_parameter", "-2"},
		Codes:  []string{"url.scheme_unsupported", "url.missing_param", "url.mode_mismatch"},
		Checks: []Check{CheckURL},
		Note:   "the SDK refused the URL before connecting: trtc:// on an edition without TRTC, a parameter missing, or an rtmp:// URL in RTC mode"},
	{Source: "Tencent LiteAV SDK", Text: "V2TXLIVE_ERROR_DISCONNECTED (-8)", Match: []string{"v2txlive_error_disconnected", "-8"},
		Codes:  []string{"rtmp.publish_rejected", "rtmp.stream_in_use", "url.txtime_expired", "url.txsecret_mismatch", "tcp.unreachable"},
		Checks: []Check{CheckURL, CheckTCP, CheckPublish},
		Note:   "the connection to the server was lost or ended by the server"},
	{Source: "Tencent LiteAV SDK", Text: "V2TXLIVE_ERROR_REQUEST_TIMEOUT (-6)", Match: []string{"v2txlive_error_request_timeout", "-6"},
		Codes:  []string{"tcp.blocked", "tcp.unreachable", "rtmp.handshake_timeout", "dns.timeout"},
		Checks: []Check{CheckDNS, CheckTCP, CheckHandshake},
		Note:   "the server did not answer in time"},
}

// normalize lowercases s, turns every run of blanks into one space, and drops ffmpeg's context
// prefixes ("[tcp @ 0x55d…] ") so a pasted log line matches its text.
func normalize(s string) string {
	s = strings.ToLower(s)
	for {
		i := strings.Index(s, "[")
		j := strings.Index(s, "@ 0x")
		k := strings.Index(s, "]")
		if i < 0 || j < i || k < j {
			break
		}
		s = s[:i] + s[k+1:]
	}
	return strings.Join(strings.Fields(s), " ")
}

// codeLike says s is a bare number or an SDK constant name, which must match whole, not inside
// another number ("-2" in "-2304", "3004" in a port).
func codeLike(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || unicode.IsDigit(r) || unicode.IsLetter(r)) {
			return false
		}
	}
	return strings.ContainsAny(s, "0123456789") && !strings.ContainsFunc(s, unicode.IsLetter)
}

// tokens splits s at anything but letters, digits, '-' and '_'.
func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '/')
	})
}

// Match returns the symptoms the pasted text is: those whose text or a fragment appears in it,
// or which it is a fragment of (at least 6 characters). A number matches only as a whole token.
func Match(text string) []Symptom {
	in := normalize(text)
	if in == "" {
		return nil
	}
	toks := tokens(in)
	var out []Symptom
	for _, s := range Catalogue {
		for _, m := range append([]string{normalize(s.Text)}, s.Match...) {
			hit := false
			switch {
			case codeLike(m):
				hit = slices.Contains(toks, m)
			case strings.Contains(in, m):
				hit = true
			case len(in) >= 6 && strings.Contains(m, in):
				hit = true
			}
			if hit {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// Closest returns up to n symptoms whose words are nearest to text's, best first: what to show
// for a message the catalogue does not know.
func Closest(text string, n int) []Symptom {
	words := wordSet(normalize(text))
	type scored struct {
		s     Symptom
		score float64
	}
	var all []scored
	for _, s := range Catalogue {
		// A word of the message itself counts twice a word of its explanation.
		msg := wordSet(normalize(s.Text + " " + strings.Join(s.Match, " ")))
		note := wordSet(normalize(s.Note))
		score := 0
		for w := range words {
			switch {
			case msg[w]:
				score += 2
			case note[w]:
				score++
			}
		}
		if score == 0 {
			continue
		}
		all = append(all, scored{s, float64(score) / float64(len(words)+1)})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].score > all[j].score })
	var out []Symptom
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].s)
	}
	if len(out) == 0 {
		// Nothing in common: the commonest messages, so the reader sees what is known.
		for _, s := range Catalogue {
			if len(out) == n {
				break
			}
			if s.Text == "Input/output error" || s.Text == "Failed to connect to server" || strings.HasPrefix(s.Text, "PUSH_WARNING_SERVER_DISCONNECT") {
				out = append(out, s)
			}
		}
	}
	return out
}

// stopWords carry no meaning for matching.
var stopWords = map[string]bool{"the": true, "a": true, "an": true, "to": true, "of": true, "or": true, "is": true, "in": true,
	"on": true, "and": true, "it": true, "if": true, "not": true, "there": true, "be": true, "may": true, "please": true, "your": true}

func wordSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range tokens(s) {
		w = strings.Trim(w, "-_/")
		if len(w) < 2 || stopWords[w] {
			continue
		}
		out[w] = true
	}
	return out
}

// Codes returns the finding codes of symptoms, each once, in the order met.
func Codes(ss []Symptom) []string {
	var out []string
	for _, s := range ss {
		for _, c := range s.Codes {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// ChecksOf returns the checks of symptoms, each once, in pipeline order.
func ChecksOf(ss []Symptom) []Check {
	var out []Check
	for _, c := range Checks {
		for _, s := range ss {
			if slices.Contains(s.Checks, c) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// ForCode returns the symptoms a finding code can show as.
func ForCode(code string) []Symptom {
	var out []Symptom
	for _, s := range Catalogue {
		if slices.Contains(s.Codes, code) {
			out = append(out, s)
		}
	}
	return out
}
