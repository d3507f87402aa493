package staging

import (
	"encoding/hex"
	"regexp"
	"testing"
)

// TestRawIDsAppend: ids handed out by next, appendNext and appendNextBytes
// (as 16 bytes, compared by their canonical text), mixed, are distinct
// version-4-shaped UUIDs in the canonical form.
func TestRawIDsAppend(t *testing.T) {
	r := newRawIDs()
	canonical := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	var buf []byte
	for i := range 5000 {
		var id string
		switch {
		case i%700 < 300:
			id = r.next()
		case i%700 < 400:
			n := len(buf)
			buf = r.appendNextBytes(buf)
			if len(buf)-n != 16 {
				t.Fatalf("id %d: %d bytes", i, len(buf)-n)
			}
			b := buf[n:]
			id = hex.EncodeToString(b[:4]) + "-" + hex.EncodeToString(b[4:6]) + "-" + hex.EncodeToString(b[6:8]) + "-" +
				hex.EncodeToString(b[8:10]) + "-" + hex.EncodeToString(b[10:])
		default:
			n := len(buf)
			buf = r.appendNext(buf)
			id = string(buf[n:])
		}
		if !canonical.MatchString(id) {
			t.Fatalf("id %d: %q is not a canonical UUID", i, id)
		}
		if seen[id] {
			t.Fatalf("id %d: %s handed out twice", i, id)
		}
		seen[id] = true
	}
}
