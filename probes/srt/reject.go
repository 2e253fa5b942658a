package srt

// RejectReason is the bounded name of why a listener refused the connection: the SRT rejection
// code (srt.h's SRT_REJ_*, access_control.h's SRT_REJX_*) in words. It is safe as a metric label.
type RejectReason string

// The internal reasons (SRT_REJ_*, API codes 0–99): libsrt itself refused.
const (
	RejectUnknown    RejectReason = "unknown"     // 0 SRT_REJ_UNKNOWN
	RejectSystem     RejectReason = "system"      // 1 SRT_REJ_SYSTEM: a system call failed on the listener
	RejectPeer       RejectReason = "peer"        // 2 SRT_REJ_PEER: refused, no reason given (an application's listen callback said no)
	RejectResource   RejectReason = "resource"    // 3 SRT_REJ_RESOURCE: the listener is out of resources
	RejectRogue      RejectReason = "rogue"       // 4 SRT_REJ_ROGUE: the handshake could not be interpreted
	RejectBacklog    RejectReason = "backlog"     // 5 SRT_REJ_BACKLOG: the listener's backlog is full
	RejectIPE        RejectReason = "ipe"         // 6 SRT_REJ_IPE: an internal program error
	RejectClose      RejectReason = "close"       // 7 SRT_REJ_CLOSE: the listener socket is closing
	RejectVersion    RejectReason = "version"     // 8 SRT_REJ_VERSION: a minimum SRT version is not met (also: an HSv4-only listener)
	RejectRdvCookie  RejectReason = "rdv_cookie"  // 9 SRT_REJ_RDVCOOKIE
	RejectBadSecret  RejectReason = "bad_secret"  // 10 SRT_REJ_BADSECRET: the passphrases differ
	RejectUnsecure   RejectReason = "unsecure"    // 11 SRT_REJ_UNSECURE: only one side has a passphrase
	RejectMessageAPI RejectReason = "message_api" // 12 SRT_REJ_MESSAGEAPI
	RejectCongestion RejectReason = "congestion"  // 13 SRT_REJ_CONGESTION
	RejectFilter     RejectReason = "filter"      // 14 SRT_REJ_FILTER: packet filter (FEC) settings differ
	RejectGroup      RejectReason = "group"       // 15 SRT_REJ_GROUP
	RejectTimeout    RejectReason = "timeout"     // 16 SRT_REJ_TIMEOUT
	RejectCrypto     RejectReason = "crypto"      // 17 SRT_REJ_CRYPTO: the encryption mode differs (AES-CTR / AES-GCM)
	RejectOther      RejectReason = "other"       // an internal code this probe does not know
)

// The access-control reasons (SRT_REJX_*, API codes 1000–1999): the server application refused,
// usually because of the stream id.
const (
	RejectXFallback      RejectReason = "x_fallback"      // 1000
	RejectXKeyNotSup     RejectReason = "x_key_notsup"    // 1001: a key in the stream id is not supported
	RejectXFilePath      RejectReason = "x_filepath"      // 1002
	RejectXHostNotFound  RejectReason = "x_hostnotfound"  // 1003: the stream id's h= is unknown
	RejectXBadRequest    RejectReason = "x_bad_request"   // 1400
	RejectXUnauthorized  RejectReason = "x_unauthorized"  // 1401
	RejectXOverload      RejectReason = "x_overload"      // 1402
	RejectXForbidden     RejectReason = "x_forbidden"     // 1403
	RejectXNotFound      RejectReason = "x_notfound"      // 1404: the stream id's r= is unknown
	RejectXBadMode       RejectReason = "x_bad_mode"      // 1405: the stream id's m= is not supported
	RejectXUnacceptable  RejectReason = "x_unacceptable"  // 1406
	RejectXConflict      RejectReason = "x_conflict"      // 1409: the stream is locked, someone publishes it
	RejectXNotSupMedia   RejectReason = "x_notsup_media"  // 1415
	RejectXLocked        RejectReason = "x_locked"        // 1423
	RejectXFailedDepend  RejectReason = "x_failed_depend" // 1424
	RejectXISE           RejectReason = "x_ise"           // 1500
	RejectXUnimplemented RejectReason = "x_unimplemented" // 1501
	RejectXGateway       RejectReason = "x_gw"            // 1502
	RejectXDown          RejectReason = "x_down"          // 1503
	RejectXVersion       RejectReason = "x_version"       // 1505
	RejectXNoRoom        RejectReason = "x_noroom"        // 1507
	RejectXOther         RejectReason = "x_other"         // another code in 1000–1999
	RejectUser           RejectReason = "user"            // 2000 and up: the application's own code (RejectCode says which)
)

var internalReasons = []RejectReason{RejectUnknown, RejectSystem, RejectPeer, RejectResource, RejectRogue, RejectBacklog,
	RejectIPE, RejectClose, RejectVersion, RejectRdvCookie, RejectBadSecret, RejectUnsecure, RejectMessageAPI,
	RejectCongestion, RejectFilter, RejectGroup, RejectTimeout, RejectCrypto}

var accessReasons = map[int]RejectReason{
	1000: RejectXFallback, 1001: RejectXKeyNotSup, 1002: RejectXFilePath, 1003: RejectXHostNotFound,
	1400: RejectXBadRequest, 1401: RejectXUnauthorized, 1402: RejectXOverload, 1403: RejectXForbidden,
	1404: RejectXNotFound, 1405: RejectXBadMode, 1406: RejectXUnacceptable, 1409: RejectXConflict,
	1415: RejectXNotSupMedia, 1423: RejectXLocked, 1424: RejectXFailedDepend, 1500: RejectXISE,
	1501: RejectXUnimplemented, 1502: RejectXGateway, 1503: RejectXDown, 1505: RejectXVersion, 1507: RejectXNoRoom,
}

// rejectFromWire reads a rejection's handshake type: the API code (what libsrt's
// srt_getrejectreason returns) and its name.
//
// libsrt sends the API code plus 1000, so SRT_REJ_BADSECRET (10) is 1010 on the wire and
// SRT_REJX_UNAUTHORIZED (1401) is 2401. Listeners built on datarhei/gosrt (MediaMTX, datarhei
// Core) send the SRT_REJX_* values without the 1000 (1401 on the wire): wire values 1400–1599
// would be internal codes 400–599, which libsrt does not define, so they are read as gosrt's.
// The caller passes only rejections: hsType from rejectBase up to, not including, hsDone.
func rejectFromWire(hsType uint32) (int, RejectReason) {
	code := int64(hsType) - int64(rejectBase)
	if code >= 400 && code < 600 {
		code += 1000
	}
	return int(code), reasonOf(code)
}

// isRejection says a handshake type is a rejection rather than a step of the handshake.
func isRejection(hsType uint32) bool { return hsType >= rejectBase && hsType < hsDone }

func reasonOf(code int64) RejectReason {
	switch {
	case code >= 0 && code < int64(len(internalReasons)):
		return internalReasons[code]
	case code < 1000:
		return RejectOther
	case code < 2000:
		if r, ok := accessReasons[int(code)]; ok {
			return r
		}
		return RejectXOther
	}
	return RejectUser
}

// Symbol is the reason's name in SRT's headers and documents ("SRT_REJ_BADSECRET"), for messages a
// reader can look up; "" for user codes and unknown ones.
func (r RejectReason) Symbol() string {
	for i, x := range internalReasons {
		if x == r {
			return "SRT_REJ_" + internalSymbols[i]
		}
	}
	for code, x := range accessReasons {
		if x == r {
			return "SRT_REJX_" + accessSymbols[code]
		}
	}
	return ""
}

var internalSymbols = []string{"UNKNOWN", "SYSTEM", "PEER", "RESOURCE", "ROGUE", "BACKLOG", "IPE", "CLOSE", "VERSION",
	"RDVCOOKIE", "BADSECRET", "UNSECURE", "MESSAGEAPI", "CONGESTION", "FILTER", "GROUP", "TIMEOUT", "CRYPTO"}

var accessSymbols = map[int]string{
	1000: "FALLBACK", 1001: "KEY_NOTSUP", 1002: "FILEPATH", 1003: "HOSTNOTFOUND", 1400: "BAD_REQUEST",
	1401: "UNAUTHORIZED", 1402: "OVERLOAD", 1403: "FORBIDDEN", 1404: "NOTFOUND", 1405: "BAD_MODE",
	1406: "UNACCEPTABLE", 1409: "CONFLICT", 1415: "NOTSUP_MEDIA", 1423: "LOCKED", 1424: "FAILED_DEPEND",
	1500: "ISE", 1501: "UNIMPLEMENTED", 1502: "GW", 1503: "DOWN", 1505: "VERSION", 1507: "NOROOM",
}
