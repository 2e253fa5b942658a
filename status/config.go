// Package status serves the operator's board: a page the agent itself serves, for the crew at the
// venue — GO / WARN / NO-GO per ingest, what is wrong and what to do, the last hour — and the same
// as JSON at /api/status. Board holds what the page shows; Server serves it and, as a local sink of
// the reporter, feeds it every record. It reads nothing of the config file: config decodes the
// [status] section into Config, and the agent builds the rest.
package status

import (
	"net"
	"net/netip"
	"strings"
)

// Config is the [status] section. No section, no board.
type Config struct {
	// Listen is host:port of the board (default DefaultListen).
	Listen string `toml:"listen"`
	// TokenFile holds the bearer token every request must carry (or the cookie a ?token= link
	// sets). Required when Listen is not a loopback address.
	TokenFile string `toml:"token_file"`
}

// DefaultListen keeps the board on this host: the records name ingests and venues, and a page on
// the venue network is for whoever joins it. Another address needs token_file. 9817 sits beside
// /metrics' 9935 and is not a port other streaming software commonly takes.
const DefaultListen = "127.0.0.1:9817"

// Loopback reports whether listen (host:port) accepts connections from this host only: a loopback
// address or "localhost". An empty host (":9817") listens on every address.
func Loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
