package diagnose

import (
	"github.com/ingestprobe/ingestprobe/ingesturl"
)

// The URL doctor's words for srt:// URLs, whose Tencent signature is inside the stream id.

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
