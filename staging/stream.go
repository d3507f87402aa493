package staging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/warehouse"
)

// streamLoad is one configured stream during a Load.
type streamLoad struct {
	cfg        airbyte.ConfiguredStream
	desc       airbyte.StreamDescriptor
	target     warehouse.Relation // the table readers see
	write      warehouse.Relation // where batches go: target, the overwrite table, or the dedup inbox
	final      warehouse.Relation // where dedup merges into: target, or the overwrite table
	inbox      warehouse.Relation // dedup only
	aside      warehouse.Relation // overwrite only: built aside, swapped in at completion
	dedupe     bool
	truncate   bool // written aside and swapped in (overwrite, or a truncating refresh)
	keys       []string
	cursor     string
	cols       []warehouse.Column
	index      map[string]int
	res        *StreamResult
	batch      [][]any
	batchBytes int
	dirty      bool // rows written in the open transaction
	complete   bool // the source said the stream is complete
	swapped    bool // finished: nothing more may arrive
	syncID     *int64
	raw        *rawTable // LayoutAirbyte only
	emptyMeta  any       // _airbyte_meta of a record without changes (a json.RawMessage)

	// The columnar path (columns.go), if colPath: the batch being filled,
	// written batches for reuse, and how many were made.
	colPath       bool
	rawIDBytes    bool // the columnar path writes _airbyte_raw_id as 16 bytes: its column is a UUID
	cb            *colBatch
	cfree         chan *colBatch
	cbatches      int
	visitor       colVisitor
	emptyMetaJSON []byte // _airbyte_meta of a record without changes

	typed       typedMap // typed records' fields → columns
	rows        []any    // block the batch's rows are carved from
	rowsUsed    int
	blockRows   int            // rows a block holds (Options.BatchRows)
	free        chan *rowBatch // batches the writer is done with
	batches     int            // batches made besides the first
	extractedMs int64          // _airbyte_extracted_at of the last record, as ms and boxed
	extracted   any
	generation  any // _airbyte_generation_id, boxed

	group   *group // the group whose transaction the stream's rows go to
	records int64  // counters of res, kept by the group's goroutine
	bytes   int64  // and copied to res (under loadRun.mu) by publish
	nulled  int64
	// records since the stream's last state (its group's pending one)
	uncovered int
}

// publish copies the stream's counters into its result; the caller holds
// loadRun.mu.
func (s *streamLoad) publish() {
	s.res.Records, s.res.Bytes, s.res.ValuesNulled = s.records, s.bytes, s.nulled
}

// rawTable is a stream's raw table in LayoutAirbyte.
type rawTable struct {
	target warehouse.Relation
	write  warehouse.Relation // target, or the table aside for truncating streams
	batch  [][]any
}

// rawColumns are the columns of Airbyte destinations v2's raw tables.
var rawColumns = []warehouse.Column{
	{Name: ColRawID, Type: warehouse.String},
	{Name: ColExtractedAt, Type: warehouse.TimestampTZ},
	{Name: "_airbyte_loaded_at", Type: warehouse.TimestampTZ, Nullable: true},
	{Name: "_airbyte_data", Type: warehouse.JSON},
	{Name: ColMeta, Type: warehouse.JSON, Nullable: true},
	{Name: ColGenerationID, Type: warehouse.Integer, Nullable: true},
}

// rawRow builds a raw-table row from a typed row's metadata values and the
// record's data.
func rawRow(meta []any, data json.RawMessage) []any {
	return []any{meta[0], meta[1], time.Now().UTC(), json.RawMessage(slices.Clone(data)), meta[2], meta[3]}
}

// prepare creates or checks the stream's tables.
func (l *Loader) prepare(ctx context.Context, cs airbyte.ConfiguredStream, committed []airbyte.StateMessage) (*streamLoad, error) {
	desc := cs.Stream.Descriptor()
	cols, err := streamColumns(cs.Stream)
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	schema := l.opts.Schema
	if schema == "" {
		schema = desc.Namespace
	}
	if schema == "" {
		schema = "staging"
	}
	if l.opts.Layout != LayoutAirbyte {
		// The direct layout's raw ids are UUIDs where the engine has the
		// type (DuckDB: 16 bytes a value; the airbyte layout keeps
		// Airbyte's VARCHAR). Tables made with VARCHAR ids keep them.
		cols[len(cols)-len(metaColumns)].Type = rawIDType
	}
	s := &streamLoad{cfg: cs, desc: desc, cols: cols, target: warehouse.Rel(schema, desc.Name), syncID: cs.SyncID}
	s.res = &StreamResult{Stream: desc, Table: s.target, Mode: cs.DestinationSyncMode}
	s.reindex()
	switch cs.DestinationSyncMode {
	case airbyte.Append, "":
	case airbyte.Overwrite:
		s.truncate = true
	case airbyte.AppendDedup, airbyte.OverwriteDedup:
		s.dedupe = true
		s.truncate = cs.DestinationSyncMode == airbyte.OverwriteDedup
	default:
		return nil, fmt.Errorf("staging: stream %s: destination sync mode %q is not supported (use append, overwrite or append_dedup)", desc, cs.DestinationSyncMode)
	}
	if g, m := cs.GenerationID, cs.MinimumGenerationID; g != nil && m != nil && *m > 0 && *m == *g {
		s.truncate = true // a truncating refresh: older generations go at completion
	}
	if s.dedupe {
		pk := cs.PrimaryKey
		if len(pk) == 0 {
			pk = cs.Stream.SourceDefinedPrimaryKey
		}
		if len(pk) == 0 {
			return nil, fmt.Errorf("staging: stream %s: append_dedup needs a primary key", desc)
		}
		for _, path := range pk {
			if len(path) != 1 {
				return nil, fmt.Errorf("staging: stream %s: nested primary key %v is not supported", desc, path)
			}
			if _, ok := s.index[path[0]]; !ok {
				return nil, fmt.Errorf("staging: stream %s: primary key column %q is not in the stream's schema", desc, path[0])
			}
			s.keys = append(s.keys, path[0])
		}
		cursor := cs.CursorField
		if len(cursor) == 0 {
			cursor = cs.Stream.DefaultCursorField
		}
		if len(cursor) > 1 {
			return nil, fmt.Errorf("staging: stream %s: nested cursor field %v is not supported", desc, cursor)
		}
		if len(cursor) == 1 {
			if _, ok := s.index[cursor[0]]; !ok {
				return nil, fmt.Errorf("staging: stream %s: cursor field %q is not in the stream's schema", desc, cursor[0])
			}
			s.cursor = cursor[0]
		}
	}
	d := l.w.Dialect()
	if err := l.w.CreateSchema(ctx, schema); err != nil {
		return nil, err
	}
	if err := l.ensureTable(ctx, s, s.target); err != nil {
		return nil, err
	}
	s.write, s.final = s.target, s.target
	if s.truncate {
		s.aside = warehouse.Rel(schema, auxName(d, desc.Name, "overwrite"))
		resume := hasStreamState(committed, desc)
		if !resume {
			if err := l.w.Drop(ctx, s.aside); err != nil {
				return nil, err
			}
		}
		if err := l.ensureTable(ctx, s, s.aside); err != nil {
			return nil, err
		}
		s.write, s.final = s.aside, s.aside
	}
	if l.opts.Layout == LayoutAirbyte {
		if err := l.prepareRaw(ctx, s, schema, committed); err != nil {
			return nil, err
		}
	}
	if s.dedupe {
		s.inbox = warehouse.Rel(schema, auxName(d, desc.Name, "inbox"))
		if err := l.w.Drop(ctx, s.inbox); err != nil {
			return nil, err
		}
		if err := l.ensureTable(ctx, s, s.inbox); err != nil {
			return nil, err
		}
		s.write = s.inbox
	}
	return s, nil
}

// prepareRaw creates the stream's raw table (and its table aside).
func (l *Loader) prepareRaw(ctx context.Context, s *streamLoad, schema string, committed []airbyte.StateMessage) error {
	d := l.w.Dialect()
	name := schema + "_raw__stream_" + s.desc.Name
	if max := d.MaxIdentifierLength(); max > 0 && len(name) > max {
		name = auxName(d, name[:max/2], "raw")
	}
	s.raw = &rawTable{target: warehouse.Rel(l.opts.RawSchema, name)}
	s.raw.write = s.raw.target
	if err := l.w.CreateSchema(ctx, l.opts.RawSchema); err != nil {
		return err
	}
	if err := l.w.CreateTable(ctx, s.raw.target, rawColumns, &warehouse.TableOptions{IfNotExists: true}); err != nil {
		return err
	}
	if s.truncate {
		s.raw.write = warehouse.Rel(l.opts.RawSchema, auxName(d, name, "overwrite"))
		if !hasStreamState(committed, s.desc) {
			if err := l.w.Drop(ctx, s.raw.write); err != nil {
				return err
			}
		}
		if err := l.w.CreateTable(ctx, s.raw.write, rawColumns, &warehouse.TableOptions{IfNotExists: true}); err != nil {
			return err
		}
	}
	return nil
}

// hasStreamState reports whether a committed state covers the stream.
func hasStreamState(states []airbyte.StateMessage, desc airbyte.StreamDescriptor) bool {
	for _, st := range states {
		switch {
		case st.Type == airbyte.StateStream && st.Stream != nil && st.Stream.StreamDescriptor == desc && len(st.Stream.StreamState) > 0:
			return true
		case st.Type == airbyte.StateGlobal && st.Global != nil:
			for _, ss := range st.Global.StreamStates {
				if ss.StreamDescriptor == desc && len(ss.StreamState) > 0 {
					return true
				}
			}
		}
	}
	return false
}

// ensureTable creates rel with the stream's columns, or adds the columns an
// existing table lacks. A column that exists with another type keeps its
// type: values are converted to it (and nulled, with a meta change, when
// they do not fit).
func (l *Loader) ensureTable(ctx context.Context, s *streamLoad, rel warehouse.Relation) error {
	existing, err := l.w.Columns(ctx, rel)
	if errors.Is(err, warehouse.ErrNotFound) {
		return l.w.CreateTable(ctx, rel, s.cols, nil)
	}
	if err != nil {
		return err
	}
	have := map[string]warehouse.Column{}
	for _, c := range existing {
		have[strings.ToLower(c.Name)] = c
	}
	var add []warehouse.Column
	for i, c := range s.cols {
		e, ok := have[strings.ToLower(c.Name)]
		if !ok {
			add = append(add, c)
			continue
		}
		if c.Name == ColRawID && e.Type.Equal(c.Type) {
			// A string column either way: the table's own type (VARCHAR
			// or UUID) is the one the tables made beside it get.
			s.cols[i].Type = e.Type
			continue
		}
		if !e.Type.Equal(c.Type) {
			if isMeta(c.Name) {
				return fmt.Errorf("staging: stream %s: table %s has %s as %s, not %s; it was not made by staging", s.desc, rel, c.Name, e.Type, c.Type)
			}
			wide := widen(e.Type, c.Type)
			if !wide.Equal(e.Type) {
				if l.opts.SchemaPolicy == Fail {
					return fmt.Errorf("staging: stream %s: column %q of %s is %s but the stream's schema now says %s (widening to %s is needed; the schema policy is fail)", s.desc, c.Name, rel, e.Type, c.Type, wide)
				}
				if err := l.w.AlterColumnType(ctx, rel, e.Name, wide); err != nil {
					return fmt.Errorf("staging: stream %s: widen column %q of %s from %s to %s: %w", s.desc, c.Name, rel, e.Type, wide, err)
				}
				l.log.InfoContext(ctx, "column widened", "stream", s.desc.String(), "table", rel.String(), "column", c.Name, "from", e.Type.String(), "to", wide.String())
				s.res.ColumnsWidened = append(s.res.ColumnsWidened, c.Name)
			}
			s.cols[i].Type = wide
		}
	}
	// Columns the table has but the schema no longer lists stay, nullable:
	// they are written as NULL.
	for _, e := range existing {
		if _, ok := s.index[e.Name]; !ok && !containsFold(s.cols, e.Name) {
			n := len(s.cols) - len(metaColumns)
			e.Nullable = true
			s.cols = append(s.cols[:n], append([]warehouse.Column{e}, s.cols[n:]...)...)
			s.reindex()
		}
	}
	if len(add) > 0 {
		for i := range add {
			add[i].Nullable = true
		}
		if err := l.w.AddColumns(ctx, rel, add); err != nil {
			return err
		}
		for _, c := range add {
			s.res.ColumnsAdded = append(s.res.ColumnsAdded, c.Name)
		}
	}
	return nil
}

func containsFold(cols []warehouse.Column, name string) bool {
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

func isMeta(name string) bool { return strings.HasPrefix(name, "_airbyte_") }

func (s *streamLoad) reindex() {
	s.typed.fields = nil // the column layout changed: map typed fields again
	s.index = make(map[string]int, len(s.cols))
	for i, c := range s.cols {
		s.index[c.Name] = i
	}
}

// tables lists the stream's tables that exist during the load.
func (s *streamLoad) tables() []warehouse.Relation {
	rels := []warehouse.Relation{s.target}
	if s.aside != (warehouse.Relation{}) {
		rels = append(rels, s.aside)
	}
	if s.inbox != (warehouse.Relation{}) {
		rels = append(rels, s.inbox)
	}
	return rels
}

type metaChange struct {
	Field  string `json:"field"`
	Change string `json:"change"`
	Reason string `json:"reason"`
}

type metaValue struct {
	Changes []metaChange `json:"changes"`
	SyncID  *int64       `json:"sync_id,omitempty"`
}

// row converts a record to the stream's column layout. Fields that have no
// column yet are returned in unknown (and left out of the row).
func (s *streamLoad) row(rec *airbyte.RecordMessage, ids *rawIDs) (row []any, unknown []string, err error) {
	row = s.newRow()
	nmeta := len(metaColumns)
	base := len(s.cols) - nmeta
	var changes []metaChange
	if rec.Meta != nil {
		for _, c := range rec.Meta.Changes {
			changes = append(changes, metaChange{Field: c.Field, Change: c.Change, Reason: c.Reason})
		}
	}
	err = eachFieldBytes(rec.Data, func(kb []byte, raw json.RawMessage) {
		i, ok := s.index[string(kb)]
		if !ok || i >= base {
			if key := string(kb); !isMeta(key) && !slices.Contains(unknown, key) {
				unknown = append(unknown, key)
			}
			return
		}
		v, err := convertValue(s.cols[i].Type, raw)
		if err != nil {
			changes = append(changes, metaChange{Field: s.cols[i].Name, Change: "NULLED", Reason: "DESTINATION_TYPECAST_ERROR"})
			s.nulled++
			return
		}
		row[i] = v
	})
	if err != nil {
		return nil, nil, fmt.Errorf("staging: stream %s: record data is not a JSON object: %.80s", s.desc, rec.Data)
	}
	if len(unknown) > 0 {
		return nil, unknown, nil
	}
	if s.dedupe && s.keysNull(row) {
		return nil, nil, fmt.Errorf("staging: stream %s: record has no value for its primary key %v: %.80s", s.desc, s.keys, rec.Data)
	}
	s.fillMeta(row, rec, changes, ids)
	return row, nil, nil
}

// dedup merges the inbox into the final table: the latest row per primary
// key (by cursor, then extraction time) replaces an older one; CDC deletes
// remove the row unless keepDeleted. It runs in tx and empties the inbox.
func (s *streamLoad) dedup(ctx context.Context, tx *warehouse.Tx, w *warehouse.Warehouse, keepDeleted bool) error {
	if !s.dedupe {
		return nil
	}
	d := w.Dialect()
	q := d.QuoteIdentifier
	final, inbox := d.QuoteRelation(s.final), d.QuoteRelation(s.inbox)
	names := make([]string, len(s.cols))
	for i, c := range s.cols {
		names[i] = q(c.Name)
	}
	list := strings.Join(names, ", ")
	keys := make([]string, len(s.keys))
	for i, k := range s.keys {
		keys[i] = q(k)
	}
	order := q(ColExtractedAt) + " DESC, " + q(ColRawID) + " DESC"
	if s.cursor != "" {
		order = q(s.cursor) + " DESC NULLS LAST, " + order
	}
	latest := "(SELECT " + list + " FROM (SELECT " + list + ", ROW_NUMBER() OVER (PARTITION BY " + strings.Join(keys, ", ") + " ORDER BY " + order + ") AS " + q("_dataops_rn") +
		" FROM " + inbox + ") AS ranked WHERE " + q("_dataops_rn") + " = 1) AS l"
	var match []string
	for _, k := range keys {
		match = append(match, "l."+k+" = "+final+"."+k)
	}
	// l is newer than the final row: a greater cursor (NULL sorts lowest),
	// or an equal cursor and a later or equal extraction time.
	ext := q(ColExtractedAt)
	newer := "l." + ext + " >= " + final + "." + ext
	if s.cursor != "" {
		c := q(s.cursor)
		newer = "(l." + c + " > " + final + "." + c +
			" OR (l." + c + " IS NOT NULL AND " + final + "." + c + " IS NULL)" +
			" OR ((l." + c + " = " + final + "." + c + " OR (l." + c + " IS NULL AND " + final + "." + c + " IS NULL)) AND " + newer + "))"
	}
	del := "DELETE FROM " + final + " WHERE EXISTS (SELECT 1 FROM " + latest + " WHERE " + strings.Join(match, " AND ") + " AND " + newer + ")"
	var exists []string
	for _, k := range keys {
		exists = append(exists, "t."+k+" = l."+k)
	}
	ins := "INSERT INTO " + final + " (" + list + ") SELECT " + prefixed("l.", names) + " FROM " + latest +
		" WHERE NOT EXISTS (SELECT 1 FROM " + final + " AS t WHERE " + strings.Join(exists, " AND ") + ")"
	if _, ok := s.index[ColCDCDeletedAt]; ok && !keepDeleted {
		ins += " AND l." + q(ColCDCDeletedAt) + " IS NULL"
	}
	for _, stmt := range []string{del, ins, "DELETE FROM " + inbox} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("staging: stream %s: deduplicate into %s: %w", s.desc, s.final, err)
		}
	}
	return nil
}

func prefixed(p string, names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p + n
	}
	return strings.Join(out, ", ")
}

// finish ends a completed stream in tx: a table written aside replaces the
// target, and a truncating refresh drops older generations.
func (s *streamLoad) finish(ctx context.Context, tx *warehouse.Tx, w *warehouse.Warehouse) error {
	s.swapped = true
	if s.inbox != (warehouse.Relation{}) {
		if err := tx.Drop(ctx, s.inbox); err != nil {
			return fmt.Errorf("staging: stream %s: %w", s.desc, err)
		}
	}
	if !s.truncate {
		return nil
	}
	if s.raw != nil {
		if err := tx.Drop(ctx, s.raw.target); err != nil {
			return fmt.Errorf("staging: stream %s: %w", s.desc, err)
		}
		if err := tx.Rename(ctx, s.raw.write, s.raw.target.Name); err != nil {
			return fmt.Errorf("staging: stream %s: swap in %s: %w", s.desc, s.raw.target, err)
		}
	}
	if err := tx.Drop(ctx, s.target); err != nil {
		return fmt.Errorf("staging: stream %s: %w", s.desc, err)
	}
	if err := tx.Rename(ctx, s.aside, s.target.Name); err != nil {
		return fmt.Errorf("staging: stream %s: swap in %s: %w", s.desc, s.target, err)
	}
	return nil
}
