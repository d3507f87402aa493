package staging

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
)

// rawIDs makes the _airbyte_raw_id of each record: a version-4-shaped UUID
// made of 64 random bits drawn once per Load and a 64-bit counter, so ids
// are unique across loads without a system call per record.
type rawIDs struct {
	prefix [8]byte
	n      uint64
	buf    [16]byte
}

func newRawIDs() *rawIDs {
	r := &rawIDs{}
	_, _ = rand.Read(r.prefix[:])
	return r
}

// next returns the next id in the canonical 8-4-4-4-12 form.
func (r *rawIDs) next() string {
	r.n++
	copy(r.buf[:8], r.prefix[:])
	binary.BigEndian.PutUint64(r.buf[8:], r.n)
	r.buf[6] = r.buf[6]&0x0f | 0x40 // version 4
	r.buf[8] = r.buf[8]&0x3f | 0x80 // RFC 4122 variant
	var out [36]byte
	hex.Encode(out[0:8], r.buf[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], r.buf[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], r.buf[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], r.buf[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], r.buf[10:16])
	return string(out[:])
}
