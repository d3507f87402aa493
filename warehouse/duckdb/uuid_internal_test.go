package duckdb

import (
	"strings"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// TestParseUUID: every accepted form gives the bytes duckdb-go's parser
// gives; text that is not a UUID is refused.
func TestParseUUID(t *testing.T) {
	for _, s := range []string{
		"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		"7f3a91c2-5b0e-4d17-8a00-0123456789ab", "7F3A91C2-5B0E-4D17-8A00-0123456789AB",
		"{7f3a91c2-5b0e-4d17-8a00-0123456789ab}", "7f3a91c25b0e4d178a000123456789ab", "80000000-0000-0000-0000-000000000001",
	} {
		got, err := parseUUID(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		var u duckdb.UUID
		if err := u.Scan(strings.Trim(s, "{}")); err != nil {
			t.Fatal(err)
		}
		if want := uuidOf(u); got != want {
			t.Errorf("%s: %x, want %x", s, got, want)
		}
	}
	for _, s := range []string{"", "7f3a91c2-5b0e-4d17-8a00-0123456789ag", "7f3a91c2-5b0e-4d17-8a00-0123456789a", "7f3a91c2_5b0e-4d17-8a00-0123456789ab",
		"7f3a91c2-5b0e-4d17-8a00-0123456789abc", "-7f3a91c25b0e4d178a000123456789ab", "7f3a91c2--5b0e4d178a000123456789ab", "g7f3a91c-5b0e-4d17-8a00-0123456789ab"} {
		if _, err := parseUUID(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
}
