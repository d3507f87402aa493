// Package file is a native Airbyte source that reads CSV, JSONL and
// Parquet files from the local file system, in-process, speaking the
// Airbyte protocol like every other airbyte.Source.
//
// The shortest use:
//
//	src := file.New()
//	cfg := json.RawMessage(`{"streams":[{"name":"orders","globs":["data/orders/*.csv"],"format":{"filetype":"csv"}}]}`)
//	cat, err := src.Discover(ctx, cfg)
//	cc := &airbyte.ConfiguredCatalog{}
//	for _, s := range cat.Streams {
//		cc.Streams = append(cc.Streams, airbyte.ConfiguredStream{Stream: s, SyncMode: airbyte.Incremental, DestinationSyncMode: airbyte.Append})
//	}
//	rs, err := src.Read(ctx, cfg, cc, previousStates)
//	defer rs.Close()
//	for msg, err := range rs.Messages() { ... } // RECORDs, a STATE after each file
//
// # Config
//
// The config (see Config, and Spec for its JSON schema) lists streams,
// each with a name, one or more globs and a format. Globs are
// slash-separated: * and ? match within one path segment, [...] matches a
// character class, and a segment that is exactly ** matches any number of
// directories ("logs/**/*.jsonl"). Brace alternatives are not supported.
// Relative globs start from base_dir (default: the working directory);
// dot files match like any other; symbolic links to files are followed,
// to directories are not. A glob without wildcards names one file.
//
// # Formats
//
// CSV: header row, configured column_names or f0, f1, ... names; any
// one-character ASCII delimiter, quote and escape character; doubled quotes;
// quoted fields spanning lines; \n or \r\n line ends; empty lines skipped;
// UTF-8 (a byte order mark is skipped) or Latin-1 (ISO-8859-1, decoded to
// UTF-8); an empty file adds no columns and no records. An unquoted empty
// field and any of null_values read as null; a
// quoted empty field is an empty string. Unless all_strings is set,
// Discover infers each column's type from the first infer_rows rows of the
// stream's ten newest files: integer (JSON integer syntax within 64 bits;
// "007" stays a string so its zeros survive), number (JSON number syntax,
// copied digit for digit), boolean (true_values / false_values, matched
// case-insensitively; a column of only 0 and 1 is an integer column), date
// (YYYY-MM-DD), timestamp with or without a zone (YYYY-MM-DD[T ]hh:mm:ss[.f]
// [Z|±hh:mm], written with a T), else string.
//
// JSONL: one JSON object per line; blank lines are skipped; lines may be
// of any length. Discover merges the types of the first infer_rows objects
// of each sampled file: integer and number widen to number, types that
// cannot be reconciled leave the column untyped ({}); strings are not
// parsed into dates. Records carry each line's values verbatim.
//
// Parquet: the schema comes from the file's metadata (strings, integers
// signed and unsigned, floats, decimals written digit for digit,
// dates, times, timestamps with or without UTC adjustment, INT96, UUIDs,
// binary as base64, lists, maps and groups; decimals nested inside lists,
// maps or groups are as precise as a float64). Rows are read one row group
// and one batch of rows at a time; a file is never loaded whole.
//
// CSV and JSONL files whose names end in .gz or .zst are decompressed
// (gzip, zstandard) as they stream.
//
// Every record also carries _ab_source_file_url (the file's path as its
// glob matched it, slash-separated) and _ab_source_file_last_modified,
// as Airbyte's file-based sources do.
//
// # Reading and state
//
// Read takes the configured catalog's JSON schema as the truth for value
// types. Files are read oldest first; after each file comes a STREAM state
// listing every file read with the modification time and size it had when
// the read listed it:
//
//	{"history":{"orders/a.csv":{"last_modified":"2026-01-02T03:04:05.123456789Z","size":1234}},
//	 "_ab_source_file_last_modified":"2026-01-02T03:04:05.123456Z_orders/a.csv"}
//
// An incremental read skips files whose modification time and size match
// the state and reads the rest, so new and changed files are read (a
// changed file is read whole again); files that disappeared drop out of
// the state. An edit that keeps both the modification time and the size is
// not seen. A file that changes while it is being read is read again next
// time. States in Airbyte's own form (history of bare timestamps) are
// accepted: a file is read again when it is newer. Full refresh reads
// every file. Each stream is framed by STARTED and COMPLETE stream status
// traces.
//
// A state lists at most 10,000 files, as Airbyte's file-based sources
// allow. Past that the oldest entries are dropped and "horizon" records the
// newest modification time dropped: a file missing from the history counts
// as read when it is not newer than the horizon. So a file that appears
// with an old modification time (copied with its time preserved) behind
// the horizon is not read.
//
// # Bad input
//
// A malformed CSV record (an unclosed quote, text after a closing quote,
// a different number of fields than the header), a JSONL line that is not
// a JSON object or not valid UTF-8, an unreadable Parquet file: the read
// ends with a *ParseError naming the file and line. A value that breaks
// the column's type ("abc" in an integer column) does the same by default
// (on_type_error "fail", errors.Is(err, ErrTypeMismatch)). With
// on_type_error "null" the record is emitted with that field null and a
// meta change {field, NULLED, SOURCE_SERIALIZATION_ERROR}, the shape
// Airbyte destinations give typecast failures, and a warning is logged:
// nothing is dropped silently. (Airbyte's file-based sources, with their
// default validation policy, emit such a value unchanged and leave the
// destination to null it; this source never emits a value that contradicts
// the schema it declared, so it fails or nulls at the source, where the file
// and line are known.) In a JSONL string column a number, boolean,
// object or array becomes the string of its JSON text, which loses
// nothing. Parquet NaN and infinite floats, which JSON cannot carry, are
// nulled the same way. Globs that match no file give ErrNoFiles naming
// them; an invalid config gives an *airbyte.ConfigError listing every failing
// path.
//
// New returns a *Source, which implements airbyte.Source; importing the
// package also registers it as "file" (airbyte.NewSource("file")).
package file
