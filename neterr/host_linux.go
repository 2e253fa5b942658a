//go:build linux && !(mips || mipsle || mips64 || mips64le)

package neterr

var host = linuxErrnos
