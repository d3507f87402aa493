package airbyte_test

import (
	"fmt"
	"strconv"

	"github.com/dataopskit/dataops/airbyte"
)

// userRow is a typed record of a stream with fields id and name, as an
// in-process source would hand it over.
type userRow struct {
	id   int64
	name string
}

var userFields = []string{"id", "name"} // shared by every record of the stream

func (r *userRow) Fields() []string { return userFields }
func (r *userRow) Size() int        { return 8 + len(r.name) }
func (r *userRow) AppendValues(dst []any) []any {
	return append(dst, r.id, r.name)
}
func (r *userRow) AppendJSON(dst []byte) []byte {
	dst = strconv.AppendInt(append(dst, `{"id":`...), r.id, 10)
	dst = airbyte.AppendJSONString(append(dst, `,"name":`...), r.name)
	return append(dst, '}')
}

// A consumer that asked for typed records (airbyte.EnableTypedRecords)
// takes Go values, and can still get the JSON form of any record.
func ExampleRecordValues() {
	rec := &airbyte.RecordMessage{Stream: "users", Values: &userRow{id: 1, name: "Ada"}}
	var vals []any
	if rec.Values != nil {
		vals = rec.Values.AppendValues(vals[:0])
		fmt.Println(rec.Values.Fields(), vals)
	}
	fmt.Println(string(rec.DataJSON()))
	rec.Materialize() // Data set, Values dropped: the record is plain JSON again
	b, _ := rec.MarshalJSON()
	fmt.Println(string(b))
	// Output:
	// [id name] [1 Ada]
	// {"id":1,"name":"Ada"}
	// {"stream":"users","data":{"id":1,"name":"Ada"},"emitted_at":0}
}
