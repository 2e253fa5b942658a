package icmp

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// On Windows an ICMP socket is a raw socket, which needs administrator rights; the unprivileged
// mode is Windows' own ICMP API in iphlpapi.dll, the one ping.exe uses: IcmpSendEcho2 for IPv4,
// Icmp6SendEcho2 for IPv6. Each echo is one asynchronous request with its own event; the burst
// paces them as the socket burst does (the next echo when the previous one is answered or
// Interval after it), waits on the events, and times each echo with its own clock (the API's
// RoundTripTime is in whole milliseconds, 0 on a LAN). The privileged mode stays the raw socket.
var (
	iphlpapi              = windows.NewLazySystemDLL("iphlpapi.dll")
	procIcmpCreateFile    = iphlpapi.NewProc("IcmpCreateFile")
	procIcmp6CreateFile   = iphlpapi.NewProc("Icmp6CreateFile")
	procIcmpCloseHandle   = iphlpapi.NewProc("IcmpCloseHandle")
	procIcmpSendEcho2     = iphlpapi.NewProc("IcmpSendEcho2")
	procIcmp6SendEcho2    = iphlpapi.NewProc("Icmp6SendEcho2")
	procIcmpParseReplies  = iphlpapi.NewProc("IcmpParseReplies")
	procIcmp6ParseReplies = iphlpapi.NewProc("Icmp6ParseReplies")
)

// system is the burst in the given mode: the ICMP API unprivileged, a raw socket privileged.
func (p *Probe) system(ctx context.Context, addr netip.Addr, privileged bool, count int, interval, wait time.Duration) (stats, bool, error) {
	if privileged {
		return p.echo(ctx, addr, privileged, count, interval, wait)
	}
	return apiEcho(ctx, addr, count, interval, wait)
}

// route asks iphlpapi for the interface it would send to addr through (GetBestInterfaceEx):
// nothing is sent. Where it cannot tell, the echo request finds out. (A connected UDP socket, as on Unix, would do too on Windows, but not under
// Wine, which fails the UDP dial: docs/install.md.)
func route(ctx context.Context, addr netip.Addr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a := addr.Unmap()
	var sa windows.Sockaddr
	if a.Is4() {
		sa = &windows.SockaddrInet4{Addr: a.As4()}
	} else {
		zone, _ := strconv.ParseUint(a.Zone(), 10, 32)
		if z, err := net.InterfaceByName(a.Zone()); err == nil && zone == 0 {
			zone = uint64(z.Index)
		}
		sa = &windows.SockaddrInet6{Addr: a.As16(), ZoneId: uint32(zone)}
	}
	var idx uint32
	err := windows.GetBestInterfaceEx(sa, &idx)
	if errors.Is(err, windows.ERROR_NOT_SUPPORTED) {
		return nil // it cannot tell (Wine 8 for IPv6): the echo request will
	}
	if err != nil {
		return &net.OpError{Op: "route", Net: "ip", Addr: &net.IPAddr{IP: a.AsSlice()}, Err: os.NewSyscallError("GetBestInterfaceEx", err)}
	}
	return nil
}

// The IP_* status codes of the ICMP API (ipexport.h) that say where an echo could not go. A
// request refused at once with one of them is given the Win32 code of the same meaning, which
// neterr knows.
var ipStatusErrno = map[syscall.Errno]syscall.Errno{
	11002: windows.ERROR_NETWORK_UNREACHABLE, // IP_DEST_NET_UNREACHABLE (v6: IP_DEST_NO_ROUTE)
	11003: windows.ERROR_HOST_UNREACHABLE,    // IP_DEST_HOST_UNREACHABLE (v6: IP_DEST_ADDR_UNREACHABLE)
	11004: windows.ERROR_HOST_UNREACHABLE,    // IP_DEST_PROT_UNREACHABLE (v6: IP_DEST_PROHIBITED)
	11012: windows.ERROR_NETWORK_UNREACHABLE, // IP_BAD_ROUTE
}

const (
	ipSuccess = 0
	// replyLen holds one reply: the reply structure (40 bytes on 64-bit Windows for IPv4, 36 for
	// IPv6), the echoed data, an ICMP error's 8 bytes and the IO_STATUS_BLOCK the API keeps there.
	replyLen = 256
	// maxPending stays under WaitForMultipleObjects' 64 handles with the cancel event.
	maxPending = 63
	// v6ReplyData is sizeof(ICMPV6_ECHO_REPLY): the echoed data follows it.
	v6ReplyData = 36
)

// apiRequest is one echo in flight: the event the API signals and the buffers it writes, which
// must stay where they are until it has.
type apiRequest struct {
	seq      int
	event    windows.Handle
	reply    [replyLen]byte
	src, dst windows.RawSockaddrInet6 // IPv6 only
	sentAt   time.Time
	timeout  time.Duration
}

// stranded keeps the requests the API had not completed within their own timeout after the handle
// was closed, so their buffers are never reused while the system might still write them. It stays
// empty unless the ICMP driver breaks its timeout.
var stranded struct {
	sync.Mutex
	reqs []*apiRequest
}

// apiEcho runs one burst through the ICMP API. setup is false when the API cannot be used (no
// iphlpapi, no ICMP handle), which makes the probe fall back to the raw socket.
func apiEcho(ctx context.Context, addr netip.Addr, count int, interval, wait time.Duration) (stats, bool, error) {
	addr = addr.Unmap()
	create := procIcmpCreateFile
	if addr.Is6() {
		create = procIcmp6CreateFile
	}
	if err := create.Find(); err != nil {
		return stats{}, false, err
	}
	h, _, e := create.Call()
	if windows.Handle(h) == windows.InvalidHandle {
		return stats{}, false, os.NewSyscallError(create.Name, e)
	}
	b := &apiBurst{handle: h, now: time.Now, peer: addr, token: newToken(),
		count: min(count, maxPending), interval: interval, wait: wait}
	st, err := b.run(ctx)
	return st, true, err
}

type apiBurst struct {
	handle   uintptr
	now      func() time.Time
	peer     netip.Addr
	token    [tokenLen]byte
	count    int
	interval time.Duration
	wait     time.Duration
	pending  []*apiRequest
}

// run is burst.run's pacing over API requests: each echo goes when the reply to the previous one
// has come or interval after it; the burst ends when every request has completed or wait after
// the last echo, or at ctx's end. It closes the handle and every event before it returns.
func (b *apiBurst) run(ctx context.Context) (stats, error) {
	var rtts []time.Duration
	var tried, sent int
	var lastTry, lastSend time.Time
	lastAnswered := false
	result := func(err error) (stats, error) { return summarize(sent, rtts), err }

	cancelEv, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		procIcmpCloseHandle.Call(b.handle)
		return result(os.NewSyscallError("CreateEvent", err))
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		windows.SetEvent(cancelEv)
	})
	defer func() {
		if !stop() {
			<-fired // the AfterFunc goroutine does not outlive the burst
		}
		b.finish()
		windows.CloseHandle(cancelEv)
	}()
	ctxDeadline, hasDeadline := ctx.Deadline()
	handles := make([]windows.Handle, 0, maxPending+1)
	for steps := 0; ; steps++ {
		if steps > b.count*(readsPerEcho+2) {
			return result(errTooManyPackets)
		}
		if err := ctx.Err(); err != nil {
			return result(err)
		}
		t := b.now()
		if hasDeadline && !t.Before(ctxDeadline) {
			return result(context.DeadlineExceeded)
		}
		if tried < b.count && (tried == 0 || lastAnswered || !t.Before(lastTry.Add(b.interval))) {
			seq := tried
			tried, lastTry, lastAnswered = tried+1, t, false
			timeout := b.wait
			if hasDeadline {
				timeout = min(timeout, ctxDeadline.Sub(t))
			}
			r, err := b.send(seq, t, timeout)
			if err != nil {
				if sent == 0 {
					return result(err) // the first echo refused: nothing to measure
				}
				continue
			}
			b.pending = append(b.pending, r)
			sent, lastSend = sent+1, t
			continue
		}
		next := lastTry.Add(b.interval)
		if tried == b.count {
			if len(b.pending) == 0 {
				return result(nil)
			}
			if next = lastSend.Add(b.wait); !t.Before(next) {
				return result(nil)
			}
		}
		if hasDeadline && ctxDeadline.Before(next) {
			next = ctxDeadline
		}
		handles = append(handles[:0], cancelEv)
		for _, r := range b.pending {
			handles = append(handles, r.event)
		}
		ev, err := windows.WaitForMultipleObjects(handles, false, millis(next.Sub(t)))
		if err != nil {
			return result(os.NewSyscallError("WaitForMultipleObjects", err))
		}
		i := int(ev - windows.WAIT_OBJECT_0)
		if ev == uint32(windows.WAIT_TIMEOUT) || i == 0 || i >= len(handles) {
			continue // time for the next echo, or canceled (the loop's top returns)
		}
		at := b.now()
		r := b.pending[i-1]
		b.pending = append(b.pending[:i-1], b.pending[i:]...)
		windows.CloseHandle(r.event)
		if !b.answered(r) {
			continue // timed out, or an ICMP error instead of the reply: lost
		}
		rtt := at.Sub(r.sentAt)
		if rtt > b.wait {
			continue
		}
		rtts = append(rtts, rtt)
		if r.seq == tried-1 {
			lastAnswered = true
		}
	}
}

// millis is d in whole milliseconds, rounded up, for the Windows wait functions.
func millis(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min((d+time.Millisecond-1)/time.Millisecond, math.MaxUint32-1))
}

// send starts one echo request.
func (b *apiBurst) send(seq int, t time.Time, timeout time.Duration) (*apiRequest, error) {
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return nil, os.NewSyscallError("CreateEvent", err)
	}
	r := &apiRequest{seq: seq, event: ev, sentAt: t, timeout: timeout}
	ms := uintptr(max(1, millis(timeout)))
	var ok uintptr
	var e error
	proc := procIcmpSendEcho2
	if b.peer.Is6() {
		proc = procIcmp6SendEcho2
		r.src = windows.RawSockaddrInet6{Family: windows.AF_INET6}
		r.dst = windows.RawSockaddrInet6{Family: windows.AF_INET6, Addr: b.peer.As16()}
		if z, err := strconv.ParseUint(b.peer.Zone(), 10, 32); err == nil {
			r.dst.Scope_id = uint32(z)
		} else if ifi, err := net.InterfaceByName(b.peer.Zone()); err == nil {
			r.dst.Scope_id = uint32(ifi.Index)
		}
		ok, _, e = proc.Call(b.handle, uintptr(ev), 0, 0,
			uintptr(unsafe.Pointer(&r.src)), uintptr(unsafe.Pointer(&r.dst)),
			uintptr(unsafe.Pointer(&b.token[0])), tokenLen, 0,
			uintptr(unsafe.Pointer(&r.reply[0])), replyLen, ms)
	} else {
		a := b.peer.As4()
		ok, _, e = proc.Call(b.handle, uintptr(ev), 0, 0, uintptr(binary.NativeEndian.Uint32(a[:])),
			uintptr(unsafe.Pointer(&b.token[0])), tokenLen, 0,
			uintptr(unsafe.Pointer(&r.reply[0])), replyLen, ms)
	}
	var errno syscall.Errno
	if ok == 0 && !(errors.As(e, &errno) && errno == windows.ERROR_IO_PENDING) {
		windows.CloseHandle(ev)
		if w, known := ipStatusErrno[errno]; known {
			e = w
		}
		return nil, &net.OpError{Op: "write", Net: "ip:icmp", Addr: &net.IPAddr{IP: b.peer.AsSlice()}, Err: os.NewSyscallError(proc.Name, e)}
	}
	if ok != 0 {
		windows.SetEvent(ev) // completed at once; the wait loop reads it like any other
	}
	return r, nil
}

// answered says whether r's completed request holds an echo reply from the peer carrying this
// burst's token.
func (b *apiBurst) answered(r *apiRequest) bool {
	buf := unsafe.Pointer(&r.reply[0])
	if b.peer.Is6() {
		if n, _, _ := procIcmp6ParseReplies.Call(uintptr(buf), replyLen); n == 0 {
			return false
		}
		var from [16]byte
		copy(from[:], r.reply[6:22])
		status := binary.NativeEndian.Uint32(r.reply[28:])
		return status == ipSuccess && netip.AddrFrom16(from) == b.peer.WithZone("") &&
			[tokenLen]byte(r.reply[v6ReplyData:v6ReplyData+tokenLen]) == b.token
	}
	if n, _, _ := procIcmpParseReplies.Call(uintptr(buf), replyLen); n == 0 {
		return false
	}
	// ICMP_ECHO_REPLY: Address, Status, RoundTripTime (ULONG each), DataSize, Reserved (USHORT
	// each), then the Data pointer into this buffer.
	a := b.peer.As4()
	from := binary.NativeEndian.Uint32(r.reply[0:])
	status := binary.NativeEndian.Uint32(r.reply[4:])
	size := int(binary.NativeEndian.Uint16(r.reply[12:]))
	var data uintptr
	if unsafe.Sizeof(data) == 8 {
		data = uintptr(binary.NativeEndian.Uint64(r.reply[16:]))
	} else {
		data = uintptr(binary.NativeEndian.Uint32(r.reply[16:]))
	}
	off := int(data - uintptr(buf))
	if status != ipSuccess || from != binary.NativeEndian.Uint32(a[:]) || size < tokenLen ||
		data < uintptr(buf) || off < 0 || off+tokenLen > replyLen {
		return false
	}
	return [tokenLen]byte(r.reply[off:off+tokenLen]) == b.token
}

// finish closes the ICMP handle, which cancels the requests still in flight, and waits for each
// to complete (at most its own timeout) before its buffers are let go.
func (b *apiBurst) finish() {
	procIcmpCloseHandle.Call(b.handle)
	for _, r := range b.pending {
		left := time.Until(r.sentAt.Add(r.timeout)) + 100*time.Millisecond
		if ev, err := windows.WaitForSingleObject(r.event, millis(left)); err != nil || ev != windows.WAIT_OBJECT_0 {
			stranded.Lock()
			stranded.reqs = append(stranded.reqs, r)
			stranded.Unlock()
			continue
		}
		windows.CloseHandle(r.event)
	}
	b.pending = nil
}
