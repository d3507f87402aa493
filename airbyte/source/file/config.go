package file

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/dataopskit/dataops/airbyte"
)

//go:embed spec.json
var specJSON []byte

// Config is the source's configuration, the JSON document that Spec
// describes.
type Config struct {
	// BaseDir is the directory relative globs start from; empty means the
	// working directory.
	BaseDir string `json:"base_dir,omitempty"`
	// Streams are the streams the source offers, one per entry.
	Streams []StreamConfig `json:"streams"`
}

// StreamConfig configures one stream: which files it reads and how.
type StreamConfig struct {
	// Name is the stream's name.
	Name string `json:"name"`
	// Globs select the stream's files (see the package doc for the syntax).
	Globs []string `json:"globs"`
	// Format says how the files are parsed.
	Format Format `json:"format"`
	// InferRows is how many rows of each sampled file schema inference
	// reads (CSV and JSONL); 0 means 1000.
	InferRows int `json:"infer_rows,omitempty"`
	// OnTypeError is what happens to a value that breaks the stream's schema:
	// "fail" (the default) or "null".
	OnTypeError string `json:"on_type_error,omitempty"`
}

// File types.
const (
	FileTypeCSV     = "csv"
	FileTypeJSONL   = "jsonl"
	FileTypeParquet = "parquet"
)

// Values of StreamConfig.OnTypeError.
const (
	OnTypeErrorFail = "fail"
	OnTypeErrorNull = "null"
)

// Format says how a stream's files are parsed. Fields other than FileType
// apply to CSV only.
type Format struct {
	// FileType is "csv", "jsonl" or "parquet".
	FileType string `json:"filetype"`
	// Delimiter separates fields: one ASCII character, default ",".
	Delimiter string `json:"delimiter,omitempty"`
	// QuoteChar quotes fields: one ASCII character, default `"`.
	QuoteChar string `json:"quote_char,omitempty"`
	// EscapeChar, when set, makes the next character literal inside a
	// quoted field.
	EscapeChar string `json:"escape_char,omitempty"`
	// DoubleQuote (default true) reads two quote characters inside a quoted
	// field as one.
	DoubleQuote *bool `json:"double_quote,omitempty"`
	// Encoding is "utf8" (default) or "latin1" (ISO-8859-1).
	Encoding string `json:"encoding,omitempty"`
	// Header says whether the first row names the columns. Unset means true
	// unless ColumnNames is given.
	Header *bool `json:"header,omitempty"`
	// ColumnNames name the columns. With Header true the file's own header
	// row is skipped; with neither, columns are named f0, f1, ...
	ColumnNames []string `json:"column_names,omitempty"`
	// SkipRowsBeforeHeader rows are skipped at the start of every file.
	SkipRowsBeforeHeader int `json:"skip_rows_before_header,omitempty"`
	// NullValues are field values that read as null. An unquoted empty
	// field is always null; a quoted empty field is an empty string.
	NullValues []string `json:"null_values,omitempty"`
	// TrueValues read as true in boolean columns (case-insensitive).
	TrueValues []string `json:"true_values,omitempty"`
	// FalseValues read as false in boolean columns (case-insensitive).
	FalseValues []string `json:"false_values,omitempty"`
	// AllStrings turns type inference off: every column is a string.
	AllStrings bool `json:"all_strings,omitempty"`
}

// connectorName names this source in config errors.
const connectorName = "file source"

// ParseConfig validates raw against the source's spec (with
// airbyte.ValidateConfig) and the rules a JSON schema cannot express, and
// decodes it. An invalid config gives an *airbyte.ConfigError listing every
// failing path.
func ParseConfig(raw json.RawMessage) (*Config, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	if err := airbyte.ValidateConfig(&airbyte.ConnectorSpecification{ConnectionSpecification: specJSON}, raw); err != nil {
		var ce *airbyte.ConfigError
		if errors.As(err, &ce) && ce.Connector == "" {
			ce.Connector = connectorName
		}
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, &airbyte.ConfigError{Connector: connectorName, Problems: []airbyte.ConfigProblem{{Path: "$", Message: err.Error()}}}
	}
	if problems := cfg.check(); len(problems) > 0 {
		return nil, &airbyte.ConfigError{Connector: connectorName, Problems: problems}
	}
	return &cfg, nil
}

// check enforces what the JSON schema cannot say.
func (c *Config) check() []airbyte.ConfigProblem {
	var ps []airbyte.ConfigProblem
	add := func(format string, args ...any) func(string) {
		return func(p string) { ps = append(ps, airbyte.ConfigProblem{Path: p, Message: fmt.Sprintf(format, args...)}) }
	}
	seen := map[string]int{}
	for i, s := range c.Streams {
		base := fmt.Sprintf("$.streams[%d]", i)
		if j, dup := seen[s.Name]; dup {
			add("stream name %q is also used by $.streams[%d]", s.Name, j)(base + ".name")
		}
		seen[s.Name] = i
		for k, g := range s.Globs {
			if _, err := path.Match(g, ""); err != nil {
				add("glob %q: %v", g, err)(fmt.Sprintf("%s.globs[%d]", base, k))
			}
		}
		f := s.Format
		if f.FileType != FileTypeCSV {
			continue
		}
		fb := base + ".format"
		oneASCII := func(name, v string, allowEmpty bool) {
			if v == "" && allowEmpty {
				return
			}
			if len(v) != 1 || v[0] >= 0x80 || v[0] == '\n' || v[0] == '\r' {
				add("must be one ASCII character other than a line break, got %q", v)(fb + "." + name)
			}
		}
		oneASCII("delimiter", f.Delimiter, true)
		oneASCII("quote_char", f.QuoteChar, true)
		oneASCII("escape_char", f.EscapeChar, true)
		d, q, e := f.delimiter(), f.quote(), f.EscapeChar
		if d == q {
			add("delimiter and quote_char are both %q", d)(fb + ".quote_char")
		}
		if e != "" && (e == d) {
			add("escape_char and delimiter are both %q", e)(fb + ".escape_char")
		}
		names := map[string]bool{}
		for k, n := range f.ColumnNames {
			if names[n] {
				add("column name %q appears twice", n)(fmt.Sprintf("%s.column_names[%d]", fb, k))
			}
			names[n] = true
		}
	}
	return ps
}

func (f *Format) delimiter() string {
	if f.Delimiter == "" {
		return ","
	}
	return f.Delimiter
}

func (f *Format) quote() string {
	if f.QuoteChar == "" {
		return `"`
	}
	return f.QuoteChar
}

func (f *Format) doubleQuote() bool { return f.DoubleQuote == nil || *f.DoubleQuote }

func (f *Format) header() bool {
	if f.Header != nil {
		return *f.Header
	}
	return len(f.ColumnNames) == 0
}

func (f *Format) latin1() bool {
	switch strings.ToLower(f.Encoding) {
	case "latin1", "iso-8859-1":
		return true
	}
	return false
}

func (f *Format) trueValues() []string {
	if f.TrueValues == nil {
		return []string{"y", "yes", "t", "true", "on", "1"}
	}
	return f.TrueValues
}

func (f *Format) falseValues() []string {
	if f.FalseValues == nil {
		return []string{"n", "no", "f", "false", "off", "0"}
	}
	return f.FalseValues
}

func (s *StreamConfig) inferRows() int {
	if s.InferRows <= 0 {
		return 1000
	}
	return s.InferRows
}

func (s *StreamConfig) nullOnTypeError() bool { return s.OnTypeError == OnTypeErrorNull }
