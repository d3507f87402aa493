package staging

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/warehouse"
)

// Metadata columns that every staged table carries, as Airbyte destinations
// (v2) name them.
const (
	ColRawID        = "_airbyte_raw_id"        // a UUID per record, unique across syncs
	ColExtractedAt  = "_airbyte_extracted_at"  // the record's emitted_at
	ColMeta         = "_airbyte_meta"          // {"changes": [...], "sync_id": n}
	ColGenerationID = "_airbyte_generation_id" // the sync's generation_id
)

// CDC columns that sources using change data capture add to records.
const (
	ColCDCDeletedAt = "_ab_cdc_deleted_at"
	ColCDCLSN       = "_ab_cdc_lsn"
)

// rawIDType is the type of the direct layout's _airbyte_raw_id: a string
// that engines with a UUID type (DuckDB) store as UUID.
var rawIDType = warehouse.Type{Kind: warehouse.KindString, Native: "UUID"}

// metaColumns are appended after the stream's own columns.
var metaColumns = []warehouse.Column{
	{Name: ColRawID, Type: warehouse.String},
	{Name: ColExtractedAt, Type: warehouse.TimestampTZ},
	{Name: ColMeta, Type: warehouse.JSON},
	{Name: ColGenerationID, Type: warehouse.Integer, Nullable: true},
}

// jsonSchema is the part of a stream's JSON schema that decides column types.
type jsonSchema struct {
	Type        json.RawMessage        `json:"type"`
	Format      string                 `json:"format"`
	AirbyteType string                 `json:"airbyte_type"`
	Properties  map[string]*jsonSchema `json:"properties"`
	OneOf       []*jsonSchema          `json:"oneOf"`
	AnyOf       []*jsonSchema          `json:"anyOf"`
	Items       json.RawMessage        `json:"items"`
	Ref         string                 `json:"$ref"`
}

// types returns the schema's "type" as a list without "null".
func (s *jsonSchema) types() []string {
	if len(s.Type) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		if one == "null" {
			return nil
		}
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(s.Type, &many)
	return slices.DeleteFunc(many, func(t string) bool { return t == "null" })
}

// streamColumns derives the typed columns of a stream from its JSON schema,
// in a stable order (the order of the schema's properties as written), then
// the metadata columns.
func streamColumns(st airbyte.Stream) ([]warehouse.Column, error) {
	if len(st.JSONSchema) == 0 {
		return slices.Clone(metaColumns), nil
	}
	var root jsonSchema
	if err := json.Unmarshal(st.JSONSchema, &root); err != nil {
		return nil, fmt.Errorf("stream %s: json_schema: %w", st.Descriptor(), err)
	}
	names, err := propertyOrder(st.JSONSchema)
	if err != nil {
		return nil, fmt.Errorf("stream %s: json_schema: %w", st.Descriptor(), err)
	}
	cols := make([]warehouse.Column, 0, len(names)+len(metaColumns))
	for _, name := range names {
		if strings.HasPrefix(name, "_airbyte_") {
			return nil, fmt.Errorf("stream %s: property %q uses the reserved prefix _airbyte_", st.Descriptor(), name)
		}
		cols = append(cols, warehouse.Column{Name: name, Type: portableType(root.Properties[name]), Nullable: true})
	}
	return append(cols, metaColumns...), nil
}

// portableType maps one property's JSON schema to a portable column type:
//
//	integer, or number with airbyte_type integer          integer
//	number                                                 float
//	boolean                                                boolean
//	string, format date                                    date
//	string, format date-time or airbyte_type timestamp_*   timestamp (with zone unless airbyte_type timestamp_without_timezone)
//	string, format time / airbyte_type time_without_timezone  time
//	string (anything else, including time with zone)       string
//	object, array, unions of types, no type                json
func portableType(s *jsonSchema) warehouse.Type {
	if s == nil {
		return warehouse.JSON
	}
	ts := s.types()
	if len(ts) != 1 {
		return warehouse.JSON
	}
	switch ts[0] {
	case "integer":
		return warehouse.Integer
	case "number":
		if s.AirbyteType == "integer" || s.AirbyteType == "big_integer" {
			return warehouse.Integer
		}
		return warehouse.Float
	case "boolean":
		return warehouse.Boolean
	case "string":
		switch {
		case s.AirbyteType == "timestamp_without_timezone":
			return warehouse.Timestamp
		case s.AirbyteType == "timestamp_with_timezone" || s.Format == "date-time":
			return warehouse.TimestampTZ
		case s.Format == "date" || s.AirbyteType == "date":
			return warehouse.Date
		case s.AirbyteType == "time_without_timezone" || (s.Format == "time" && s.AirbyteType == ""):
			return warehouse.Time
		}
		return warehouse.String
	}
	return warehouse.JSON
}

// propertyOrder returns the keys of the schema's "properties" object in the
// order they are written, so that columns follow the source's order.
func propertyOrder(schema json.RawMessage) ([]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(schema, &top); err != nil {
		return nil, err
	}
	props, ok := top["properties"]
	if !ok || len(props) == 0 || string(props) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(props)))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("properties is not an object")
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return names, nil
}
