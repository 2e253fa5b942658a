package diagnose

import (
	"cmp"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/record"
)

// ingestFindings turns what the URL doctor found against a platform's ingest rules (the
// ingest_* issues of the lint) into findings. The texts come from the provider's profile: its
// name for people, the URL to copy, and where the platform shows it. Nothing here repeats the
// stream key: an application is named only when a stream name follows it.
func ingestFindings(in Input) []record.Finding {
	l, u := in.Results.URL, in.URL
	r := in.Provider.IngestRules()
	if l == nil || u == nil || r == nil || l.IngestRules == "" {
		return nil
	}
	var out []record.Finding
	add := func(code string, sev record.Severity, msg, remedy string, is ingesturl.Issue) {
		ev := map[string]any{"provider": r.Provider, "scheme": u.Scheme, "host": u.Host, "issue": string(is.Kind)}
		if is.Found != "" {
			ev["found"] = is.Found
		}
		if is.Want != "" {
			ev["expected"] = is.Want
		}
		out = append(out, record.Finding{Code: code, Severity: sev, Message: msg, Remedy: remedy, Evidence: ev})
	}
	here, _ := r.For(u.Scheme)
	copyFrom := ""
	if r.Console != "" {
		copyFrom = " The server URL and the stream key are in " + r.Console + "."
	}
	generic := fmt.Sprintf(" If this ingest is not %s's (a relay or a test server), set provider = \"generic\" on the target (or --provider generic).", r.Title)
	for _, is := range l.Issues {
		switch is.Kind {
		case ingesturl.IngestScheme:
			msg := fmt.Sprintf("%s does not take %s://", r.Title, is.Found)
			if r.SchemeNote != "" {
				msg += ": " + r.SchemeNote
			}
			remedy := fmt.Sprintf("%s takes only %s: set the encoder's server to it; the stream key stays the same.%s", r.Title, examples(r.Ingests), copyFrom)
			if r.SchemeException != "" {
				remedy += " " + r.SchemeException
			}
			add("url.scheme_required", record.Error, msg, remedy, is)
		case ingesturl.IngestHostScheme:
			other, _ := r.For(is.Found)
			add("url.wrong_host", record.Error,
				fmt.Sprintf("%s is %s's %s:// ingest, not its %s:// one: a %s:// connection to it fails (a TLS error or a timeout)", u.Host, r.Title, is.Found, u.Scheme, u.Scheme),
				fmt.Sprintf("Use %s, or keep the host and use %s.%s", here.Example, other.Example, copyFrom), is)
		case ingesturl.IngestHost:
			what := "is not"
			if _, ok := u.IP(); ok {
				what = "is an IP address, not"
			}
			remedy := fmt.Sprintf("Copy the server URL from %s (%s).", orPlatform(r), here.Example)
			if _, ok := u.IP(); ok {
				remedy += " A platform's ingest addresses change: use its host name."
			}
			remedy += fmt.Sprintf(" If %s is your own DNS name in front of %s's ingest, add its suffix to extra_push_suffixes in [providers.%s].%s", u.Host, r.Title, r.Provider, generic)
			add("url.unknown_host", record.Warning,
				fmt.Sprintf("%s %s a known %s ingest host for %s:// (names ending in %s)", u.Host, what, r.Title, u.Scheme, hostList(here.Hosts)),
				remedy, is)
		case ingesturl.IngestPort:
			port, _ := strconv.Atoi(is.Want)
			remedy := "Use " + fixed(u, port, r.App) + "."
			if ingesturl.DefaultPort(u.Scheme) == port {
				remedy = fmt.Sprintf("Use %s — or leave the port out: %s:// means port %s.", fixed(u, port, r.App), u.Scheme, is.Want)
			}
			add("url.wrong_port", record.Error,
				fmt.Sprintf("%s's %s:// ingest listens on port %s; this URL says port %s", r.Title, u.Scheme, is.Want, is.Found),
				remedy, is)
		case ingesturl.IngestApp:
			var msg string
			switch {
			case is.Reason == ingesturl.ReasonOneSegment:
				msg = fmt.Sprintf("the URL's path has one part where %s needs two, /%s/<stream key>: the application or the stream key is missing", r.Title, is.Want)
			case is.Found == "":
				msg = fmt.Sprintf("the URL has no application: %s's is %q", r.Title, is.Want)
			default:
				msg = fmt.Sprintf("the application is %q; %s takes only %q", is.Found, r.Title, is.Want)
			}
			use := exampleFor(r, here)
			if here.Example != "" {
				use = fixed(u, 0, is.Want) // the URL's own scheme and host: only the application changes
			}
			add("url.wrong_app", record.Error, msg,
				fmt.Sprintf("Use %s. In OBS, Server is the URL up to /%s and Stream Key is the key.%s", use, is.Want, copyFrom), is)
		case ingesturl.IngestKeyMissing:
			add("url.missing_param", record.Error,
				fmt.Sprintf("the URL has no stream key: %s's push URL is %s", r.Title, fixed(u, 0, cmp.Or(r.App, u.App))),
				fmt.Sprintf("Append the stream key from %s, or in OBS put it in Stream Key and keep Server as it is.", orPlatform(r)), is)
		}
	}
	return out
}

// fixed is the URL's scheme and host with the port (0: as written) and the application given, and
// a placeholder for the stream key: what to write instead, with nothing secret from the URL.
func fixed(u *ingesturl.URL, port int, app string) string {
	auth := u.Authority()
	if port != 0 {
		auth = net.JoinHostPort(u.Host, strconv.Itoa(port))
	}
	return u.Scheme + "://" + auth + "/" + app + "/<stream key>"
}

// examples are the URLs of each ingest, the preferred first: "A or B".
func examples(ins []ingesturl.Ingest) string {
	var xs []string
	for _, in := range ins {
		xs = append(xs, in.Example)
	}
	return strings.Join(xs, " or ")
}

// exampleFor is the URL of the ingest for the URL's scheme, or the preferred one when the platform
// does not take that scheme.
func exampleFor(r *ingesturl.IngestRules, here ingesturl.Ingest) string {
	if here.Example != "" {
		return here.Example
	}
	return r.Ingests[0].Example
}

func orPlatform(r *ingesturl.IngestRules) string {
	if r.Console != "" {
		return r.Console
	}
	return r.Title
}

// hostList names host suffixes for people: "rtmp.youtube.com", "a or b".
func hostList(suffixes []string) string {
	var hs []string
	for _, s := range suffixes {
		hs = append(hs, strings.TrimPrefix(s, "."))
	}
	return strings.Join(hs, " or ")
}
