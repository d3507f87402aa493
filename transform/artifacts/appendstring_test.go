package artifacts

import (
	"encoding/json"
	"testing"
)

// appendStringCases are strings whose every escape json.Marshal makes
// appendString must make the same way.
var appendStringCases = []string{
	"", "plain", "select 1 as \"a\" -- b\\c\n\r\t\b\f\x00\x01\x1f\x7f",
	"<a href='x'>&amp;</a>", "é ü 日本 🎉", "\u2028\u2029 \u2027\u202a",
	"bad \xff utf-8 \xc3", "\xe2\x80", "trailing \xe2\x80\xa8", "ends in escape\n",
}

func TestAppendStringMatchesJSONMarshal(t *testing.T) {
	for _, s := range appendStringCases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendString(%q) = %s, want x%s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s) // a string always encodes
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
