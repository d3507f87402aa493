package duckdb

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzScanJSON checks scanJSON against encoding/json: valid as json.Valid
// (plus valid UTF-8), compact exactly when json.Marshal of the text as a
// json.RawMessage returns it unchanged.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.340E+2`, `true`, `false`, `null`,
		`{"changes":[],"sync_id":3}`, `{"a": [1, 2.5, "x", null, true], "b": {"c": "ü"}}`,
		` 1.50 `, `[1,"two"]`, `"just a string"`, `{"z":1,"a":12345678901234567890123}`,
		`"a<b"`, `"\u2028"`, "\"\u2028\"", `"\ud800"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9"`,
		`{not json`, `[1,]`, `{"a":1,}`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `NaN`, `Infinity`,
		`tru`, `nul`, `"unterminated`, "\"ctl \x01\"", "\"bad \xff utf-8\"", `[`, `{"a"}`, `{"a":}`,
		`{"a" 1}`, `[1 2]`, `{} {}`, ``, ` `, `"\x"`, `"\u12"`, `"\u12g4"`, `[[[[]]]]`,
		"{\"k\":\t1}", "\n[1]\n", `{"a":"&amp;"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid, compact := scanJSON(b)
		wantValid := json.Valid(b) && utf8.Valid(b)
		if valid != wantValid {
			t.Fatalf("scanJSON(%q) valid = %v, want %v", b, valid, wantValid)
		}
		if sv, sc := scanJSON(string(b)); sv != valid || sc != compact {
			t.Fatalf("scanJSON(string %q) = %v %v, []byte gives %v %v", b, sv, sc, valid, compact)
		}
		if !valid {
			return
		}
		enc, err := json.Marshal(json.RawMessage(b))
		if err != nil {
			t.Fatalf("marshal %q: %v", b, err)
		}
		if want := bytes.Equal(enc, b); compact != want {
			t.Fatalf("scanJSON(%q) compact = %v, want %v (encoded %q)", b, compact, want, enc)
		}
	})
}

// TestScanJSONDepth: nesting beyond encoding/json's limit is refused, as
// json.Valid refuses it.
func TestScanJSONDepth(t *testing.T) {
	deep := bytes.Repeat([]byte("["), maxJSONDepth+1)
	deep = append(deep, bytes.Repeat([]byte("]"), maxJSONDepth+1)...)
	if v, _ := scanJSON(deep); v || json.Valid(deep) {
		t.Fatalf("depth %d: scanJSON valid %v, json.Valid %v; want both false", maxJSONDepth+1, v, json.Valid(deep))
	}
	ok := deep[1 : len(deep)-1]
	if v, _ := scanJSON(ok); !v || !json.Valid(ok) {
		t.Fatalf("depth %d: scanJSON valid %v, json.Valid %v; want both true", maxJSONDepth, v, json.Valid(ok))
	}
}
