package main

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCheckUplinkFlags: a bad --uplink or --uplink-for is a usage error (exit 2) with a clear
// message, and nothing is sent: the listener named in the URL is never connected to.
func TestCheckUplinkFlags(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	url := "rtmp://" + ln.Addr().String() + "/live/secretstream"
	cfg := writeConfig(t, "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--uplink", "0"}, "--uplink: \"0\": the bitrate must be above 0"},
		{[]string{"--uplink", "-6M"}, "the bitrate must be above 0"},
		{[]string{"--uplink", "six"}, "is not a bitrate: write it in bit/s, like 6M, 4500k or 6000000"},
		{[]string{"--uplink", "1.5G"}, "at most 1G"},
		{[]string{"--uplink", "6M", "--uplink-for", "2s"}, "--uplink-for 2s: the measured window must be from 3s to 5m0s"},
		{[]string{"--uplink", "6M", "--uplink-for", "301s"}, "--uplink-for 5m1s"},
		{[]string{"--uplink-for", "10s"}, "--uplink-for needs --uplink"},
		{[]string{"--uplink", "6M", "--rtmp", "handshake"}, "--uplink publishes; it contradicts --rtmp handshake"},
		{[]string{"--uplink", "6M", "--watch"}, "--uplink cannot be used with --watch"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"check", "--config", cfg, url}, c.args...)...)
			if code != exitUsage || !strings.Contains(stderr, c.want) {
				t.Errorf("got exit %d, stderr %q; want %d and %q", code, stderr, exitUsage, c.want)
			}
			if strings.Contains(stdout+stderr, "secretstream") {
				t.Errorf("the stream name leaked: %s%s", stdout, stderr)
			}
		})
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the ingest was connected to %d times; want none (usage errors send nothing)", n)
	}
	code, _, stderr := runCmd(t, "check", "--config", cfg, "srt://127.0.0.1:9000?streamid=x", "--uplink", "6M")
	if code != exitUsage || !strings.Contains(stderr, "--uplink publishes over RTMP") {
		t.Errorf("srt:// with --uplink: exit %d, %q; want a usage error", code, stderr)
	}
}
