package staging

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestEachField(t *testing.T) {
	in := `  {"a": 1, "b\u00e9" : "x\"y", "c":{"d":[1,{"e":"}"}]}, "n": null, "t":true}  `
	got := map[string]string{}
	if err := eachField([]byte(in), func(k string, raw json.RawMessage) { got[k] = string(raw) }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "1", "bé": `"x\"y"`, "c": `{"d":[1,{"e":"}"}]}`, "n": "null", "t": "true"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%q = %q, want %q", k, got[k], v)
		}
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1} x`, `{"a":{"b":1}`, `{"a":"unterminated}`, `{"a":[1,2}`, "{\"a\":\"ctl\x01\"}"} {
		if err := eachField([]byte(bad), func(string, json.RawMessage) {}); err == nil {
			t.Errorf("eachField(%q): no error", bad)
		}
	}
	if err := eachField([]byte(`{}`), func(string, json.RawMessage) { t.Error("called for an empty object") }); err != nil {
		t.Error(err)
	}
}

// FuzzEachField checks eachField against encoding/json: on every input that
// encoding/json decodes into an object, eachField sees the same members with
// equivalent values; it never panics on anything.
func FuzzEachField(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":"x\\u0041","b":[1,{"c":null}]}`, `{}`, `{"a":1,"a":2}`, `[1]`, `{"a":1e5,"b":-0.5}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]json.RawMessage{}
		err := eachField(data, func(k string, raw json.RawMessage) { got[k] = bytes.Clone(raw) })
		var want map[string]json.RawMessage
		werr := json.Unmarshal(data, &want)
		if werr != nil || want == nil {
			return // eachField may accept scalars encoding/json rejects; converters check them
		}
		if err != nil {
			t.Fatalf("eachField rejected %q: %v", data, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: members %v, want %v", data, got, want)
		}
		for k, w := range want {
			var a, b any
			if json.Unmarshal(got[k], &a) != nil {
				t.Fatalf("%q: member %q raw %q is not JSON", data, k, got[k])
			}
			_ = json.Unmarshal(w, &b)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("%q: member %q = %s, want %s", data, k, got[k], w)
			}
		}
	})
}

func TestRawIDs(t *testing.T) {
	a, b := newRawIDs(), newRawIDs()
	seen := map[string]bool{}
	for range 3000 { // several blocks of ids
		for _, id := range []string{a.next(), b.next()} {
			if len(id) != 36 || id[14] != '4' || seen[id] {
				t.Fatalf("bad or repeated id %q", id)
			}
			seen[id] = true
		}
	}
}
