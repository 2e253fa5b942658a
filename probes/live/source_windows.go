//go:build windows

package live

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The calls, from iphlpapi.dll (no cgo). GetExtendedTcpTable is on every Windows since XP SP2;
// the estats calls since Vista — and not in Wine 8, where connections are counted with their
// figures unknown.
var (
	iphlpapi                       = windows.NewLazySystemDLL("iphlpapi.dll")
	procGetExtendedTcpTable        = iphlpapi.NewProc("GetExtendedTcpTable")
	procGetPerTcpConnectionEStats  = iphlpapi.NewProc("GetPerTcpConnectionEStats")
	procGetPerTcp6ConnectionEStats = iphlpapi.NewProc("GetPerTcp6ConnectionEStats")
	procSetPerTcpConnectionEStats  = iphlpapi.NewProc("SetPerTcpConnectionEStats")
	procSetPerTcp6ConnectionEStats = iphlpapi.NewProc("SetPerTcp6ConnectionEStats")
)

// Bounds: a table read grows its buffer at most this many times (connections come and go between
// the size query and the read); a host with more connections than maxTableBytes holds is an error.
const (
	maxTableTries = 6
	maxTableBytes = 64 << 20
)

const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// estatsSource reads the TCP tables of both families and, for connections to a watched port,
// their extended statistics, turning collection on where it is off (and off again at Close, for
// the connections it turned on).
type estatsSource struct {
	mu      sync.Mutex
	skipPID int // this process: its connections are named, not measured
	conns   map[uint64]*winConn
	closed  bool
}

// winConn is what the source keeps of a connection between samples.
type winConn struct {
	estatsConn
	name string
}

func newSource() (Source, error) {
	if err := procGetExtendedTcpTable.Find(); err != nil {
		return nil, fmt.Errorf("%w (iphlpapi.dll has no GetExtendedTcpTable: %v)", ErrUnavailable, err)
	}
	return &estatsSource{skipPID: os.Getpid(), conns: map[uint64]*winConn{}}, nil
}

// Dump lists the established connections to any of ports (all with none), both families, with
// their statistics where they can be read; Conn.Unknown says why where they cannot.
func (s *estatsSource) Dump(ctx context.Context, ports []uint16) ([]Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("tcp table: closed")
	}
	var out []Conn
	seen := map[uint64]bool{}
	for _, af := range []uint32{winAFInet, winAFInet6} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := tcpTable(af)
		if af == winAFInet6 && errors.Is(err, syscall.Errno(winErrorNotSupported)) {
			continue // no IPv6 stack
		}
		if err != nil {
			return nil, err
		}
		parse := parseTCPTable
		if af == winAFInet6 {
			parse = parseTCP6Table
		}
		rows, err := parse(b)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if len(ports) > 0 && !containsPort(ports, r.Remote.Port()) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			id := connID(r.Local, r.Remote, r.PID)
			seen[id] = true
			st := s.conns[id]
			if st == nil {
				st = &winConn{estatsConn: estatsConn{row: r}, name: processName(r.PID)}
				s.conns[id] = st
			}
			c := Conn{Local: r.Local, Remote: r.Remote, ID: id, PID: int(r.PID), Process: st.name}
			if int(r.PID) != s.skipPID {
				st.measure(winCalls{}, &c, ptrSize)
			}
			out = append(out, c)
		}
	}
	for id := range s.conns {
		if !seen[id] {
			delete(s.conns, id) // closed: nothing to turn off
		}
	}
	return out, nil
}

func containsPort(ports []uint16, p uint16) bool {
	for _, q := range ports {
		if q == p {
			return true
		}
	}
	return false
}

// tcpTable is GetExtendedTcpTable(af, TCP_TABLE_OWNER_PID_CONNECTIONS), unsorted.
func tcpTable(af uint32) ([]byte, error) {
	size := uint32(16 << 10)
	for range maxTableTries {
		b := make([]byte, size)
		r, _, _ := procGetExtendedTcpTable.Call(uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&size)), 0,
			uintptr(af), tcpTableOwnerPIDConnections, 0)
		switch {
		case r == 0:
			return b, nil
		case r != winErrorInsufficientBuffer:
			return nil, fmt.Errorf("GetExtendedTcpTable: %w", syscall.Errno(r))
		case size > maxTableBytes:
			return nil, fmt.Errorf("GetExtendedTcpTable: the table needs %d bytes, more than %d", size, maxTableBytes)
		}
		size += size/4 + 4096 // room for connections opened since the size was taken
	}
	return nil, fmt.Errorf("GetExtendedTcpTable: the table kept growing over %d reads", maxTableTries)
}

// winCalls are the estats calls of iphlpapi.dll.
type winCalls struct{}

func (winCalls) Missing(v6 bool) string {
	get, set := procGetPerTcpConnectionEStats, procSetPerTcpConnectionEStats
	if v6 {
		get, set = procGetPerTcp6ConnectionEStats, procSetPerTcp6ConnectionEStats
	}
	for _, p := range []*windows.LazyProc{get, set} {
		if p.Find() != nil {
			return "per-connection statistics are not available on this system (iphlpapi.dll has no " + p.Name + ")"
		}
	}
	return ""
}

// Get is Get[6]PerTcp[6]ConnectionEStats(row, typ, rw, 0, len(rw), NULL, 0, 0, rod, 0, len(rod));
// rod may be nil (the read/write state only).
func (winCalls) Get(r tableRow, typ uint32, rw, rod []byte) uint32 {
	get := procGetPerTcpConnectionEStats
	if r.V6 {
		get = procGetPerTcp6ConnectionEStats
	}
	row := r.rowBytes()
	var rodPtr unsafe.Pointer // converted to uintptr in the call expression, so the buffer is kept alive
	if len(rod) > 0 {
		rodPtr = unsafe.Pointer(&rod[0])
	}
	ret, _, _ := get.Call(uintptr(unsafe.Pointer(&row[0])), uintptr(typ),
		uintptr(unsafe.Pointer(&rw[0])), 0, uintptr(len(rw)),
		0, 0, 0,
		uintptr(rodPtr), 0, uintptr(len(rod)))
	return uint32(ret)
}

// Set is Set[6]PerTcp[6]ConnectionEStats(row, typ, rw, 0, len(rw), 0).
func (winCalls) Set(r tableRow, typ uint32, rw []byte) uint32 {
	set := procSetPerTcpConnectionEStats
	if r.V6 {
		set = procSetPerTcp6ConnectionEStats
	}
	row := r.rowBytes()
	ret, _, _ := set.Call(uintptr(unsafe.Pointer(&row[0])), uintptr(typ), uintptr(unsafe.Pointer(&rw[0])), 0, uintptr(len(rw)), 0)
	return uint32(ret)
}

func (winCalls) Message(code uint32) string { return syscall.Errno(code).Error() }

// processName is the base name of pid's image (QueryFullProcessImageNameW on a handle with
// PROCESS_QUERY_LIMITED_INFORMATION), or ProcessUnknown where it may not be read (another user's
// process from LocalService, a protected process, System).
func processName(pid uint32) string {
	if pid == 0 {
		return ProcessUnknown
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return ProcessUnknown
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(h, 0, &buf[0], &n); err != nil || n == 0 {
		return ProcessUnknown
	}
	path := windows.UTF16ToString(buf[:n])
	if i := strings.LastIndexAny(path, `\/`); i >= 0 {
		path = path[i+1:]
	}
	if path == "" {
		return ProcessUnknown
	}
	return path
}

// Close turns collection off again on the connections this source turned it on for (the encoder's
// connection is left as it was found), and ends the source.
func (s *estatsSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, st := range s.conns {
		st.release(winCalls{})
	}
	s.conns = nil
	return nil
}
