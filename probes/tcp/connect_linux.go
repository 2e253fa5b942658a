package tcp

import (
	"context"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ingestprobe/ingestprobe/internal/sockaddr"
)

// threadWaits bounds the connects that wait on a thread of their own (kernelConnect): beyond it,
// connects go through Go's network poller (dial.go), which holds no thread while it waits. Go keeps
// the threads it has made, so without a bound a network that drops everything would leave the
// agent with a thread per port × its concurrency (≈ 200); with it, at most this many more.
const threadWaits = 16

var threadTokens = make(chan struct{}, threadWaits)

// connect uses kernelConnect while fewer than threadWaits connects wait on their own thread, and
// Go's dialer otherwise.
func (p *Probe) connect(ctx context.Context) (connecting, end time.Time, rtt time.Duration, err error) {
	select {
	case threadTokens <- struct{}{}:
		defer func() { <-threadTokens }()
		return p.kernelConnect(ctx)
	default:
		return p.dialConnect(ctx, connRTT)
	}
}

// connRTT is the kernel's RTT (TCP_INFO) of a connection made by Go's dialer; 0 when unavailable.
func connRTT(c net.Conn) time.Duration {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return 0
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0
	}
	var rtt time.Duration
	_ = raw.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			rtt = time.Duration(info.Rtt) * time.Microsecond
		}
	})
	return rtt
}

// kernelConnect makes one connection the way a plain blocking connect(2) is timed: a non-blocking
// connect, then ppoll(2) on this goroutine's own thread until the socket is writable. The kernel
// wakes this thread itself when the handshake ends, so the time measured does not wait for Go's
// network poller to notice the socket and for the scheduler to run the goroutine again — on a busy
// host those wake-ups add hundreds of microseconds at the tail, and they are ours, not the
// network's. The price is an OS thread per connect while it waits (at most threadWaits: connect).
//
// The wait ends at ctx's deadline (a timeout) or when ctx is canceled: a canceled connect is
// shut down, which aborts the handshake and wakes the poll. The socket is closed before connect
// returns.
func (p *Probe) kernelConnect(ctx context.Context) (connecting, end time.Time, rtt time.Duration, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, p.now(), 0, err
	}
	sa, family, zerr := sockaddr.Of(p.cfg.Address)
	if zerr != nil {
		return time.Time{}, p.now(), 0, zerr
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
	if p.cfg.Keep != nil {
		keepFD(fd, p.cfg.Keep)
	}
	return connecting, end, rtt, nil
}

// keepFD hands a connected socket to keep as a net.Conn: a duplicate of fd (close-on-exec) goes
// to Go's network poller, and the caller closes fd itself as always. When no descriptor is left
// to duplicate, nothing is handed over: the connect still succeeded, and the RTMP session dials.
func keepFD(fd int, keep func(net.Conn)) {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(dup), "tcp")
	c, err := net.FileConn(f) // duplicates again; f's descriptor is closed here
	f.Close()
	if err != nil {
		return
	}
	keep(c)
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
