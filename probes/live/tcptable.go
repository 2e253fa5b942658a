package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"time"
)

// Windows' view of the encoder's connection, decoded in plain Go so the tests of any host cover
// it; source_windows.go only makes the calls. The layouts are those of Microsoft's headers
// (tcpmib.h for the tables and rows, tcpestats.h for the extended statistics), field for field and
// with every padding byte written out, so each struct's Go size is the C size (a test pins them),
// and encoding/binary reads the buffers Windows fills (little-endian on every Windows
// architecture). Addresses and ports in the rows are in network byte order inside their DWORDs.

const (
	winAFInet  = 2  // AF_INET
	winAFInet6 = 23 // AF_INET6 (Windows' value)

	tcpTableOwnerPIDConnections = 4 // TCP_TABLE_OWNER_PID_CONNECTIONS: connections, not listeners, with the owning PID
	mibTCPStateEstab            = 5 // MIB_TCP_STATE_ESTAB
)

// TCP_ESTATS_TYPE values, the extended statistics read.
const (
	estatsData      = 1 // TcpConnectionEstatsData
	estatsPath      = 3 // TcpConnectionEstatsPath
	estatsSendBuff  = 4 // TcpConnectionEstatsSendBuff
	estatsBandwidth = 7 // TcpConnectionEstatsBandwidth
)

// mibTCPTableHeader is what precedes the rows of MIB_TCPTABLE_OWNER_PID and
// MIB_TCP6TABLE_OWNER_PID: DWORD dwNumEntries (the rows are 4-byte aligned, so they follow at 4).
const mibTCPTableHeader = 4

// mibTCPRowOwnerPID is MIB_TCPROW_OWNER_PID: 24 bytes.
type mibTCPRowOwnerPID struct {
	State      uint32
	LocalAddr  uint32 // network byte order
	LocalPort  uint32 // network byte order, in the low 16 bits
	RemoteAddr uint32
	RemotePort uint32
	OwningPID  uint32
}

// mibTCP6RowOwnerPID is MIB_TCP6ROW_OWNER_PID: 56 bytes.
type mibTCP6RowOwnerPID struct {
	LocalAddr     [16]byte
	LocalScopeID  uint32
	LocalPort     uint32
	RemoteAddr    [16]byte
	RemoteScopeID uint32
	RemotePort    uint32
	State         uint32
	OwningPID     uint32
}

// mibTCPRow is MIB_TCPROW, the row GetPerTcpConnectionEStats and SetPerTcpConnectionEStats
// take: 20 bytes.
type mibTCPRow struct {
	State      uint32
	LocalAddr  uint32
	LocalPort  uint32
	RemoteAddr uint32
	RemotePort uint32
}

// mibTCP6Row is MIB_TCP6ROW, the row of GetPerTcp6ConnectionEStats: 52 bytes.
type mibTCP6Row struct {
	State         uint32
	LocalAddr     [16]byte
	LocalScopeID  uint32
	LocalPort     uint32
	RemoteAddr    [16]byte
	RemoteScopeID uint32
	RemotePort    uint32
}

// tcpEstatsDataRod is TCP_ESTATS_DATA_ROD_v0: 96 bytes (ULONG64 members are 8-byte aligned).
// Counters run from when collection was enabled.
type tcpEstatsDataRod struct {
	DataBytesOut      uint64 // payload sent, retransmissions included
	DataSegsOut       uint64
	DataBytesIn       uint64
	DataSegsIn        uint64
	SegsOut           uint64 // every segment sent
	SegsIn            uint64
	SoftErrors        uint32
	SoftErrorReason   uint32
	SndUna            uint32 // the oldest unacknowledged sequence number
	SndNxt            uint32
	SndMax            uint32 // the highest sequence number sent
	_                 uint32
	ThruBytesAcked    uint64 // bytes cumulatively acknowledged
	RcvNxt            uint32
	_                 uint32
	ThruBytesReceived uint64
}

// tcpEstatsPathRod is TCP_ESTATS_PATH_ROD_v0: 40 ULONGs, 160 bytes. Times are in milliseconds.
type tcpEstatsPathRod struct {
	FastRetran            uint32
	Timeouts              uint32
	SubsequentTimeouts    uint32
	CurTimeoutCount       uint32
	AbruptTimeouts        uint32
	PktsRetrans           uint32 // segments sent carrying some retransmitted data
	BytesRetrans          uint32
	DupAcksIn             uint32
	SacksRcvd             uint32
	SackBlocksRcvd        uint32
	CongSignals           uint32
	PreCongSumCwnd        uint32
	PreCongSumRtt         uint32
	PostCongSumRtt        uint32
	PostCongCountRtt      uint32
	EcnSignals            uint32
	EceRcvd               uint32
	SendStall             uint32
	QuenchRcvd            uint32
	RetranThresh          uint32
	SndDupAckEpisodes     uint32
	SumBytesReordered     uint32
	NonRecovDa            uint32
	NonRecovDaEpisodes    uint32
	AckAfterFr            uint32
	DsackDups             uint32
	SampleRtt             uint32
	SmoothedRtt           uint32
	RttVar                uint32
	MaxRtt                uint32
	MinRtt                uint32
	SumRtt                uint32
	CountRtt              uint32
	CurRto                uint32
	MaxRto                uint32
	MinRto                uint32
	CurMss                uint32
	MaxMss                uint32
	MinMss                uint32
	SpuriousRtoDetections uint32
}

// tcpEstatsSendBuffRod is TCP_ESTATS_SEND_BUFF_ROD_v0: four SIZE_T, so 32 bytes on 64-bit Windows
// and 16 on 32-bit. It is decoded with the pointer size of the Windows that filled it.
type tcpEstatsSendBuffRod struct {
	CurRetxQueue uintptr // bytes in the retransmit queue: sent, not yet acknowledged
	MaxRetxQueue uintptr
	CurAppWQueue uintptr // bytes the application wrote that wait for their first transmission
	MaxAppWQueue uintptr
}

// tcpEstatsBandwidthRod is TCP_ESTATS_BANDWIDTH_ROD_v0: 34 bytes of members, 40 with the trailing
// padding to the ULONG64 alignment.
type tcpEstatsBandwidthRod struct {
	OutboundBandwidth       uint64 // the stack's estimate of the path's outbound bandwidth, bits per second
	InboundBandwidth        uint64
	OutboundInstability     uint64
	InboundInstability      uint64
	OutboundBandwidthPeaked uint8 // BOOLEAN
	InboundBandwidthPeaked  uint8
	_                       [6]byte
}

// tcpEstatsRW is TCP_ESTATS_DATA_RW_v0, TCP_ESTATS_PATH_RW_v0 and TCP_ESTATS_SEND_BUFF_RW_v0 alike:
// BOOLEAN EnableCollection, 1 byte.
type tcpEstatsRW struct {
	EnableCollection uint8
}

// tcpEstatsBandwidthRW is TCP_ESTATS_BANDWIDTH_RW_v0: two TCP_BOOLEAN_OPTIONAL (an enum, 4 bytes).
type tcpEstatsBandwidthRW struct {
	EnableCollectionOutbound int32
	EnableCollectionInbound  int32
}

// TCP_BOOLEAN_OPTIONAL values.
const (
	tcpBoolOptDisabled  = 0
	tcpBoolOptEnabled   = 1
	tcpBoolOptUnchanged = -1
)

// tableRow is one established connection of a table, with what the estats calls need to name it.
type tableRow struct {
	Local, Remote netip.AddrPort
	PID           uint32
	V6            bool
	Row4          mibTCPRow
	Row6          mibTCP6Row
}

// decode reads b as the little-endian layout of *v (a struct of fixed-size fields).
func decode(b []byte, v any) error {
	return binary.Read(bytes.NewReader(b), binary.LittleEndian, v)
}

// encode is the bytes of v as Windows takes them (for a row or a read/write struct passed in).
func encode(v any) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, v) // fixed-size fields into a buffer: cannot fail
	return buf.Bytes()
}

// portOf reads a port stored in network byte order in the low 16 bits of a DWORD.
func portOf(dw uint32) uint16 { return uint16(dw&0xff)<<8 | uint16(dw>>8&0xff) }

// addr4Of reads an IPv4 address stored in network byte order in a DWORD.
func addr4Of(dw uint32) netip.Addr {
	var a [4]byte
	binary.LittleEndian.PutUint32(a[:], dw)
	return netip.AddrFrom4(a)
}

// tableRows checks a table's header against the buffer and returns the rows' bytes.
func tableRows(b []byte, rowSize int) ([]byte, int, error) {
	if len(b) < mibTCPTableHeader {
		return nil, 0, fmt.Errorf("tcp table: %d bytes, no header", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 0 || n > (len(b)-mibTCPTableHeader)/rowSize {
		return nil, 0, fmt.Errorf("tcp table: %d rows of %d bytes do not fit in %d bytes", n, rowSize, len(b))
	}
	return b[mibTCPTableHeader:], n, nil
}

// parseTCPTable reads MIB_TCPTABLE_OWNER_PID (GetExtendedTcpTable, AF_INET,
// TCP_TABLE_OWNER_PID_CONNECTIONS) and keeps the established connections.
func parseTCPTable(b []byte) ([]tableRow, error) {
	const size = 24
	rows, n, err := tableRows(b, size)
	if err != nil {
		return nil, err
	}
	var out []tableRow
	for i := range n {
		var r mibTCPRowOwnerPID
		if err := decode(rows[i*size:(i+1)*size], &r); err != nil {
			return nil, err
		}
		if r.State != mibTCPStateEstab {
			continue
		}
		out = append(out, tableRow{
			Local:  netip.AddrPortFrom(addr4Of(r.LocalAddr), portOf(r.LocalPort)),
			Remote: netip.AddrPortFrom(addr4Of(r.RemoteAddr), portOf(r.RemotePort)),
			PID:    r.OwningPID,
			Row4:   mibTCPRow{State: r.State, LocalAddr: r.LocalAddr, LocalPort: r.LocalPort, RemoteAddr: r.RemoteAddr, RemotePort: r.RemotePort},
		})
	}
	return out, nil
}

// parseTCP6Table reads MIB_TCP6TABLE_OWNER_PID (AF_INET6) and keeps the established connections.
// A v4-mapped address reads as the IPv4 address, as on Linux.
func parseTCP6Table(b []byte) ([]tableRow, error) {
	const size = 56
	rows, n, err := tableRows(b, size)
	if err != nil {
		return nil, err
	}
	var out []tableRow
	for i := range n {
		var r mibTCP6RowOwnerPID
		if err := decode(rows[i*size:(i+1)*size], &r); err != nil {
			return nil, err
		}
		if r.State != mibTCPStateEstab {
			continue
		}
		out = append(out, tableRow{
			Local:  netip.AddrPortFrom(netip.AddrFrom16(r.LocalAddr).Unmap(), portOf(r.LocalPort)),
			Remote: netip.AddrPortFrom(netip.AddrFrom16(r.RemoteAddr).Unmap(), portOf(r.RemotePort)),
			PID:    r.OwningPID,
			V6:     true,
			Row6: mibTCP6Row{State: r.State, LocalAddr: r.LocalAddr, LocalScopeID: r.LocalScopeID, LocalPort: r.LocalPort,
				RemoteAddr: r.RemoteAddr, RemoteScopeID: r.RemoteScopeID, RemotePort: r.RemotePort},
		})
	}
	return out, nil
}

// connID tells a Windows connection apart across samples: its 4-tuple and owner. A reconnect has a
// new local port, so a new ID.
func connID(local, remote netip.AddrPort, pid uint32) uint64 {
	h := fnv.New64a()
	b, _ := local.MarshalBinary()
	h.Write(b)
	b, _ = remote.MarshalBinary()
	h.Write(b)
	h.Write(binary.LittleEndian.AppendUint32(nil, pid))
	return h.Sum64() | 1 // never 0
}

// decodeSendBuff reads TCP_ESTATS_SEND_BUFF_ROD_v0 filled by a Windows whose SIZE_T has ptrSize
// bytes (8 on amd64 and arm64, 4 on 386 and arm).
func decodeSendBuff(b []byte, ptrSize int) (tcpEstatsSendBuffRod, error) {
	var r tcpEstatsSendBuffRod
	if ptrSize != 4 && ptrSize != 8 {
		return r, fmt.Errorf("send buffer statistics: pointer size %d", ptrSize)
	}
	if len(b) < 4*ptrSize {
		return r, fmt.Errorf("send buffer statistics: %d bytes, want %d", len(b), 4*ptrSize)
	}
	f := func(i int) uintptr {
		if ptrSize == 8 {
			return uintptr(binary.LittleEndian.Uint64(b[i*8:]))
		}
		return uintptr(binary.LittleEndian.Uint32(b[i*4:]))
	}
	r.CurRetxQueue, r.MaxRetxQueue, r.CurAppWQueue, r.MaxAppWQueue = f(0), f(1), f(2), f(3)
	return r, nil
}

// estats is one connection's extended statistics as read; a nil part was not read.
type estats struct {
	data      *tcpEstatsDataRod
	path      *tcpEstatsPathRod
	sendBuff  *tcpEstatsSendBuffRod
	bandwidth *tcpEstatsBandwidthRod
}

// errNoEstats: the statistics a sample needs (data transfer and path) were not read.
var errNoEstats = errors.New("no data transfer or path statistics")

// fill maps the statistics onto the fields the Linux sample fills:
//
//   - BytesAcked: ThruBytesAcked (bytes cumulatively acknowledged); where a stack leaves it 0
//     while data went out, DataBytesOut less the bytes retransmitted and those in flight;
//   - SegsOut: SegsOut; TotalRetrans: PktsRetrans (segments carrying retransmitted data);
//   - Unacked (in flight): SndMax − SndUna, modulo 2³²; NotsentBytes: CurAppWQueue (bytes written
//     by the encoder and not yet sent), 0 when the send-buffer statistics were not read;
//   - RTT and RTTVar: SmoothedRtt and RttVar (milliseconds);
//   - DeliveryRate: the stack's outbound bandwidth estimate (OutboundBandwidth, bits per second),
//     where read — an estimate of the path, not a measured delivery rate;
//   - LastAckRecv: Windows keeps no such field (0, unknown).
func (e estats) fill(c *Conn) error {
	if e.data == nil || e.path == nil {
		return errNoEstats
	}
	d, p := e.data, e.path
	c.Unacked = uint64(d.SndMax - d.SndUna)
	c.BytesAcked = d.ThruBytesAcked
	if c.BytesAcked == 0 && d.DataBytesOut > 0 {
		if sent := d.DataBytesOut - min(d.DataBytesOut, uint64(p.BytesRetrans)); sent > c.Unacked {
			c.BytesAcked = sent - c.Unacked
		}
	}
	c.SegsOut = d.SegsOut
	c.TotalRetrans = uint64(p.PktsRetrans)
	c.RTT = time.Duration(p.SmoothedRtt) * time.Millisecond
	c.RTTVar = time.Duration(p.RttVar) * time.Millisecond
	if e.sendBuff != nil {
		c.NotsentBytes = uint64(e.sendBuff.CurAppWQueue)
	}
	if e.bandwidth != nil {
		c.DeliveryRate = e.bandwidth.OutboundBandwidth / 8
	}
	return nil
}

// Windows error codes the estats calls return.
const (
	winErrorAccessDenied       = 5    // ERROR_ACCESS_DENIED
	winErrorNotSupported       = 50   // ERROR_NOT_SUPPORTED
	winErrorInsufficientBuffer = 122  // ERROR_INSUFFICIENT_BUFFER
	winErrorNotFound           = 1168 // ERROR_NOT_FOUND
)

// estatsWhy says why a connection's figures are unknown after call failed with code (msg: the
// system's words for it).
func estatsWhy(call string, code uint32, msg string) string {
	if code == winErrorAccessDenied {
		return WhyAdmin + " (" + call + ": access denied)"
	}
	return fmt.Sprintf("%s failed: %s (error %d)", call, msg, code)
}

// rowBytes is the row the estats calls take for r: MIB_TCPROW or MIB_TCP6ROW.
func (r tableRow) rowBytes() []byte {
	if r.V6 {
		return encode(&r.Row6)
	}
	return encode(&r.Row4)
}

// rwSize and rodSize are the sizes of the read/write and read-only dynamic structures of typ;
// ptrSize is the Windows' pointer size (SIZE_T).
func rwSize(typ uint32) int {
	if typ == estatsBandwidth {
		return binary.Size(tcpEstatsBandwidthRW{})
	}
	return binary.Size(tcpEstatsRW{})
}

func rodSize(typ uint32, ptrSize int) int {
	switch typ {
	case estatsData:
		return binary.Size(tcpEstatsDataRod{})
	case estatsPath:
		return binary.Size(tcpEstatsPathRod{})
	case estatsSendBuff:
		return 4 * ptrSize
	case estatsBandwidth:
		return binary.Size(tcpEstatsBandwidthRod{})
	}
	return 0
}

// rwEnabled says whether the read/write structure of typ, as read back, has collection on (for
// bandwidth: outbound).
func rwEnabled(typ uint32, b []byte) bool {
	if typ == estatsBandwidth {
		var rw tcpEstatsBandwidthRW
		return decode(b, &rw) == nil && rw.EnableCollectionOutbound == tcpBoolOptEnabled
	}
	return len(b) >= 1 && b[0] != 0
}

// rwSet is the read/write structure that turns collection of typ on or off (bandwidth: outbound
// only; inbound left as it is).
func rwSet(typ uint32, on bool) []byte {
	if typ == estatsBandwidth {
		rw := tcpEstatsBandwidthRW{EnableCollectionOutbound: tcpBoolOptDisabled, EnableCollectionInbound: tcpBoolOptUnchanged}
		if on {
			rw.EnableCollectionOutbound = tcpBoolOptEnabled
		}
		return encode(&rw)
	}
	if on {
		return encode(&tcpEstatsRW{EnableCollection: 1})
	}
	return encode(&tcpEstatsRW{})
}

// decodeRod reads the read-only dynamic structure of typ into e.
func (e *estats) decodeRod(typ uint32, b []byte, ptrSize int) error {
	switch typ {
	case estatsData:
		e.data = new(tcpEstatsDataRod)
		return decode(b, e.data)
	case estatsPath:
		e.path = new(tcpEstatsPathRod)
		return decode(b, e.path)
	case estatsSendBuff:
		r, err := decodeSendBuff(b, ptrSize)
		e.sendBuff = &r
		return err
	case estatsBandwidth:
		e.bandwidth = new(tcpEstatsBandwidthRod)
		return decode(b, e.bandwidth)
	}
	return fmt.Errorf("estats type %d", typ)
}

// estatsTypes are read for every publisher: data transfer and path are needed (acknowledged bytes,
// segments, retransmits, RTT, in flight), the send buffer gives the bytes not yet sent, the
// bandwidth estimate is optional.
var estatsTypes = []uint32{estatsData, estatsPath, estatsSendBuff, estatsBandwidth}

// estatsCalls are Windows' per-connection statistics calls (source_windows.go; a fake in tests).
// Get and Set return the Windows error code, 0 for success.
type estatsCalls interface {
	// Missing says why the calls cannot be made for the family ("" when they can).
	Missing(v6 bool) string
	// Get reads typ's read/write structure into rw and, with rod not nil, its read-only dynamic one.
	Get(r tableRow, typ uint32, rw, rod []byte) uint32
	// Set writes typ's read/write structure (collection on or off).
	Set(r tableRow, typ uint32, rw []byte) uint32
	// Message is the system's words for code.
	Message(code uint32) string
}

// estatsConn is what the source keeps of one connection between samples.
type estatsConn struct {
	row     tableRow
	on      bool     // collection checked and, where it was off, turned on
	enabled []uint32 // the types turned on here (off again at release)
	why     string   // why collection cannot be read: the figures stay unknown for the connection's life
}

// measure fills c's statistics through api, or c.Unknown with why they cannot be read. On first
// sight it turns collection on for each type where it is off (SetPerTcpConnectionEStats: only an
// administrator may); a refusal is kept, not retried every sample. ptrSize is the Windows' SIZE_T.
func (st *estatsConn) measure(api estatsCalls, c *Conn, ptrSize int) {
	call, setCall := "GetPerTcpConnectionEStats", "SetPerTcpConnectionEStats"
	if st.row.V6 {
		call, setCall = "GetPerTcp6ConnectionEStats", "SetPerTcp6ConnectionEStats"
	}
	if st.why == "" {
		st.why = api.Missing(st.row.V6)
	}
	if st.why != "" {
		c.Unknown = st.why
		return
	}
	if !st.on {
		for _, typ := range estatsTypes {
			rw := make([]byte, rwSize(typ))
			code := api.Get(st.row, typ, rw, nil)
			if code == winErrorNotFound {
				c.Unknown = "the connection closed while it was read"
				return
			}
			if code == 0 && rwEnabled(typ, rw) {
				continue // on already (another tool, or an earlier watch): left on at release
			}
			if code := api.Set(st.row, typ, rwSet(typ, true)); code != 0 {
				if typ == estatsBandwidth {
					continue // optional: the delivery rate stays unknown
				}
				st.why = estatsWhy(setCall, code, api.Message(code))
				c.Unknown = st.why
				return
			}
			if !slices.Contains(st.enabled, typ) {
				st.enabled = append(st.enabled, typ)
			}
		}
		st.on = true
	}
	var e estats
	for _, typ := range estatsTypes {
		rw, rod := make([]byte, rwSize(typ)), make([]byte, rodSize(typ, ptrSize))
		code := api.Get(st.row, typ, rw, rod)
		switch {
		case code == 0 && rwEnabled(typ, rw):
			if err := e.decodeRod(typ, rod, ptrSize); err != nil {
				c.Unknown = call + ": " + err.Error()
				return
			}
		case typ == estatsBandwidth:
			// optional
		case code == 0:
			// Turned off since, by another program: what the structure holds is not figures.
			st.on = false
			c.Unknown = "another program turned the connection's statistics off; they are turned on again at the next sample"
			return
		case code == winErrorNotFound:
			c.Unknown = "the connection closed while it was read"
			return
		default:
			c.Unknown = estatsWhy(call, code, api.Message(code))
			return
		}
	}
	if err := e.fill(c); err != nil {
		c.Unknown = call + ": " + err.Error()
	}
}

// release turns collection off again for the types measure turned on: the encoder's connection is
// left as it was found. A connection closed since has nothing to undo.
func (st *estatsConn) release(api estatsCalls) {
	for _, typ := range st.enabled {
		api.Set(st.row, typ, rwSet(typ, false))
	}
	st.enabled, st.on = nil, false
}
