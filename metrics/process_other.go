//go:build !linux

package metrics

// processFamilies: the process_* series are read from /proc, on Linux only. (client_golang had
// them on Windows and macOS too; the agent's alert rules do not use them.)
func processFamilies() []Family { return nil }
