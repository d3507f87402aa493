package postgres

import (
	"fmt"
	"strings"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/jackc/pgx/v5"
)

// readMode is how one configured stream is read.
type readMode uint8

const (
	modeFullRefresh readMode = iota // chunked snapshot read, checkpoint per chunk
	modeCursor                      // incremental on a user-chosen cursor column
	modeXmin                        // incremental on xmin (initial load chunked)
	modeCDC                         // initial snapshot, then logical replication
)

// colPlan says how one column is selected and written.
type colPlan struct {
	key    []byte  // `"name":`, with a leading comma after the first column
	name   string  // column name
	expr   string  // select-list expression (quoted)
	format int16   // result format: 0 text, 1 binary
	enc    encoder // encoder for the snapshot read's format
	text   encoder // encoder for the text format (CDC)
	array  bool
	oid    uint32 // declared type OID
	kind   kind
}

// columnTextEncoder returns a new encoder of c's text output.
func columnTextEncoder(c column) encoder {
	text := textEncoder(c.Kind)
	if c.Array {
		elem := text
		return func(dst, src []byte) ([]byte, bool) { return encodeTextArray(dst, src, elem) }
	}
	return text
}

// snapshotEncoder returns a new encoder of c as a snapshot read selects it,
// and that format. Encoders keep caches: each goroutine needs its own.
func snapshotEncoder(c column) (encoder, int16) {
	switch {
	case c.Array:
		return columnTextEncoder(c), 0
	case c.Kind == kMoney:
		return encNumberText, 0 // selected as numeric
	}
	if be := binaryEncoder(c.Kind); be != nil {
		return be, 1
	}
	return textEncoder(c.Kind), 0
}

// streamPlan is everything needed to read one configured stream.
type streamPlan struct {
	cs      airbyte.ConfiguredStream
	desc    airbyte.StreamDescriptor
	t       *table
	mode    readMode
	cols    []colPlan
	formats []int16
	// ctidFormats: formats of the physical-order load, ctid first.
	ctidFormats []int16
	rel         string // quoted schema.table
	list        string // select list
	pk          []int  // indexes in cols of the primary key columns (key order)
	cursor      int    // index in cols of the cursor column (modeCursor)
	state       streamState
	records     int64    // records emitted since the last state
	fields      []string // column names, the Fields of typed records
	typed       *typedPlan
}

func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

// newPlan maps a configured stream onto its table.
func newPlan(cs airbyte.ConfiguredStream, t *table, method string) (*streamPlan, error) {
	desc := t.desc()
	sp := &streamPlan{cs: cs, desc: desc, t: t, cursor: -1}
	sp.rel = pgx.Identifier{t.Schema, t.Name}.Sanitize()
	switch {
	case cs.SyncMode == airbyte.FullRefresh || cs.SyncMode == "":
		sp.mode = modeFullRefresh
	case cs.SyncMode == airbyte.Incremental && method == MethodCDC:
		if !t.cdcCapable() {
			return nil, fmt.Errorf("%w: stream %s: CDC needs a table with a primary key (or REPLICA IDENTITY FULL); read it with full_refresh", ErrInvalidCatalog, desc)
		}
		sp.mode = modeCDC
	case cs.SyncMode == airbyte.Incremental && method == MethodXmin:
		if !t.isTable() {
			return nil, fmt.Errorf("%w: stream %s: xmin replication needs a table, not a view", ErrInvalidCatalog, desc)
		}
		sp.mode = modeXmin
	case cs.SyncMode == airbyte.Incremental:
		sp.mode = modeCursor
		if len(cs.CursorField) != 1 {
			return nil, fmt.Errorf("%w: stream %s: incremental sync needs a cursor_field naming one column", ErrInvalidCatalog, desc)
		}
	default:
		return nil, fmt.Errorf("%w: stream %s: unknown sync_mode %q", ErrInvalidCatalog, desc, cs.SyncMode)
	}
	var list strings.Builder
	for i, c := range t.Columns {
		cp := colPlan{name: c.Name, expr: quoteIdent(c.Name), array: c.Array, oid: c.TypeOID}
		key := appendJSONString(nil, c.Name)
		if i > 0 {
			key = append([]byte{','}, key...)
		}
		cp.key = append(key, ':')
		cp.text = columnTextEncoder(c)
		cp.enc, cp.format = snapshotEncoder(c)
		if c.Kind == kMoney && !c.Array {
			// money's text output depends on lc_monetary: read it as numeric.
			cp.expr += "::pg_catalog.numeric"
		}
		cp.kind = c.Kind
		sp.fields = append(sp.fields, c.Name)
		if i > 0 {
			list.WriteString(", ")
		}
		list.WriteString(cp.expr)
		sp.cols = append(sp.cols, cp)
		sp.formats = append(sp.formats, cp.format)
		if sp.mode == modeCursor && c.Name == cs.CursorField[0] {
			sp.cursor = i
		}
	}
	sp.list = list.String()
	sp.ctidFormats = append([]int16{1}, sp.formats...)
	for _, k := range t.PK {
		for i, c := range t.Columns {
			if c.Name == k {
				sp.pk = append(sp.pk, i)
			}
		}
	}
	if sp.mode == modeCursor && sp.cursor < 0 {
		return nil, fmt.Errorf("%w: stream %s: cursor field %q is not a column", ErrInvalidCatalog, desc, cs.CursorField[0])
	}
	return sp, nil
}
