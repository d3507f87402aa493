package warehouse

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Dialect is an engine's SQL spelling: how identifiers are quoted and folded,
// how long they may be, and how portable types map to engine types and back.
// SQL text built by this module contains identifiers only through
// QuoteIdentifier / QuoteRelation and values only as bind parameters.
type Dialect interface {
	// Name is the engine's name: "duckdb", "postgres", "snowflake".
	Name() string
	// QuoteIdentifier quotes one name so that the engine takes it exactly as
	// given, whatever characters or keywords it holds.
	QuoteIdentifier(name string) string
	// QuoteRelation renders a relation with its non-empty parts quoted.
	QuoteRelation(r Relation) string
	// NormalizeIdentifier returns the name the engine stores for an unquoted
	// identifier: lower case on PostgreSQL, upper case on Snowflake, unchanged
	// on DuckDB (which matches names case-insensitively).
	NormalizeIdentifier(name string) string
	// CaseSensitive reports whether two quoted names that differ only in case
	// name different objects (true on PostgreSQL and Snowflake, false on DuckDB).
	CaseSensitive() bool
	// MaxIdentifierLength is the longest name in bytes the engine keeps
	// without truncating it; 0 means no limit.
	MaxIdentifierLength() int
	// TypeSQL renders a portable type as the engine's column type.
	TypeSQL(t Type) (string, error)
	// ParseType maps an engine type name (as introspection reports it) to a
	// portable type; unknown names give KindUnknown with Native set.
	ParseType(native string) Type
}

// QuoteWith quotes name between q characters, doubling any q inside it: the
// SQL standard rule that DuckDB, PostgreSQL and Snowflake share with q = '"'.
// Driver authors use it to implement Dialect.QuoteIdentifier.
func QuoteWith(q byte, name string) string {
	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte(q)
	for i := 0; i < len(name); i++ {
		if name[i] == q {
			b.WriteByte(q)
		}
		b.WriteByte(name[i])
	}
	b.WriteByte(q)
	return b.String()
}

// JoinRelation renders r with d.QuoteIdentifier on each non-empty part.
// Driver authors use it to implement Dialect.QuoteRelation.
func JoinRelation(d Dialect, r Relation) string {
	var parts []string
	for _, p := range []string{r.Database, r.Schema, r.Name} {
		if p != "" {
			parts = append(parts, d.QuoteIdentifier(p))
		}
	}
	return strings.Join(parts, ".")
}

// checkIdentifier reports why name cannot be used on d, or nil.
func checkIdentifier(d Dialect, what, name string) error {
	switch {
	case name == "":
		return errorString(what + " name is empty")
	case strings.IndexByte(name, 0) >= 0:
		return errorString(what + " name " + quoteForMsg(name) + " contains a NUL byte")
	case !utf8.ValidString(name):
		return errorString(what + " name " + quoteForMsg(name) + " is not valid UTF-8")
	}
	if max := d.MaxIdentifierLength(); max > 0 && len(name) > max {
		return errorString(what + " name " + quoteForMsg(name) + " is " + itoa(len(name)) + " bytes long; " + d.Name() + " keeps at most " + itoa(max))
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func quoteForMsg(s string) string {
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return `"` + s + `"`
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			break
		}
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// scratchName returns a fresh name derived from name, for a relation built
// aside and then swapped in. It fits d's identifier limit.
func scratchName(d Dialect, name, tag string) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	suffix := "__dataops_" + tag + "_" + hex.EncodeToString(rnd[:])
	base := name
	if max := d.MaxIdentifierLength(); max > 0 && len(base)+len(suffix) > max {
		cut := max - len(suffix)
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		base = base[:cut]
	}
	return base + suffix
}
