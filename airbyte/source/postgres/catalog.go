package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/jackc/pgx/v5"
)

// kind is how a column's values are read and written to JSON.
type kind uint8

const (
	kString kind = iota // anything read as its text output (interval, inet, geometric, xml, bit, tsvector, enums, …)
	kInt16
	kInt32
	kInt64
	kFloat32
	kFloat64
	kNumeric
	kMoney
	kBool
	kDate
	kTime
	kTimeTZ
	kTimestamp
	kTimestampTZ
	kUUID
	kBytea
	kJSON
)

// Built-in type OIDs (fixed in every PostgreSQL).
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidMoney       = 790
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestampTZ = 1184
	oidTimeTZ      = 1266
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

func kindOfOID(oid uint32) kind {
	switch oid {
	case oidBool:
		return kBool
	case oidBytea:
		return kBytea
	case oidInt8:
		return kInt64
	case oidInt2:
		return kInt16
	case oidInt4:
		return kInt32
	case oidJSON, oidJSONB:
		return kJSON
	case oidFloat4:
		return kFloat32
	case oidFloat8:
		return kFloat64
	case oidMoney:
		return kMoney
	case oidDate:
		return kDate
	case oidTime:
		return kTime
	case oidTimestamp:
		return kTimestamp
	case oidTimestampTZ:
		return kTimestampTZ
	case oidTimeTZ:
		return kTimeTZ
	case oidNumeric:
		return kNumeric
	case oidUUID:
		return kUUID
	}
	return kString
}

// column is one column of a table as discovery found it, with domains
// resolved to their base type.
type column struct {
	Name    string
	TypeOID uint32 // the column's declared type (possibly a domain)
	Kind    kind   // of the value, or of the elements for arrays
	Array   bool
	NotNull bool
}

// table is one relation of the chosen schemas.
type table struct {
	OID       uint32
	Schema    string
	Name      string
	RelKind   byte // r, p, v, m, f
	ReplIdent byte // d (default), n, f (full), i (index)
	Columns   []column
	PK        []string // primary key columns in key order
}

func (t *table) desc() airbyte.StreamDescriptor {
	return airbyte.StreamDescriptor{Name: t.Name, Namespace: t.Schema}
}

// isTable reports whether the relation stores rows (has ctid and xmin).
func (t *table) isTable() bool { return t.RelKind == 'r' || t.RelKind == 'p' || t.RelKind == 'm' }

// cdcCapable reports whether CDC can deliver updates and deletes with the
// row's key: a plain or partitioned table with a primary key (or REPLICA
// IDENTITY FULL).
func (t *table) cdcCapable() bool {
	return (t.RelKind == 'r' || t.RelKind == 'p') && (len(t.PK) > 0 || t.ReplIdent == 'f')
}

const columnsQuery = `
SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.relreplident::text,
       a.attname, a.atttypid, a.attnotnull,
       COALESCE((SELECT array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1
                 FROM pg_catalog.pg_index i
                 WHERE i.indrelid = c.oid AND i.indisprimary), 0)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = ANY($1)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
ORDER BY n.nspname, c.relname, a.attnum`

// typesQuery returns every type the columns of columnsQuery use, following
// domains to their base types and arrays to their element types.
const typesQuery = `
WITH RECURSIVE need(oid) AS (
  SELECT DISTINCT a.atttypid
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  UNION
  SELECT v.x FROM need JOIN pg_catalog.pg_type t ON t.oid = need.oid,
    LATERAL (VALUES (t.typbasetype), (t.typelem)) AS v(x)
  WHERE v.x <> 0
)
SELECT t.oid, t.typtype::text, t.typbasetype, t.typelem, t.typcategory::text
FROM pg_catalog.pg_type t JOIN need ON need.oid = t.oid`

type pgType struct {
	typtype  string
	base     uint32
	elem     uint32
	category string
}

// resolve follows domains and arrays to the kind of the value.
func resolve(types map[uint32]pgType, oid uint32) (k kind, array bool) {
	for range 32 { // domains over domains, bounded
		t, ok := types[oid]
		if !ok {
			return kindOfOID(oid), false
		}
		switch {
		case t.typtype == "d" && t.base != 0:
			oid = t.base
			continue
		case t.category == "A" && t.elem != 0:
			ek, _ := resolve(types, t.elem)
			return ek, true
		case t.typtype == "e":
			return kString, false
		}
		return kindOfOID(oid), false
	}
	return kString, false
}

// discoverTables reads every table and view of the schemas with two catalog
// queries (columns, then the types they use), never one per table.
func discoverTables(ctx context.Context, conn *pgx.Conn, schemas []string) ([]*table, error) {
	types := map[uint32]pgType{}
	rows, err := conn.Query(ctx, typesQuery, schemas)
	if err != nil {
		return nil, fmt.Errorf("postgres source: discover types: %w", err)
	}
	for rows.Next() {
		var oid uint32
		var t pgType
		if err := rows.Scan(&oid, &t.typtype, &t.base, &t.elem, &t.category); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres source: discover types: %w", err)
		}
		types[oid] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres source: discover types: %w", err)
	}

	rows, err = conn.Query(ctx, columnsQuery, schemas)
	if err != nil {
		return nil, fmt.Errorf("postgres source: discover columns: %w", err)
	}
	defer rows.Close()
	var out []*table
	var cur *table
	pk := map[int]string{}
	flush := func() {
		if cur == nil {
			return
		}
		for i := 1; i <= len(pk); i++ {
			cur.PK = append(cur.PK, pk[i])
		}
		clear(pk)
	}
	for rows.Next() {
		var (
			oid, typ          uint32
			schema, name, col string
			relkind, replid   string
			notNull           bool
			pkpos             int32
		)
		if err := rows.Scan(&oid, &schema, &name, &relkind, &replid, &col, &typ, &notNull, &pkpos); err != nil {
			return nil, fmt.Errorf("postgres source: discover columns: %w", err)
		}
		if cur == nil || cur.OID != oid {
			flush()
			cur = &table{OID: oid, Schema: schema, Name: name, RelKind: relkind[0], ReplIdent: replid[0]}
			out = append(out, cur)
		}
		k, arr := resolve(types, typ)
		cur.Columns = append(cur.Columns, column{Name: col, TypeOID: typ, Kind: k, Array: arr, NotNull: notNull})
		if pkpos > 0 {
			pk[int(pkpos)] = col
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres source: discover columns: %w", err)
	}
	flush()
	return out, nil
}

// kindSchema is the JSON schema of one value kind: its type and the
// members that follow "type".
func kindSchema(k kind) (typ, extra string) {
	switch k {
	case kInt16, kInt32, kInt64:
		return "integer", ""
	case kFloat32, kFloat64, kNumeric, kMoney:
		return "number", ""
	case kBool:
		return "boolean", ""
	case kDate:
		return "string", `,"format":"date"`
	case kTime:
		return "string", `,"format":"time","airbyte_type":"time_without_timezone"`
	case kTimeTZ:
		return "string", `,"format":"time","airbyte_type":"time_with_timezone"`
	case kTimestamp:
		return "string", `,"format":"date-time","airbyte_type":"timestamp_without_timezone"`
	case kTimestampTZ:
		return "string", `,"format":"date-time","airbyte_type":"timestamp_with_timezone"`
	case kBytea:
		return "string", `,"contentEncoding":"base64"`
	case kUUID:
		return "string", `,"format":"uuid"`
	}
	return "string", ""
}

// columnSchema is the JSON schema of one column; nullable columns (and
// array elements) admit null.
func columnSchema(c column) string {
	typ, extra := kindSchema(c.Kind)
	t := `"` + typ + `"`
	if c.Array {
		extra = `,"items":{"type":["null","` + typ + `"]` + extra + `}`
		t = `"array"`
	}
	if !c.NotNull {
		t = `["null",` + t + `]`
	}
	return `{"type":` + t + extra + `}`
}

// CDC metadata columns added to records of streams read with CDC.
const (
	ColCDCLSN       = "_ab_cdc_lsn"        // commit LSN of the change's transaction (the snapshot's LSN for snapshot rows), as an integer
	ColCDCUpdatedAt = "_ab_cdc_updated_at" // commit time of the change (the snapshot's time for snapshot rows)
	ColCDCDeletedAt = "_ab_cdc_deleted_at" // commit time of a delete, else null
)

// stream builds the catalog entry of a table for a replication method.
func (t *table) stream(method string) airbyte.Stream {
	buf := []byte(`{"type":"object","properties":{`)
	for i, c := range t.Columns {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, c.Name)
		buf = append(buf, ':')
		buf = append(buf, columnSchema(c)...)
	}
	st := airbyte.Stream{Name: t.Name, Namespace: t.Schema, SupportedSyncModes: []airbyte.SyncMode{airbyte.FullRefresh}}
	resumable := t.isTable()
	st.IsResumable = &resumable
	for _, k := range t.PK {
		st.SourceDefinedPrimaryKey = append(st.SourceDefinedPrimaryKey, []string{k})
	}
	switch {
	case method == MethodCDC && t.cdcCapable():
		buf = append(buf, `,"_ab_cdc_lsn":{"type":["null","integer"]},"_ab_cdc_updated_at":{"type":["null","string"],"format":"date-time","airbyte_type":"timestamp_with_timezone"},"_ab_cdc_deleted_at":{"type":["null","string"],"format":"date-time","airbyte_type":"timestamp_with_timezone"}`...)
		st.SupportedSyncModes = append(st.SupportedSyncModes, airbyte.Incremental)
		st.SourceDefinedCursor = true
		st.DefaultCursorField = []string{ColCDCLSN}
	case method == MethodXmin && t.isTable():
		st.SupportedSyncModes = append(st.SupportedSyncModes, airbyte.Incremental)
		st.SourceDefinedCursor = true
	case method == MethodStandard:
		st.SupportedSyncModes = append(st.SupportedSyncModes, airbyte.Incremental)
	}
	buf = append(buf, "}}"...)
	st.JSONSchema = json.RawMessage(buf)
	return st
}
