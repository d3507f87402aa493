package file

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/dataopskit/dataops/airbyte"
)

// streamState is a stream's STATE: every file read so far with the
// modification time and size it had when it was listed, and a cursor
// naming the newest one as Airbyte's file-based sources do.
//
//	{"history": {"data/a.csv": {"last_modified": "2026-01-02T03:04:05.123456789Z", "size": 1234}},
//	 "_ab_source_file_last_modified": "2026-01-02T03:04:05.123456Z_data/a.csv"}
type streamState struct {
	History map[string]fileRecord `json:"history"`
	Cursor  string                `json:"_ab_source_file_last_modified,omitempty"`
	// Horizon is the newest modification time of the files evicted from a
	// full history: a file not in History whose modification time is not
	// after it counts as read.
	Horizon string `json:"horizon,omitempty"`
}

// maxHistory bounds how many files a state lists (as Airbyte's file-based
// sources do); beyond it the oldest entries give way to Horizon.
var maxHistory = 10000

// evict drops the oldest entries of a history longer than max, down to
// nine tenths of it (so that eviction does not run for every file), and
// moves Horizon up to the newest time evicted.
func (s *streamState) evict(max int) {
	if len(s.History) <= max {
		return
	}
	type entry struct {
		url string
		t   time.Time
	}
	entries := make([]entry, 0, len(s.History))
	for url, rec := range s.History {
		t, err := parseAirbyteTime(rec.LastModified)
		if err != nil {
			t = time.Time{} // unreadable: the first to go
		}
		entries = append(entries, entry{url, t})
	}
	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].t.Equal(entries[j].t) {
			return entries[i].t.Before(entries[j].t)
		}
		return entries[i].url < entries[j].url
	})
	horizon, _ := s.horizon()
	for _, e := range entries[:len(entries)-max*9/10] {
		delete(s.History, e.url)
		if e.t.After(horizon) {
			horizon = e.t
		}
	}
	s.Horizon = horizon.UTC().Format(time.RFC3339Nano)
}

// horizon parses Horizon.
func (s *streamState) horizon() (time.Time, bool) {
	if s.Horizon == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s.Horizon)
	return t, err == nil
}

// fileRecord is what the state remembers of a file.
type fileRecord struct {
	LastModified string `json:"last_modified"` // RFC 3339 with nanoseconds, UTC
	Size         int64  `json:"size"`          // -1: unknown (an Airbyte state)
}

// UnmarshalJSON also accepts Airbyte's form, a bare timestamp string.
func (r *fileRecord) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*r = fileRecord{LastModified: s, Size: -1}
		return nil
	}
	type plain fileRecord
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = fileRecord(p)
	return nil
}

func recordOf(f fileEntry) fileRecord {
	return fileRecord{LastModified: f.modTime.Format(time.RFC3339Nano), Size: f.size}
}

// changed reports whether f differs from what the state remembers: a
// different modification time or size. For an Airbyte state (no size,
// microsecond times) a file counts as changed when it is newer.
func (r fileRecord) changed(f fileEntry) bool {
	if r.Size < 0 {
		t, err := parseAirbyteTime(r.LastModified)
		if err != nil {
			return true
		}
		return f.modTime.Truncate(time.Microsecond).After(t)
	}
	return r.LastModified != f.modTime.Format(time.RFC3339Nano) || r.Size != f.size
}

func parseAirbyteTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000000Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", s)
}

// lastModifiedText renders a modification time as _ab_source_file_last_modified.
func lastModifiedText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// statesByStream picks each stream's state out of the states a read
// starts from: STREAM states, and the stream states of a GLOBAL one.
func statesByStream(states []airbyte.StateMessage) (map[airbyte.StreamDescriptor]*streamState, error) {
	out := map[airbyte.StreamDescriptor]*streamState{}
	add := func(s airbyte.StreamState) error {
		if len(s.StreamState) == 0 || string(s.StreamState) == "null" {
			return nil
		}
		var st streamState
		if err := json.Unmarshal(s.StreamState, &st); err != nil {
			return fmt.Errorf("state of stream %s: %w", s.StreamDescriptor, err)
		}
		out[s.StreamDescriptor] = &st
		return nil
	}
	for _, m := range states {
		switch {
		case m.Stream != nil:
			if err := add(*m.Stream); err != nil {
				return nil, err
			}
		case m.Global != nil:
			for _, s := range m.Global.StreamStates {
				if err := add(s); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}
