package artifacts

import (
	"encoding/json"
	"testing"
)

func TestFilterKeys(t *testing.T) {
	in := []byte(`{"a":"x\"}]{[,","drop":{"n":[1,{"b":"]"}]},"c":[],"d":null,"e":-1.5e3,"f":true,"seed":{"x":1}}`)
	out, err := filterKeys(in, func(k string) bool { return k == "drop" || k == "d" }, map[string][]byte{"seed": []byte(`{"macros":[]}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":"x\"}]{[,","c":[],"e":-1.5e3,"f":true,"seed":{"macros":[]}}`
	if string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if !json.Valid(out) {
		t.Error("output is not valid JSON")
	}
	out, err = filterKeys([]byte(`{"only":1}`), func(string) bool { return true }, nil)
	if err != nil || string(out) != `{}` {
		t.Errorf("dropping every key: %s %v", out, err)
	}
	for _, bad := range []string{`[1]`, `{"a":[1,2}`, `{"a":1`, `{"a":"unterminated`, `{"a" 1}`} {
		if _, err := filterKeys([]byte(bad), func(string) bool { return false }, nil); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
