package staging

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dataopskit/dataops/airbyte"
	"github.com/dataopskit/dataops/warehouse"
)

// SyncOptions configure Sync.
type SyncOptions struct {
	Options
	// Config is the source's config.
	Config json.RawMessage
	// Streams names the streams to sync; default: all that Discover finds.
	Streams []string
}

// Sync does discover → configure → read → load in one call, PyAirbyte-style,
// and returns per-stream results. Each stream is configured as Airbyte's UI
// would by default: incremental when the source supports it and has a cursor
// (source-defined, or a default cursor field), deduplicated by its primary
// key when it has one, else appended; full refresh with overwrite otherwise.
// Reading resumes from the states the warehouse has committed.
func Sync(ctx context.Context, src airbyte.Source, w *warehouse.Warehouse, opts SyncOptions) (*Result, error) {
	cat, err := src.Discover(ctx, opts.Config)
	if err != nil {
		return nil, fmt.Errorf("staging: sync: discover: %w", err)
	}
	configured, err := Configure(cat, opts.Streams)
	if err != nil {
		return nil, err
	}
	l := NewLoader(w, opts.Options)
	state, err := l.State(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := src.Read(ctx, opts.Config, configured, state)
	if err != nil {
		return nil, fmt.Errorf("staging: sync: read: %w", err)
	}
	defer rs.Close()
	return l.Load(ctx, configured, rs)
}

// Configure chooses sync modes for the named streams of a catalog (all
// streams when names is empty), as Sync does. A name that the catalog does
// not hold is an error that names it.
func Configure(cat *airbyte.Catalog, names []string) (*airbyte.ConfiguredCatalog, error) {
	if cat == nil {
		return nil, fmt.Errorf("staging: configure: no catalog")
	}
	out := &airbyte.ConfiguredCatalog{}
	for _, name := range names {
		if !slices.ContainsFunc(cat.Streams, func(s airbyte.Stream) bool { return s.Name == name || s.Descriptor().String() == name }) {
			var have []string
			for _, s := range cat.Streams {
				have = append(have, s.Descriptor().String())
			}
			return nil, fmt.Errorf("staging: configure: stream %q is not in the source's catalog (it has: %s)", name, strings.Join(have, ", "))
		}
	}
	for _, s := range cat.Streams {
		if len(names) > 0 && !slices.Contains(names, s.Name) && !slices.Contains(names, s.Descriptor().String()) {
			continue
		}
		cs := airbyte.ConfiguredStream{Stream: s, SyncMode: airbyte.FullRefresh, DestinationSyncMode: airbyte.Overwrite}
		hasCursor := s.SourceDefinedCursor || len(s.DefaultCursorField) > 0
		if slices.Contains(s.SupportedSyncModes, airbyte.Incremental) && hasCursor {
			cs.SyncMode = airbyte.Incremental
			cs.CursorField = s.DefaultCursorField
			cs.DestinationSyncMode = airbyte.Append
			if len(s.SourceDefinedPrimaryKey) > 0 {
				cs.DestinationSyncMode = airbyte.AppendDedup
				cs.PrimaryKey = s.SourceDefinedPrimaryKey
			}
		}
		out.Streams = append(out.Streams, cs)
	}
	if len(out.Streams) == 0 {
		return nil, fmt.Errorf("staging: configure: the source has no streams")
	}
	return out, nil
}
