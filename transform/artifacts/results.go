package artifacts

import (
	"encoding/json"
	"strconv"
)

// Statuses of run results, as dbt writes them: nodes that build
// (success, error, skipped), tests (pass, fail, warn, error, skipped) and
// source freshness (pass, warn, error, runtime error).
const (
	StatusSuccess      = "success"
	StatusError        = "error"
	StatusSkipped      = "skipped"
	StatusPass         = "pass"
	StatusFail         = "fail"
	StatusWarn         = "warn"
	StatusRuntimeError = "runtime error"
	StatusNoOp         = "no-op"
)

// RunResults is dbt's run_results.json (schema v6).
type RunResults struct {
	Metadata    Metadata       `json:"metadata"`
	Results     []RunResult    `json:"results"`
	ElapsedTime float64        `json:"elapsed_time"`
	Args        map[string]any `json:"args,omitempty"`
}

// RunResult is the result of one node.
type RunResult struct {
	Status          string         `json:"status"`
	Timing          []Timing       `json:"timing"`
	ThreadID        string         `json:"thread_id"`
	ExecutionTime   float64        `json:"execution_time"`
	AdapterResponse map[string]any `json:"adapter_response"`
	Message         *string        `json:"message"`
	Failures        *int           `json:"failures"`
	UniqueID        string         `json:"unique_id"`
	Compiled        *bool          `json:"compiled"`
	CompiledCode    *string        `json:"compiled_code"`
	RelationName    *string        `json:"relation_name"`
	BatchResults    any            `json:"batch_results,omitempty"`
}

// NewRunResults returns run results with metadata for now.
func NewRunResults(md Metadata) *RunResults {
	md.DBTSchemaVersion = RunResultsV6
	return &RunResults{Metadata: md, Results: []RunResult{}, Args: map[string]any{}}
}

// MarshalJSON writes empty collections as [] and {}: the bytes of
// encoding/json on the result's fields, written field by field (a run
// has one result per node).
func (r RunResult) MarshalJSON() ([]byte, error) {
	return r.appendJSON(make([]byte, 0, 512))
}

func (r RunResult) appendJSON(out []byte) ([]byte, error) {
	e := nodeEncoder{out: append(out, '{')}
	e.str("status", r.Status)
	if e.key("timing") {
		e.out = append(e.out, '[')
		for i, t := range r.Timing {
			if i > 0 {
				e.out = append(e.out, ',')
			}
			e.out = append(e.out, `{"name":`...)
			e.out = appendString(e.out, t.Name)
			e.out = append(e.out, `,"started_at":`...)
			e.out = appendStringPtr(e.out, t.StartedAt)
			e.out = append(e.out, `,"completed_at":`...)
			e.out = appendStringPtr(e.out, t.CompletedAt)
			e.out = append(e.out, '}')
		}
		e.out = append(e.out, ']')
	}
	e.str("thread_id", r.ThreadID)
	if e.key("execution_time") {
		e.float(r.ExecutionTime)
	}
	if e.key("adapter_response") {
		if len(r.AdapterResponse) == 0 {
			e.out = append(e.out, "{}"...)
		} else {
			e.marshal(r.AdapterResponse)
		}
	}
	e.strPtr("message", r.Message)
	if e.key("failures") {
		if r.Failures == nil {
			e.out = append(e.out, "null"...)
		} else {
			e.out = strconv.AppendInt(e.out, int64(*r.Failures), 10)
		}
	}
	e.str("unique_id", r.UniqueID)
	if e.key("compiled") {
		if r.Compiled == nil {
			e.out = append(e.out, "null"...)
		} else {
			e.out = strconv.AppendBool(e.out, *r.Compiled)
		}
	}
	e.strPtr("compiled_code", r.CompiledCode)
	e.strPtr("relation_name", r.RelationName)
	if r.BatchResults != nil && e.key("batch_results") {
		e.marshal(r.BatchResults)
	}
	if e.err != nil {
		return nil, e.err
	}
	return append(e.out, '}'), nil
}

// ReadRunResults reads a run_results.json (for --state and retry).
func ReadRunResults(path string) (*RunResults, error) {
	var r RunResults
	if err := readFile(path, &r, "run-results", func() string { return r.Metadata.DBTSchemaVersion }); err != nil {
		return nil, err
	}
	return &r, nil
}

// Statuses maps unique ids to their status.
func (r *RunResults) Statuses() map[string]string {
	out := make(map[string]string, len(r.Results))
	for _, res := range r.Results {
		out[res.UniqueID] = res.Status
	}
	return out
}

// Catalog is dbt's catalog.json (schema v1), written by docs generate: the
// columns and statistics of every relation the project built or reads.
type Catalog struct {
	Metadata Metadata                 `json:"metadata"`
	Nodes    map[string]*CatalogTable `json:"nodes"`
	Sources  map[string]*CatalogTable `json:"sources"`
	Errors   []string                 `json:"errors"`
}

// NewCatalog returns an empty catalog with metadata for now.
func NewCatalog(md Metadata) *Catalog {
	md.DBTSchemaVersion = CatalogV1
	return &Catalog{Metadata: md, Nodes: map[string]*CatalogTable{}, Sources: map[string]*CatalogTable{}}
}

// CatalogTable is one relation of the catalog.
type CatalogTable struct {
	Metadata TableMetadata             `json:"metadata"`
	Columns  map[string]*CatalogColumn `json:"columns"`
	Stats    map[string]*StatsItem     `json:"stats"`
	UniqueID *string                   `json:"unique_id"`
}

// TableMetadata describes a relation: its type (BASE TABLE, VIEW, …) and
// name.
type TableMetadata struct {
	Type     string  `json:"type"`
	Schema   string  `json:"schema"`
	Name     string  `json:"name"`
	Database *string `json:"database"`
	Comment  *string `json:"comment"`
	Owner    *string `json:"owner"`
}

// CatalogColumn is one column of a relation: its type and 1-based position.
type CatalogColumn struct {
	Type    string  `json:"type"`
	Index   int     `json:"index"`
	Name    string  `json:"name"`
	Comment *string `json:"comment"`
}

// StatsItem is one statistic of a relation (row count, size, …).
type StatsItem struct {
	ID          string  `json:"id"`
	Label       string  `json:"label"`
	Value       any     `json:"value"`
	Include     bool    `json:"include"`
	Description *string `json:"description"`
}

// NoStats is the stats dbt writes for a relation without statistics.
func NoStats() map[string]*StatsItem {
	return map[string]*StatsItem{"has_stats": {ID: "has_stats", Label: "Has Stats?", Value: false, Include: false, Description: Str("Indicates whether there are statistics for this table")}}
}

// RowCountStats is the stats of a relation whose row count is known.
func RowCountStats(rows int64) map[string]*StatsItem {
	return map[string]*StatsItem{
		"row_count": {ID: "row_count", Label: "Row Count", Value: rows, Include: true, Description: Str("Number of rows in the table")},
		"has_stats": {ID: "has_stats", Label: "Has Stats?", Value: true, Include: false, Description: Str("Indicates whether there are statistics for this table")},
	}
}

// ReadCatalog reads a catalog.json.
func ReadCatalog(path string) (*Catalog, error) {
	var c Catalog
	if err := readFile(path, &c, "catalog", func() string { return c.Metadata.DBTSchemaVersion }); err != nil {
		return nil, err
	}
	return &c, nil
}

// Sources is dbt's sources.json (schema v3), written by source freshness.
type Sources struct {
	Metadata    Metadata          `json:"metadata"`
	Results     []FreshnessResult `json:"results"`
	ElapsedTime float64           `json:"elapsed_time"`
}

// NewSources returns empty freshness results with metadata for now.
func NewSources(md Metadata) *Sources {
	md.DBTSchemaVersion = SourcesV3
	return &Sources{Metadata: md, Results: []FreshnessResult{}}
}

// FreshnessResult is the freshness of one source table. A runtime error
// (the query failed) has only UniqueID, Status "runtime error" and Error.
type FreshnessResult struct {
	UniqueID              string         `json:"unique_id"`
	MaxLoadedAt           string         `json:"max_loaded_at"`
	SnapshottedAt         string         `json:"snapshotted_at"`
	MaxLoadedAtTimeAgoInS float64        `json:"max_loaded_at_time_ago_in_s"`
	Status                string         `json:"status"`
	Criteria              Freshness      `json:"criteria"`
	AdapterResponse       map[string]any `json:"adapter_response"`
	Timing                []Timing       `json:"timing"`
	ThreadID              string         `json:"thread_id"`
	ExecutionTime         float64        `json:"execution_time"`
	Error                 string         `json:"-"`
}

// MarshalJSON writes a runtime error in its own shape, as dbt does.
func (f FreshnessResult) MarshalJSON() ([]byte, error) {
	if f.Status == StatusRuntimeError {
		return json.Marshal(struct {
			UniqueID string `json:"unique_id"`
			Error    string `json:"error"`
			Status   string `json:"status"`
		}{f.UniqueID, f.Error, f.Status})
	}
	type plain FreshnessResult
	c := plain(f)
	fill(&c.Timing)
	if c.AdapterResponse == nil {
		c.AdapterResponse = map[string]any{}
	}
	return json.Marshal(c)
}

// UnmarshalJSON reads both shapes of a freshness result.
func (f *FreshnessResult) UnmarshalJSON(data []byte) error {
	type plain FreshnessResult
	var c plain
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	var e struct {
		Error any `json:"error"`
	}
	_ = json.Unmarshal(data, &e)
	*f = FreshnessResult(c)
	if e.Error != nil {
		f.Error = toString(e.Error)
	}
	return nil
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ReadSources reads a sources.json (for source_status selection).
func ReadSources(path string) (*Sources, error) {
	var s Sources
	if err := readFile(path, &s, "sources", func() string { return s.Metadata.DBTSchemaVersion }); err != nil {
		return nil, err
	}
	return &s, nil
}
