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
	for i := range s.Tables {
		t := s.Tables[i]
		name, cols, err := composeEntry(ctx, sc, cache, s.ID, &t)
		if err != nil {
			return nil, err
		}
		tb := &tableBackup{rel: t.Relation(), sess: sess, dir: sc.dir, partRows: cfg.PartRows, partBytes: cfg.PartBytes, em: em}
		parts := []Part{}
		pw, err := newPartWriter(cols, sc.dir, cfg.PartRows, cfg.PartBytes, true, tb.upload(ctx, &parts))
		if err != nil {
			return nil, err
		}
		h := NewRowHasher(cols)
		var fp Fingerprint
		for rec, err := range scanTable(ctx, sc.w, sc.w.Dialect().QuoteRelation(warehouse.Rel("main", name)), cols) {
			if err != nil {
				pw.Abort()
				return nil, fmt.Errorf("backup: synthesize %s: %w", t.String(), err)
			}
			x, err := h.Hash(rec.Values)
			if err != nil {
				pw.Abort()
				return nil, fmt.Errorf("backup: synthesize %s: %w", t.String(), err)
			}
			fp.Add(x)
			if err := pw.Write(rec.Values, x); err != nil {
				pw.Abort()
				return nil, fmt.Errorf("backup: synthesize %s: %w", t.String(), err)
			}
		}
		if err := pw.Close(); err != nil {
			return nil, fmt.Errorf("backup: synthesize %s: %w", t.String(), err)
		}
		sc.w.Drop(ctx, warehouse.Rel("main", name))
		if fp != t.Fingerprint {
			return nil, fmt.Errorf("backup: synthesize %s: %w: composed %v, manifest %v", t.String(), ErrMismatch, fp, t.Fingerprint)
		}
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
