package neterr

import "testing"

// TestDarwinTableIsTheKernels: the macOS table's numbers are the syscall constants of their names.
// (Compiled by make vet-cross; it runs on a Mac.)
func TestDarwinTableIsTheKernels(t *testing.T) { checkHostTable(t, darwinErrnos) }
