package main

import (
	"runtime/debug"
	"testing"
)

func TestSetAgentGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	setAgentGC(func(k string) string { return "" })
	if got := debug.SetGCPercent(100); got != agentGCPercent {
		t.Errorf("without GOGC: GC percent %d; want %d", got, agentGCPercent)
	}
	setAgentGC(func(k string) string {
		if k == "GOGC" {
			return "100"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC=100 in the environment: GC percent %d; want it left at 100", got)
	}
}
