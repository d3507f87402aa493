package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dataopskit/dataops/backup/repository"
	"github.com/dataopskit/dataops/warehouse"
)

// Synthesize compacts a snapshot's chain into a new "synthetic" snapshot
// whose tables are all full parts, built from the repository alone (no
// warehouse). It has the same time and tables as the snapshot it compacts,
// its parent is that snapshot, and every table's fingerprint is checked
// while its parts are written. Later incrementals can build on it, and the
// older chain can then be forgotten.
func Synthesize(ctx context.Context, repo *repository.Repository, snapshot string, opts Options) (*Result, error) {
	em := newEmitter(opts.Events, opts.Logger, "synthesize")
	em.startEv(snapshot, "synthetic full started")
	res, err := synthesize(ctx, repo, snapshot, opts, em)
	if err != nil {
		return nil, em.fail(snapshot, err)
	}
	em.finish(res.ID, res.Rows, res.Stored, "synthetic snapshot "+short(res.ID))
	return res, nil
}

func synthesize(ctx context.Context, repo *repository.Repository, snapshot string, opts Options, em *emitter) (*Result, error) {
	start := time.Now()
	id, err := FindSnapshot(ctx, repo, snapshot, time.Time{})
	if err != nil {
		return nil, err
	}
	cache := newSnapshotCache(repo)
	s, err := cache.get(ctx, id)
	if err != nil {
		return nil, err
	}
	tempDir := tempDirOr(opts.TempDir)
	sc, err := newScratch(ctx, repo, tempDir)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	sess := repo.NewSession()
	cfg := repo.Config()
	res := &Result{Kind: KindSynthetic, Parent: s.ID}
	info, err := sc.w.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: scratch database: %w", err)
	}
	engineKind := duckHashKind(info.Version)
	for i := range s.Tables {
		t := s.Tables[i]
		name, cols, err := composeEntry(ctx, sc, cache, s.ID, &t)
		if err != nil {
			return nil, err
		}
		tb := &tableBackup{rel: t.Relation(), sess: sess, dir: sc.dir, partRows: cfg.PartRows, partBytes: cfg.PartBytes, em: em}
		parts, err := synthesizeTable(ctx, sc, tb, &t, name, cols, engineKind)
		if err != nil {
			return nil, fmt.Errorf("backup: synthesize %s: %w", t.String(), err)
		}
		sc.w.Drop(ctx, warehouse.Rel("main", name))
		t.Data = TableData{Mode: ModeFull, Parts: parts}
		res.Tables = append(res.Tables, t)
		res.Rows += t.Rows
		res.Written += tb.stats.written
		res.Bytes += tb.stats.bytes
	}
	tablesJSON, err := json.Marshal(res.Tables)
	if err != nil {
		return nil, err
	}
	tags := opts.Tags
	if tags == nil {
		tags = append([]string{}, s.Manifest.Tags...)
	}
	m := &repository.Manifest{
		Time: s.Manifest.Time, Parent: s.ID, Kind: KindSynthetic, Source: s.Manifest.Source, Host: s.Manifest.Host,
		Tags: tags, Consistency: s.Manifest.Consistency, Tables: tablesJSON, Retention: opts.Retention,
	}
	if res.ID, err = sess.Commit(ctx, m); err != nil {
		return nil, fmt.Errorf("backup: commit synthetic snapshot: %w", err)
	}
	for _, o := range sess.Objects() {
		if o.Uploaded {
			res.Objects++
			res.Stored += o.Stored
		}
	}
	res.Duration = time.Since(start)
	return res, nil
}

// synthesizeTable writes the composed rows of entry t (scratch table name)
// as full parts and checks them against t's fingerprint. Rows with this
// DuckDB's engine row hashes are written by its COPY, their hashes
// recomputed (the check); portable ones through the Go writer, hashed in
// Go. An engine kind of another version cannot be recomputed: the table is
// written with portable hashes (t's kind and fingerprint change; only its
// row count can be checked).
func synthesizeTable(ctx context.Context, sc *scratch, tb *tableBackup, t *Table, name string, cols []warehouse.Column, engineKind string) ([]Part, error) {
	from := sc.w.Dialect().QuoteRelation(warehouse.Rel("main", name))
	if t.RowHashKind() == engineKind {
		q, ok := duckEngineHashedSelect(sc.w.Dialect(), from, cols)
		if !ok {
			return nil, fmt.Errorf("columns without a DuckDB type")
		}
		parts, fp, err := tb.copyPartsFrom(ctx, sc.w, q)
		if err != nil {
			return nil, err
		}
		if fp != t.Fingerprint {
			return nil, fmt.Errorf("%w: composed %v, manifest %v", ErrMismatch, fp, t.Fingerprint)
		}
		return parts, nil
	}
	parts := []Part{}
	pw, err := newPartWriter(cols, sc.dir, tb.partRows, tb.partBytes, true, tb.upload(ctx, &parts))
	if err != nil {
		return nil, err
	}
	defer pw.Abort()
	h := NewRowHasher(cols)
	var fp Fingerprint
	for rec, err := range scanTable(ctx, sc.w, from, cols) {
		if err != nil {
			return nil, err
		}
		x, err := h.Hash(rec.Values)
		if err != nil {
			return nil, err
		}
		fp.Add(x)
		if err := pw.Write(rec.Values, x); err != nil {
			return nil, err
		}
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	if t.RowHashKind() != HashSHA256 {
		if fp.Count != t.Rows {
			return nil, fmt.Errorf("%w: composed %d rows, manifest %d", ErrMismatch, fp.Count, t.Rows)
		}
		t.RowHash, t.Fingerprint = HashSHA256, fp
	} else if fp != t.Fingerprint {
		return nil, fmt.Errorf("%w: composed %v, manifest %v", ErrMismatch, fp, t.Fingerprint)
	}
	return parts, nil
}
