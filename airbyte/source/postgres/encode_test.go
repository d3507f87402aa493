package postgres

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// benchPlan is the plan of the benchmark's wide table, built without a
// database.
func benchPlan(tb testing.TB) (*streamPlan, [][]byte) {
	t := &table{Schema: "s", Name: "wide", RelKind: 'r', Columns: []column{
		{Name: "id", Kind: kInt64}, {Name: "a", Kind: kInt32}, {Name: "c", Kind: kInt64},
		{Name: "d", Kind: kFloat64}, {Name: "n", Kind: kNumeric}, {Name: "s", Kind: kString},
		{Name: "f", Kind: kBool}, {Name: "ts", Kind: kTimestampTZ}, {Name: "dt", Kind: kDate}, {Name: "u", Kind: kUUID},
	}}
	sp, err := newPlan(airbyte.ConfiguredStream{SyncMode: airbyte.FullRefresh}, t, MethodStandard)
	if err != nil {
		tb.Fatal(err)
	}
	be := func(n int, v uint64) []byte {
		b := make([]byte, n)
		switch n {
		case 4:
			binary.BigEndian.PutUint32(b, uint32(v))
		case 8:
			binary.BigEndian.PutUint64(b, v)
		}
		return b
	}
	vals := [][]byte{
		be(8, 123456), be(4, 456), be(8, 3827136), be(8, math.Float64bits(17636.571428571428)), []byte("234.56"),
		[]byte("e10adc3949ba59abbe56e057f20f883e"), {1}, be(8, 757392245000000), be(4, 9000),
		{0xe1, 0x0a, 0xdc, 0x39, 0x49, 0xba, 0x59, 0xab, 0xbe, 0x56, 0xe0, 0x57, 0xf2, 0x0f, 0x88, 0x3e},
	}
	return sp, vals
}

func TestEncodeRowBinary(t *testing.T) {
	sp, vals := benchPlan(t)
	var changes []airbyte.RecordChange
	got := string(sp.encodeRow(nil, vals, false, nil, &changes))
	want := `{"id":123456,"a":456,"c":3827136,"d":17636.571428571428,"n":234.56,"s":"e10adc3949ba59abbe56e057f20f883e","f":true,"ts":"2024-01-01T02:44:05Z","dt":"2024-08-22","u":"e10adc39-49ba-59ab-be56-e057f20f883e"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid([]byte(got)) || len(changes) != 0 {
		t.Fatal("invalid")
	}
}

func TestAppendDateRange(t *testing.T) {
	// Every 97th day over ±800 years round-trips through the civil calendar.
	for d := int64(-300000); d < 300000; d += 97 {
		got, bc := appendDate(nil, d)
		tm := time2000.AddDate(0, 0, int(d))
		y := tm.Year()
		if y <= 0 {
			y = 1 - y
		}
		want := tm.Format("-01-02")
		if bc != (tm.Year() <= 0) || string(got) != pad4(y)+want {
			t.Fatalf("day %d: got %s bc=%v, want %04d%s", d, got, bc, y, want)
		}
	}
}

func BenchmarkEncodeRow(b *testing.B) {
	sp, vals := benchPlan(b)
	var changes []airbyte.RecordChange
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = sp.encodeRow(buf[:0], vals, false, nil, &changes)
	}
}

var time2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func pad4(y int) string {
	s := strconv.Itoa(y)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// BenchmarkEmitRow is the client's work per row without the server:
// encode, carve the record out of the shared blocks, hand it over.
func BenchmarkEmitRow(b *testing.B) {
	sp, vals := benchPlan(b)
	rs := &readStream{}
	n := 0
	emit := func(m *airbyte.Message) bool { n += len(m.Record.Data); return true }
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if err := rs.emitRow(sp, vals, nil, emit); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func TestNumberTextOK(t *testing.T) {
	for in, want := range map[string]bool{
		"0": true, "12.5": true, "-3": true, "-0.25": true, "1e5": true,
		"": false, "-": false, "NaN": false, "Infinity": false, "-Infinity": false,
	} {
		if got := numberTextOK([]byte(in)); got != want {
			t.Errorf("numberTextOK(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestAppendUUID(t *testing.T) {
	src := []byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
	if got := string(appendUUID([]byte("x"), src)); got != "xa0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" {
		t.Fatalf("appendUUID = %q", got)
	}
}
