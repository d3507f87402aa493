package airbyte

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// bigRecordLine returns a RECORD line whose data holds a string of n bytes.
func bigRecordLine(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"RECORD","record":{"stream":"big","emitted_at":7,"data":{"blob":"`)
	b.WriteString(strings.Repeat("x", n))
	b.WriteString(`"}}}`)
	return b.Bytes()
}

func TestDecoderLongLines(t *testing.T) {
	for _, n := range []int{64 << 10, 64<<10 + 1, 17 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var in bytes.Buffer
			in.Write(bigRecordLine(n))
			in.WriteString("\n")
			in.WriteString(`{"type":"RECORD","record":{"stream":"small","data":{"a":1},"emitted_at":8}}` + "\n")
			in.Write(bigRecordLine(n)) // last line without a newline
			dec := NewDecoder(&in, Strict())
			for i, want := range []string{"big", "small", "big"} {
				m, err := dec.Decode()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if m.Record.Stream != want {
					t.Fatalf("message %d: stream %q, want %q", i, m.Record.Stream, want)
				}
				if want == "big" {
					var d struct{ Blob string }
					if err := m.Record.DecodeData(&d); err != nil || len(d.Blob) != n {
						t.Fatalf("message %d: blob of %d bytes (%v), want %d", i, len(d.Blob), err, n)
					}
				}
				if dec.Line() != int64(i+1) {
					t.Errorf("line %d, want %d", dec.Line(), i+1)
				}
			}
			if _, err := dec.Decode(); err != io.EOF {
				t.Fatalf("after the last line: %v, want io.EOF", err)
			}
		})
	}
}

func TestDecoderRecordDataSurvivesNextDecode(t *testing.T) {
	in := `{"type":"RECORD","record":{"stream":"s","data":{"n":1},"emitted_at":1}}
{"type":"RECORD","record":{"stream":"s","data":{"n":2},"emitted_at":1}}
`
	dec := NewDecoder(strings.NewReader(in))
	a, _ := dec.Decode()
	b, _ := dec.Decode()
	if string(a.Record.Data) != `{"n":1}` || string(b.Record.Data) != `{"n":2}` {
		t.Errorf("data overwritten: %s %s", a.Record.Data, b.Record.Data)
	}
}

func TestDecoderTurnsNonProtocolLinesIntoLogs(t *testing.T) {
	in := strings.Join([]string{
		`Starting connector...`,
		``,
		`   `,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":1}}`,
		`{"not":"a message"}`,
		`[1,2,3]`,
		`{"type":"RECORD"}`,
		`{"type":"RECORD","record":{"stream":5,"data":{},"emitted_at":1}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":"soon"}}`,
		`{"type":"RECORD","record":{"stream":"s","data":{"a":}}}`,
		`{"type":null}`,
		"\x00\xff binary",
		`{"type":"LOG","log":{"level":"ERROR","message":"real log"}}` + "\r",
	}, "\n")
	dec := NewDecoder(strings.NewReader(in))
	var got []string
	for m, err := range dec.Messages() {
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case TypeLog:
			got = append(got, string(m.Log.Level)+": "+m.Log.Message)
		case TypeRecord:
			got = append(got, "record "+m.Record.Stream)
		default:
			got = append(got, string(m.Type))
		}
	}
	want := []string{
		"INFO: Starting connector...",
		"record s",
		`INFO: {"not":"a message"}`,
		"INFO: [1,2,3]",
		`INFO: {"type":"RECORD"}`,
		`INFO: {"type":"RECORD","record":{"stream":5,"data":{},"emitted_at":1}}`,
		`INFO: {"type":"RECORD","record":{"stream":"s","data":{},"emitted_at":"soon"}}`,
		`INFO: {"type":"RECORD","record":{"stream":"s","data":{"a":}}}`,
		`INFO: {"type":null}`,
		"INFO: \x00\xff binary",
		"ERROR: real log",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if dec.Line() != 13 {
		t.Errorf("line %d, want 13", dec.Line())
	}
}

func TestStrictDecoderNamesTheLine(t *testing.T) {
	in := "{\"type\":\"LOG\",\"log\":{\"level\":\"INFO\",\"message\":\"ok\"}}\n\nnot json\n"
	dec := NewDecoder(strings.NewReader(in), Strict(), Named("out.jsonl"))
	if _, err := dec.Decode(); err != nil {
		t.Fatal(err)
	}
	_, err := dec.Decode()
	var le *LineError
	if !errors.As(err, &le) || le.Line != 3 || !errors.Is(err, ErrNotProtocol) {
		t.Fatalf("err = %v, want a LineError at line 3 wrapping ErrNotProtocol", err)
	}
	if !strings.HasPrefix(err.Error(), "out.jsonl:3: ") {
		t.Errorf("error %q does not name the file and line", err)
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDecoderReadErrorNamesLine(t *testing.T) {
	boom := errors.New("disk on fire")
	r := &failingReader{data: []byte("{\"type\":\"LOG\",\"log\":{\"level\":\"INFO\",\"message\":\"ok\"}}\n{\"type\":"), err: boom}
	dec := NewDecoder(r, Named("stdout"))
	if _, err := dec.Decode(); err != nil {
		t.Fatal(err)
	}
	_, err := dec.Decode()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "stdout:2:") {
		t.Fatalf("err = %v, want disk error at stdout:2", err)
	}
	if _, again := dec.Decode(); again != err {
		t.Errorf("error not sticky: %v", again)
	}
}

func TestEncoderWritesOneLinePerMessage(t *testing.T) {
	var out bytes.Buffer
	enc := NewEncoder(&out)
	msgs := []*Message{
		{Type: TypeRecord, Record: &RecordMessage{Stream: "s\n", Data: json.RawMessage(`{"a":"<&>"}`), EmittedAt: 5}},
		{Type: TypeRecord, Record: &RecordMessage{Stream: "nil data"}},
		{Type: TypeState, State: &StateMessage{Type: StateStream, Stream: &StreamState{StreamDescriptor: StreamDescriptor{Name: "s"}, StreamState: json.RawMessage(`{"c":1}`)}}},
	}
	for _, m := range msgs {
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"type":"RECORD","record":{"stream":"s\n","data":{"a":"<&>"},"emitted_at":5}}
{"type":"RECORD","record":{"stream":"nil data","data":{},"emitted_at":0}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"},"stream_state":{"c":1}}}}
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	if err := enc.Encode(nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "\x00\x1f\t\r\n", "é\u2028\u2029", "bad\xffutf8", "<>&"} {
		got := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("%q: decodes to %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}

func TestEachMemberNeverPanics(t *testing.T) {
	for _, in := range []string{"", "{", "}", `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `{"a" 1}`, `{"a":[}`, `{"a":"\`, `{}x`, `{"a":1}}`, `{"\u00":1}`} {
		if err := eachMember([]byte(in), func(string, []byte) error { return nil }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// recordGenerator produces n record lines on the fly, never holding them.
type recordGenerator struct {
	n, i int
	buf  []byte
}

func (g *recordGenerator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.buf = fmt.Appendf(g.buf[:0], `{"type":"RECORD","record":{"stream":"s","data":{"id":%d,"pad":"%s"},"emitted_at":%d}}`+"\n", g.i, strings.Repeat("p", 200), g.i)
		g.i++
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

func TestDecoderMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 400k records")
	}
	peak := func(n int) uint64 {
		runtime.GC()
		var ms runtime.MemStats
		var max uint64
		dec := NewDecoder(&recordGenerator{n: n})
		count := 0
		for m, err := range dec.Messages() {
			if err != nil {
				t.Fatal(err)
			}
			if m.Record == nil {
				t.Fatalf("line %d: %+v", dec.Line(), m)
			}
			count++
			if count%20000 == 0 {
				runtime.ReadMemStats(&ms)
				max = maxOf(max, ms.HeapInuse)
			}
		}
		if count != n {
			t.Fatalf("decoded %d of %d records", count, n)
		}
		return max
	}
	small, large := peak(40000), peak(400000) // about 9 MB and 90 MB of JSONL
	t.Logf("peak heap in use: %d KiB for 40k records, %d KiB for 400k", small>>10, large>>10)
	if large > 2*small+8<<20 {
		t.Errorf("heap grows with the stream: %d KiB for 40k records, %d KiB for 400k", small>>10, large>>10)
	}
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
