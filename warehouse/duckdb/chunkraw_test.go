package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// TestRawHandles: the C connection read out of duckdb-go's Conn is the
// connection itself (a statement run through it is seen by the Conn), and
// execRaw reports errors and stops on cancellation.
func TestRawHandles(t *testing.T) {
	if !rawLayoutOK {
		t.Fatal("duckdb-go's Conn or DataChunk no longer begins with its C handle: the chunk path is off")
	}
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Raw(func(dc any) error {
		conn, ok := dc.(*duckdb.Conn)
		if !ok {
			return errors.New("not a *duckdb.Conn")
		}
		raw := rawConnOf(conn)
		if err := execRaw(ctx, raw, "CREATE TEMP TABLE raw_t AS SELECT 42 AS x", func() {}); err != nil {
			return err
		}
		if err := execRaw(ctx, raw, "SELECT * FROM no_such_table", func() {}); err == nil || !strings.Contains(err.Error(), "no_such_table") {
			t.Errorf("a bad statement: %v", err)
		}
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		called := false
		err := execRaw(cctx, raw, "SELECT count(*) FROM range(1000000000000) a", func() { called = true })
		if err == nil || !called {
			t.Errorf("a cancelled statement: %v (onCancel called: %v)", err, called)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var x int64
	if err := c.QueryRowContext(ctx, "SELECT x FROM raw_t").Scan(&x); err != nil || x != 42 {
		t.Fatalf("read back %d (%v), want 42", x, err)
	}
}
