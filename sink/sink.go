// Package sink holds what every sink shares: Config, one [[sinks]] section of the config file, with
// its types and defaults. The sinks themselves live below it — jsonl and prometheus write each
// record as it comes; push (http, remote_write) delivers from the spool — and reporter.Build is
// the one switch that turns a Config into a running sink.
package sink

import (
	"time"

	"github.com/ingestprobe/ingestprobe/internal/duration"
)

// Sink types, the values of a section's type key.
const (
	JSONL       = "jsonl"
	HTTP        = "http"
	Prometheus  = "prometheus"
	RemoteWrite = "remote_write"
)

// Types lists every sink type, in the order error messages name them.
var Types = []string{JSONL, HTTP, Prometheus, RemoteWrite}

// Config is one place results go. Which keys apply depends on Type (see Keys).
type Config struct {
	Type      string            `toml:"type"`
	Name      string            `toml:"name"`       // default: the type; names the spool cursor and the metrics' sink label
	Path      string            `toml:"path"`       // jsonl: "-" (stdout, default) or a file
	Listen    string            `toml:"listen"`     // prometheus: address of /metrics (default DefaultListen)
	URL       string            `toml:"url"`        // http, remote_write
	TokenFile string            `toml:"token_file"` // http, remote_write: bearer token read from a file
	CAFile    string            `toml:"ca_file"`    // http, remote_write: extra CA for the collector's TLS
	Timeout   duration.Duration `toml:"timeout"`    // http, remote_write: per request (default DefaultTimeout)
	BatchSize int               `toml:"batch_size"` // http, remote_write: records per request (default DefaultBatchSize)
}

// Defaults. /metrics listens on loopback: the records name ingests and venues, which are not for
// every host on the venue network; a scraper elsewhere needs listen set on purpose. A push request
// gets 10 s, far above a collector's usual answer, under the 30 s probe interval. 500 records a
// request keeps a backlog after an outage to a few requests without a request of megabytes.
const (
	DefaultListen    = "127.0.0.1:9935"
	DefaultTimeout   = 10 * time.Second
	DefaultBatchSize = 500
)

// Keys are the optional keys each type uses; a key set for a type that does not use it is an error.
func Keys(typ string) []string {
	switch typ {
	case JSONL:
		return []string{"path"}
	case Prometheus:
		return []string{"listen"}
	case HTTP, RemoteWrite:
		return []string{"url", "token_file", "ca_file", "timeout", "batch_size"}
	}
	return nil
}

// Set reports which optional keys c sets, by key name.
func (c *Config) Set() map[string]bool {
	return map[string]bool{"path": c.Path != "", "listen": c.Listen != "", "url": c.URL != "", "token_file": c.TokenFile != "",
		"ca_file": c.CAFile != "", "timeout": c.Timeout.D() != 0, "batch_size": c.BatchSize != 0}
}

// StdoutJSONL is the sink used when none is configured: records as JSON lines on stdout, so that
// `run` is useful out of the box.
func StdoutJSONL() Config { return Config{Type: JSONL, Name: JSONL, Path: "-"} }
