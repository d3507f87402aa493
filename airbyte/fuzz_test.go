package airbyte

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// FuzzDecoder feeds arbitrary bytes to the decoder. It must never panic,
// every message it returns must encode to valid JSON that decodes and
// encodes again to the same bytes, and it must reach the end of the input.
func FuzzDecoder(f *testing.F) {
	for _, file := range []string{"testdata/protocol_examples.jsonl", "testdata/protocol_unknown_enums.jsonl"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		for _, line := range bytes.Split(data, []byte("\n")) {
			f.Add(line)
		}
	}
	f.Add([]byte("not json\n{\"type\":\"RECORD\"}\n[1]\n"))
	f.Add([]byte(`{"type":"RECORD","record":{"stream":"s","data":{"a":1},"emitted_at":1.5e3,"x":{"y":[]}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		dec := NewDecoder(bytes.NewReader(in))
		for i := 0; ; i++ {
			m, err := dec.Decode()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("non-strict decoder failed on in-memory input: %v", err)
			}
			if i > len(in) {
				t.Fatal("more messages than bytes")
			}
			b, err := m.MarshalJSON()
			if err != nil {
				t.Fatalf("encode %+v: %v", m, err)
			}
			if !json.Valid(b) {
				t.Fatalf("encoded message is not JSON: %s", b)
			}
			m2 := new(Message)
			if err := m2.UnmarshalJSON(b); err != nil {
				t.Fatalf("re-decode %s: %v", b, err)
			}
			b2, err := m2.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			// The first encoding may normalise (invalid UTF-8 becomes
			// U+FFFD); from then on it must be a fixed point.
			m3 := new(Message)
			if err := m3.UnmarshalJSON(b2); err != nil {
				t.Fatalf("re-decode %s: %v", b2, err)
			}
			b3, err := m3.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b2, b3) {
				t.Fatalf("encoding is not stable:\n%s\n%s", b2, b3)
			}
		}
	})
}

// FuzzScanner checks the validating scanner against encoding/json: it must
// accept exactly what json.Valid accepts.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,-2.5e+3,true,false,null,"x\u00e9\n"]}`, `01`, `-`, `1.`, `1e`, `"\x01"`, `"\u12"`, `{"a":1,}`,
		`[1 2]`, ` {"a" : { "b" : [ ] } } `, "\"\xff\"", `nul`, `tru`, `{"a":1}}`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000), `{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`, `{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		want := json.Valid(in)
		if got := validJSON(in); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid = %v", in, got, want)
		}
		isObject := want && bytes.TrimSpace(in)[0] == '{'
		err := eachMember(in, func(k string, v []byte) error {
			if !json.Valid(v) {
				t.Fatalf("member %q has invalid value %q", k, v)
			}
			return nil
		})
		if (err == nil) != isObject {
			t.Fatalf("eachMember(%q) = %v, but valid object = %v", in, err, isObject)
		}
	})
}
