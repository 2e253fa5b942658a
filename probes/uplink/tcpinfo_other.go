//go:build !linux

package uplink

import "net"

// readTCPInfo: TCP_INFO with tcpi_bytes_acked is Linux's; elsewhere the soak measures by the
// server's RTMP Acknowledgements.
func readTCPInfo(net.Conn) (tcpStats, bool) { return tcpStats{}, false }

// limitUnsent: without TCP_NOTSENT_LOWAT the send buffer alone bounds the unsent backlog
// (Stream sets it to about a second of the send rate).
func limitUnsent(net.Conn, int) {}
