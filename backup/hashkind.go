package backup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// Row hash kinds (FORMAT.md §5, §7). A table entry records the kind of the
// row hashes stored in its parts' _dataops_row_hash column and of its
// fingerprint (Table.RowHash):
//
//   - HashSHA256, the portable row hash: the first 8 bytes of SHA-256 of
//     the canonical encoding of the row. The same on every engine; costly
//     (every row through Go, or a long SQL expression).
//   - "duckdb-hash/<version>", an engine hash: DuckDB's own hash() of the
//     row's columns, each cast to the DuckDB type of its portable type, in
//     manifest order. Cheap (DuckDB computes it in its parallel COPY), but
//     only that DuckDB version computes it again: restores and incrementals
//     elsewhere take the portable way (see Restore).
const HashSHA256 = "sha256"

// engineHashPrefix starts the engine row hash kind of DuckDB.
const engineHashPrefix = "duckdb-hash/"

// duckHashKind is the engine row hash kind of a DuckDB version ("v1.5.0").
func duckHashKind(version string) string { return engineHashPrefix + version }

// RowHashKind is the entry's row hash kind: Table.RowHash, or HashSHA256
// when empty (format 1 manifests, which only had that one).
func (t *Table) RowHashKind() string {
	if t.RowHash == "" {
		return HashSHA256
	}
	return t.RowHash
}

// duckEngineHash is the UBIGINT expression of the engine row hash of cols,
// each referenced through ref; ok is false when a type has no DuckDB
// spelling.
func duckEngineHash(d warehouse.Dialect, cols []warehouse.Column, ref func(string) string) (string, bool) {
	args := make([]string, len(cols))
	for i, c := range cols {
		t, err := d.TypeSQL(c.Type)
		if err != nil {
			return "", false
		}
		args[i] = "CAST(" + ref(c.Name) + " AS " + t + ")"
	}
	if len(args) == 0 {
		return "hash(NULL)", true
	}
	return "hash(" + strings.Join(args, ", ") + ")", true
}

// asSigned renders a UBIGINT expression as the BIGINT with the same 64 bits
// (how row hashes are stored). x is evaluated once.
func asSigned(x string) string {
	return "CAST(CAST(xor(" + x + ", CAST(9223372036854775808 AS UBIGINT)) AS HUGEINT) - 9223372036854775808 AS BIGINT)"
}

// duckEngineHashedSelect renders SELECT <cols>, <engine row hash> AS
// _dataops_row_hash FROM from (a quoted relation or an aliased subquery).
func duckEngineHashedSelect(d warehouse.Dialect, from string, cols []warehouse.Column) (string, bool) {
	h, ok := duckEngineHash(d, cols, d.QuoteIdentifier)
	if !ok {
		return "", false
	}
	names := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		names = append(names, d.QuoteIdentifier(c.Name))
	}
	names = append(names, asSigned(h)+" AS "+d.QuoteIdentifier(RowHashColumn))
	return "SELECT " + strings.Join(names, ", ") + " FROM " + from, true
}

// hashAggregates renders the count, sum and XOR of a hash expression (BIGINT
// or UBIGINT) as columns n, s, x for hashStats.
func hashAggregates(h string) string {
	return "count(*) AS n, CAST(coalesce(sum(CAST(" + h + " AS HUGEINT)), 0) AS VARCHAR) AS s, CAST(coalesce(bit_xor(" + h + "), 0) AS VARCHAR) AS x"
}

// hashStats receives hashAggregates.
type hashStats struct {
	N   int64  `db:"n"`
	Sum string `db:"s"`
	XOR string `db:"x"`
}

func (s hashStats) fingerprint() (Fingerprint, error) { return fingerprintOf(s.N, s.Sum, s.XOR) }

// duckEngineFingerprint computes, in SQL, the engine-kind fingerprint of the
// rows of from (a quoted relation) over cols.
func duckEngineFingerprint(ctx context.Context, q rowSource, from string, cols []warehouse.Column) (Fingerprint, error) {
	d := q.Dialect()
	h, ok := duckEngineHash(d, cols, d.QuoteIdentifier)
	if !ok {
		return Fingerprint{}, errors.New("a column type has no DuckDB spelling")
	}
	var st hashStats
	if err := q.Get(ctx, &st, "SELECT "+hashAggregates(h)+" FROM "+from); err != nil {
		return Fingerprint{}, err
	}
	return st.fingerprint()
}

// ErrHashKind: a fingerprint of that row hash kind cannot be computed here
// (an engine hash of another engine or version).
var ErrHashKind = errors.New("row hash kind not computable here")

// FingerprintTableKind returns rel's fingerprint by the row hash kind given,
// as a table entry records it (Table.RowHashKind): HashSHA256 (as
// FingerprintTable) on any engine, or an engine kind on that engine and
// version only (else ErrHashKind).
func FingerprintTableKind(ctx context.Context, w *warehouse.Warehouse, rel warehouse.Relation, kind string) (Fingerprint, error) {
	if kind == HashSHA256 || kind == "" {
		return FingerprintTable(ctx, w, rel)
	}
	info, err := w.Info(ctx)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("backup: %w", err)
	}
	if info.Engine != "duckdb" || duckHashKind(info.Version) != kind {
		return Fingerprint{}, fmt.Errorf("backup: fingerprint %s as %s on %s %s: %w", rel, kind, info.Engine, info.Version, ErrHashKind)
	}
	cols, err := w.Columns(ctx, rel)
	if err != nil {
		return Fingerprint{}, err
	}
	fp, err := duckEngineFingerprint(ctx, w, w.Dialect().QuoteRelation(rel), cols)
	if err != nil {
		return fp, fmt.Errorf("backup: fingerprint %s: %w", rel, err)
	}
	return fp, nil
}

// parseHashXOR reads a XOR of hashes rendered as signed or unsigned decimal.
func parseHashXOR(s string) (uint64, error) {
	if x, err := strconv.ParseInt(s, 10, 64); err == nil {
		return uint64(x), nil
	}
	return strconv.ParseUint(s, 10, 64)
}
