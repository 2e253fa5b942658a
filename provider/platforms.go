package provider

import "github.com/ingestprobe/ingestprobe/ingesturl"

// The platforms' ingests: what each publishes as its server URL, checked offline by the URL doctor.
// Every fact here is in docs/providers.md with the public page it comes from; change both together.
// A platform's own domain is its host suffix, so "auto" recognises its URLs; none has a CNAME rule
// (the ingest hosts are the platform's, not a customer's domain).

// youtube: rtmp://a.rtmp.youtube.com/live2 and rtmps://a.rtmps.youtube.com:443/live2, backups on
// b.; the RTMPS ingest must be reached on 443 and by a host name containing "rtmps" (YouTube Live
// API, "Delivering Live YouTube Content via RTMPS").
func youtube() Profile {
	return Profile{
		Name:         YouTube,
		HostSuffixes: []string{".youtube.com"},
		Ingest: &ingesturl.IngestRules{
			Title: "YouTube Live",
			App:   "live2",
			Ingests: []ingesturl.Ingest{
				{Scheme: "rtmps", Port: 443, Hosts: []string{".rtmps.youtube.com"}, Example: "rtmps://a.rtmps.youtube.com:443/live2/<stream key>"},
				{Scheme: "rtmp", Port: 1935, Hosts: []string{".rtmp.youtube.com"}, Example: "rtmp://a.rtmp.youtube.com/live2/<stream key>"},
			},
			Console: "YouTube Studio (Create > Go live > Stream)",
		},
	}
}

// facebook: RTMPS only, rtmps://live-api-s.facebook.com:443/rtmp/ (Live Producer) or
// rtmps://rtmp-api.facebook.com:443/rtmp/ (the Live Video API's secure_stream_url, OBS's service).
func facebook() Profile {
	return Profile{
		Name:         Facebook,
		HostSuffixes: []string{".facebook.com"},
		Ingest: &ingesturl.IngestRules{
			Title: "Facebook Live",
			App:   "rtmp",
			Ingests: []ingesturl.Ingest{
				{Scheme: "rtmps", Port: 443, Hosts: []string{".live-api-s.facebook.com", ".rtmp-api.facebook.com"}, Example: "rtmps://live-api-s.facebook.com:443/rtmp/<stream key>"},
			},
			SchemeNote: "Facebook requires the stream to be encrypted with RTMPS",
			Console:    "Facebook Live Producer (Streaming software)",
		},
	}
}

// twitch: rtmp://<ingest-server>/app/<stream-key>, ingest servers <pop>.contribute.live-video.net
// and the default ingest.global-contribute.live-video.net, RTMPS on the same names (Twitch Video
// Broadcast docs, Get Ingest Servers); OBS still lists the older live-<pop>.twitch.tv names.
// Whether those take RTMPS is not documented, so they count as hosts for both schemes: no rule
// claims a failure it cannot source.
func twitch() Profile {
	hosts := []string{".contribute.live-video.net", ".ingest.global-contribute.live-video.net", ".twitch.tv"}
	return Profile{
		Name:         Twitch,
		HostSuffixes: []string{".twitch.tv", ".contribute.live-video.net", ".ingest.global-contribute.live-video.net"},
		Ingest: &ingesturl.IngestRules{
			Title: "Twitch",
			App:   "app",
			Ingests: []ingesturl.Ingest{
				{Scheme: "rtmp", Port: 1935, Hosts: hosts, Example: "rtmp://ingest.global-contribute.live-video.net/app/<stream key>"},
				{Scheme: "rtmps", Port: 443, Hosts: hosts, Example: "rtmps://ingest.global-contribute.live-video.net/app/<stream key>"},
			},
			Console: "the Twitch Creator Dashboard (Settings > Stream)",
		},
	}
}

// awsIVS: a channel's ingest endpoint <id>.global-contribute.live-video.net, RTMPS on 443
// (rtmps://<endpoint>:443/app/), SRT on 9000 at *.srt.live-video.net. Plain RTMP on 1935 is
// refused unless the channel was created with insecureIngest (default false). OBS's "Amazon IVS"
// service also lists the <pop>.contribute.live-video.net names Twitch uses.
func awsIVS() Profile {
	return Profile{
		Name:         AWSIVS,
		HostSuffixes: []string{".global-contribute.live-video.net", ".srt.live-video.net"},
		Ingest: &ingesturl.IngestRules{
			Title: "Amazon IVS",
			App:   "app",
			Ingests: []ingesturl.Ingest{
				{Scheme: "rtmps", Port: 443, Hosts: []string{".global-contribute.live-video.net", ".contribute.live-video.net"}, Example: "rtmps://<channel ingest endpoint>:443/app/<stream key>"},
				{Scheme: "srt", Port: 9000, Hosts: []string{".srt.live-video.net"}, Example: "srt://<channel SRT endpoint>:9000 (stream key and passphrase from the channel)"},
			},
			SchemeNote:      "its channels take RTMPS or SRT, and plain RTMP only when created with insecure ingest",
			SchemeException: "If the channel was created with insecure ingest enabled (insecureIngest), it takes rtmp:// on port 1935: for such a channel set provider = \"generic\" on this target.",
			Console:         "the Amazon IVS console (your channel's Stream configuration)",
		},
	}
}
