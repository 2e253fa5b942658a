package live

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// The Go structs are Microsoft's, byte for byte: the sizes and offsets documented in tcpmib.h and
// tcpestats.h (ULONG 4, ULONG64 8 and 8-aligned, BOOLEAN 1, SIZE_T the pointer size, enums 4).
// unsafe.Sizeof is the Go layout; binary.Size is what the decoder reads — equal, so no padding is
// implicit.
func TestWindowsStructLayout(t *testing.T) {
	ptr := unsafe.Sizeof(uintptr(0))
	for _, c := range []struct {
		name       string
		size, want uintptr
		bin        int
	}{
		{"MIB_TCPROW_OWNER_PID", unsafe.Sizeof(mibTCPRowOwnerPID{}), 24, binary.Size(mibTCPRowOwnerPID{})},
		{"MIB_TCP6ROW_OWNER_PID", unsafe.Sizeof(mibTCP6RowOwnerPID{}), 56, binary.Size(mibTCP6RowOwnerPID{})},
		{"MIB_TCPROW", unsafe.Sizeof(mibTCPRow{}), 20, binary.Size(mibTCPRow{})},
		{"MIB_TCP6ROW", unsafe.Sizeof(mibTCP6Row{}), 52, binary.Size(mibTCP6Row{})},
		{"TCP_ESTATS_DATA_ROD_v0", unsafe.Sizeof(tcpEstatsDataRod{}), 96, binary.Size(tcpEstatsDataRod{})},
		{"TCP_ESTATS_PATH_ROD_v0", unsafe.Sizeof(tcpEstatsPathRod{}), 160, binary.Size(tcpEstatsPathRod{})},
		{"TCP_ESTATS_BANDWIDTH_ROD_v0", unsafe.Sizeof(tcpEstatsBandwidthRod{}), 40, binary.Size(tcpEstatsBandwidthRod{})},
		{"TCP_ESTATS_DATA_RW_v0", unsafe.Sizeof(tcpEstatsRW{}), 1, binary.Size(tcpEstatsRW{})},
		{"TCP_ESTATS_BANDWIDTH_RW_v0", unsafe.Sizeof(tcpEstatsBandwidthRW{}), 8, binary.Size(tcpEstatsBandwidthRW{})},
		{"TCP_ESTATS_SEND_BUFF_ROD_v0", unsafe.Sizeof(tcpEstatsSendBuffRod{}), 4 * ptr, int(4 * ptr)},
	} {
		if c.size != c.want || uintptr(c.bin) != c.want {
			t.Errorf("%s: Go size %d, binary size %d; documented %d", c.name, c.size, c.bin, c.want)
		}
	}
	// The members the decoder reads, at their C offsets.
	var d tcpEstatsDataRod
	var p tcpEstatsPathRod
	var r6 mibTCP6RowOwnerPID
	var w6 mibTCP6Row
	var bw tcpEstatsBandwidthRod
	for _, c := range []struct {
		name      string
		off, want uintptr
	}{
		{"DataRod.SegsOut", unsafe.Offsetof(d.SegsOut), 32},
		{"DataRod.SndUna", unsafe.Offsetof(d.SndUna), 56},
		{"DataRod.SndMax", unsafe.Offsetof(d.SndMax), 64},
		{"DataRod.ThruBytesAcked", unsafe.Offsetof(d.ThruBytesAcked), 72},
		{"DataRod.RcvNxt", unsafe.Offsetof(d.RcvNxt), 80},
		{"DataRod.ThruBytesReceived", unsafe.Offsetof(d.ThruBytesReceived), 88},
		{"PathRod.PktsRetrans", unsafe.Offsetof(p.PktsRetrans), 20},
		{"PathRod.BytesRetrans", unsafe.Offsetof(p.BytesRetrans), 24},
		{"PathRod.SmoothedRtt", unsafe.Offsetof(p.SmoothedRtt), 108},
		{"PathRod.RttVar", unsafe.Offsetof(p.RttVar), 112},
		{"PathRod.SpuriousRtoDetections", unsafe.Offsetof(p.SpuriousRtoDetections), 156},
		{"Tcp6RowOwnerPid.LocalPort", unsafe.Offsetof(r6.LocalPort), 20},
		{"Tcp6RowOwnerPid.RemoteAddr", unsafe.Offsetof(r6.RemoteAddr), 24},
		{"Tcp6RowOwnerPid.RemotePort", unsafe.Offsetof(r6.RemotePort), 44},
		{"Tcp6RowOwnerPid.State", unsafe.Offsetof(r6.State), 48},
		{"Tcp6RowOwnerPid.OwningPid", unsafe.Offsetof(r6.OwningPID), 52},
		{"Tcp6Row.LocalAddr", unsafe.Offsetof(w6.LocalAddr), 4},
		{"Tcp6Row.LocalPort", unsafe.Offsetof(w6.LocalPort), 24},
		{"Tcp6Row.RemoteAddr", unsafe.Offsetof(w6.RemoteAddr), 28},
		{"Tcp6Row.RemotePort", unsafe.Offsetof(w6.RemotePort), 48},
		{"BandwidthRod.OutboundBandwidthPeaked", unsafe.Offsetof(bw.OutboundBandwidthPeaked), 32},
	} {
		if c.off != c.want {
			t.Errorf("%s at %d; documented %d", c.name, c.off, c.want)
		}
	}
}

// le32 writes v little-endian at off.
func le32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }
func le64(b []byte, off int, v uint64) { binary.LittleEndian.PutUint64(b[off:], v) }

// A MIB_TCPTABLE_OWNER_PID as Windows lays it out, written byte by byte: the established rows are
// read with addresses, ports and PID; a listener is not a connection; the row handed to the
// estats calls is the first 20 bytes of the table's row.
func TestParseTCPTable(t *testing.T) {
	row := func(state uint32, local, remote [4]byte, lport, rport uint16, pid uint32) []byte {
		b := make([]byte, 24)
		le32(b, 0, state)
		copy(b[4:8], local[:])
		b[8], b[9] = byte(lport>>8), byte(lport) // network byte order in the DWORD's low bytes
		copy(b[12:16], remote[:])
		b[16], b[17] = byte(rport>>8), byte(rport)
		le32(b, 20, pid)
		return b
	}
	b := make([]byte, 4)
	le32(b, 0, 3)
	enc := row(5, [4]byte{192, 168, 1, 20}, [4]byte{10, 231, 2, 10}, 50123, 1935, 4242)
	b = append(b, enc...)
	b = append(b, row(2, [4]byte{0, 0, 0, 0}, [4]byte{0, 0, 0, 0}, 1935, 0, 4)...)
	b = append(b, row(5, [4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, 443, 61000, 900)...)
	b = append(b, make([]byte, 40)...) // GetExtendedTcpTable leaves the rest of the buffer
	rows, err := parseTCPTable(b)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %+v, err %v; want 2 established", rows, err)
	}
	r := rows[0]
	if r.Local.String() != "192.168.1.20:50123" || r.Remote.String() != "10.231.2.10:1935" || r.PID != 4242 || r.V6 {
		t.Errorf("row %+v", r)
	}
	if got := r.rowBytes(); string(got) != string(enc[:20]) {
		t.Errorf("MIB_TCPROW % x; want % x", got, enc[:20])
	}
	if rows[1].Remote.String() != "127.0.0.1:61000" || rows[1].PID != 900 {
		t.Errorf("row %+v", rows[1])
	}
	for _, bad := range [][]byte{nil, {1, 0}, b[:4+24*3-1]} {
		if _, err := parseTCPTable(bad); err == nil {
			t.Errorf("a table of %d bytes parsed", len(bad))
		}
	}
	if rows, err := parseTCPTable([]byte{0, 0, 0, 0}); err != nil || len(rows) != 0 {
		t.Errorf("an empty table: %v, %v", rows, err)
	}
}

// A table recorded from GetExtendedTcpTable under Wine 8 (go test -run TestDumpLoopbackWindows
// -record, the Windows test binary): the loopback connection of the test binary (PID 32) and the
// other loopback connections of the host Wine ran on (Wine names no owner for those: PID 0).
func TestParseRecordedWineTable(t *testing.T) {
	b, err := os.ReadFile("testdata/wintable_v4.hex")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := parseTCPTable(raw)
	if err != nil || len(rows) != 6 {
		t.Fatalf("%d rows, err %v; want 6", len(rows), err)
	}
	var mine []tableRow
	for i, r := range rows {
		if !r.Local.Addr().IsLoopback() || !r.Remote.Addr().IsLoopback() || r.V6 {
			t.Errorf("row %d: %+v", i, r)
		}
		if got, want := r.rowBytes(), raw[4+24*i:4+24*i+20]; string(got) != string(want) {
			t.Errorf("row %d: MIB_TCPROW % x; want % x", i, got, want)
		}
		if r.PID != 0 {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 || mine[0].PID != 32 || mine[0].Local.String() != "127.0.0.1:39157" || mine[0].Remote.String() != "127.0.0.1:35399" {
		t.Errorf("the test binary's connection: %+v", mine)
	}
}

// MIB_TCP6TABLE_OWNER_PID: addresses, scope, ports, state and PID in their places; a v4-mapped
// address reads as IPv4; MIB_TCP6ROW has the state first.
func TestParseTCP6Table(t *testing.T) {
	row := func(state uint32, local, remote netip.Addr, lport, rport uint16, pid uint32) []byte {
		b := make([]byte, 56)
		l, r := local.As16(), remote.As16()
		copy(b[0:16], l[:])
		le32(b, 16, 7) // scope id
		b[20], b[21] = byte(lport>>8), byte(lport)
		copy(b[24:40], r[:])
		b[44], b[45] = byte(rport>>8), byte(rport)
		le32(b, 48, state)
		le32(b, 52, pid)
		return b
	}
	b := make([]byte, 4)
	le32(b, 0, 2)
	b = append(b, row(5, netip.MustParseAddr("2001:db8::5"), netip.MustParseAddr("2001:db8::10"), 50124, 1935, 77)...)
	b = append(b, row(5, netip.MustParseAddr("::ffff:10.231.1.2"), netip.MustParseAddr("::ffff:10.231.2.10"), 50125, 1935, 78)...)
	rows, err := parseTCP6Table(b)
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows %+v, err %v", rows, err)
	}
	if r := rows[0]; r.Local.String() != "[2001:db8::5]:50124" || r.Remote.String() != "[2001:db8::10]:1935" || r.PID != 77 || !r.V6 {
		t.Errorf("row %+v", r)
	}
	if r := rows[1]; r.Remote.String() != "10.231.2.10:1935" || !target(0).Matches(Conn{Remote: r.Remote}) {
		t.Errorf("a v4-mapped row %+v; want it read as IPv4 and matched", r)
	}
	w := rows[0].rowBytes()
	if len(w) != 52 || binary.LittleEndian.Uint32(w) != 5 || w[4] != 0x20 || w[24] != byte(50124>>8) || w[28] != 0x20 || w[48] != byte(1935>>8) {
		t.Errorf("MIB_TCP6ROW % x", w)
	}
}

// The read-only dynamic structures, written byte by byte at their documented offsets, map onto
// the Linux sample's fields.
func TestEstatsFill(t *testing.T) {
	data := make([]byte, 96)
	le64(data, 0, 5_100_000) // DataBytesOut
	le64(data, 32, 4000)     // SegsOut
	le32(data, 56, 0xffffff00)
	le32(data, 60, 0x100)
	le32(data, 64, 0x100)     // SndMax − SndUna = 0x200 across the wrap
	le64(data, 72, 5_000_000) // ThruBytesAcked
	path := make([]byte, 160)
	le32(path, 20, 40)  // PktsRetrans
	le32(path, 24, 900) // BytesRetrans
	le32(path, 108, 35) // SmoothedRtt, ms
	le32(path, 112, 6)  // RttVar, ms
	bw := make([]byte, 40)
	le64(bw, 0, 8_000_000) // OutboundBandwidth, bit/s
	for _, ptr := range []int{8, 4} {
		send := make([]byte, 4*ptr)
		if ptr == 8 {
			le64(send, 0, 0x200)
			le64(send, 16, 65536) // CurAppWQueue
		} else {
			le32(send, 0, 0x200)
			le32(send, 8, 65536)
		}
		var e estats
		for typ, b := range map[uint32][]byte{estatsData: data, estatsPath: path, estatsSendBuff: send, estatsBandwidth: bw} {
			if len(b) != rodSize(typ, ptr) {
				t.Fatalf("type %d: %d bytes; rodSize %d", typ, len(b), rodSize(typ, ptr))
			}
			if err := e.decodeRod(typ, b, ptr); err != nil {
				t.Fatal(err)
			}
		}
		var c Conn
		if err := e.fill(&c); err != nil {
			t.Fatal(err)
		}
		want := Conn{BytesAcked: 5_000_000, SegsOut: 4000, TotalRetrans: 40, Unacked: 0x200, NotsentBytes: 65536,
			RTT: 35 * time.Millisecond, RTTVar: 6 * time.Millisecond, DeliveryRate: 1_000_000}
		if c != want {
			t.Errorf("SIZE_T of %d: got %+v; want %+v", ptr, c, want)
		}
	}
	// A stack that leaves ThruBytesAcked at 0: what was sent once, less what is in flight.
	var e estats
	e.decodeRod(estatsData, data, 8)
	e.decodeRod(estatsPath, path, 8)
	e.data.ThruBytesAcked = 0
	var c Conn
	if e.fill(&c); c.BytesAcked != 5_100_000-900-0x200 || c.NotsentBytes != 0 || c.DeliveryRate != 0 {
		t.Errorf("fallback: %+v", c)
	}
	// Without the path statistics there is no sample.
	if err := (estats{data: e.data}).fill(&c); err == nil {
		t.Error("filled without path statistics")
	}
	if _, err := decodeSendBuff(make([]byte, 8), 8); err == nil {
		t.Error("a cut send-buffer structure decoded")
	}
}

// The read/write structures: collection on and off, and read back.
func TestEstatsRW(t *testing.T) {
	if b := rwSet(estatsData, true); len(b) != 1 || b[0] != 1 || !rwEnabled(estatsData, b) {
		t.Errorf("data on: % x", b)
	}
	if b := rwSet(estatsPath, false); len(b) != 1 || b[0] != 0 || rwEnabled(estatsPath, b) {
		t.Errorf("path off: % x", b)
	}
	on := rwSet(estatsBandwidth, true)
	if string(on) != "\x01\x00\x00\x00\xff\xff\xff\xff" || !rwEnabled(estatsBandwidth, on) || len(on) != rwSize(estatsBandwidth) {
		t.Errorf("bandwidth on: % x; want outbound enabled, inbound unchanged", on)
	}
	if off := rwSet(estatsBandwidth, false); rwEnabled(estatsBandwidth, off) || off[0] != 0 {
		t.Errorf("bandwidth off: % x", off)
	}
}

func TestEstatsWhy(t *testing.T) {
	if got := estatsWhy("SetPerTcpConnectionEStats", 5, "Access is denied."); !strings.HasPrefix(got, WhyAdmin) || !strings.Contains(got, "SetPerTcpConnectionEStats") {
		t.Errorf("access denied: %q", got)
	}
	if got := estatsWhy("GetPerTcpConnectionEStats", 87, "The parameter is incorrect."); got != "GetPerTcpConnectionEStats failed: The parameter is incorrect. (error 87)" {
		t.Errorf("other: %q", got)
	}
}

func TestConnID(t *testing.T) {
	a := netip.MustParseAddrPort("10.231.1.2:50000")
	b := netip.MustParseAddrPort("10.231.2.10:1935")
	id := connID(a, b, 4242)
	if id == 0 || id != connID(a, b, 4242) || id == connID(netip.MustParseAddrPort("10.231.1.2:50001"), b, 4242) || id == connID(a, b, 4243) {
		t.Error("connection IDs do not tell a reconnect apart")
	}
}

// winSource is a recorded Windows source: connections with their owners' PIDs and names, some
// with their figures unknown.
type winSource struct{ conns [][]Conn }

func (s *winSource) Dump(context.Context, []uint16) ([]Conn, error) {
	c := s.conns[0]
	if len(s.conns) > 1 {
		s.conns = s.conns[1:]
	}
	return c, nil
}
func (s *winSource) Close() error { return nil }

// Through the Watcher, as on Windows: the table's PID names the owner (no inode scan), this
// process's own connection is not a publisher, and a publisher without statistics counts, with
// its figures unknown and why.
func TestWatcherWindowsSource(t *testing.T) {
	mk := func(lport uint16, pid int, name, why string) Conn {
		c := conn(lport, 0, 0, 0, 0, 0)
		c.Inode, c.PID, c.Process, c.Unknown = 0, pid, name, why
		c.ID = connID(c.Local, c.Remote, uint32(pid))
		return c
	}
	why := WhyAdmin + " (SetPerTcpConnectionEStats: access denied)"
	src := &winSource{conns: [][]Conn{{mk(50000, 4242, "obs64.exe", why), mk(50001, os.Getpid(), "ingestprobe.exe", "")}}}
	w := NewWatcherWith(src)
	w.owners = func(map[uint64]bool) (map[uint64]owner, bool) {
		t.Error("an inode scan on a source that names owners")
		return nil, false
	}
	w.Set(target(0))
	for range 2 {
		if err := w.Sample(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	r := w.Window("main")
	if r.Publishers != 1 || r.UnknownConnections != 1 || r.FiguresUnknown != why || len(r.Connections) != 1 {
		t.Fatalf("got %+v; want the encoder alone, its figures unknown", r)
	}
	if c := r.Connections[0]; c.Process != "obs64.exe" || c.PID != 4242 || c.FiguresUnknown != why {
		t.Errorf("connection %+v", c)
	}
	if live, n, _ := w.Live("main", DefaultQuiet); !live || n != 1 {
		t.Errorf("live %v with %d publishers; want a show on: publishers without figures still hold publish probes back", live, n)
	}
}

// fakeEstats is Windows' estats calls over a table of per-type state, recording what was set.
type fakeEstats struct {
	missing string
	setCode uint32          // what Set returns (5: access denied, as for a user without rights)
	on      map[uint32]bool // collection on, by type
	rod     map[uint32][]byte
	getCode uint32
	sets    []string
}

func (f *fakeEstats) Missing(bool) string { return f.missing }
func (f *fakeEstats) Get(_ tableRow, typ uint32, rw, rod []byte) uint32 {
	if f.getCode != 0 {
		return f.getCode
	}
	if f.on[typ] {
		copy(rw, rwSet(typ, true))
		if rod != nil {
			copy(rod, f.rod[typ])
		}
	} else {
		copy(rw, rwSet(typ, false))
	}
	return 0
}
func (f *fakeEstats) Set(_ tableRow, typ uint32, rw []byte) uint32 {
	if f.setCode != 0 {
		return f.setCode
	}
	f.on[typ] = rwEnabled(typ, rw)
	f.sets = append(f.sets, fmt.Sprintf("%d=%v", typ, f.on[typ]))
	return 0
}
func (f *fakeEstats) Message(code uint32) string { return fmt.Sprintf("code %d", code) }

// Collection turned on where it is off, the figures read, and turned off again at release for what
// was turned on here only; a refusal (no administrator rights) is the reason the figures are
// unknown, kept for the connection's life; calls missing (Wine) say so.
func TestEstatsMeasure(t *testing.T) {
	data := make([]byte, 96)
	le64(data, 32, 10)      // SegsOut
	le64(data, 72, 1234567) // ThruBytesAcked
	path := make([]byte, 160)
	le32(path, 108, 20)
	rods := map[uint32][]byte{estatsData: data, estatsPath: path, estatsSendBuff: make([]byte, 32), estatsBandwidth: make([]byte, 40)}

	f := &fakeEstats{on: map[uint32]bool{estatsPath: true}, rod: rods} // path statistics on already
	var st estatsConn
	var c Conn
	st.measure(f, &c, 8)
	if c.Unknown != "" || c.BytesAcked != 1234567 || c.SegsOut != 10 || c.RTT != 20*time.Millisecond {
		t.Fatalf("got %+v", c)
	}
	if got := strings.Join(f.sets, " "); got != "1=true 4=true 7=true" {
		t.Errorf("set %q; want data, send buffer and bandwidth turned on, path left as found", got)
	}
	f.sets = nil
	st.measure(f, &c, 8)
	if f.sets != nil {
		t.Errorf("turned on again: %v", f.sets)
	}
	st.release(f)
	if got := strings.Join(f.sets, " "); got != "1=false 4=false 7=false" || !f.on[estatsPath] {
		t.Errorf("release set %q; want what was turned on turned off, path still on", got)
	}

	// Another program turns the data statistics off: this sample is unknown, the next turns them on.
	f = &fakeEstats{on: map[uint32]bool{}, rod: rods}
	st = estatsConn{}
	st.measure(f, &c, 8)
	f.on[estatsData] = false
	c = Conn{}
	st.measure(f, &c, 8)
	if !strings.Contains(c.Unknown, "turned the connection's statistics off") {
		t.Errorf("turned off elsewhere: %+v", c)
	}
	c = Conn{}
	st.measure(f, &c, 8)
	if c.Unknown != "" || c.BytesAcked != 1234567 {
		t.Errorf("after turning on again: %+v", c)
	}

	// No administrator rights: refused, said, and not asked again.
	f = &fakeEstats{on: map[uint32]bool{}, rod: rods, setCode: winErrorAccessDenied}
	st = estatsConn{}
	c = Conn{}
	st.measure(f, &c, 8)
	if !strings.HasPrefix(c.Unknown, WhyAdmin) || c.BytesAcked != 0 {
		t.Errorf("access denied: %+v", c)
	}
	f.setCode = 0
	c = Conn{}
	st.measure(f, &c, 8)
	if !strings.HasPrefix(c.Unknown, WhyAdmin) || len(f.sets) != 0 {
		t.Errorf("asked again after a refusal: %+v, sets %v", c, f.sets)
	}

	// The calls missing (Wine 8): the reason; a read failing: the system's words.
	c = Conn{}
	(&estatsConn{}).measure(&fakeEstats{missing: "no GetPerTcpConnectionEStats"}, &c, 8)
	if c.Unknown != "no GetPerTcpConnectionEStats" {
		t.Errorf("missing: %+v", c)
	}
	f = &fakeEstats{on: map[uint32]bool{}, rod: rods}
	st = estatsConn{}
	st.measure(f, &c, 8)
	f.getCode = 87
	c = Conn{}
	st.measure(f, &c, 8)
	if c.Unknown != "GetPerTcpConnectionEStats failed: code 87 (error 87)" {
		t.Errorf("a failed read: %q", c.Unknown)
	}
	f.getCode = winErrorNotFound
	c = Conn{}
	st.measure(f, &c, 8)
	if c.Unknown != "the connection closed while it was read" {
		t.Errorf("closed: %q", c.Unknown)
	}
}
