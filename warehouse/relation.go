package warehouse

import "strings"

// Relation names a table or view: database.schema.name. Each part is the name
// as the engine stores it (no quotes, no case folding); an empty Database or
// Schema means the connection's current one. Render it for SQL with
// Dialect.QuoteRelation; use Dialect.NormalizeIdentifier first for names a person
// typed unquoted.
type Relation struct {
	Database string
	Schema   string
	Name     string
}

// Rel is shorthand for Relation{Schema: schema, Name: name}.
func Rel(schema, name string) Relation { return Relation{Schema: schema, Name: name} }

// String joins the non-empty parts with dots, unquoted; for messages only.
func (r Relation) String() string {
	parts := make([]string, 0, 3)
	for _, p := range []string{r.Database, r.Schema, r.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// RelationKind says whether a relation is a table or a view.
type RelationKind string

// Relation kinds.
const (
	KindTable RelationKind = "table"
	KindView  RelationKind = "view"
)

// RelationInfo is a relation found by introspection.
type RelationInfo struct {
	Relation
	Kind RelationKind
}
