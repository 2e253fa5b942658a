package tcp

// defaultAltPorts are tried beside the ingest port: 443 and 80 are open on almost every network, so
// they tell a venue firewall from a dead server. 1935 is the alternative of an RTMPS ingest on 443
// only: an ingest on another port (an SRT or a custom RTMP port) has no reason to expect it open.
var defaultAltPorts = []int{443, 80, 1935}

// AlternativePorts are the ports connected to beside ingestPort when a target sets none.
func AlternativePorts(ingestPort int) []int {
	var out []int
	for _, p := range defaultAltPorts {
		if p != ingestPort && !(p == 1935 && ingestPort != 443) {
			out = append(out, p)
		}
	}
	return out
}
