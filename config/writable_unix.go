//go:build unix

package config

import "golang.org/x/sys/unix"

// dirWritable asks the kernel whether this process may create files in dir (access(2), W_OK|X_OK).
func dirWritable(dir string) error { return unix.Access(dir, unix.W_OK|unix.X_OK) }
