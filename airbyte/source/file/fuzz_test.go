package file

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzCSVParser checks that the parser never panics, and that wherever
// encoding/csv accepts an input (strict quotes, no \r, valid UTF-8, no BOM)
// both read the same records.
func FuzzCSVParser(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "\"x\"\"y\",z\n", "\"multi\nline\",1\n", "a,\"b\nc", "\"a\"b,c\n", "5\" disk,x\n",
		",,\n\n\n,\n", "\"\"\n", "a", "\"unterminated", "a,b,c\n1,2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p := newCSVParser(bytes.NewReader(in), "fuzz.csv", &Format{FileType: FileTypeCSV})
		var mine [][]string
		var myErr error
		for {
			err := p.read()
			if err == io.EOF {
				break
			}
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Line < 1 {
					t.Fatalf("error without a line: %v", err)
				}
				myErr = err
				break
			}
			rec := make([]string, p.numFields())
			for i := range rec {
				rec[i] = string(p.field(i))
			}
			mine = append(mine, rec)
		}
		if bytes.ContainsRune(in, '\r') || !utf8.Valid(in) || bytes.HasPrefix(in, []byte("\ufeff")) {
			return
		}
		r := csv.NewReader(bytes.NewReader(in))
		r.FieldsPerRecord = -1
		theirs, err := r.ReadAll()
		if err != nil {
			return // e.g. a bare quote, which this parser keeps
		}
		if myErr != nil {
			t.Fatalf("encoding/csv reads %q, this parser fails: %v", in, myErr)
		}
		if len(theirs) == 0 && len(mine) == 0 {
			return
		}
		if !reflect.DeepEqual(mine, theirs) {
			t.Fatalf("input %q:\n this parser %q\n encoding/csv %q", in, mine, theirs)
		}
	})
}

// FuzzJSONLMembers checks that splitting an object into members loses
// nothing: the members put back together decode to the same value.
func FuzzJSONLMembers(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{ "a" : [1, {"b":"}"}], "c\"d": "x\\", "e":null }`, `{}`, `{"a":{"a":{"a":[]}},"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		in = bytes.TrimSpace(in)
		if !json.Valid(in) || len(in) == 0 || in[0] != '{' {
			return
		}
		out := []byte{'{'}
		_ = eachMember(in, func(key, val []byte) error {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, key...)
			out = append(out, ':')
			out = append(out, val...)
			return nil
		})
		out = append(out, '}')
		var a, b any
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("members of %q rebuild to invalid %q: %v", in, out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("members of %q rebuild to %q", in, out)
		}
	})
}
