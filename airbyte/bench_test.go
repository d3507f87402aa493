package airbyte

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"
)

// typicalRecords returns n RECORD lines shaped like a database table row of
// ten columns (about 330 bytes a line), with a STATE every 1000 records.
func typicalRecords(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"type":"RECORD","record":{"namespace":"public","stream":"orders","data":{"id":%d,"customer_id":%d,"status":"shipped","amount":"%d.%02d","currency":"EUR","note":"deliver to the back door, ring twice","created_at":"2024-03-%02dT10:%02d:00Z","updated_at":"2024-03-%02dT11:%02d:00.123456Z","is_gift":%t,"tags":["a","b"]},"emitted_at":%d}}`+"\n",
			i, i%977, i%500, i%100, i%28+1, i%60, i%28+1, i%60, i%2 == 0, 1700000000000+int64(i))
		if i%1000 == 999 {
			fmt.Fprintf(&b, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"orders","namespace":"public"},"stream_state":{"cursor":%d}},"sourceStats":{"recordCount":1000.0}}}`+"\n", i)
		}
	}
	return b.Bytes()
}

func decodeAirbyte(tb testing.TB, in []byte) int {
	dec := NewDecoder(bytes.NewReader(in))
	n := 0
	for {
		m, err := dec.Decode()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		if m.Type == TypeRecord {
			n++
		}
	}
}

// decodeBaseline is what a straightforward consumer does: scan lines and
// decode each into map[string]any with encoding/json.
func decodeBaseline(tb testing.TB, in []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(make([]byte, 64<<10), 1<<30)
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatal(err)
		}
		if m["type"] == "RECORD" {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return n
}

const benchRecords = 20000

// BenchmarkDecoder measures the decoder and encoding/json into
// map[string]any on the same typical record lines in the same run, and
// reports each side's MB/s and records/s and speedup = baseline time /
// decoder time. (ns/op covers both sides.)
func BenchmarkDecoder(b *testing.B) {
	in := typicalRecords(benchRecords)
	var tAirbyte, tBaseline time.Duration
	for b.Loop() {
		start := time.Now()
		if n := decodeAirbyte(b, in); n != benchRecords {
			b.Fatalf("decoded %d records, want %d", n, benchRecords)
		}
		tAirbyte += time.Since(start)
		start = time.Now()
		if n := decodeBaseline(b, in); n != benchRecords {
			b.Fatalf("baseline decoded %d records, want %d", n, benchRecords)
		}
		tBaseline += time.Since(start)
	}
	mb := float64(len(in)) * float64(b.N) / 1e6
	recs := float64(benchRecords) * float64(b.N)
	b.ReportMetric(mb/tAirbyte.Seconds(), "decoder_MB/s")
	b.ReportMetric(recs/tAirbyte.Seconds(), "decoder_records/s")
	b.ReportMetric(mb/tBaseline.Seconds(), "json_map_MB/s")
	b.ReportMetric(recs/tBaseline.Seconds(), "json_map_records/s")
	b.ReportMetric(tBaseline.Seconds()/tAirbyte.Seconds(), "speedup")
}

// BenchmarkEncoder measures the encoder on the same records.
func BenchmarkEncoder(b *testing.B) {
	in := typicalRecords(benchRecords)
	var msgs []*Message
	for m, err := range NewDecoder(bytes.NewReader(in)).Messages() {
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	enc := NewEncoder(io.Discard)
	for b.Loop() {
		for _, m := range msgs {
			if err := enc.Encode(m); err != nil {
				b.Fatal(err)
			}
		}
	}
}
