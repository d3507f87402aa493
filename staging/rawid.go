package staging

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
)

// rawIDs makes the _airbyte_raw_id of each record: a version-4-shaped UUID
// made of 64 random bits drawn once per Load and a 64-bit counter, so ids
// are unique across loads without a system call per record. Ids are made
// rawIDBlock at a time into one string and handed out as substrings of it:
// one allocation per block rather than per record.
type rawIDs struct {
	prefix [8]byte
	n      uint64
	block  string // ids made and not handed out yet, 36 bytes each
}

const rawIDBlock = 1024

func newRawIDs() *rawIDs {
	r := &rawIDs{}
	_, _ = rand.Read(r.prefix[:])
	return r
}

// next returns the next id in the canonical 8-4-4-4-12 form.
func (r *rawIDs) next() string {
	if len(r.block) == 0 {
		buf := make([]byte, 36*rawIDBlock)
		for i := range rawIDBlock {
			r.n++
			r.format(buf[36*i:36*i+36], r.n)
		}
		r.block = string(buf)
	}
	id := r.block[:36]
	r.block = r.block[36:]
	return id
}

// appendNext appends the next id, in the canonical form, to dst: the
// columnar path writes ids straight into its batch's bytes.
func (r *rawIDs) appendNext(dst []byte) []byte {
	if len(r.block) > 0 {
		// Ids made ahead for next: hand those out first.
		return append(dst, r.next()...)
	}
	r.n++
	n := len(dst)
	dst = append(dst, make([]byte, 36)...)
	r.format(dst[n:], r.n)
	return dst
}

// appendNextBytes appends the next id's 16 bytes to dst: the columnar
// path's form for a UUID column (DuckDB's loader takes a UUID's bytes as
// well as its text, and so skips formatting and parsing each id). Ids made
// ahead as text for next are dropped: the counter never goes back, so ids
// stay unique.
func (r *rawIDs) appendNextBytes(dst []byte) []byte {
	r.block = ""
	r.n++
	b := r.bytes(r.n)
	return append(dst, b[:]...)
}

// bytes returns the 16 bytes of the id of counter n.
func (r *rawIDs) bytes(n uint64) (b [16]byte) {
	copy(b[:8], r.prefix[:])
	binary.BigEndian.PutUint64(b[8:], n)
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return b
}

// format writes the id of counter n into out (36 bytes).
func (r *rawIDs) format(out []byte, n uint64) {
	b := r.bytes(n)
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
}
