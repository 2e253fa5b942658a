package tcp

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// connect makes one connection the way a plain blocking connect(2) is timed: a non-blocking
// connect, then ppoll(2) on this goroutine's own thread until the socket is writable. The kernel
// wakes this thread itself when the handshake ends, so the time measured does not wait for Go's
// network poller to notice the socket and for the scheduler to run the goroutine again — on a busy
// host those wake-ups add hundreds of microseconds at the tail, and they are ours, not the
// network's. The price is one OS thread per connect in flight (at most the agent's concurrency
// times the ports of a target).
//
// The wait ends at ctx's deadline (a timeout) or when ctx is canceled: a canceled connect is
// shut down, which aborts the handshake and wakes the poll. The socket is closed before connect
// returns.
func (p *Probe) connect(ctx context.Context) (connecting, end time.Time, rtt time.Duration, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, p.now(), 0, err
	}
	ap := p.cfg.Address
	addr := ap.Addr()
	var sa unix.Sockaddr
	family := unix.AF_INET6
	if addr.Is4() || addr.Is4In6() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: addr.Unmap().As4()}
	} else {
		zone, zerr := zoneIndex(addr)
		if zerr != nil {
			return time.Time{}, p.now(), 0, zerr
		}
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: addr.As16(), ZoneId: zone}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return time.Time{}, p.now(), 0, os.NewSyscallError("socket", err)
	}
	// shut and closed keep the cancel hook and the close apart: the hook may only shut the socket
	// down while it is still this probe's (a closed descriptor number is soon another file's).
	var mu sync.Mutex
	closed := false
	defer func() {
		mu.Lock()
		closed = true
		unix.Close(fd)
		mu.Unlock()
	}()

	connecting = p.now()
	err = unix.Connect(fd, sa)
	if err != nil && err != unix.EINPROGRESS {
		return connecting, p.now(), 0, os.NewSyscallError("connect", err)
	}
	if err == unix.EINPROGRESS {
		// Registered after connect(2): the socket is in SYN_SENT, where shutdown(2) aborts the
		// handshake and wakes the poll below (a hook run before connect would shut an unconnected
		// socket, which does nothing).
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(fired)
			mu.Lock()
			if !closed {
				unix.Shutdown(fd, unix.SHUT_RDWR)
			}
			mu.Unlock()
		})
		defer func() {
			if !stop() {
				<-fired // the hook's goroutine does not outlive the connect
			}
		}()
		err = waitWritable(ctx, fd)
		end = p.now()
		if err != nil {
			return connecting, end, 0, err
		}
	} else {
		end = p.now()
	}
	if cerr := ctx.Err(); cerr != nil {
		return connecting, end, 0, cerr
	}
	if soerr, gerr := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); gerr != nil {
		return connecting, end, 0, os.NewSyscallError("getsockopt", gerr)
	} else if soerr != 0 {
		return connecting, end, 0, os.NewSyscallError("connect", unix.Errno(soerr))
	}
	if info, ierr := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); ierr == nil {
		rtt = time.Duration(info.Rtt) * time.Microsecond
	}
	return connecting, end, rtt, nil
}

// waitWritable polls fd until it is writable (or hung up), ctx's deadline passes, or ctx is
// canceled (the cancel hook shuts the socket down, which wakes the poll). Signals interrupt the
// poll (EINTR); it resumes with the time left, so the loop ends by the deadline.
func waitWritable(ctx context.Context, fd int) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	deadline, hasDeadline := ctx.Deadline()
	for {
		var ts *unix.Timespec
		if hasDeadline {
			left := time.Until(deadline)
			if left <= 0 {
				return context.DeadlineExceeded
			}
			t := unix.NsecToTimespec(left.Nanoseconds())
			ts = &t
		}
		n, err := unix.Ppoll(fds, ts, nil)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return os.NewSyscallError("ppoll", err)
		case n == 0:
			return context.DeadlineExceeded
		}
		return nil
	}
}

// zoneIndex is the interface index of an IPv6 address's zone ("eth0" or "2"), 0 without one.
func zoneIndex(a netip.Addr) (uint32, error) {
	z := a.Zone()
	if z == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(z)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}
