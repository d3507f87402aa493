package selector

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dataopskit/dataops/transform/artifacts"
)

// LoadState reads the artifacts of a previous run from a --state directory:
// manifest.json for the state: method and run_results.json for result:.
// Either may be missing (selection then fails only if it needs it), not
// both.
func LoadState(dir string) (*State, error) {
	st := &State{}
	m, err := artifacts.ReadManifest(filepath.Join(dir, "manifest.json"))
	switch {
	case err == nil:
		st.Nodes, st.Macros = ManifestNodes(m), map[string]Macro{}
		for id, mac := range m.Macros {
			st.Macros[id] = Macro{SQL: mac.MacroSQL, DependsOn: mac.DependsOn.Macros}
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("--state %s: %w", dir, err)
	}
	r, err := artifacts.ReadRunResults(filepath.Join(dir, "run_results.json"))
	switch {
	case err == nil:
		st.Results = r.Statuses()
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("--state %s: %w", dir, err)
	}
	fr, err := ReadFreshness(filepath.Join(dir, "sources.json"))
	switch {
	case err == nil:
		st.Freshness = fr
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("--state %s: %w", dir, err)
	}
	if st.Nodes == nil && st.Results == nil && st.Freshness == nil {
		return nil, fmt.Errorf("%w: --state %s holds none of manifest.json, run_results.json, sources.json", ErrNoState, dir)
	}
	return st, nil
}

// ReadFreshness reads a sources.json into the map State.Freshness and
// State.CurrentFreshness hold: source unique id to max_loaded_at, "" for a
// runtime error.
func ReadFreshness(path string) (map[string]string, error) {
	s, err := artifacts.ReadSources(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(s.Results))
	for _, r := range s.Results {
		if r.Status == artifacts.StatusRuntimeError {
			out[r.UniqueID] = ""
		} else {
			out[r.UniqueID] = r.MaxLoadedAt
		}
	}
	return out, nil
}

// ManifestNodes adapts the nodes, sources, exposures and unit tests of a
// manifest to Node, by unique id.
func ManifestNodes(m *artifacts.Manifest) map[string]Node {
	out := map[string]Node{}
	for id, n := range m.Nodes {
		info := &Info{ID: id, Type: n.ResourceType, NodeName: n.Name, Package: n.PackageName, FullName: n.FQN, TagList: n.Tags,
			Path: n.OriginalFilePath, Conf: n.Config, Parents: n.DependsOn.Nodes, Sum: n.Checksum.Checksum,
			Macros: n.DependsOn.Macros, DescriptionText: n.Description}
		if n.PatchPath != nil {
			info.Patch = *n.PatchPath
		}
		if n.TestMetadata != nil {
			info.GenericTest = n.TestMetadata.Name
		}
		out[id] = info
	}
	for id, s := range m.Sources {
		out[id] = &Info{ID: id, Type: Source, NodeName: s.Name, Package: s.PackageName, FullName: s.FQN, TagList: s.Tags,
			Path: s.OriginalFilePath, Conf: s.Config, DescriptionText: s.Description}
	}
	for id, e := range m.Exposures {
		out[id] = &Info{ID: id, Type: Exposure, NodeName: e.Name, Package: e.PackageName, FullName: e.FQN, TagList: e.Tags,
			Path: e.OriginalFilePath, Conf: e.Config, Parents: e.DependsOn.Nodes, DescriptionText: e.Description}
	}
	for id, u := range m.UnitTests {
		out[id] = &Info{ID: id, Type: UnitTest, NodeName: u.Name, Package: u.PackageName, FullName: u.FQN,
			Path: u.OriginalFilePath, Conf: u.Config, Parents: u.DependsOn.Nodes, DescriptionText: u.Description}
	}
	return out
}
