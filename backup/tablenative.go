package backup

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dataopskit/dataops/warehouse"
)

// The DuckDB path of incremental backups: the rows a delta needs are
// selected by a join with the changed keys, hashed in SQL (duckRowHashSQL)
// and written by DuckDB's own Parquet writer inside the backup's
// transaction, instead of a second pass of every row through Go.

// native reports whether the table can take the DuckDB fast path.
func (tb *tableBackup) native(ctx context.Context, cols []warehouse.Column) bool {
	return tb.engineHashable(cols) && !tb.negativeZeros(ctx, cols)
}

// engineHashable reports whether the engine row hash of this DuckDB can be
// computed for the table (its deltas continue an engine-hash chain even
// when a -0.0 keeps its rows from DuckDB's Parquet writer: they are then
// written through Go, with hashes computed in SQL).
func (tb *tableBackup) engineHashable(cols []warehouse.Column) bool {
	if tb.engine != "duckdb" || !duckHashable(cols) || os.Getenv("DATAOPS_BACKUP_NO_NATIVE") != "" {
		return false
	}
	_, ok := duckEngineHash(tb.src.Dialect(), cols, tb.src.Dialect().QuoteIdentifier)
	return ok
}

// writeHashed writes the rows of query — the table's cols, then the row
// hash column — as parts: by DuckDB's COPY on the native path, else
// (a -0.0 among them) through the Go writer, the hashes as the query
// computed them. The query's result is read whole by the driver: for the
// rows of a delta only.
func (tb *tableBackup) writeHashed(ctx context.Context, query string, cols []warehouse.Column) ([]Part, Fingerprint, error) {
	if tb.nat {
		return tb.copyParts(ctx, query)
	}
	var fp Fingerprint
	parts := []Part{}
	pw, err := newPartWriter(cols, tb.dir, tb.partRows, tb.partBytes, true, tb.upload(ctx, &parts))
	if err != nil {
		return nil, fp, err
	}
	defer pw.Abort()
	d := tb.src.Dialect()
	withHash := append(append([]warehouse.Column(nil), cols...), hashCol)
	q, conv := duckRawSelect(d, "("+query+") AS dataops_rows", withHash)
	for rec, err := range tb.src.Rows(ctx, q) {
		if err == nil {
			err = conv(rec.Values)
		}
		if err != nil {
			return nil, fp, err
		}
		x, ok := warehouse.ToInt64(rec.Values[len(cols)])
		if !ok {
			return nil, fp, fmt.Errorf("row hash of Go type %T", rec.Values[len(cols)])
		}
		fp.Add(uint64(x))
		if err := pw.Write(rec.Values[:len(cols)], uint64(x)); err != nil {
			return nil, fp, err
		}
	}
	if err := pw.Close(); err != nil {
		return nil, fp, err
	}
	return parts, fp, nil
}

// negativeZeros reports whether a float column of the table holds -0.0
// (or the check failed). DuckDB's Parquet writer treats 0.0 and -0.0 as one
// value (its dictionary merges equal values), so a part it writes could
// restore one as the other: such tables are written by the Go writer.
func (tb *tableBackup) negativeZeros(ctx context.Context, cols []warehouse.Column) bool {
	d := tb.src.Dialect()
	var conds []string
	for _, c := range cols {
		if c.Type.Kind == warehouse.KindFloat {
			x := d.QuoteIdentifier(c.Name)
			conds = append(conds, "("+x+" = 0 AND signbit("+x+"))")
		}
	}
	if len(conds) == 0 {
		return false
	}
	var n int64
	if err := tb.src.Get(ctx, &n, "SELECT count(*) FROM "+d.QuoteRelation(tb.rel)+" WHERE "+strings.Join(conds, " OR ")); err != nil {
		return true
	}
	return n > 0
}

// copyOptions renders the COPY options that bound parts by rows and bytes.
func (tb *tableBackup) copyOptions() string {
	rows := tb.partRows
	if rows <= 0 {
		rows = 1_000_000
	}
	rg := min(rows, 122_880)
	perFile := max(1, rows/rg)
	opts := fmt.Sprintf("FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE %d, ROW_GROUPS_PER_FILE %d", rg, perFile)
	if tb.partBytes > 0 {
		opts += fmt.Sprintf(", FILE_SIZE_BYTES %d", tb.partBytes)
	}
	return opts
}

// copyParts runs COPY (query) into a fresh directory of Parquet files —
// query must end with the row hash column — stores each file as a part, and
// returns the parts and the fingerprint of their rows.
func (tb *tableBackup) copyParts(ctx context.Context, query string) ([]Part, Fingerprint, error) {
	return tb.copyPartsFrom(ctx, tb.src, query)
}

// sqlRunner runs statements: a *warehouse.Warehouse or a *warehouse.Tx.
type sqlRunner interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Get(ctx context.Context, dest any, query string, args ...any) error
}

// copyPartsFrom is copyParts on another database (the scratch one).
func (tb *tableBackup) copyPartsFrom(ctx context.Context, src sqlRunner, query string) ([]Part, Fingerprint, error) {
	var fp Fingerprint
	files, dir, err := tb.copyFiles(ctx, src, query)
	if err != nil {
		return nil, fp, err
	}
	defer os.RemoveAll(dir)
	parts := []Part{}
	done := tb.upload(ctx, &parts)
	h := `"` + RowHashColumn + `"`
	for _, f := range files {
		var st hashStats
		if err := src.Get(ctx, &st, "SELECT "+hashAggregates(h)+" FROM read_parquet(?)", f); err != nil {
			return nil, fp, fmt.Errorf("read back part: %w", err)
		}
		if st.N == 0 {
			continue
		}
		g, err := fingerprintOf(st.N, st.Sum, st.XOR)
		if err != nil {
			return nil, fp, err
		}
		fp.Merge(g)
		info, err := os.Stat(f)
		if err != nil {
			return nil, fp, err
		}
		if err := done(partFile{Path: f, Rows: st.N, Bytes: info.Size()}); err != nil {
			return nil, fp, err
		}
	}
	return parts, fp, nil
}

// copyFiles runs COPY (query) into a fresh directory of Parquet files,
// bounded as parts are, and returns the files in order and the directory
// (the caller removes it).
func (tb *tableBackup) copyFiles(ctx context.Context, src sqlRunner, query string) ([]string, string, error) {
	files, dir, err := tb.copyDir(ctx, src, "copy", query, tb.copyOptions())
	if err != nil {
		return nil, "", fmt.Errorf("copy to Parquet: %w", err)
	}
	return files, dir, nil
}

// unorderedCopy runs COPY (query) with args into a fresh directory, one
// uncompressed Parquet file per DuckDB thread (PER_THREAD_OUTPUT), for
// intermediate rows whose order does not matter, and returns readParquet of
// the files and the directory (the caller removes it). DuckDB writes one
// file even when no row comes out (TestUnorderedCopy). A COPY to one file
// keeps the query's order, and under a small memory_limit DuckDB runs it on
// one thread: the candidate rows of a change column (1% of 10M rows) took
// 0.76-1.06 s to one file and 0.44-0.57 s per thread at memory_limit=128MB.
func (tb *tableBackup) unorderedCopy(ctx context.Context, src sqlRunner, name, query string, args ...any) (string, string, error) {
	files, dir, err := tb.copyDir(ctx, src, name, query, "FORMAT parquet, COMPRESSION uncompressed, PER_THREAD_OUTPUT true", args...)
	if err != nil {
		return "", "", err
	}
	return readParquet(files), dir, nil
}

// copyDir runs COPY (query) TO a directory (options: the COPY options) in a
// fresh directory under the backup's work directory, named after name, and
// returns the Parquet files written, sorted, and that directory.
func (tb *tableBackup) copyDir(ctx context.Context, src sqlRunner, name, query, options string, args ...any) ([]string, string, error) {
	dir, err := os.MkdirTemp(tb.dir, name+"-*")
	if err != nil {
		return nil, "", err
	}
	out := filepath.Join(dir, "parts")
	// COPY takes no bind parameter for its target: the path is our own
	// temporary directory, rendered as a literal.
	if _, err := src.Exec(ctx, "COPY ("+query+") TO "+sqlString(out)+" ("+options+")", args...); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	files, err := filepath.Glob(filepath.Join(out, "*.parquet"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	// DuckDB numbers the files in row order (data_0, data_1, …, data_10):
	// shorter names first keeps that order (the merge path of deltas reads
	// a full's parts in it).
	slices.SortFunc(files, func(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b)) })
	return files, dir, nil
}

var two64 = new(big.Int).Lsh(big.NewInt(1), 64)

// fingerprintOf builds a fingerprint from a count, the (signed, unbounded)
// sum of the hashes' int64 values and their XOR, all as decimal text.
func fingerprintOf(n int64, sum, xor string) (Fingerprint, error) {
	s, ok := new(big.Int).SetString(sum, 10)
	if !ok {
		return Fingerprint{}, fmt.Errorf("hash sum %q", sum)
	}
	s.Mod(s, two64)
	x, err := parseHashXOR(xor)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("hash xor %q", xor)
	}
	return Fingerprint{Count: n, Sum: s.Uint64(), XOR: x}, nil
}

// keyJoin renders "a.k1 = b.k1 AND …".
func keyJoin(d warehouse.Dialect, key []string, a, b string) string {
	var on []string
	for _, k := range key {
		q := d.QuoteIdentifier(k)
		on = append(on, a+"."+q+" = "+b+"."+q)
	}
	return strings.Join(on, " AND ")
}
