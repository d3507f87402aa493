package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// inferFiles is how many of a stream's newest files schema inference
// samples.
const inferFiles = 10

// Source is the native file source. Create it with New; it holds no
// resources, so one Source can serve any number of reads.
type Source struct {
	logger *slog.Logger
	now    func() time.Time
}

// Option configures a Source.
type Option func(*Source)

// WithLogger sends the source's logs to l (default: discarded).
func WithLogger(l *slog.Logger) Option {
	return func(s *Source) {
		if l != nil {
			s.logger = l
		}
	}
}

// New returns a file source.
func New(opts ...Option) *Source {
	s := &Source{logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

var _ airbyte.Source = (*Source)(nil)

// Spec returns the source's specification; its connectionSpecification is
// the JSON schema of Config.
func (s *Source) Spec(ctx context.Context) (*airbyte.ConnectorSpecification, error) {
	return &airbyte.ConnectorSpecification{
		ConnectionSpecification:       append(json.RawMessage(nil), specJSON...),
		SupportsIncremental:           true,
		SupportedDestinationSyncModes: []airbyte.DestinationSyncMode{airbyte.Overwrite, airbyte.Append, airbyte.AppendDedup},
	}, nil
}

// Check validates the config (an invalid one is an *airbyte.ConfigError), then
// lists every stream's files and parses the first record of each stream's
// newest file. A stream whose globs match nothing or whose file does not
// parse gives a FAILED status naming it.
func (s *Source) Check(ctx context.Context, config json.RawMessage) (*airbyte.ConnectionStatus, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	var problems []string
	for i := range cfg.Streams {
		sc := &cfg.Streams[i]
		files, err := s.streamFiles(ctx, cfg, sc)
		if err == nil {
			newest := files[len(files)-1]
			_, err = inferFile(ctx, sc, newest, 1)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return &airbyte.ConnectionStatus{Status: airbyte.StatusFailed, Message: strings.Join(problems, "; ")}, nil
	}
	return &airbyte.ConnectionStatus{Status: airbyte.StatusSucceeded}, nil
}

// Discover returns one stream per configured stream. Its JSON schema is
// inferred from the first infer_rows rows of each of the stream's ten
// newest files (CSV, JSONL) or read from their metadata (Parquet), merged,
// plus the _ab_source_file_url and _ab_source_file_last_modified columns.
// Streams support full refresh and incremental; the cursor is
// _ab_source_file_last_modified, defined by the source.
func (s *Source) Discover(ctx context.Context, config json.RawMessage) (*airbyte.Catalog, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	cat := &airbyte.Catalog{Streams: []airbyte.Stream{}}
	resumable := true
	for i := range cfg.Streams {
		sc := &cfg.Streams[i]
		cols, err := s.inferStream(ctx, cfg, sc)
		if err != nil {
			return nil, err
		}
		cat.Streams = append(cat.Streams, airbyte.Stream{
			Name:                sc.Name,
			JSONSchema:          streamSchema(cols),
			SupportedSyncModes:  []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental},
			SourceDefinedCursor: true,
			DefaultCursorField:  []string{ColumnFileLastModified},
			IsResumable:         &resumable,
		})
	}
	return cat, nil
}

func (s *Source) streamFiles(ctx context.Context, cfg *Config, sc *StreamConfig) ([]fileEntry, error) {
	files, err := listFiles(ctx, cfg.BaseDir, sc.Globs)
	if err != nil {
		return nil, fmt.Errorf("file source: stream %q: %w", sc.Name, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("file source: stream %q: globs %s: %w", sc.Name, quoteAll(sc.Globs), ErrNoFiles)
	}
	return files, nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// inferStream infers a stream's columns from its newest files.
func (s *Source) inferStream(ctx context.Context, cfg *Config, sc *StreamConfig) ([]column, error) {
	files, err := s.streamFiles(ctx, cfg, sc)
	if err != nil {
		return nil, err
	}
	if len(files) > inferFiles {
		files = files[len(files)-inferFiles:]
	}
	var cols []column
	index := map[string]int{}
	var sets []typeSet                     // CSV: what each column's values could be
	for i := len(files) - 1; i >= 0; i-- { // newest first: its column order wins
		fi, err := inferFile(ctx, sc, files[i], sc.inferRows())
		if err != nil {
			return nil, fmt.Errorf("file source: stream %q: %w", sc.Name, err)
		}
		for k, c := range fi.cols {
			j, ok := index[c.name]
			if !ok {
				j = len(cols)
				index[c.name] = j
				cols = append(cols, column{name: c.name})
				sets = append(sets, typeSet{})
			}
			if fi.sets != nil {
				sets[j] = sets[j].and(fi.sets[k])
			} else {
				cols[j].typ = cols[j].typ.merge(c.typ)
			}
		}
	}
	if sc.Format.FileType == FileTypeCSV {
		for j := range cols {
			cols[j].typ = colType{kind: sets[j].kind()}
			if sc.Format.AllStrings {
				cols[j].typ = colType{kind: kString}
			}
		}
	}
	for j := range cols {
		if cols[j].typ.kind == kUnknown {
			cols[j].typ.kind = kString
		}
	}
	return cols, nil
}

// fileInference is what one file says about a stream's columns.
type fileInference struct {
	cols []column
	sets []typeSet // CSV only, parallel to cols
}

// inferFile reads a file's columns: the header and n rows (CSV), n objects
// (JSONL), the metadata (Parquet).
func inferFile(ctx context.Context, sc *StreamConfig, fe fileEntry, n int) (*fileInference, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(fe.osPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	switch sc.Format.FileType {
	case FileTypeCSV:
		rd, release, err := decompressed(f, fe.url)
		if err != nil {
			return nil, err
		}
		defer release()
		names, sets, err := csvInfer(newCSVParser(rd, fe.url, &sc.Format), &sc.Format, n)
		if err != nil {
			return nil, err
		}
		fi := &fileInference{sets: sets}
		for _, nm := range names {
			fi.cols = append(fi.cols, column{name: nm})
		}
		return fi, nil
	case FileTypeJSONL:
		rd, release, err := decompressed(f, fe.url)
		if err != nil {
			return nil, err
		}
		defer release()
		cols, err := jsonlInfer(newLineReader(rd, fe.url), n)
		if err != nil {
			return nil, err
		}
		return &fileInference{cols: cols}, nil
	case FileTypeParquet:
		pf, err := openParquet(f, fe.url, fe.size)
		if err != nil {
			return nil, err
		}
		return &fileInference{cols: parquetColumns(pf.Schema())}, nil
	}
	return nil, fmt.Errorf("unknown filetype %q", sc.Format.FileType)
}

// readPlan is one configured stream to read.
type readPlan struct {
	sc       *StreamConfig
	desc     airbyte.StreamDescriptor
	mode     airbyte.SyncMode
	types    map[string]colType // from the configured catalog; nil: infer
	previous *streamState       // incremental: where the last read ended
}

// Read reads the configured streams one after the other. Each stream's
// files are read oldest first; after each file comes a STREAM state that
// lists every file read so far with its modification time and size. In
// incremental mode only files that are new, or whose modification time or
// size differ from the state, are read; full refresh reads every file.
// Each stream begins with a STARTED and ends with a COMPLETE stream status
// trace. Values are typed by the configured stream's JSON schema (as
// Discover produced it; if it has no properties, the schema is inferred
// first). Bad input ends the sequence with a *ParseError naming file and
// line; a stream whose globs match nothing ends it with ErrNoFiles.
//
// The data of records up to 2 KiB is written into shared 16 KiB blocks: a
// consumer that keeps one record keeps its block.
func (s *Source) Read(ctx context.Context, config json.RawMessage, catalog *airbyte.ConfiguredCatalog, state []airbyte.StateMessage) (airbyte.ReadStream, error) {
	cfg, err := ParseConfig(config)
	if err != nil {
		return nil, err
	}
	if catalog == nil {
		return nil, errors.New("file source: read: no configured catalog")
	}
	states, err := statesByStream(state)
	if err != nil {
		return nil, fmt.Errorf("file source: read: %w", err)
	}
	byName := map[string]*StreamConfig{}
	for i := range cfg.Streams {
		byName[cfg.Streams[i].Name] = &cfg.Streams[i]
	}
	r := &reader{src: s, cfg: cfg, ctx: ctx}
	for _, cs := range catalog.Streams {
		sc, ok := byName[cs.Stream.Name]
		if !ok {
			return nil, fmt.Errorf("file source: configured stream %q: %w", cs.Stream.Name, ErrUnknownStream)
		}
		p := readPlan{sc: sc, desc: cs.Stream.Descriptor(), mode: cs.SyncMode}
		switch cs.SyncMode {
		case airbyte.FullRefresh, airbyte.Incremental:
		case "":
			p.mode = airbyte.FullRefresh
		default:
			return nil, fmt.Errorf("file source: configured stream %q: unsupported sync mode %q", cs.Stream.Name, cs.SyncMode)
		}
		if p.types, err = schemaColumns(cs.Stream.JSONSchema); err != nil {
			return nil, fmt.Errorf("file source: configured stream %q: json_schema: %w", cs.Stream.Name, err)
		}
		if p.mode == airbyte.Incremental {
			p.previous = states[p.desc]
		}
		r.plans = append(r.plans, p)
	}
	return r, nil
}

// reader is a running Read.
type reader struct {
	src     *Source
	cfg     *Config
	ctx     context.Context
	plans   []readPlan
	started atomic.Bool
	closed  atomic.Bool
}

var errClosed = errors.New("file source: read stream closed")

// Messages yields the read's messages; see Source.Read.
func (r *reader) Messages() iter.Seq2[*airbyte.Message, error] {
	return func(yield func(*airbyte.Message, error) bool) {
		if !r.started.CompareAndSwap(false, true) {
			yield(nil, errors.New("file source: Messages called twice on one read"))
			return
		}
		for i := range r.plans {
			if !r.readStream(&r.plans[i], yield) {
				return
			}
		}
	}
}

// Ack is a no-op: the file source holds nothing until a state is
// committed.
func (r *reader) Ack(ctx context.Context, state *airbyte.StateMessage) error { return nil }

// Close stops the read at its next record.
func (r *reader) Close() error {
	r.closed.Store(true)
	return nil
}

func (r *reader) stopped() error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if r.closed.Load() {
		return errClosed
	}
	return nil
}

func (r *reader) status(p *readPlan, st airbyte.StreamStatus) *airbyte.Message {
	return &airbyte.Message{Type: airbyte.TypeTrace, Trace: &airbyte.TraceMessage{
		Type:         airbyte.TraceStreamStatus,
		EmittedAt:    float64(r.src.now().UnixMilli()),
		StreamStatus: &airbyte.StreamStatusTrace{StreamDescriptor: p.desc, Status: st},
	}}
}

// readStream reads one stream; false means stop.
func (r *reader) readStream(p *readPlan, yield func(*airbyte.Message, error) bool) bool {
	log := r.src.logger.With("stream", p.sc.Name)
	fail := func(err error) bool {
		yield(nil, err)
		return false
	}
	if err := r.stopped(); err != nil {
		return fail(fmt.Errorf("file source: stream %q: %w", p.sc.Name, err))
	}
	if !yield(r.status(p, airbyte.StreamStarted), nil) {
		return false
	}
	files, err := r.src.streamFiles(r.ctx, r.cfg, p.sc)
	if err != nil {
		return fail(err)
	}
	types := p.types
	if p.sc.Format.AllStrings {
		types = nil
	} else if types == nil && p.sc.Format.FileType != FileTypeParquet {
		cols, err := r.src.inferStream(r.ctx, r.cfg, p.sc)
		if err != nil {
			return fail(err)
		}
		types = make(map[string]colType, len(cols))
		for _, c := range cols {
			types[c.name] = c.typ
		}
	}

	// The new state keeps what the previous one knew of files that still
	// exist; files that are gone drop out.
	st := &streamState{History: map[string]fileRecord{}}
	todo := files
	if p.mode == airbyte.Incremental && p.previous != nil {
		st.Horizon = p.previous.Horizon
		horizon, hasHorizon := p.previous.horizon()
		todo = todo[:0:0]
		for _, f := range files {
			rec, known := p.previous.History[f.url]
			if known && !rec.changed(f) {
				st.History[f.url] = rec
				st.Cursor = lastModifiedText(f.modTime) + "_" + f.url
				continue
			}
			if !known && hasHorizon && !f.modTime.After(horizon) {
				continue // read before its entry was evicted
			}
			todo = append(todo, f)
		}
	}
	log.Debug("file source: files to read", "matched", len(files), "to_read", len(todo), "mode", p.mode)

	if len(todo) == 0 {
		if !yield(r.stateMessage(p, st, 0), nil) {
			return false
		}
	}
	for _, f := range todo {
		n, err := r.readFile(p, types, f, log, yield)
		if err != nil {
			if errors.Is(err, errStop) {
				return false
			}
			return fail(err)
		}
		st.History[f.url] = recordOf(f)
		if c := lastModifiedText(f.modTime) + "_" + f.url; c > st.Cursor {
			st.Cursor = c
		}
		st.evict(maxHistory)
		if !yield(r.stateMessage(p, st, n), nil) {
			return false
		}
	}
	return yield(r.status(p, airbyte.StreamComplete), nil)
}

func (r *reader) stateMessage(p *readPlan, st *streamState, records int64) *airbyte.Message {
	raw, _ := json.Marshal(st) // maps of strings and ints always marshal
	count := float64(records)
	return &airbyte.Message{Type: airbyte.TypeState, State: &airbyte.StateMessage{
		Type:        airbyte.StateStream,
		Stream:      &airbyte.StreamState{StreamDescriptor: p.desc, StreamState: raw},
		SourceStats: &airbyte.StateStats{RecordCount: &count},
	}}
}

// errStop means the consumer stopped the loop.
var errStop = errors.New("stopped by the consumer")

// recordReader yields the record data of one file.
type recordReader interface {
	// next appends the next record's data to dst, or returns io.EOF.
	next(dst []byte) ([]byte, []airbyte.RecordChange, error)
}

// slab holds the data of records: small records are written straight into
// shared 16 KiB blocks, which saves an allocation and a copy per record. A
// block lives as long as any record in it.
type slab struct {
	buf  []byte
	last int // the previous record's length
}

const (
	slabSize     = 16 << 10 // under 32 KiB: a small object to the allocator
	slabMaxShare = 2 << 10  // larger records get their own allocation
)

// room returns an empty slice to append the next record to: the free end
// of the current block, or nil for a large record.
func (s *slab) room() []byte {
	if s.last > slabMaxShare {
		return nil
	}
	if cap(s.buf)-len(s.buf) < 2*s.last+64 {
		s.buf = make([]byte, 0, slabSize)
	}
	return s.buf[len(s.buf):len(s.buf)]
}

// keep takes a record built on room's slice: if it stayed inside the block
// the block's free part shrinks by its length. It returns the record with
// its capacity clipped, so appending to it cannot touch its neighbours.
func (s *slab) keep(data []byte) []byte {
	s.last = len(data)
	free := s.buf[len(s.buf):cap(s.buf)]
	if len(data) > 0 && len(free) >= len(data) && &data[0] == &free[0] {
		s.buf = s.buf[:len(s.buf)+len(data)]
	}
	return data[:len(data):len(data)]
}

// recordMessage is a RECORD message allocated in one piece.
type recordMessage struct {
	msg airbyte.Message
	rec airbyte.RecordMessage
}

// readFile reads one file's records and yields them; it returns how many.
func (r *reader) readFile(p *readPlan, types map[string]colType, fe fileEntry, log *slog.Logger, yield func(*airbyte.Message, error) bool) (int64, error) {
	f, err := os.Open(fe.osPath)
	if err != nil {
		return 0, fmt.Errorf("file source: stream %q: %w", p.sc.Name, err)
	}
	defer f.Close()

	suffix := appendJSONString(nil, ColumnFileURL)
	suffix = append(suffix, ':')
	suffix = appendJSONString(suffix, fe.url)
	suffix = append(suffix, ',')
	suffix = appendJSONString(suffix, ColumnFileLastModified)
	suffix = append(suffix, ':')
	suffix = appendJSONString(suffix, lastModifiedText(fe.modTime))
	suffix = append(suffix, '}')

	var rr recordReader
	switch p.sc.Format.FileType {
	case FileTypeCSV:
		rd, release, err := decompressed(f, fe.url)
		if err != nil {
			return 0, fmt.Errorf("file source: stream %q: %w", p.sc.Name, err)
		}
		defer release()
		cr, err := newCSVRecords(rd, fe, p.sc, types, suffix)
		if err != nil {
			return 0, fmt.Errorf("file source: stream %q: %w", p.sc.Name, err)
		}
		rr = cr
	case FileTypeJSONL:
		rd, release, err := decompressed(f, fe.url)
		if err != nil {
			return 0, fmt.Errorf("file source: stream %q: %w", p.sc.Name, err)
		}
		defer release()
		rr = &jsonlRecords{l: newLineReader(rd, fe.url), types: types, suffix: suffix, nullOnErr: p.sc.nullOnTypeError()}
	case FileTypeParquet:
		pf, err := openParquet(f, fe.url, fe.size)
		if err != nil {
			return 0, fmt.Errorf("file source: stream %q: %w", p.sc.Name, err)
		}
		pr := newParquetRecords(pf, fe.url, suffix)
		defer pr.close()
		rr = pr
	default:
		return 0, fmt.Errorf("file source: stream %q: unknown filetype %q", p.sc.Name, p.sc.Format.FileType)
	}

	log.Debug("file source: reading", "file", fe.url, "size", fe.size)
	var n, nulled int64
	var emittedAt int64
	var mem slab
	for {
		if n%256 == 0 {
			if err := r.stopped(); err != nil {
				return n, fmt.Errorf("file source: stream %q: file %s: %w", p.sc.Name, fe.url, err)
			}
			emittedAt = r.src.now().UnixMilli()
		}
		data, changes, err := rr.next(mem.room())
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("file source: stream %q: %w", p.sc.Name, err)
		}
		rm := &recordMessage{}
		rm.rec = airbyte.RecordMessage{Namespace: p.desc.Namespace, Stream: p.desc.Name, Data: mem.keep(data), EmittedAt: emittedAt}
		rm.msg = airbyte.Message{Type: airbyte.TypeRecord, Record: &rm.rec}
		rec := &rm.rec
		if len(changes) > 0 {
			rec.Meta = &airbyte.RecordMeta{Changes: changes}
			if nulled == 0 {
				log.Warn("file source: value nulled", "file", fe.url, "record", n+1, "field", changes[0].Field, "reason", changes[0].Reason)
			}
			nulled++
		}
		n++
		if !yield(&rm.msg, nil) {
			return n, errStop
		}
	}
	if nulled > 0 {
		log.Warn("file source: records with nulled values", "file", fe.url, "records", nulled)
	}
	log.Debug("file source: read", "file", fe.url, "records", n)
	return n, nil
}

// newCSVRecords reads a CSV file's header and prepares its records.
func newCSVRecords(f io.Reader, fe fileEntry, sc *StreamConfig, types map[string]colType, suffix []byte) (*csvRecords, error) {
	p := newCSVParser(f, fe.url, &sc.Format)
	names, pending, err := p.header(&sc.Format)
	if err != nil {
		return nil, err
	}
	r := &csvRecords{
		p:         p,
		names:     names,
		nulls:     nullValues(&sc.Format),
		bools:     newBoolWords(&sc.Format),
		suffix:    suffix,
		nullOnErr: sc.nullOnTypeError(),
		pending:   pending,
	}
	for _, n := range names {
		r.keys = append(r.keys, append(appendJSONString(nil, n), ':'))
		t, ok := types[n]
		if !ok || sc.Format.AllStrings {
			t = colType{kind: kString}
		}
		r.types = append(r.types, t)
	}
	return r, nil
}
