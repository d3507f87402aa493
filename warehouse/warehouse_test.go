package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestDecimal(t *testing.T) {
	tests := []struct {
		in, out string
		scale   int
	}{
		{"0", "0", 0},
		{"-12.340", "-12.340", 3},
		{"1e-3", "0.001", 3},
		{"1.5E2", "150", 0},
		{"-0.0000000001", "-0.0000000001", 10},
		{"-99999999999999999999999999999999999999", "-99999999999999999999999999999999999999", 0},
		{"+7", "7", 0},
	}
	for _, tc := range tests {
		d, err := ParseDecimal(tc.in)
		if err != nil {
			t.Fatalf("ParseDecimal(%q): %v", tc.in, err)
		}
		if d.String() != tc.out || d.Scale != tc.scale {
			t.Errorf("ParseDecimal(%q) = %s (scale %d), want %s (scale %d)", tc.in, d, d.Scale, tc.out, tc.scale)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "abc", "1e", "0x10"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q): no error", bad)
		}
	}
	a, b := MustDecimal("1.50"), MustDecimal("1.5")
	if a.Cmp(b) != 0 {
		t.Error("1.50 != 1.5")
	}
	r, err := b.Rescale(3)
	if err != nil || r.String() != "1.500" {
		t.Errorf("Rescale(3) = %s, %v", r, err)
	}
	if _, err := MustDecimal("1.25").Rescale(1); err == nil {
		t.Error("Rescale dropping digits: no error")
	}
	for in, want := range map[any]string{int32(-5): "-5", "2.50": "2.50", big.NewInt(12): "12", 0.5: "0.5", uint8(3): "3"} {
		d, err := ToDecimal(in)
		if err != nil || d.String() != want {
			t.Errorf("ToDecimal(%#v) = %s, %v; want %s", in, d, err, want)
		}
	}
	if _, err := ToDecimal(true); err == nil {
		t.Error("ToDecimal(true): no error")
	}
}

func TestToJSON(t *testing.T) {
	if j, err := ToJSON(map[string]int{"a": 1}); err != nil || string(j) != `{"a":1}` {
		t.Errorf("ToJSON(map) = %s, %v", j, err)
	}
	if j, err := ToJSON(`[1, 2]`); err != nil || string(j) != `[1, 2]` {
		t.Errorf("ToJSON(string) = %s, %v", j, err)
	}
	if _, err := ToJSON("{not json"); err == nil {
		t.Error("ToJSON(invalid): no error")
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://bob:hunter2@db:5432/x?sslmode=disable": "postgres://bob:xxxxx@db:5432/x?sslmode=disable",
		"snowflake://u@acct/db?password=hunter2":           "snowflake://u@acct/db?password=xxxxx",
		"duckdb:/tmp/x.db":                                 "duckdb:/tmp/x.db",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	err := scrub(errors.New("dial postgres://bob:hunter2@db failed"), mustParse(t, "postgres://bob:hunter2@db"))
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("scrub left the password: %v", err)
	}
}

func TestOpenUnknownScheme(t *testing.T) {
	_, err := Open(context.Background(), "nosuch://user:hunter2@host/db")
	if !errors.Is(err, ErrUnknownScheme) {
		t.Fatalf("Open: %v, want ErrUnknownScheme", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestQuoteWith(t *testing.T) {
	if got := QuoteWith('"', `a"b`); got != `"a""b"` {
		t.Errorf("QuoteWith = %s", got)
	}
}

type limitDialect struct{ Dialect }

func (limitDialect) MaxIdentifierLength() int { return 63 }
func (limitDialect) Name() string             { return "test" }

func TestScratchName(t *testing.T) {
	d := limitDialect{}
	long := strings.Repeat("é", 31) + "x" // 63 bytes
	n := scratchName(d, long, "new")
	if len(n) > 63 || !strings.HasPrefix(n, "é") || !strings.Contains(n, "__dataops_new_") {
		t.Fatalf("scratchName = %q (%d bytes)", n, len(n))
	}
	if checkIdentifier(d, "relation", n) != nil {
		t.Fatalf("scratch name %q is not valid", n)
	}
	if scratchName(d, "t", "new") == scratchName(d, "t", "new") {
		t.Fatal("scratch names repeat")
	}
	if err := checkIdentifier(d, "relation", strings.Repeat("x", 64)); err == nil || !strings.Contains(err.Error(), "64 bytes long; test keeps at most 63") {
		t.Fatalf("checkIdentifier(64 bytes) = %v", err)
	}
}

func TestError(t *testing.T) {
	err := wrap("create table", Rel("s", "t"), errors.New("engine says no"), func(error) error { return ErrAlreadyExists })
	if !errors.Is(err, ErrAlreadyExists) || err.Error() != "warehouse: create table s.t: already exists: engine says no" {
		t.Fatalf("wrap = %q", err)
	}
	var we *Error
	if !errors.As(err, &we) || we.Relation.Name != "t" {
		t.Fatalf("errors.As: %+v", we)
	}
	if wrap("x", Relation{}, nil, nil) != nil {
		t.Fatal("wrap(nil) != nil")
	}
}

func TestBindArgs(t *testing.T) {
	in := []any{1, json.RawMessage(`{"a":1}`)}
	out := bindArgs(in)
	if out[1] != `{"a":1}` {
		t.Fatalf("bindArgs = %#v", out)
	}
	if _, ok := in[1].(json.RawMessage); !ok {
		t.Fatal("bindArgs changed the caller's slice")
	}
	if v, err := MustDecimal("-1.50").Value(); err != nil || v != "-1.50" {
		t.Fatalf("Decimal.Value = %v, %v", v, err)
	}
}
