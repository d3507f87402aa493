package jsonscan

import (
	"encoding/json"
	"testing"
)

var samples = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0.5e+3`, `"a\"b\u00e9"`, ` {"a":[1,{"b":"]"}],"c":null} `,
	`{"a":1,}`, `[1,2}`, `01`, `1.`, `"\x"`, "\"a\tb\"", `tru`, `{"a" 1}`, `"unterminated`, ``, `[1] 2`,
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range samples {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
	if end := Value([]byte(`[1,"x"] tail`), 0, 1); end != 7 {
		t.Errorf("Value ends at %d, want 7", end)
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}
