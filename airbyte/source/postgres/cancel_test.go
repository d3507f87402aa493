package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/dataopskit/dataops/airbyte"
)

// TestCancelStopsRead: cancelling the context ends the message sequence
// with an error that wraps context.Canceled, and Close after it is clean.
func TestCancelStopsRead(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("t")+" (id bigint PRIMARY KEY, v text)")
	db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT i, md5(i::text) FROM generate_series(1, 100000) i")
	src := New(WithChunkSize(100000))
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "t")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs, err := src.Read(ctx, cfg, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	var last error
	for m, err := range rs.Messages() {
		if err != nil {
			last = err
			break
		}
		if m.Type == airbyte.TypeRecord {
			records++
			if records == 10 {
				cancel()
			}
		}
	}
	if !errors.Is(last, context.Canceled) {
		t.Fatalf("after cancel: %d records, error %v; want context.Canceled", records, last)
	}
	if records >= 100000 {
		t.Fatalf("read all %d rows despite the cancel", records)
	}
	if err := rs.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rs.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestCloseFromAnotherGoroutine: Close while the consumer is between
// messages stops the read.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	db := newTestDB(t)
	db.exec(t, "CREATE TABLE "+db.rel("t")+" (id bigint PRIMARY KEY)")
	db.exec(t, "INSERT INTO "+db.rel("t")+" SELECT i FROM generate_series(1, 100000) i")
	src := New()
	cfg := db.config(t, nil)
	cat := configured(t, discover(t, src, cfg), airbyte.FullRefresh, nil, "t")
	rs, err := src.Read(context.Background(), cfg, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	records := 0
	var last error
	for m, err := range rs.Messages() {
		if err != nil {
			last = err
			break
		}
		if m.Type == airbyte.TypeRecord {
			records++
			if records == 5 {
				done := make(chan error)
				go func() { done <- rs.Close() }()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if last == nil || records >= 100000 {
		t.Fatalf("after Close: %d records, error %v", records, last)
	}
}
