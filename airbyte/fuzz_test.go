package airbyte

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
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
