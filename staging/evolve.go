package staging

import "github.com/dataopskit/dataops/warehouse"

// SchemaPolicy says what a Loader does when a stream's schema asks for a
// column type that the existing table cannot hold.
type SchemaPolicy string

// Schema policies.
const (
	// Widen alters the column to the narrowest type that holds both (the
	// default). The lattice, from narrow to wide:
	//
	//	integer16 → integer32 → integer64 → decimal(38,s) → float → string
	//	date → timestamp → timestamptz → string
	//	boolean, time, json, binary, array → string
	//
	// A column is never narrowed: a table column wider than the schema's type
	// stays as it is.
	Widen SchemaPolicy = "widen"
	// Fail stops the load with an error naming the stream, the column and
	// both types.
	Fail SchemaPolicy = "fail"
)

// widen returns the narrowest portable type that holds every value of a and
// of b.
func widen(a, b warehouse.Type) warehouse.Type {
	if a.Equal(b) {
		return a
	}
	num := func(t warehouse.Type) int {
		switch t.Kind {
		case warehouse.KindInteger:
			return 1
		case warehouse.KindDecimal:
			return 2
		case warehouse.KindFloat:
			return 3
		}
		return 0
	}
	if na, nb := num(a), num(b); na > 0 && nb > 0 {
		switch {
		case na == 1 && nb == 1:
			return warehouse.Type{Kind: warehouse.KindInteger, Bits: max(bits(a), bits(b))}
		case na == 3 || nb == 3:
			return warehouse.Float
		default: // decimals, or a decimal and an integer
			scale := max(a.Scale, b.Scale)
			return warehouse.DecimalType(38, scale)
		}
	}
	tm := func(t warehouse.Type) int {
		switch t.Kind {
		case warehouse.KindDate:
			return 1
		case warehouse.KindTimestamp:
			return 2
		case warehouse.KindTimestampTZ:
			return 3
		}
		return 0
	}
	if ta, tb := tm(a), tm(b); ta > 0 && tb > 0 {
		if ta > tb {
			return a
		}
		return b
	}
	return warehouse.String
}

func bits(t warehouse.Type) int {
	if t.Bits == 0 {
		return 64
	}
	return t.Bits
}
