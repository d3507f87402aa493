package transform

import (
	"github.com/dataopskit/dataops/transform/selector"
)

// SelectorGraph returns the project's DAG as package selector sees it:
// every node, source and exposure, with its fqn, tags, path, config and
// parents.
func (p *Project) SelectorGraph() selector.Graph {
	nodes := make([]selector.Node, 0, len(p.Nodes)+len(p.Sources)+len(p.Exposures))
	for _, n := range p.sortedNodes() {
		info := &selector.Info{
			ID: n.UniqueID, Type: string(n.ResourceType), NodeName: n.Name, Package: n.Package,
			FullName: n.FQN, TagList: n.Tags, Path: n.OriginalFilePath, Conf: n.Config.Raw,
			Parents: n.DependsOn, Sum: n.Checksum, Macros: n.DependsOnMacros, DescriptionText: n.Description,
			Patch: n.PatchPath,
		}
		if n.Test != nil {
			info.GenericTest = n.Test.Name
		}
		nodes = append(nodes, info)
	}
	for _, s := range p.Sources {
		nodes = append(nodes, &selector.Info{
			ID: s.UniqueID, Type: string(ResourceSource), NodeName: s.Name, Package: s.Package,
			FullName: s.FQN, TagList: s.Tags, Path: s.OriginalFilePath, Conf: map[string]any{"enabled": s.Enabled},
			DescriptionText: s.Description,
		})
	}
	for _, e := range p.Exposures {
		nodes = append(nodes, &selector.Info{
			ID: e.UniqueID, Type: string(ResourceExposure), NodeName: e.Name, Package: e.Package,
			FullName: e.FQN, TagList: e.Tags, Path: e.OriginalFilePath, Parents: e.DependsOn,
			DescriptionText: e.Description,
		})
	}
	return selector.NewGraph(nodes)
}

// selectMacros returns the project's macros as state comparison needs them.
func (p *Project) selectMacros() map[string]selector.Macro {
	out := make(map[string]selector.Macro, len(p.Macros))
	for id, m := range p.Macros {
		out[id] = selector.Macro{SQL: m.Source}
	}
	return out
}

// selectIDs runs package selector over the project for a command.
func (p *Project) selectIDs(opts RunOptions, kinds []ResourceType) (map[string]bool, error) {
	sels, err := selector.LoadSelectors(p.Dir, selector.SelectorsOptions{})
	if err != nil {
		return nil, err
	}
	var types []string
	for _, k := range kinds {
		types = append(types, string(k))
	}
	res, err := selector.Select(p.SelectorGraph(), selector.Options{
		Select: opts.Select, Exclude: opts.Exclude, Selector: opts.Selector, Selectors: sels,
		ResourceTypes: types, Indirect: opts.Indirect, State: opts.State, Macros: p.selectMacros(),
		ProjectName: p.Name,
	})
	if err != nil {
		return nil, err
	}
	for _, w := range res.Warnings {
		p.logger.Warn(w)
	}
	out := make(map[string]bool, len(res.Selected))
	for _, id := range res.Selected {
		out[id] = true
	}
	return out, nil
}
