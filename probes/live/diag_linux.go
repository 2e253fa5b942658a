//go:build linux

package live

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// dumpTimeout bounds one dump: the kernel answers a dump of thousands of sockets in milliseconds.
const dumpTimeout = 2 * time.Second

// diagSource dumps established TCP sockets with their tcp_info over one NETLINK_SOCK_DIAG socket,
// kept open for the watcher's life (one socket, not one per sample).
type diagSource struct {
	mu   sync.Mutex
	sock *nl.NetlinkSocket
	// raw, if set, receives every reply's payload (for recording test data).
	raw func(family uint8, payload []byte)
}

func newSource() (Source, error) {
	s, err := nl.GetNetlinkSocketAt(netns.None(), netns.None(), unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("%w: NETLINK_SOCK_DIAG: %v", ErrUnavailable, err)
	}
	tv := unix.NsecToTimeval(dumpTimeout.Nanoseconds())
	if err := s.SetSendTimeout(&tv); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.SetReceiveTimeout(&tv); err != nil {
		s.Close()
		return nil, err
	}
	return &diagSource{sock: s}, nil
}

// diagRequest is struct inet_diag_req_v2 — every established TCP socket of a family, with
// INET_DIAG_INFO — followed by an INET_DIAG_REQ_BYTECODE filter on the destination ports, so
// the kernel fills tcp_info only for connections to an ingest's port (as `ss dport = :1935`
// does), not for every socket of the host.
type diagRequest struct {
	family uint8
	ports  []uint16
}

func (r diagRequest) Len() int { return len(r.Serialize()) }

func (r diagRequest) Serialize() []byte {
	b := make([]byte, 56)
	b[0] = r.family
	b[1] = unix.IPPROTO_TCP
	b[2] = 1 << (attrInfo - 1) // idiag_ext
	binary.NativeEndian.PutUint32(b[4:8], 1<<tcpEstablish)
	if bc := portFilter(r.ports); bc != nil {
		attr := make([]byte, 4, 4+len(bc))
		binary.NativeEndian.PutUint16(attr[0:2], uint16(4+len(bc)))
		binary.NativeEndian.PutUint16(attr[2:4], 1) // INET_DIAG_REQ_BYTECODE
		b = append(b, append(attr, bc...)...)
	}
	return b
}

// portFilter is inet_diag bytecode for "dport is one of ports", built as `ss` builds it: a port is
// INET_DIAG_BC_D_EQ (struct inet_diag_bc_op {code, yes, no}, then an op carrying the port in no:
// yes to the end, accept; no past the end, reject), and "A or B" is A, a JMP over B, then B — A's
// reject lands on B. nil for no ports: no filter.
func portFilter(ports []uint16) []byte {
	const (
		opJMP  = 1  // INET_DIAG_BC_JMP
		opD_EQ = 12 // INET_DIAG_BC_D_EQ
	)
	if len(ports) == 0 {
		return nil
	}
	op := func(code, yes byte, no uint16) []byte {
		b := []byte{code, yes, 0, 0}
		binary.NativeEndian.PutUint16(b[2:], no)
		return b
	}
	eq := append(op(opD_EQ, 8, 12), op(0, 0, ports[0])...)
	rest := portFilter(ports[1:])
	if rest == nil {
		return eq
	}
	return append(append(eq, op(opJMP, 4, uint16(len(rest)+4))...), rest...)
}

// Dump returns the established TCP connections of this network namespace, IPv4 and IPv6, to
// any of ports (all of them with none).
func (s *diagSource) Dump(ctx context.Context, ports []uint16) ([]Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sock == nil {
		return nil, errors.New("inet_diag: closed")
	}
	var out []Conn
	for _, fam := range []uint8{afInet, afInet6} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.dump(fam, ports, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *diagSource) dump(family uint8, ports []uint16, out *[]Conn) error {
	req := nl.NewNetlinkRequest(unix.SOCK_DIAG_BY_FAMILY, unix.NLM_F_DUMP)
	req.AddData(diagRequest{family, ports})
	if err := s.sock.Send(req); err != nil {
		return fmt.Errorf("inet_diag: send: %w", err)
	}
	pid, err := s.sock.GetPid()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(dumpTimeout)
	for time.Now().Before(deadline) {
		msgs, from, err := s.sock.Receive()
		if err != nil {
			return fmt.Errorf("inet_diag: receive: %w", err)
		}
		if from.Pid != nl.PidKernel {
			continue
		}
		for _, m := range msgs {
			if m.Header.Seq != req.Seq || m.Header.Pid != pid {
				continue // a reply to an earlier, abandoned dump
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(binary.NativeEndian.Uint32(m.Data[:4])); errno != 0 {
						return fmt.Errorf("inet_diag: %w", syscall.Errno(-errno))
					}
				}
				return nil
			case unix.SOCK_DIAG_BY_FAMILY:
				if s.raw != nil {
					s.raw(family, m.Data)
				}
				c, ok, err := parseDiag(m.Data)
				if err != nil {
					return err
				}
				if ok {
					*out = append(*out, c)
				}
			}
		}
	}
	return fmt.Errorf("inet_diag: no end of dump within %s", dumpTimeout)
}

func (s *diagSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sock != nil {
		s.sock.Close()
		s.sock = nil
	}
	return nil
}
