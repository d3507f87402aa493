package file

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/dataopskit/dataops/airbyte"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zst(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCompressedFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "c/a.csv.gz", gz(t, "id,name\n1,Ann\n2,Bob\n"), base)
	writeFile(t, dir, "c/b.csv", []byte("id,name\n3,Cy\n"), base.Add(time.Hour))
	writeFile(t, dir, "j/a.jsonl.zst", zst(t, `{"id":1}`+"\n"+`{"id":2}`+"\n"), base)
	src := New()
	raw, _ := json.Marshal(map[string]any{"base_dir": dir, "streams": []any{
		map[string]any{"name": "c", "globs": []string{"c/*"}, "format": map[string]any{"filetype": "csv"}},
		map[string]any{"name": "j", "globs": []string{"j/*"}, "format": map[string]any{"filetype": "jsonl"}},
	}})
	cc := discover(t, src, raw, airbyte.FullRefresh)
	if p := schemaProps(t, cc.Streams[0].Stream); typeOf(p["id"]) != "integer" {
		t.Errorf("gzip CSV inference: id %s", typeOf(p["id"]))
	}
	res := read(t, src, raw, cc, nil)
	if res.err != nil {
		t.Fatal(res.err)
	}
	var ids []any
	for _, r := range res.records {
		ids = append(ids, r["id"])
	}
	want := []any{json.Number("1"), json.Number("2"), json.Number("3"), json.Number("1"), json.Number("2")}
	if !reflect.DeepEqual(ids, want) || res.records[1]["name"] != "Bob" {
		t.Errorf("ids %v, records %v", ids, res.records)
	}

	// A damaged archive fails naming the file.
	whole := gz(t, strings.Repeat("id,name\n", 1)+strings.Repeat("1,some text\n", 5000))
	writeFile(t, dir, "c/a.csv.gz", whole[:len(whole)/2], base)
	res = read(t, src, raw, cc, nil)
	var pe *ParseError
	if !errors.As(res.err, &pe) || pe.File != "c/a.csv.gz" {
		t.Errorf("truncated gzip: %v", res.err)
	}
	writeFile(t, dir, "c/a.csv.gz", []byte("plain text, not gzip\n"), base)
	res = read(t, src, raw, cc, nil)
	if !errors.As(res.err, &pe) || pe.File != "c/a.csv.gz" || !strings.Contains(res.err.Error(), "not gzip") {
		t.Errorf("not gzip: %v", res.err)
	}
}
