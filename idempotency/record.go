package idempotency

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A record is what the store holds at a key:
//
//	byte 0       format version, 1
//	byte 1       state: 1 in progress, 2 completed, 3 failed (a Final
//	             error), 4 completed with a result too large to store
//	bytes 2-17   the attempt's token, random
//	bytes 18-49  the payload's SHA-256
//	then, by state:
//	  in progress  the lease's end, Unix nanoseconds, int64 big-endian (8 bytes)
//	  completed    the result's JSON (1 byte or more)
//	  failed       the HTTP status, uint16 big-endian; the message and the
//	               public message, each a uvarint length and its UTF-8 bytes;
//	               then, if the error's type has a name, that name likewise
//	  too large    the result's size, uint64 big-endian (8 bytes)
//
// Decoding is strict: a record of another version, state or length is an
// error, never taken as absent.
const (
	recordVersion = 1
	headerLen     = 2 + tokenLen + sumLen
	tokenLen      = 16
	sumLen        = 32
)

type state byte

const (
	inProgress state = 1
	completed  state = 2
	failed     state = 3
	tooLarge   state = 4
)

// maxMessage bounds each message of a stored Final error.
const maxMessage = 1024

type record struct {
	state    state
	token    [tokenLen]byte
	payload  [sumLen]byte
	leaseEnd int64  // in progress: Unix nanoseconds
	result   []byte // completed: the result's JSON, in the store's value
	size     uint64 // too large: the result's size
	status   int    // failed
	msg      string // failed
	public   string // failed
	errType  string // failed: the error's type name, if any
}

func appendHeader(b []byte, st state, token *[tokenLen]byte, payload *[sumLen]byte) []byte {
	b = append(b, recordVersion, byte(st))
	b = append(b, token[:]...)
	return append(b, payload[:]...)
}

func encodeInProgress(token *[tokenLen]byte, payload *[sumLen]byte, leaseEnd int64) []byte {
	b := appendHeader(make([]byte, 0, headerLen+8), inProgress, token, payload)
	return binary.BigEndian.AppendUint64(b, uint64(leaseEnd))
}

func encodeCompleted(token *[tokenLen]byte, payload *[sumLen]byte, result []byte) []byte {
	b := appendHeader(make([]byte, 0, headerLen+len(result)), completed, token, payload)
	return append(b, result...)
}

func encodeTooLarge(token *[tokenLen]byte, payload *[sumLen]byte, size int) []byte {
	b := appendHeader(make([]byte, 0, headerLen+8), tooLarge, token, payload)
	return binary.BigEndian.AppendUint64(b, uint64(size))
}

func encodeFailed(token *[tokenLen]byte, payload *[sumLen]byte, status int, msg, public, errType string) []byte {
	msg, public, errType = cut(msg), cut(public), cut(errType)
	b := appendHeader(make([]byte, 0, headerLen+2+6+len(msg)+len(public)+len(errType)), failed, token, payload)
	b = binary.BigEndian.AppendUint16(b, uint16(status))
	b = binary.AppendUvarint(b, uint64(len(msg)))
	b = append(b, msg...)
	b = binary.AppendUvarint(b, uint64(len(public)))
	b = append(b, public...)
	if errType != "" { // absent rather than empty: one stored form per record
		b = binary.AppendUvarint(b, uint64(len(errType)))
		b = append(b, errType...)
	}
	return b
}

// cut shortens s to maxMessage bytes at most, at a character boundary, and
// makes it valid UTF-8.
func cut(s string) string {
	if len(s) > maxMessage {
		i := maxMessage
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i]
	}
	if !utf8.ValidString(s) {
		s = string([]rune(s)) // invalid bytes become U+FFFD
		if len(s) > maxMessage {
			return cut(s)
		}
	}
	return s
}

var errRecordLength = errors.New("wrong length")

// decodeRecord decodes a stored record. The result of a completed record
// refers to b.
func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) < headerLen {
		return r, fmt.Errorf("idempotency: stored record of %d bytes, shorter than a header", len(b))
	}
	if b[0] != recordVersion {
		return r, fmt.Errorf("idempotency: stored record of format %d, want %d", b[0], recordVersion)
	}
	r.state = state(b[1])
	copy(r.token[:], b[2:])
	copy(r.payload[:], b[2+tokenLen:])
	body := b[headerLen:]
	var err error
	switch r.state {
	case inProgress:
		if len(body) != 8 {
			err = errRecordLength
			break
		}
		r.leaseEnd = int64(binary.BigEndian.Uint64(body))
	case completed:
		if len(body) == 0 {
			err = errRecordLength
			break
		}
		r.result = body
	case tooLarge:
		if len(body) != 8 {
			err = errRecordLength
			break
		}
		r.size = binary.BigEndian.Uint64(body)
	case failed:
		if len(body) < 2 {
			err = errRecordLength
			break
		}
		r.status = int(binary.BigEndian.Uint16(body))
		body = body[2:]
		if r.msg, body, err = readString(body); err != nil {
			break
		}
		if r.public, body, err = readString(body); err != nil {
			break
		}
		if len(body) != 0 {
			if r.errType, body, err = readString(body); err != nil {
				break
			}
			if r.errType == "" || len(body) != 0 {
				err = errRecordLength
			}
		}
	default:
		return r, fmt.Errorf("idempotency: stored record of unknown state %d", b[1])
	}
	if err != nil {
		return r, fmt.Errorf("idempotency: stored record of state %d: %w", r.state, err)
	}
	return r, nil
}

func readString(b []byte) (string, []byte, error) {
	n, k := uvarint(b) // minimal only: one stored form per record
	if k == 0 || n > uint64(len(b)-k) || n > maxMessage {
		return "", nil, errRecordLength
	}
	s := b[k : k+int(n)]
	if !utf8.Valid(s) {
		return "", nil, errors.New("message is not UTF-8")
	}
	return string(s), b[k+int(n):], nil
}
