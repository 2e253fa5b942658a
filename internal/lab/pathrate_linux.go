//go:build linux

package lab

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// PathRate is the goodput of a bulk TCP transfer from the venue to the server namespace over d,
// after a second of warm-up, in bit/s: the path measured without ingestprobe, for comparing a
// soak's achieved rate with what the (shaped) path carries. Every socket has a deadline of d + 5 s.
func (l *Lab) PathRate(d time.Duration) (float64, error) {
	var ln net.Listener
	if err := l.Do(l.Server, func() error {
		var err error
		ln, err = net.Listen("tcp", netip.AddrPortFrom(IngestAddr, 0).String())
		return err
	}); err != nil {
		return 0, err
	}
	defer ln.Close()
	result := make(chan float64, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			result <- 0
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(d + 5*time.Second))
		buf := make([]byte, 4<<10) // small reads: the window's ends are placed to a few ms
		var total, baseN int64
		var baseAt time.Time
		start := time.Now()
		for {
			n, err := c.Read(buf)
			total += int64(n)
			now := time.Now()
			if baseAt.IsZero() && now.Sub(start) >= time.Second {
				baseN, baseAt = total, now
			}
			if !baseAt.IsZero() && now.Sub(baseAt) >= d {
				result <- float64(total-baseN) * 8 / now.Sub(baseAt).Seconds()
				return
			}
			if err != nil {
				result <- 0
				return
			}
		}
	})
	var conn net.Conn
	if err := l.Do(l.Venue, func() error {
		var err error
		conn, err = net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
		return err
	}); err != nil {
		ln.Close() // ends the Accept
		return 0, err
	}
	_ = conn.SetDeadline(time.Now().Add(d + 5*time.Second))
	wg.Go(func() { _, _ = io.Copy(conn, zeros{}) })
	bps := <-result
	conn.Close()
	if bps == 0 {
		return 0, errors.New("lab: the path measurement got nothing")
	}
	return bps, nil
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
