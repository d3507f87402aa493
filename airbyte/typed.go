package airbyte

import "encoding/json"

// RecordValues is the typed form of a record's data, which in-process
// sources can hand to in-process consumers instead of JSON (see
// TypedReadStream): the consumer takes Go values, and nobody encodes or
// parses JSON on the way. The JSON form stays available through AppendJSON,
// so a typed record means exactly what its JSON form means.
//
// AppendValues appends one value per name of Fields, in that order, each
// one of:
//
//   - nil (JSON null);
//   - bool, int64, float64 (finite) or string (valid UTF-8): the JSON
//     boolean, number or string of the same value;
//   - time.Time, in UTC: a date (at midnight), a timestamp with or without
//     zone (a timestamp without zone as its wall clock) — the JSON form is the
//     source's string for it (see the stream's JSON schema);
//   - json.RawMessage: anything else, as the JSON value itself.
//
// A RecordValues must not change once its record is yielded; consumers may
// keep it (and the values it appends) for as long as they keep the record.
type RecordValues interface {
	// Fields names the values, in order. Records of one stream in one read
	// share the same slice, so that consumers can map it to their columns
	// once (compare with SameFields); it must not be modified.
	Fields() []string
	// AppendValues appends the values to dst and returns the extended slice.
	AppendValues(dst []any) []any
	// AppendJSON appends the data as the JSON object Data would hold.
	AppendJSON(dst []byte) []byte
	// Size estimates the data's size in bytes, for batching.
	Size() int
}

// ValueVisitor receives a typed record's values one at a time, unboxed
// (see VisitableValues). i is the value's index in Fields. The values mean
// what AppendValues' would: Time is the time.Time's instant in microseconds
// since 1970-01-01 UTC (a date is its midnight, a timestamp without zone its
// wall clock as if in UTC), and JSON is anything else, as the JSON value
// itself. Byte slices are valid only during the call.
type ValueVisitor interface {
	Null(i int)
	Int(i int, v int64)
	Float(i int, v float64) // finite
	Bool(i int, v bool)
	String(i int, v []byte) // valid UTF-8
	Time(i int, micros int64)
	JSON(i int, v []byte)
}

// VisitableValues is implemented by RecordValues that can hand their
// values to a ValueVisitor without boxing each one in an interface, for
// consumers that store them in typed columns.
type VisitableValues interface {
	RecordValues
	// VisitValues calls v once per field, in order.
	VisitValues(v ValueVisitor)
}

// TypedReadStream is implemented by the read streams of in-process sources
// that can hand records over as RecordValues. A consumer that wants them
// calls EnableTypedRecords before Messages; other consumers (connector
// processes, encoders, validation) never see typed records.
type TypedReadStream interface {
	ReadStream
	// EnableTypedRecords asks for typed records: RECORD messages may then
	// carry Values and no Data (records that have no typed form still come
	// with Data). It reports whether the stream will send typed records; it
	// must be called before Messages.
	EnableTypedRecords() bool
}

// EnableTypedRecords asks rs for typed records if it can send them (see
// TypedReadStream) and reports whether it will.
func EnableTypedRecords(rs ReadStream) bool {
	t, ok := rs.(TypedReadStream)
	return ok && t.EnableTypedRecords()
}

// DataJSON returns the record's data as JSON: Data, or Values rendered.
func (r *RecordMessage) DataJSON() json.RawMessage {
	if len(r.Data) == 0 && r.Values != nil {
		return r.Values.AppendJSON(make([]byte, 0, r.Values.Size()*2+16))
	}
	return r.Data
}

// Materialize gives a typed record its JSON form: Data is rendered from
// Values, and Values is dropped. Records with Data are left as they are.
func (r *RecordMessage) Materialize() {
	if r.Values != nil {
		r.Data = r.DataJSON()
		r.Values = nil
	}
}

// SameFields reports whether a and b are the same field list (the same
// backing array and length), the cheap check consumers make per record
// before reusing a mapping computed for a.
func SameFields(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// ReleasingReadStream is implemented by the read streams of in-process
// sources that can reuse the memory of typed records (the message, the
// record and its RecordValues) once their consumer is done with them. It
// is an explicit ownership protocol on top of TypedReadStream: a consumer
// that copies each typed record's values out as it converts it (a columnar
// loader, say) calls EnableRecordRelease before Messages, and then
// ReleaseRecord for each typed record it no longer refers to. A record it
// never releases is never reused (its memory goes to the garbage collector,
// as without the protocol), and streams whose consumers did not enable it
// never reuse anything, so RecordValues' promise — a value does not change
// once yielded — holds for every record that has not been released.
type ReleasingReadStream interface {
	TypedReadStream
	// EnableRecordRelease tells the stream that its consumer releases typed
	// records (see ReleaseRecord); it reports whether the stream will reuse
	// released ones. It must be called before Messages.
	EnableRecordRelease() bool
}

// ReleasableValues is implemented by RecordValues whose memory their
// source reuses once released (see ReleasingReadStream).
type ReleasableValues interface {
	RecordValues
	// Release hands the record — its RECORD message, RecordMessage and the
	// values — back to the source. The caller must not use any of them, nor
	// the values or byte slices they handed out, afterwards; a second
	// Release of the same record is a no-op only until the source reuses it.
	Release()
}

// EnableRecordRelease asks rs to reuse the typed records its consumer
// releases, if it can (see ReleasingReadStream), and reports whether it
// will.
func EnableRecordRelease(rs ReadStream) bool {
	t, ok := rs.(ReleasingReadStream)
	return ok && t.EnableRecordRelease()
}

// ReleaseRecord hands a typed record back to its source for reuse, when
// its values are releasable (see ReleasingReadStream); it does nothing to
// other records. The caller must not use rec, its message or its values
// afterwards.
func ReleaseRecord(rec *RecordMessage) {
	if r, ok := rec.Values.(ReleasableValues); ok {
		r.Release()
	}
}
