package warehousetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dataopskit/dataops/warehouse"
)

func testTransactions(t *testing.T, f *fixture) {
	ctx := context.Background()
	caps := f.w.Capabilities()
	boom := errors.New("boom")

	// Rollback: a table created and loaded in the transaction is gone.
	err := f.w.WithTx(ctx, func(tx *warehouse.Tx) error {
		r := f.rel("rolled_back")
		if err := tx.CreateTable(ctx, r, BulkColumns(), nil); err != nil {
			return err
		}
		if n, err := tx.Load(ctx, r, nil, BulkRows(1000)); err != nil || n != 1000 {
			t.Errorf("load in tx: %d %v", n, err)
		}
		var n int64
		if err := tx.Get(ctx, &n, "SELECT count(*) FROM "+f.q("rolled_back")); err != nil || n != 1000 {
			t.Errorf("the transaction does not see its own load: %d %v", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx returned %v, want %v", err, boom)
	}
	if caps.TransactionalDDL {
		if _, err := f.w.Relation(ctx, f.rel("rolled_back")); !errors.Is(err, warehouse.ErrNotFound) {
			t.Fatalf("table created in a rolled-back transaction exists: %v", err)
		}
	}

	// Commit: data and bookkeeping land together; nothing is visible before.
	data := f.mustCreate(t, "data", BulkColumns()...)
	state := f.mustCreate(t, "state", col("k", warehouse.String), col("v", warehouse.String))
	tx, err := f.w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Load(ctx, data, nil, BulkRows(500)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Load(ctx, state, nil, rowsOf([]any{"cursor", "499"})); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "data"); n != 0 {
		t.Fatalf("uncommitted rows visible outside the transaction: %d", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback after commit: %v", err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("second commit: no error")
	}
	if n, s := f.count(t, "data"), f.count(t, "state"); n != 500 || s != 1 {
		t.Fatalf("after commit: %d data rows, %d state rows; want 500 and 1", n, s)
	}

	// Explicit rollback of DML and of a replace.
	tx, err = f.w.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+f.q("data")); err != nil {
		t.Fatal(err)
	}
	if err := tx.ReplaceTableAs(ctx, f.rel("state"), "SELECT 1 AS only_column"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "data"); n != 500 {
		t.Fatalf("after rollback: %d rows, want 500", n)
	}
	if caps.TransactionalDDL {
		cols, err := f.w.Columns(ctx, f.rel("state"))
		if err != nil || len(cols) != 2 {
			t.Fatalf("a rolled-back replace changed the table: %+v %v", cols, err)
		}
	}

	// A panic in WithTx rolls back and propagates.
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic in WithTx was swallowed")
			}
		}()
		_ = f.w.WithTx(ctx, func(tx *warehouse.Tx) error {
			if _, err := tx.Exec(ctx, "DELETE FROM "+f.q("data")); err != nil {
				return err
			}
			panic("in transaction")
		})
	}()
	if n := f.count(t, "data"); n != 500 {
		t.Fatalf("after a panic: %d rows, want 500", n)
	}
}

func testCancelQuery(t *testing.T, f *fixture) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	var n any
	err := f.w.Get(ctx, &n, f.h.SlowQuery)
	if err == nil {
		t.Fatalf("slow query finished in %v; make Harness.SlowQuery slower", time.Since(start))
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("cancel took %v", el)
	}
	if ctx.Err() == nil {
		t.Fatalf("slow query failed before its deadline: %v", err)
	}
	// Rows stops too.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	start = time.Now()
	for _, err := range f.w.Rows(ctx2, f.h.SlowQuery) {
		if err != nil {
			break
		}
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("cancel of Rows took %v", el)
	}
	// The warehouse is still usable.
	var one int64
	if err := f.w.Get(context.Background(), &one, "SELECT 1"); err != nil || one != 1 {
		t.Fatalf("after cancel: %d %v", one, err)
	}
}

func testInfo(t *testing.T, f *fixture) {
	info, err := f.w.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Engine != f.w.Dialect().Name() || info.Version == "" || info.Schema == "" {
		t.Fatalf("Info = %+v", info)
	}
	if s := f.w.String(); s == "" {
		t.Fatal("String() is empty")
	}
}

func testBindParameters(t *testing.T, f *fixture) {
	ctx := context.Background()
	cols := []warehouse.Column{
		col("d", warehouse.DecimalType(38, 10)), col("j", warehouse.JSON), col("s", warehouse.String), col("ts", warehouse.TimestampTZ),
	}
	f.mustCreate(t, "params", cols...)
	dec := warehouse.MustDecimal("-1234567890123456789012345678.0123456789")
	doc := json.RawMessage(`{"k": [1, 2], "s": "x'y"}`)
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.FixedZone("X", 3600))
	ins := f.w.DB().Rebind("INSERT INTO " + f.q("params") + " (" + f.id("d") + ", " + f.id("j") + ", " + f.id("s") + ", " + f.id("ts") + ") VALUES (?, ?, ?, ?)")
	if _, err := f.w.Exec(ctx, ins, dec, doc, "it's; DROP TABLE x --", at); err != nil {
		t.Fatalf("insert with bind parameters: %v", err)
	}
	var n int64
	if err := f.w.Get(ctx, &n, f.w.DB().Rebind("SELECT count(*) FROM "+f.q("params")+" WHERE "+f.id("d")+" = ?"), dec); err != nil || n != 1 {
		t.Fatalf("select by decimal parameter: %d %v", n, err)
	}
	want := []any{dec, doc, "it's; DROP TABLE x --", at}
	for rec, err := range f.w.Rows(ctx, "SELECT * FROM "+f.q("params")) {
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			if err := sameValue(c.Type, want[i], rec.Values[i]); err != nil {
				t.Errorf("column %s: %v", c.Name, err)
			}
		}
	}
}
