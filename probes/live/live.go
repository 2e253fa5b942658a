// Package live watches the encoder's own connection to the ingest during the show, without sending
// a byte and without touching the encoder: every established TCP connection from this host to a
// target's ingest (its addresses, both families, and its port), other than this process's own, is
// a live publisher, and the kernel's statistics of that connection — bytes the ingest
// acknowledged, segments sent and retransmitted, bytes waiting to be sent, RTT, delivery rate —
// are read every window.
//
// On Linux the statistics come from NETLINK_SOCK_DIAG (an inet_diag dump with INET_DIAG_INFO,
// the path `ss -ti` uses, through github.com/vishvananda/netlink's socket; the replies are parsed
// here, so recorded replies can be tested), and the owning process is named from the socket's
// inode through /proc/PID/fd where this process may read it. On Windows the connections and their
// owners' PIDs come from GetExtendedTcpTable and the statistics from GetPerTcpConnectionEStats,
// whose collection must be enabled per connection (SetPerTcpConnectionEStats, administrator
// only): without it a connection still counts as a publisher, and its figures are marked unknown
// with the reason (Conn.Unknown, Result.FiguresUnknown) — never read as zeros. The tables and the
// statistics' structures are decoded in tcptable.go, in plain Go, so any host's tests cover them.
// Elsewhere (macOS) NewWatcher says the watch is not available (ErrUnavailable) — never a silent
// nothing.
//
// A Tracker turns the samples of one target into windows (Result): the acknowledged rate, the
// retransmit ratio, the backlog, the RTT, and the conditions diagnose judges (how long nothing has
// been acknowledged while data waits, how long the backlog has been too large, how long the rate
// has been under the show's bitrate, how many times the publisher reconnected). A Watcher makes
// one dump per sample and hands each target its connections.
package live

import (
	"errors"
	"net/netip"
	"time"
)

// Defaults of the target keys live_every and live_quiet. Five seconds is the stall threshold
// itself (an encoder's send buffer covers a few seconds, so a cut path is visible within one or
// two windows); two minutes after the last publisher left is longer than any encoder's reconnect
// back-off, so a publish probe never lands between an encoder's retries.
const (
	DefaultEvery = 5 * time.Second
	DefaultQuiet = 2 * time.Minute
	MinEvery     = time.Second
)

// ReconnectWindow is how far back Result.Reconnects counts.
const ReconnectWindow = 5 * time.Minute

// Class is why a window has no figures; "" when it has.
type Class string

const (
	OK          Class = ""
	Unavailable Class = "unavailable" // the platform gives nothing usable (macOS), or the dump was refused
	Failed      Class = "failed"      // the dump failed this time
)

// ErrUnavailable is NewWatcher's error where the system gives no statistics of other processes'
// connections.
var ErrUnavailable = errors.New("live watch is not available on this system")

// Conn is one TCP connection as the kernel reports it at one moment. Counters are cumulative since
// the connection started.
type Conn struct {
	Local, Remote netip.AddrPort
	// ID tells connections apart across samples: the socket cookie on Linux, the 4-tuple and owner
	// elsewhere. A new ID for the same ingest is a new connection — a reconnect.
	ID    uint64
	Inode uint64 // the socket's inode (Linux), for naming its process
	PID   int    // the owner, where the platform names it (Windows); 0 = look it up by inode
	// Process is the owner's name, filled in by the Watcher (ProcessUnknown when it cannot be read).
	Process string

	BytesAcked   uint64 // tcpi_bytes_acked: payload the ingest acknowledged
	SegsOut      uint64 // tcpi_segs_out
	TotalRetrans uint64 // tcpi_total_retrans: segments retransmitted
	NotsentBytes uint64 // tcpi_notsent_bytes: written by the encoder, not yet sent
	Unacked      uint64 // bytes sent and not yet acknowledged (in flight)
	RTT, RTTVar  time.Duration
	DeliveryRate uint64        // bytes per second, the kernel's estimate (0 = unknown)
	LastAckRecv  time.Duration // since the last ACK arrived (0 = unknown)

	// Unknown says why the statistics of this connection could not be read (Windows: collection
	// not enabled without administrator rights). The connection is a publisher all the same; its
	// counters above are not figures, and the Tracker leaves them out of every sum and condition.
	Unknown string
}

// Backlog is what waits: not yet sent plus in flight.
func (c Conn) Backlog() uint64 { return c.NotsentBytes + c.Unacked }

// Target is one ingest to watch.
type Target struct {
	Name    string
	Addrs   []netip.Addr // what the ingest's host resolves to, both families
	Port    int
	Bitrate float64 // the show's bitrate, bits per second; 0 = unknown
}

// Matches says c goes to t's ingest.
func (t Target) Matches(c Conn) bool {
	if int(c.Remote.Port()) != t.Port {
		return false
	}
	ra := c.Remote.Addr().Unmap()
	for _, a := range t.Addrs {
		if a.Unmap() == ra {
			return true
		}
	}
	return false
}

// Result is one window of one target: {"probe": "live", …}.
type Result struct {
	Probe  string `json:"probe"` // always "live"
	Error  Class  `json:"error,omitempty"`
	Detail string `json:"detail,omitempty"` // why, with Error: the system's words, never a URL
	Ingest string `json:"ingest,omitempty"` // the port watched, "host:port" by address

	WindowSeconds   float64 `json:"window_seconds"`
	Publishers      int     `json:"publishers"`
	AckedBps        float64 `json:"acked_bps"`        // bits per second the ingest acknowledged, summed
	DeliveryBps     float64 `json:"delivery_bps"`     // the kernel's delivery-rate estimate, summed
	RTTSeconds      float64 `json:"rtt_seconds"`      // the worst connection's
	RTTVarSeconds   float64 `json:"rttvar_seconds"`   // that connection's RTT variance
	RetransmitRatio float64 `json:"retransmit_ratio"` // the worst connection's, over the window
	SegsOut         uint64  `json:"segs_out"`         // segments sent in the window, summed
	RetransSegs     uint64  `json:"retrans_segs"`     // of them retransmitted
	BacklogBytes    uint64  `json:"backlog_bytes"`    // not sent + in flight, summed
	NotsentBytes    uint64  `json:"notsent_bytes"`
	BacklogSeconds  float64 `json:"backlog_seconds"` // BacklogBytes in seconds of StreamBps; 0 when unknown
	// StreamBps is the stream's rate the backlog is measured in: the configured bitrate, else the
	// highest acknowledged rate of the last minute.
	StreamBps  float64 `json:"stream_bps"`
	BitrateBps float64 `json:"bitrate_bps,omitempty"` // the configured show bitrate

	// FiguresUnknown says why the figures of some publishers' connections are unknown (the first
	// reason); UnknownConnections is how many. They count in Publishers and Reconnects, but not in
	// the rates, RTT, retransmits, backlog or the conditions below, which cover the others only.
	FiguresUnknown     string `json:"figures_unknown,omitempty"`
	UnknownConnections int    `json:"unknown_connections,omitempty"`

	Reconnects      int `json:"reconnects"`       // within ReconnectWindow
	ReconnectsTotal int `json:"reconnects_total"` // since the watch began

	// Conditions, measured; diagnose judges them.
	StalledSeconds      float64 `json:"stalled_seconds,omitempty"`       // nothing acknowledged for this long while data waits
	CongestedSeconds    float64 `json:"congested_seconds,omitempty"`     // the backlog has been too large (or growing) this long
	BacklogGrowing      int     `json:"backlog_growing,omitempty"`       // samples in a row the backlog grew
	BelowBitrateSeconds float64 `json:"below_bitrate_seconds,omitempty"` // under 90 % of the bitrate this long

	// LastSeenSecondsAgo is how long ago a publisher was last seen, when none is now (-1: never).
	LastSeenSecondsAgo float64 `json:"last_seen_seconds_ago,omitempty"`
	// HeldBack names the probe level the pipeline did not run because a show is live ("publish"):
	// set only on the copy a pipeline record carries, with the publishers and last sighting.
	HeldBack string `json:"held_back,omitempty"`

	Connections []Connection `json:"connections"`
}

// Connection is one publisher's connection in a window.
type Connection struct {
	Local           string  `json:"local"`
	Remote          string  `json:"remote"`
	Process         string  `json:"process"` // "process unknown" where the owner cannot be read
	PID             int     `json:"pid,omitempty"`
	AckedBps        float64 `json:"acked_bps"`
	DeliveryBps     float64 `json:"delivery_bps"`
	RTTSeconds      float64 `json:"rtt_seconds"`
	RTTVarSeconds   float64 `json:"rttvar_seconds"`
	RetransmitRatio float64 `json:"retransmit_ratio"`
	BacklogBytes    uint64  `json:"backlog_bytes"`
	NotsentBytes    uint64  `json:"notsent_bytes"`
	AgeSeconds      float64 `json:"age_seconds"` // since this agent first saw it
	// FiguresUnknown says why this connection's statistics cannot be read; its figures are then 0
	// and mean nothing.
	FiguresUnknown string `json:"figures_unknown,omitempty"`
}

// HasFigures says some publisher's connection has figures: false with no publisher, or when the
// statistics of every one are unknown.
func (r *Result) HasFigures() bool { return r.Publishers > r.UnknownConnections }

// WhyAdmin is the reason a connection's figures are unknown where the agent may not enable their
// collection: Windows grants SetPerTcpConnectionEStats to administrators only.
const WhyAdmin = "per-connection statistics need the agent to run as administrator or LocalSystem"

// ProcessUnknown names a connection whose owner cannot be read (another user's process without
// CAP_SYS_PTRACE, or a platform that does not say).
const ProcessUnknown = "process unknown"
