// Package diagnose turns what the probes measured into findings — a cause and a remedy each — and a
// verdict. It is a pure function of its input: no I/O, no clock but the one it is given.
package diagnose

import "github.com/ingestprobe/ingestprobe/record"

// Entry describes one finding code of the catalogue.
type Entry struct {
	Code     string
	Severity record.Severity // the severity it is usually raised with; some codes vary (see docs)
	Summary  string
}

// Catalogue is the closed list of finding codes: a public contract that alert rules and scripts key
// on. docs/findings.md documents each; a test keeps the two in step.
var Catalogue = []Entry{
	{"dns.nxdomain", record.Error, "the push domain (or a name in its CNAME chain) does not exist"},
	{"dns.timeout", record.Error, "no resolver answered in time, or none could be reached"},
	{"dns.servfail", record.Error, "the resolver failed or refused to answer"},
	{"dns.no_address", record.Error, "the name exists but has no A or AAAA address"},
	{"dns.cname_missing", record.Error, "the push domain does not resolve through the provider's CNAME"},
	{"dns.cname_unexpected", record.Error, "the CNAME chain reaches no accepted push suffix: a playback domain, or somewhere not in extra_push_suffixes"},
	{"dns.hijacked", record.Error, "the resolver answered a sinkhole address (0.0.0.0, ::, loopback)"},
	{"tcp.blocked", record.Error, "the ingest port is silently dropped while another port on the same server connects"},
	{"tcp.rejected", record.Error, "the ingest port is actively rejected while another port on the same server connects"},
	{"tcp.refused", record.Error, "the server refused the ingest port and no alternative port connected"},
	{"tcp.unreachable", record.Error, "no port on the server could be reached"},
	{"net.packet_loss", record.Warning, "ICMP echo shows packet loss to the ingest"},
	{"net.high_latency", record.Warning, "ICMP round-trip time to the ingest is high"},
	{"net.mtu_blackhole", record.Error, "TCP connects but the handshake stalls with full-size segments and completes with smaller ones: a path MTU black hole"},
	{"net.ipv6_broken", record.Warning, "the host has IPv4 and IPv6 addresses, and IPv6 fails (connect or RTMP handshake) while IPv4 works"},
	{"icmp.unavailable", record.Info, "ICMP echo could not be sent from this host"},
	{"rtmp.not_rtmp", record.Error, "TCP connects but the server does not answer the RTMP handshake"},
	{"rtmp.handshake_timeout", record.Error, "the RTMP handshake did not finish in time"},
	{"rtmp.connect_rejected", record.Error, "the server rejected the RTMP connect (application)"},
	{"rtmp.publish_rejected", record.Error, "the server rejected the publish"},
	{"rtmp.stream_in_use", record.Error, "another client is already publishing this stream"},
	{"tls.failed", record.Error, "the TLS session for RTMPS could not be established"},
	{"srt.timeout", record.Error, "the SRT handshake got no answer: UDP to the ingest port is dropped, or nothing answers"},
	{"srt.unreachable", record.Error, "the SRT ingest port cannot be reached: ICMP port unreachable (nothing listens), host unreachable, or this host's firewall"},
	{"srt.rejected", record.Error, "the SRT ingest rejected the connection (wrong or missing passphrase, stream id refused, resource busy, …)"},
	{"srt.not_srt", record.Error, "the UDP port answered, but not with SRT"},
	{"tls.verify_disabled", record.Warning, "RTMPS is probed without verifying the certificate (insecure_skip_verify)"},
	{"url.invalid", record.Error, "the publishing URL cannot be parsed"},
	{"url.scheme_unsupported", record.Error, "the URL's scheme cannot be used here"},
	{"url.missing_param", record.Error, "a parameter the provider requires is missing or malformed"},
	{"url.mode_mismatch", record.Error, "the declared mode does not match the URL's scheme"},
	{"url.txtime_expired", record.Error, "the URL's txTime is in the past"},
	{"url.txtime_short", record.Warning, "the URL expires too soon"},
	{"url.txsecret_mismatch", record.Error, "txSecret does not match the configured key"},
	{"url.scheme_required", record.Error, "the provider's ingest does not take the URL's scheme (Facebook, Amazon IVS: RTMPS only)"},
	{"url.wrong_host", record.Error, "the host is the provider's ingest for the other scheme (rtmp:// to an RTMPS host)"},
	{"url.unknown_host", record.Warning, "the host is none of the provider's known ingest hosts"},
	{"url.wrong_port", record.Error, "the port is not the one the provider's ingest listens on for the scheme"},
	{"url.wrong_app", record.Error, "the application is not the provider's (YouTube live2, Twitch and IVS app, Facebook rtmp)"},
	{"clock.skew", record.Warning, "this host's clock differs from a trusted clock"},
	{"live.stalled", record.Error, "the publisher is connected but nothing has been acknowledged for 5 s while data waits: the path is cut"},
	{"live.congested", record.Warning, "the publisher's backlog exceeds a second of the stream or keeps growing (error after 30 s): the uplink cannot carry the stream"},
	{"live.below_bitrate", record.Error, "the acknowledged rate has stayed more than 10 % under the show's bitrate for 30 s"},
	{"live.retransmits", record.Warning, "more than 2 % of the publisher's segments were retransmitted in the window"},
	{"live.reconnects", record.Warning, "the publisher's connection was re-established two or more times within 5 minutes"},
	{"live.no_publisher", record.Info, "no encoder on this host is publishing to the ingest (normal before the show)"},
	{"live.unavailable", record.Warning, "the live watch cannot read this system's connections"},
	{"live.publish_held", record.Info, "the publish probe ran at connect level because a show is, or was just, live"},
	{"uplink.insufficient", record.Error, "the uplink soak achieved less than the show's bitrate"},
	{"uplink.no_headroom", record.Warning, "the uplink carries the show's bitrate but not 1.25 × it"},
	{"uplink.retransmits", record.Warning, "more than 2 % of the segments sent during the soak were retransmitted"},
	{"uplink.bufferbloat", record.Warning, "the round trip under the soak's load grew above 4 × the idle one and by more than 50 ms"},
	{"uplink.unmeasured", record.Warning, "the soak published but nothing measured what the ingest received"},
}

// Known says code is in the catalogue.
func Known(code string) bool {
	for _, e := range Catalogue {
		if e.Code == code {
			return true
		}
	}
	return false
}
