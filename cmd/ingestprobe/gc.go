package main

import "runtime/debug"

// agentGCPercent is the garbage collector's target for the long-running agent (`run`, and the
// service): the heap may grow by half of what is live between collections instead of Go's default
// of all of it (GOGC=100). The agent runs beside an encoder, keeps a small live heap (1.5-2 MB at
// 50 targets) and allocates little, so the collections it adds are cheap, and the heap it keeps is
// what its RSS is made of. Measured on the benchmark's footprint phase (docs/performance.md): steady
// anonymous RSS 7.3 -> 5.6 MB, the collector's CPU 0.05 -> 0.13 s a minute (about 3 % of the
// agent's CPU); at 2,000 targets, steady RSS 33.5 -> 29.6 MB with no measurable CPU change.
const agentGCPercent = 50

// setAgentGC applies agentGCPercent unless GOGC is set in the environment, which stays the way to
// choose another value (GOGC=100 is Go's default; GOMEMLIMIT is honoured as Go documents it).
func setAgentGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(agentGCPercent)
	}
}
