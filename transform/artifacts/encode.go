package artifacts

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"unicode/utf8"
)

// encodeManifest writes m as Encode would with encoding/json (the same
// bytes: members in struct order, map keys sorted, no HTML escaping
// outside the nodes' own JSON, a final newline), but encodes the large
// maps — nodes, sources, macros — in batches on every processor and
// streams them to w in order, so a 10,000-model manifest is neither
// encoded on one core nor held whole in memory. Values that implement
// json.Marshaler here produce compact JSON, so they are copied as they
// are (encoding/json would re-scan and compact them).
func encodeManifest(w io.Writer, m *Manifest) error {
	e := &streamEncoder{w: w}
	e.raw("{")
	e.field(`"metadata":`, m.Metadata)
	e.raw(",")
	encodeMapParallel(e, `"nodes":`, m.Nodes)
	e.raw(",")
	encodeMapParallel(e, `"sources":`, m.Sources)
	e.raw(",")
	encodeMapParallel(e, `"macros":`, m.Macros)
	for _, f := range []struct {
		key string
		v   any
	}{
		{`"docs":`, m.Docs},
		{`"exposures":`, m.Exposures},
		{`"metrics":`, m.Metrics},
		{`"groups":`, m.Groups},
		{`"selectors":`, m.Selectors},
		{`"disabled":`, m.Disabled},
		{`"parent_map":`, m.ParentMap},
		{`"child_map":`, m.ChildMap},
		{`"group_map":`, m.GroupMap},
		{`"saved_queries":`, m.SavedQueries},
		{`"semantic_models":`, m.SemanticModels},
		{`"unit_tests":`, m.UnitTests},
	} {
		e.raw(",")
		if lists, ok := f.v.(map[string][]string); ok {
			e.stringLists(f.key, lists)
			continue
		}
		e.field(f.key, f.v)
	}
	e.raw("}\n")
	return e.err
}

// encodeRunResults writes r as Encode would with encoding/json, but
// appends each result's JSON straight to the output (encoding/json would
// call each result's MarshalJSON and then re-scan and compact its bytes:
// a 10,000-model compile has 30,000 results).
func encodeRunResults(w io.Writer, r *RunResults) error {
	e := &streamEncoder{w: w}
	e.raw("{")
	e.field(`"metadata":`, r.Metadata)
	if r.Results == nil {
		e.raw(`,"results":null`)
	} else {
		e.raw(`,"results":[`)
		out := (*batchBufs.Get().(*[]byte))[:0]
		for i := range r.Results {
			if i > 0 {
				out = append(out, ',')
			}
			var err error
			if out, err = r.Results[i].appendJSON(out); err != nil {
				// As encoding/json reports a failing MarshalJSON.
				e.err = &json.MarshalerError{Type: reflect.TypeFor[RunResult](), Err: err}
				break
			}
			if len(out) > 1<<16 {
				e.bytes(out)
				out = out[:0]
			}
		}
		e.bytes(out)
		batchBufs.Put(&out)
		e.raw("]")
	}
	e.field(`,"elapsed_time":`, r.ElapsedTime)
	if len(r.Args) > 0 {
		e.field(`,"args":`, r.Args)
	}
	e.raw("}\n")
	return e.err
}

// streamEncoder writes JSON pieces to w, keeping the first error.
type streamEncoder struct {
	w   io.Writer
	err error
	buf bytes.Buffer
}

func (e *streamEncoder) raw(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

func (e *streamEncoder) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// field writes key then v as encoding/json writes it without HTML escaping.
func (e *streamEncoder) field(key string, v any) {
	if e.err != nil {
		return
	}
	e.raw(key)
	e.buf.Reset()
	enc := json.NewEncoder(&e.buf)
	enc.SetEscapeHTML(false)
	if e.err = enc.Encode(v); e.err != nil {
		return
	}
	e.bytes(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
}

// stringLists writes key then m (parent_map, child_map: tens of thousands
// of entries) as encoding/json would, without reflection.
func (e *streamEncoder) stringLists(key string, m map[string][]string) {
	if e.err != nil {
		return
	}
	if m == nil {
		e.raw(key + "null")
		return
	}
	keys := sortedKeys(m)
	e.raw(key + "{")
	out := e.buf.Bytes()[:0]
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = appendKey(out, k)
		out = append(out, ':')
		if l := m[k]; l == nil {
			out = append(out, "null"...)
		} else {
			out = append(out, '[')
			for j, s := range l {
				if j > 0 {
					out = append(out, ',')
				}
				out = appendKey(out, s) // not HTML-escaped, as here
			}
			out = append(out, ']')
		}
		if len(out) > 1<<16 {
			e.bytes(out)
			out = out[:0]
		}
	}
	e.bytes(out)
	e.raw("}")
}

// manifestBatch is how many map entries one worker encodes at a time.
const manifestBatch = 256

// encodeMapParallel writes key and the map m, its entries sorted by key,
// encoding batches of entries concurrently and writing them in order.
func encodeMapParallel[V json.Marshaler](e *streamEncoder, key string, m map[string]V) {
	if e.err != nil {
		return
	}
	if m == nil {
		e.raw(key + "null")
		return
	}
	keys := sortedKeys(m)
	e.raw(key + "{")
	type batch struct {
		out  []byte
		err  error
		done chan struct{}
	}
	workers := max(runtime.GOMAXPROCS(0), 1)
	// At most 2×workers batches are encoded or waiting to be written:
	// memory stays bounded by the batch size, not by the map.
	queue := make(chan *batch, 2*workers)
	var wg sync.WaitGroup
	go func() {
		sem := make(chan struct{}, workers)
		for start := 0; start < len(keys); start += manifestBatch {
			b := &batch{done: make(chan struct{})}
			queue <- b
			sem <- struct{}{}
			wg.Add(1)
			go func(part []string, first bool) {
				defer func() { <-sem; wg.Done(); close(b.done) }()
				out := (*batchBufs.Get().(*[]byte))[:0]
				for i, k := range part {
					if i > 0 || !first {
						out = append(out, ',')
					}
					out = appendKey(out, k)
					out = append(out, ':')
					v := m[k]
					if isNilMarshaler(v) {
						out = append(out, "null"...)
						continue
					}
					if a, ok := any(v).(jsonAppender); ok {
						var err error
						if out, err = a.appendJSON(out); err != nil {
							b.err = err
							return
						}
						continue
					}
					data, err := v.MarshalJSON()
					if err != nil {
						b.err = err
						return
					}
					out = append(out, data...)
				}
				b.out = out
			}(keys[start:min(start+manifestBatch, len(keys))], start == 0)
		}
		close(queue)
	}()
	for b := range queue {
		<-b.done
		if e.err == nil && b.err != nil {
			e.err = b.err
		}
		e.bytes(b.out)
		if b.out != nil {
			batchBufs.Put(&b.out)
		}
	}
	wg.Wait()
	e.raw("}")
}

// jsonAppender is implemented by values that append their JSON to a
// buffer (no slice of their own per value).
type jsonAppender interface {
	appendJSON(out []byte) ([]byte, error)
}

// batchBufs recycles the batches' buffers.
var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// isNilMarshaler reports whether v is a nil pointer (encoding/json writes
// null for it without calling MarshalJSON).
func isNilMarshaler(v json.Marshaler) bool {
	switch p := v.(type) {
	case *Node:
		return p == nil
	case *Source:
		return p == nil
	case *Macro:
		return p == nil
	}
	return v == nil
}

// appendKey appends s as a JSON string the way encoding/json writes a map
// key without HTML escaping.
func appendKey(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			// Rare: let encoding/json escape it.
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(s) // a string always encodes
			return append(out, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

// sortedKeys returns m's keys in order, as encoding/json writes a map.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
