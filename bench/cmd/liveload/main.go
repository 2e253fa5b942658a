// Command liveload is the publishers of the live watch's benchmark (bench/live/run.sh): a loopback
// listener that discards, and n connections to it, each sending rate bits per second, for a
// bounded time. It prints the bytes the listener received.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	n := flag.Int("n", 1, "connections")
	addr := flag.String("listen", "127.0.0.1:19351", "loopback address to listen on")
	rate := flag.Int("rate", 20000, "bits per second per connection")
	dur := flag.Duration("for", 100*time.Second, "how long (at most 10m)")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { n, _ := io.Copy(io.Discard, c); got.Add(n) })
		}
	}()
	var conns []net.Conn
	for range *n {
		c, err := net.DialTimeout("tcp", *addr, 2*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		conns = append(conns, c)
	}
	buf := make([]byte, *rate/8)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for end := time.Now().Add(min(*dur, 10*time.Minute)); time.Now().Before(end); <-tick.C {
		for _, c := range conns {
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write(buf)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	ln.Close()
	wg.Wait()
	fmt.Printf("received %d bytes\n", got.Load())
}
