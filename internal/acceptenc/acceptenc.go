// Package acceptenc reads a request's Accept-Encoding: the /metrics exposition and the status
// board's API both compress for a client that asks for gzip, and must agree on what asking means.
package acceptenc

import "strings"

// Gzip reads the Accept-Encoding header values: true when gzip is listed without q=0.
func Gzip(headers []string) bool {
	for _, h := range headers {
		for _, part := range strings.Split(h, ",") {
			name, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.ReplaceAll(strings.TrimSpace(params), " ", ""), "q=")
			if !ok || strings.Trim(q, "0.") != "" {
				return true // no q, or a q above 0
			}
		}
	}
	return false
}
