package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// Data modes of a table entry (FORMAT.md §7).
const (
	ModeFull  = "full"
	ModeDelta = "delta"
	ModeSame  = "same"
)

// Snapshot kinds (FORMAT.md §7).
const (
	KindFull        = "full"
	KindIncremental = "incremental"
	KindSynthetic   = "synthetic"
)

// Table is one entry of a manifest's "tables" (FORMAT.md §7): what a table
// looked like at the snapshot and where its rows are.
type Table struct {
	Schema     string        `json:"schema"`
	Name       string        `json:"name"`
	Kind       string        `json:"kind"`
	Columns    []ColumnEntry `json:"columns"`
	PrimaryKey []string      `json:"primary_key"`
	Rows       int64         `json:"rows"`
	// RowHash is the kind of the row hashes in the parts' row hash column
	// and of Fingerprint (FORMAT.md §5): HashSHA256 or an engine kind such as
	// "duckdb-hash/v1.5.0". Format 1 manifests leave it out (HashSHA256);
	// see RowHashKind.
	RowHash     string      `json:"row_hash,omitempty"`
	Fingerprint Fingerprint `json:"fingerprint"`
	// ChangeColumn is the table's change column (Options.ChangeColumns)
	// when the backup recorded its mark; "" otherwise.
	ChangeColumn string `json:"change_column,omitempty"`
	// ChangeMark is the greatest value of ChangeColumn in the snapshot:
	// an integer in decimal, a date as 2006-01-02, a timestamp as
	// 2006-01-02 15:04:05.000000, a timestamptz the same in UTC with +00.
	// An incremental backup against this entry examines only the rows
	// whose change value is at or above it (FORMAT.md §5).
	ChangeMark string    `json:"change_mark,omitempty"`
	Data       TableData `json:"data"`
}

// ColumnEntry is a column of a table entry, its type in the portable
// spelling of warehouse.Type.String ("integer", "decimal(38,10)", …).
type ColumnEntry struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

// TableData says where a table's rows are: full parts, a delta against a
// base snapshot, or the same rows as a base snapshot.
type TableData struct {
	Mode    string `json:"mode"`
	Base    string `json:"base,omitempty"`
	Parts   []Part `json:"parts,omitempty"`
	Upserts []Part `json:"upserts,omitempty"`
	Deletes []Part `json:"deletes,omitempty"`
}

// Part is one data object of a table: a Parquet file and its row count.
type Part struct {
	ID   string `json:"id"`
	Rows int64  `json:"rows"`
}

// Relation returns the entry's schema and name as a relation.
func (t *Table) Relation() warehouse.Relation { return warehouse.Rel(t.Schema, t.Name) }

// String is "schema.name".
func (t *Table) String() string { return t.Schema + "." + t.Name }

// WarehouseColumns returns the entry's columns with their portable types.
func (t *Table) WarehouseColumns() ([]warehouse.Column, error) {
	out := make([]warehouse.Column, len(t.Columns))
	for i, c := range t.Columns {
		ty, err := ParseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("table %s column %q: %w", t, c.Name, err)
		}
		out[i] = warehouse.Column{Name: c.Name, Type: ty, Nullable: c.Nullable}
	}
	return out, nil
}

func columnEntries(cols []warehouse.Column) []ColumnEntry {
	out := make([]ColumnEntry, len(cols))
	for i, c := range cols {
		out[i] = ColumnEntry{Name: c.Name, Type: c.Type.String(), Nullable: c.Nullable}
	}
	return out
}

var (
	reDecimal = regexp.MustCompile(`^decimal\((\d+),(\d+)\)$`)
	reBits    = regexp.MustCompile(`^(integer|float)(\d+)$`)
	reString  = regexp.MustCompile(`^string\((\d+)\)$`)
)

// ParseType parses the portable spelling of a type that warehouse.Type.String
// renders, as stored in manifests.
func ParseType(s string) (warehouse.Type, error) {
	switch s {
	case "string":
		return warehouse.String, nil
	case "integer":
		return warehouse.Integer, nil
	case "float":
		return warehouse.Float, nil
	case "boolean":
		return warehouse.Boolean, nil
	case "date":
		return warehouse.Date, nil
	case "time":
		return warehouse.Time, nil
	case "timestamp":
		return warehouse.Timestamp, nil
	case "timestamptz":
		return warehouse.TimestampTZ, nil
	case "json":
		return warehouse.JSON, nil
	case "binary":
		return warehouse.Binary, nil
	case "array":
		return warehouse.Type{Kind: warehouse.KindArray}, nil
	}
	if m := reDecimal.FindStringSubmatch(s); m != nil {
		p, _ := strconv.Atoi(m[1])
		sc, _ := strconv.Atoi(m[2])
		return warehouse.DecimalType(p, sc), nil
	}
	if m := reBits.FindStringSubmatch(s); m != nil {
		b, _ := strconv.Atoi(m[2])
		k := warehouse.KindInteger
		if m[1] == "float" {
			k = warehouse.KindFloat
		}
		return warehouse.Type{Kind: k, Bits: b}, nil
	}
	if m := reString.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return warehouse.Type{Kind: warehouse.KindString, Length: n}, nil
	}
	if strings.HasPrefix(s, "array<") && strings.HasSuffix(s, ">") {
		e, err := ParseType(s[len("array<") : len(s)-1])
		if err != nil {
			return warehouse.Type{}, err
		}
		return warehouse.ArrayOf(e), nil
	}
	return warehouse.Type{}, fmt.Errorf("unknown portable type %q", s)
}

// Snapshot is a manifest with its table entries decoded.
type Snapshot struct {
	ID       string
	Manifest *repository.Manifest
	Tables   []Table
}

// Table finds the entry of schema.name, or nil.
func (s *Snapshot) Table(schema, name string) *Table {
	for i := range s.Tables {
		if s.Tables[i].Schema == schema && s.Tables[i].Name == name {
			return &s.Tables[i]
		}
	}
	return nil
}

// LoadSnapshot reads a snapshot (by id or unique prefix) and decodes its
// table entries.
func LoadSnapshot(ctx context.Context, repo *repository.Repository, id string) (*Snapshot, error) {
	s, err := repo.LoadManifest(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("backup: snapshot %s: %w", id, err)
	}
	var tables []Table
	if len(s.Manifest.Tables) > 0 {
		if err := json.Unmarshal(s.Manifest.Tables, &tables); err != nil {
			return nil, fmt.Errorf("backup: snapshot %s: tables: %w: %w", s.ID, repository.ErrCorrupt, err)
		}
	}
	return &Snapshot{ID: s.ID, Manifest: s.Manifest, Tables: tables}, nil
}

// snapshotCache loads each snapshot once during an operation.
type snapshotCache struct {
	repo *repository.Repository
	mu   sync.Mutex
	m    map[string]*Snapshot
}

func newSnapshotCache(repo *repository.Repository) *snapshotCache {
	return &snapshotCache{repo: repo, m: map[string]*Snapshot{}}
}

func (c *snapshotCache) get(ctx context.Context, id string) (*Snapshot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[id]; ok {
		return s, nil
	}
	s, err := LoadSnapshot(ctx, c.repo, id)
	if err != nil {
		return nil, err
	}
	c.m[id] = s
	c.m[s.ID] = s
	return s, nil
}

// ErrBrokenChain: a table entry's base does not lead to full data.
var ErrBrokenChain = errors.New("broken snapshot chain")

// chain returns the entries whose data compose the table of entry t in
// snapshot snapID: a full entry first, then deltas in order (same entries
// are skipped).
func (c *snapshotCache) chain(ctx context.Context, snapID string, t *Table) ([]*Table, error) {
	var out []*Table
	cur := t
	seen := map[string]bool{snapID: true}
	for {
		switch cur.Data.Mode {
		case ModeFull:
			out = append(out, cur)
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
			return out, nil
		case ModeDelta:
			out = append(out, cur)
		case ModeSame:
		default:
			return nil, fmt.Errorf("backup: table %s: unknown data mode %q: %w", t, cur.Data.Mode, ErrBrokenChain)
		}
		base := cur.Data.Base
		if base == "" || seen[base] {
			return nil, fmt.Errorf("backup: table %s: base %q: %w", t, base, ErrBrokenChain)
		}
		seen[base] = true
		s, err := c.get(ctx, base)
		if err != nil {
			return nil, fmt.Errorf("backup: table %s: base: %w", t, err)
		}
		next := s.Table(t.Schema, t.Name)
		if next == nil {
			return nil, fmt.Errorf("backup: table %s missing from base snapshot %s: %w", t, base, ErrBrokenChain)
		}
		cur = next
	}
}
