//go:build !unix

package config

// dirWritable: Windows has no access(2) that answers for ACLs; the agent's start says it.
func dirWritable(string) error { return nil }
