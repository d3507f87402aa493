package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

// appendStringCases are strings whose every escape encoding/json makes
// AppendString must make the same way.
var appendStringCases = []string{
	"", "plain", "select 1 as \"a\" -- b\\c\n\r\t\b\f\x00\x01\x1f\x7f",
	"<a href='x'>&amp;</a>", "é ü 日本 🎉", "\u2028\u2029 \u2027\u202a",
	"bad \xff utf-8 \xc3", "\xe2\x80", "trailing \xe2\x80\xa8", "ends in escape\n",
}

// encodingJSON is s as encoding/json writes it, HTML-escaped or not.
func encodingJSON(t testing.TB, s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range appendStringCases {
		for _, html := range []bool{true, false} {
			want := encodingJSON(t, s, html)
			if got := AppendString([]byte("x"), s, html); string(got) != "x"+want {
				t.Errorf("AppendString(%q, html %v) = %s, want x%s", s, html, got, want)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range appendStringCases {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, html bool) {
		if got, want := string(AppendString(nil, s, html)), encodingJSON(t, s, html); got != want {
			t.Fatalf("AppendString(%q, html %v) = %s, want %s", s, html, got, want)
		}
	})
}
