package staging

import (
	"regexp"
	"testing"
)

// TestRawIDsAppend: ids handed out by next and appendNext, mixed, are distinct
// version-4-shaped UUIDs in the canonical form.
func TestRawIDsAppend(t *testing.T) {
	r := newRawIDs()
	canonical := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	var buf []byte
	for i := range 5000 {
		var id string
		if i%700 < 300 {
			id = r.next()
		} else {
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
