package transform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
)

// ErrNotSupported is matched by errors for features or targets the runner
// does not support yet (a snowflake target, Python models, …).
var ErrNotSupported = errors.New("not supported yet")

// projectFile is dbt_project.yml.
type projectFile struct {
	name          string
	profile       string
	modelPaths    []string
	seedPaths     []string
	snapshotPaths []string
	testPaths     []string
	macroPaths    []string
	analysisPaths []string
	docsPaths     []string
	targetPath    string
	packagesPath  string
	vars          map[string]any
	trees         map[ResourceType]map[string]any
	onRunStart    []string
	onRunEnd      []string
	dispatch      map[string][]string
	quoting       map[string]any
	file          string
}

func pathsOr(v any, def ...string) []string {
	if s := asStrings(v); len(s) > 0 {
		return s
	}
	return def
}

func (l *loader) readProjectFile(dir string) (*projectFile, error) {
	path := filepath.Join(dir, "dbt_project.yml")
	display := rel(l.rootDir, path)
	if _, err := os.Stat(path); err != nil {
		return nil, &LoadError{File: display, Msg: "no dbt_project.yml: not a dbt project directory", Err: err}
	}
	raw, err := readYAML(path, display)
	if err != nil {
		return nil, err
	}
	m, err := l.renderYAMLValues(raw, display, map[string]bool{"vars": true, "models": true, "seeds": true, "snapshots": true, "tests": true, "data_tests": true, "on-run-start": true, "on-run-end": true})
	if err != nil {
		return nil, err
	}
	mm := m.(map[string]any)
	pf := &projectFile{
		name:          asString(mm["name"]),
		profile:       asString(mm["profile"]),
		modelPaths:    pathsOr(firstOf(mm, "model-paths", "source-paths"), "models"),
		seedPaths:     pathsOr(firstOf(mm, "seed-paths", "data-paths"), "seeds"),
		snapshotPaths: pathsOr(mm["snapshot-paths"], "snapshots"),
		testPaths:     pathsOr(mm["test-paths"], "tests"),
		macroPaths:    pathsOr(mm["macro-paths"], "macros"),
		analysisPaths: pathsOr(mm["analysis-paths"], "analyses"),
		docsPaths:     asStrings(mm["docs-paths"]),
		targetPath:    asString(mm["target-path"]),
		packagesPath:  asString(mm["packages-install-path"]),
		vars:          asMap(normalizeYAML(mm["vars"])),
		trees:         map[ResourceType]map[string]any{},
		onRunStart:    asStrings(mm["on-run-start"]),
		onRunEnd:      asStrings(mm["on-run-end"]),
		dispatch:      map[string][]string{},
		quoting:       asMap(mm["quoting"]),
		file:          display,
	}
	if pf.name == "" {
		return nil, &LoadError{File: display, Msg: "the project has no name"}
	}
	if pf.targetPath == "" {
		pf.targetPath = "target"
	}
	if pf.packagesPath == "" {
		pf.packagesPath = "dbt_packages"
	}
	for key, rt := range map[string]ResourceType{"models": ResourceModel, "seeds": ResourceSeed, "snapshots": ResourceSnapshot, "tests": ResourceTest, "data_tests": ResourceTest, "sources": ResourceSource, "analyses": ResourceAnalysis} {
		if t := asMap(normalizeYAML(mm[key])); t != nil {
			if old := pf.trees[rt]; old != nil {
				for k, v := range t {
					old[k] = v
				}
			} else {
				pf.trees[rt] = t
			}
		}
	}
	for _, d := range asList(mm["dispatch"]) {
		dm := asMap(d)
		pf.dispatch[asString(dm["macro_namespace"])] = asStrings(dm["search_order"])
	}
	return pf, nil
}

func firstOf(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}

// renderYAMLValues renders Jinja in string values (env_var, var) as dbt
// does for dbt_project.yml and profiles.yml, skipping the top-level keys in
// skip (whose Jinja is rendered later, per node).
func (l *loader) renderYAMLValues(v any, file string, skip map[string]bool) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if skip[k] {
				continue
			}
			r, err := l.renderYAMLValues(e, file, nil)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
		return x, nil
	case []any:
		for i, e := range x {
			r, err := l.renderYAMLValues(e, file, nil)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
		return x, nil
	case string:
		if !strings.Contains(x, "{{") && !strings.Contains(x, "{%") {
			return x, nil
		}
		return l.renderNative(x, file)
	}
	return v, nil
}

// loader holds the state of one Load call.
type loader struct {
	ctx     context.Context
	o       *loadOptions
	rootDir string
	p       *Project
	warned  map[string]bool
	byName  map[string]*Node // models, seeds, snapshots, analyses by package/name
	testIDs map[string]int
	tests   []testJob           // generic tests to build (flushTests)
	walked  map[string][]string // folder → the files under it (listFiles)

	cache     map[string][]byte     // absolute path → prefetched content
	yamlCache map[string]yamlResult // absolute path → prefetched YAML
}

// Load reads the dbt project in dir: dbt_project.yml, the profile target,
// packages, models, seeds, snapshots, tests, macros, analyses, property
// YAML and docs; then it runs the parse render, which collects every
// node's refs, sources and config() calls, resolves database, schema and
// alias names and builds the DAG. Errors name the file (and line and
// column for YAML). Load changes nothing in the warehouse.
func Load(ctx context.Context, dir string, opts ...Option) (*Project, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	l := &loader{ctx: ctx, o: o, rootDir: abs, warned: map[string]bool{}, byName: map[string]*Node{}, testIDs: map[string]int{}}
	p := &Project{
		Dir:       abs,
		Nodes:     map[string]*Node{},
		Sources:   map[string]*Source{},
		Macros:    map[string]*Macro{},
		Exposures: map[string]*Exposure{},
		Docs:      map[string]*Doc{},
		logger:    o.logger,
		env:       o.env,
	}
	l.p = p
	cliVars, err := parseVars(o.vars)
	if err != nil {
		return nil, err
	}
	p.Vars = cliVars
	p.state = newProjectState(p)
	p.newJinja()
	pf, err := l.readProjectFile(abs)
	if err != nil {
		return nil, err
	}
	p.Name, p.ProfileName, p.TargetPath = pf.name, pf.profile, pf.targetPath
	if o.profile != "" {
		p.ProfileName = o.profile
	}
	p.root = &Package{Name: pf.name, Dir: abs, Root: true, cfg: pf}
	p.Packages = []*Package{p.root}
	p.OnRunStart, p.OnRunEnd = pf.onRunStart, pf.onRunEnd
	if err := l.loadProfile(); err != nil {
		return nil, err
	}
	if err := l.loadPackages(pf); err != nil {
		return nil, err
	}
	// Vars: packages' own, then the root's (global and per package), then
	// the command line's.
	if err := p.loadBuiltins(); err != nil {
		return nil, err
	}
	for _, pkg := range p.Packages {
		if err := l.loadFiles(pkg); err != nil {
			return nil, err
		}
	}
	if err := p.parse(ctx, l); err != nil {
		return nil, err
	}
	return p, nil
}

func parseVars(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return map[string]any{}, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(x), &m); err == nil {
			return m, nil
		}
		m2, err := parseYAML([]byte(x), "--vars")
		if err != nil {
			return nil, fmt.Errorf("--vars: %w", err)
		}
		return normalizeYAML(m2).(map[string]any), nil
	}
	return nil, fmt.Errorf("vars: want a YAML/JSON string or map[string]any, got %T", v)
}

// ---- profiles ----

func (l *loader) loadProfile() error {
	o := l.o
	var dirs []string
	if o.profilesDir != "" {
		dirs = []string{o.profilesDir}
	} else {
		if d, ok := o.env("DBT_PROFILES_DIR"); ok && d != "" {
			dirs = append(dirs, d)
		}
		dirs = append(dirs, l.rootDir)
		if o.home != "" {
			dirs = append(dirs, filepath.Join(o.home, ".dbt"))
		}
	}
	var path string
	for _, d := range dirs {
		c := filepath.Join(d, "profiles.yml")
		if _, err := os.Stat(c); err == nil {
			path = c
			break
		}
	}
	if path == "" {
		return fmt.Errorf("no profiles.yml found in %s: pass a profiles directory (--profiles-dir) or set DBT_PROFILES_DIR", strings.Join(dirs, ", "))
	}
	raw, err := readYAML(path, path)
	if err != nil {
		return err
	}
	name := l.p.ProfileName
	if name == "" {
		return &LoadError{File: l.p.root.cfg.file, Msg: "dbt_project.yml names no profile"}
	}
	prof := asMap(raw[name])
	if prof == nil {
		return &LoadError{File: path, Msg: fmt.Sprintf("no profile %q (profiles: %s)", name, strings.Join(sortedKeys(raw), ", "))}
	}
	tname := o.target
	if tname == "" {
		r, err := l.renderYAMLValues(prof["target"], path, nil)
		if err != nil {
			return err
		}
		tname = asString(r)
	}
	outputs := asMap(prof["outputs"])
	t := asMap(outputs[tname])
	if t == nil {
		return &LoadError{File: path, Msg: fmt.Sprintf("profile %q has no target %q (targets: %s)", name, tname, strings.Join(sortedKeys(outputs), ", "))}
	}
	rt, err := l.renderYAMLValues(t, path, nil)
	if err != nil {
		return err
	}
	t = normalizeYAML(rt).(map[string]any)
	target, err := resolveTarget(tname, t, l.rootDir)
	if err != nil {
		return &LoadError{File: path, Msg: fmt.Sprintf("profile %q target %q: %v", name, tname, err), Err: err}
	}
	l.p.Target = target
	l.p.setTargetGlobals()
	return nil
}

func resolveTarget(name string, t map[string]any, projectDir string) (Target, error) {
	tg := Target{Name: name, Type: asString(t["type"]), Fields: t, Threads: 1}
	if n, ok := asInt(t["threads"]); ok && n > 0 {
		tg.Threads = n
	}
	t["name"] = name
	t["target_name"] = name
	t["threads"] = int64(tg.Threads)
	tg.Schema = asString(t["schema"])
	switch tg.Type {
	case "duckdb":
		path := asString(t["path"])
		if path == "" || path == ":memory:" {
			tg.URL = "duckdb:"
			path = "memory"
		} else {
			if !filepath.IsAbs(path) && !strings.Contains(path, ":") {
				path = filepath.Join(projectDir, path)
			}
			tg.URL = "duckdb:" + path
		}
		if tg.Schema == "" {
			tg.Schema = "main"
		}
		db := asString(t["database"])
		if db == "" {
			base := filepath.Base(path)
			db = strings.TrimSuffix(base, filepath.Ext(base))
		}
		tg.Database = db
	case "postgres":
		host := asString(t["host"])
		if host == "" {
			host = "localhost"
		}
		port := asString(t["port"])
		if port == "" {
			port = "5432"
		}
		db := asString(firstOf(t, "dbname", "database"))
		u := "postgres://" + urlUser(asString(t["user"]), asString(firstOf(t, "password", "pass"))) + "@" + host + ":" + port + "/" + db
		q := []string{}
		if ssl := asString(t["sslmode"]); ssl != "" {
			q = append(q, "sslmode="+ssl)
		} else {
			q = append(q, "sslmode=disable")
		}
		tg.URL = u + "?" + strings.Join(q, "&")
		tg.Database = db
		if tg.Schema == "" {
			tg.Schema = "public"
		}
	case "snowflake":
		return tg, fmt.Errorf("target type snowflake: %w (its warehouse driver has not landed)", ErrNotSupported)
	case "":
		return tg, errors.New("target has no type")
	default:
		return tg, fmt.Errorf("target type %q: %w (duckdb and postgres are)", tg.Type, ErrNotSupported)
	}
	t["database"] = tg.Database
	t["schema"] = tg.Schema
	return tg, nil
}

func urlUser(user, pass string) string {
	esc := func(s string) string {
		return strings.NewReplacer("%", "%25", "@", "%40", ":", "%3A", "/", "%2F", "?", "%3F", "#", "%23", " ", "%20").Replace(s)
	}
	if pass == "" {
		return esc(user)
	}
	return esc(user) + ":" + esc(pass)
}

// ---- packages ----

func (l *loader) loadPackages(pf *projectFile) error {
	seen := map[string]bool{pf.name: true}
	installDir := filepath.Join(l.rootDir, pf.packagesPath)
	var specs []any
	for _, f := range []string{"packages.yml", "dependencies.yml"} {
		path := filepath.Join(l.rootDir, f)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		m, err := readYAML(path, f)
		if err != nil {
			return err
		}
		for _, s := range asList(m["packages"]) {
			specs = append(specs, s)
		}
	}
	add := func(dir string) error {
		pf2, err := l.readProjectFile(dir)
		if err != nil {
			return err
		}
		if seen[pf2.name] {
			return nil
		}
		seen[pf2.name] = true
		l.p.Packages = append(l.p.Packages, &Package{Name: pf2.name, Dir: dir, cfg: pf2})
		return nil
	}
	installed := map[string]bool{}
	if ents, err := os.ReadDir(installDir); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				if _, err := os.Stat(filepath.Join(installDir, e.Name(), "dbt_project.yml")); err == nil {
					installed[e.Name()] = true
				}
			}
		}
	}
	for _, s := range specs {
		m := asMap(s)
		switch {
		case m["local"] != nil:
			dir := asString(m["local"])
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(l.rootDir, dir)
			}
			if err := add(dir); err != nil {
				return err
			}
		default:
			name := asString(firstOf(m, "package", "git", "tarball", "private"))
			short := name
			if i := strings.LastIndexAny(short, "/"); i >= 0 {
				short = strings.TrimSuffix(short[i+1:], ".git")
			}
			if !installed[short] && !installed[strings.ReplaceAll(short, "-", "_")] {
				if len(installed) == 0 {
					return fmt.Errorf("package %s is not installed in %s: hub, git and tarball packages need a network, so vendor them (run `dbt deps` elsewhere and copy %s/, or use `local:` entries)", name, pf.packagesPath, pf.packagesPath)
				}
				l.warnOnce("pkg:"+name, fmt.Sprintf("package %s: no directory %s/%s; using what %s/ holds (%s)", name, pf.packagesPath, short, pf.packagesPath, strings.Join(sortedBoolKeys(installed), ", ")))
			}
		}
	}
	names := sortedBoolKeys(installed)
	for _, n := range names {
		if err := add(filepath.Join(installDir, n)); err != nil {
			return err
		}
	}
	return nil
}

func sortedBoolKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- files ----

// Compiled on first use, not at program start.
var (
	reSnapshot = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)\{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}(.*?)\{%-?\s*endsnapshot\s*-?%\}`)
	})
	reDocs = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?s)\{%-?\s*docs\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}`)
	})
)

type walkFn func(abs, relToPath, relToPkg string) error

// walkPaths calls fn for the files under the package's paths whose names
// end in one of exts, in lexical order per path, skipping hidden folders.
// Each folder tree is listed once per Load: the loader walks the same
// paths for several kinds of files.
func (l *loader) walkPaths(pkg *Package, paths []string, exts []string, fn walkFn) error {
	for _, rp := range paths {
		base := filepath.Join(pkg.Dir, rp)
		files, err := l.listFiles(base)
		if err != nil {
			return err
		}
		for _, path := range files {
			for _, e := range exts {
				if strings.HasSuffix(path, e) {
					if err := fn(path, relUnder(base, path), relUnder(pkg.Dir, path)); err != nil {
						return err
					}
					break
				}
			}
		}
	}
	return nil
}

// listFiles returns the files under base (clean), in WalkDir's order,
// skipping hidden folders; nil when base does not exist.
func (l *loader) listFiles(base string) ([]string, error) {
	if l.walked == nil {
		l.walked = map[string][]string{}
	}
	if files, ok := l.walked[base]; ok {
		return files, nil
	}
	var files []string
	if _, err := os.Stat(base); err == nil {
		err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != base && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			files = append(files, path)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	l.walked[base] = files
	return files, nil
}

// relUnder is rel for a clean path inside the clean directory base,
// without filepath.Rel's work.
func relUnder(base, path string) string {
	if len(path) > len(base) && path[len(base)] == filepath.Separator && path[:len(base)] == base {
		return filepath.ToSlash(path[len(base)+1:])
	}
	return rel(base, path)
}

func checksum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (l *loader) loadFiles(pkg *Package) error {
	pf := pkg.cfg
	p := l.p
	if err := l.prefetch(pkg); err != nil {
		return err
	}
	// Macros (and generic tests, materializations) first.
	macroDirs := append(append([]string{}, pf.macroPaths...), testGenericDirs(pf.testPaths)...)
	if err := l.walkPaths(pkg, macroDirs, []string{".sql"}, func(abs, rp, rpkg string) error {
		return p.addMacroFile(pkg, abs, rpkg, l.readFile)
	}); err != nil {
		return err
	}
	// Docs blocks in .md files anywhere under the docs paths.
	docsPaths := pf.docsPaths
	if len(docsPaths) == 0 {
		docsPaths = uniq(append(append(append(append([]string{}, pf.modelPaths...), pf.seedPaths...), pf.snapshotPaths...), append(pf.macroPaths, pf.analysisPaths...)...))
	}
	if err := l.walkPaths(pkg, docsPaths, []string{".md"}, func(abs, rp, rpkg string) error {
		b, err := l.readFile(abs)
		if err != nil {
			return err
		}
		for _, m := range reDocs().FindAllStringSubmatch(string(b), -1) {
			id := "doc." + pkg.Name + "." + m[1]
			p.Docs[id] = &Doc{UniqueID: id, Package: pkg.Name, Name: m[1], Path: rp, OriginalFilePath: rpkg, Contents: strings.TrimSpace(m[2])}
		}
		return nil
	}); err != nil {
		return err
	}
	// Models and analyses.
	for _, kind := range []struct {
		t     ResourceType
		paths []string
	}{{ResourceModel, pf.modelPaths}, {ResourceAnalysis, pf.analysisPaths}} {
		// Nodes are built on the worker pool, then added in walk order.
		type file struct{ abs, rp, rpkg string }
		var files []file
		if err := l.walkPaths(pkg, kind.paths, []string{".sql", ".py"}, func(abs, rp, rpkg string) error {
			files = append(files, file{abs, rp, rpkg})
			return nil
		}); err != nil {
			return err
		}
		nodes := make([]*Node, len(files))
		errs := make([]error, len(files))
		_ = forEach(l.ctx, len(files), func(_ context.Context, i int) error {
			f := files[i]
			if strings.HasSuffix(f.abs, ".py") {
				return nil
			}
			b, err := l.readFile(f.abs)
			if err != nil {
				errs[i] = err
				return nil
			}
			name := strings.TrimSuffix(filepath.Base(f.abs), filepath.Ext(f.abs))
			nodes[i] = l.newNode(pkg, kind.t, name, f.abs, f.rp, f.rpkg, string(b), b)
			return nil
		})
		for i, f := range files {
			if strings.HasSuffix(f.abs, ".py") {
				l.warnOnce("python:"+f.rpkg, fmt.Sprintf("%s: Python models are not supported; skipped", f.rpkg))
				continue
			}
			if errs[i] != nil {
				return errs[i]
			}
			if err := l.addNode(nodes[i]); err != nil {
				return err
			}
		}
	}
	// Seeds.
	if err := l.walkPaths(pkg, pf.seedPaths, []string{".csv"}, func(abs, rp, rpkg string) error {
		return l.addFileNode(pkg, ResourceSeed, abs, rp, rpkg)
	}); err != nil {
		return err
	}
	// Snapshot blocks.
	if err := l.walkPaths(pkg, pf.snapshotPaths, []string{".sql"}, func(abs, rp, rpkg string) error {
		b, err := l.readFile(abs)
		if err != nil {
			return err
		}
		src := string(b)
		for _, idx := range reSnapshot().FindAllStringSubmatchIndex(src, -1) {
			name := src[idx[2]:idx[3]]
			body := src[idx[4]:idx[5]]
			line := 1 + strings.Count(src[:idx[4]], "\n")
			n := l.newNode(pkg, ResourceSnapshot, name, abs, rp, rpkg, body, b)
			n.Line = line
			if err := l.addNode(n); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// Singular tests (not under generic/).
	if err := l.walkPaths(pkg, pf.testPaths, []string{".sql"}, func(abs, rp, rpkg string) error {
		if strings.HasPrefix(rp, "generic/") {
			return nil
		}
		return l.addFileNode(pkg, ResourceTest, abs, rp, rpkg)
	}); err != nil {
		return err
	}
	// Property YAML from every resource path.
	yamlPaths := uniq(append(append(append(append(append([]string{}, pf.modelPaths...), pf.seedPaths...), pf.snapshotPaths...), pf.macroPaths...), append(pf.analysisPaths, pf.testPaths...)...))
	var files []string
	if err := l.walkPaths(pkg, yamlPaths, []string{".yml", ".yaml"}, func(abs, rp, rpkg string) error {
		files = append(files, abs)
		return nil
	}); err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		if err := l.loadProperties(pkg, f); err != nil {
			// A test queued before the failure fails first.
			if ferr := l.flushTests(); ferr != nil {
				return ferr
			}
			return err
		}
	}
	return l.flushTests()
}

func testGenericDirs(testPaths []string) []string {
	var out []string
	for _, t := range testPaths {
		out = append(out, filepath.Join(t, "generic"))
	}
	return out
}

func uniq(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) warnOnce(key, msg string) {
	if l.warned[key] {
		return
	}
	l.warned[key] = true
	l.p.Warnings = append(l.p.Warnings, msg)
	l.p.logger.Warn(msg)
}

func (l *loader) newNode(pkg *Package, t ResourceType, name, abs, rp, rpkg, code string, file []byte) *Node {
	dir := filepath.ToSlash(filepath.Dir(rp))
	fqn := []string{pkg.Name}
	if dir != "." {
		fqn = append(fqn, strings.Split(dir, "/")...)
	}
	fqn = append(fqn, name)
	if t == ResourceSnapshot || t == ResourceSeed {
		// dbt's fqn for seeds and snapshots is package, folders, name too.
	}
	n := &Node{
		UniqueID:         string(t) + "." + pkg.Name + "." + name,
		ResourceType:     t,
		Package:          pkg.Name,
		Name:             name,
		Path:             rp,
		OriginalFilePath: rpkg,
		FQN:              fqn,
		RawCode:          code,
		Language:         "sql",
		Checksum:         checksum(file),
		Line:             1,
		project:          l.p,
		file:             abs,
	}
	return n
}

func (l *loader) addFileNode(pkg *Package, t ResourceType, abs, rp, rpkg string) error {
	name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	if t == ResourceSeed {
		// Seeds are hashed streaming, never held in memory.
		f, err := os.Open(abs)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		n := l.newNode(pkg, t, name, abs, rp, rpkg, "", nil)
		n.Checksum = hex.EncodeToString(h.Sum(nil))
		return l.addNode(n)
	}
	b, err := l.readFile(abs)
	if err != nil {
		return err
	}
	return l.addNode(l.newNode(pkg, t, name, abs, rp, rpkg, string(b), b))
}

// readFile returns a file's content, prefetched when possible.
func (l *loader) readFile(abs string) ([]byte, error) {
	if b, ok := l.cache[abs]; ok {
		return b, nil
	}
	return os.ReadFile(abs)
}

// prefetch reads the package's SQL and markdown files and parses its YAML
// files in parallel, so loading is not bound by one core.
func (l *loader) prefetch(pkg *Package) error {
	pf := pkg.cfg
	dirs := uniq(append(append(append(append(append(append([]string{}, pf.modelPaths...), pf.seedPaths...), pf.snapshotPaths...), pf.macroPaths...), pf.analysisPaths...), pf.testPaths...))
	var files []string
	if err := l.walkPaths(pkg, dirs, []string{".sql", ".yml", ".yaml", ".md"}, func(abs, _, _ string) error {
		files = append(files, abs)
		return nil
	}); err != nil {
		return err
	}
	contents := make([][]byte, len(files))
	yamls := make([]yamlResult, len(files))
	if err := forEach(l.ctx, len(files), func(_ context.Context, i int) error {
		f := files[i]
		b, err := readSmallFile(f)
		if err != nil {
			return err
		}
		contents[i] = b
		if strings.HasSuffix(f, ".yml") || strings.HasSuffix(f, ".yaml") {
			m, err := parseYAML(b, rel(l.rootDir, f))
			yamls[i] = yamlResult{m, err, true}
		}
		return nil
	}); err != nil {
		return err
	}
	if l.cache == nil {
		l.cache = make(map[string][]byte, len(files))
		l.yamlCache = map[string]yamlResult{}
	}
	for i, f := range files {
		l.cache[f] = contents[i]
		if yamls[i].ok {
			l.yamlCache[f] = yamls[i]
		}
	}
	return nil
}

type yamlResult struct {
	m   map[string]any
	err error
	ok  bool
}

func (l *loader) addNode(n *Node) error {
	if n.ResourceType != ResourceTest {
		key := n.Package + "." + n.Name
		if prev, ok := l.byName[key]; ok && prev.ResourceType != ResourceAnalysis && n.ResourceType != ResourceAnalysis {
			return &LoadError{File: n.OriginalFilePath, Msg: fmt.Sprintf("dbt found two resources with the name %q: %s and %s; names must be unique within a package", n.Name, prev.OriginalFilePath, n.OriginalFilePath)}
		}
		l.byName[key] = n
	}
	if _, dup := l.p.Nodes[n.UniqueID]; dup {
		return &LoadError{File: n.OriginalFilePath, Msg: fmt.Sprintf("duplicate %s %q (also in %s)", n.ResourceType, n.Name, l.p.Nodes[n.UniqueID].OriginalFilePath)}
	}
	l.p.Nodes[n.UniqueID] = n
	return nil
}

// ---- property YAML ----

func (l *loader) loadProperties(pkg *Package, abs string) error {
	display := rel(l.rootDir, abs)
	var m map[string]any
	var err error
	if v, ok := l.yamlCache[abs]; ok {
		m, err = v.m, v.err
	} else {
		m, err = readYAML(abs, display)
	}
	if err != nil {
		return err
	}
	m = normalizeYAML(m).(map[string]any)
	patch := pkg.Name + "://" + rel(pkg.Dir, abs)
	for _, kind := range []struct {
		key string
		t   ResourceType
	}{{"models", ResourceModel}, {"seeds", ResourceSeed}, {"snapshots", ResourceSnapshot}, {"analyses", ResourceAnalysis}} {
		for i, e := range asList(m[kind.key]) {
			em := asMap(e)
			name := asString(em["name"])
			if name == "" {
				return &LoadError{File: display, Msg: fmt.Sprintf("%s entry %d has no name", kind.key, i+1)}
			}
			n := l.byName[pkg.Name+"."+name]
			if n == nil && kind.t == ResourceSnapshot && em["relation"] != nil {
				// A YAML-defined snapshot.
				b, _ := yaml.Marshal(em)
				n = l.newNode(pkg, ResourceSnapshot, name, abs, rel(pkg.Dir, abs), rel(pkg.Dir, abs), "select * from {{ "+asString(em["relation"])+" }}", b)
				if err := l.addNode(n); err != nil {
					return err
				}
			}
			if n == nil || n.ResourceType != kind.t {
				l.warnOnce("patch:"+display+name, fmt.Sprintf("%s: %s %q is described but has no file; ignored", display, strings.TrimSuffix(kind.key, "s"), name))
				continue
			}
			n.PatchPath = patch
			n.Description = asString(em["description"])
			n.Meta = asMap(em["meta"])
			if cfg := asMap(em["config"]); cfg != nil {
				n.parsed = cfg
			}
			if d := asMap(em["docs"]); d != nil { // the docs property is a config, as in dbt
				if n.parsed == nil {
					n.parsed = map[string]any{}
				}
				if _, ok := n.parsed["docs"]; !ok {
					n.parsed["docs"] = d
				}
			}
			if t := asStrings(em["tags"]); len(t) > 0 {
				if n.parsed == nil {
					n.parsed = map[string]any{}
				}
				n.parsed["tags"] = append(asStrings(n.parsed["tags"]), t...)
			}
			n.Columns = parseColumns(em["columns"])
			if err := l.addTests(pkg, display, n.UniqueID, n.Name, "ref('"+n.Name+"')", em, []string{"ref", n.Name}); err != nil {
				return err
			}
		}
	}
	for _, s := range asList(m["sources"]) {
		sm := asMap(s)
		sname := asString(sm["name"])
		for _, t := range asList(sm["tables"]) {
			tm := asMap(t)
			tname := asString(tm["name"])
			id := "source." + pkg.Name + "." + sname + "." + tname
			src := &Source{
				UniqueID: id, Package: pkg.Name, SourceName: sname, Name: tname,
				Description:      asString(tm["description"]),
				SourceDesc:       asString(sm["description"]),
				Database:         asString(firstNonNil(tm["database"], sm["database"])),
				Schema:           asString(firstNonNil(tm["schema"], sm["schema"])),
				Identifier:       asString(firstNonNil(tm["identifier"], tname)),
				Loader:           asString(sm["loader"]),
				Columns:          parseColumns(tm["columns"]),
				Meta:             asMap(tm["meta"]),
				Tags:             append(asStrings(sm["tags"]), asStrings(tm["tags"])...),
				FQN:              []string{pkg.Name, sname, tname},
				Path:             rel(pkg.Dir, abs),
				OriginalFilePath: rel(pkg.Dir, abs),
				Freshness:        asMap(firstNonNil(tm["freshness"], sm["freshness"])),
				LoadedAtField:    asString(firstNonNil(tm["loaded_at_field"], sm["loaded_at_field"])),
				Quoting:          asMap(firstNonNil(tm["quoting"], sm["quoting"])),
				Enabled:          true,
			}
			if src.Schema == "" {
				src.Schema = sname
			}
			// Jinja in database / schema / identifier.
			for _, f := range []*string{&src.Database, &src.Schema, &src.Identifier} {
				if strings.Contains(*f, "{") {
					v, err := l.renderNative(*f, display)
					if err != nil {
						return err
					}
					*f = asString(v)
				}
			}
			if src.Database == "" {
				src.Database = l.p.Target.Database
			}
			if _, dup := l.p.Sources[id]; dup {
				return &LoadError{File: display, Msg: fmt.Sprintf("source %s.%s is defined twice", sname, tname)}
			}
			l.p.Sources[id] = src
			if err := l.addTests(pkg, display, id, sname+"_"+tname, "source('"+sname+"', '"+tname+"')", tm, []string{"source", sname, tname}); err != nil {
				return err
			}
		}
	}
	for i, e := range asList(m["unit_tests"]) {
		if err := l.addUnitTest(pkg, abs, display, i, asMap(e)); err != nil {
			return err
		}
	}
	for _, e := range asList(m["exposures"]) {
		em := asMap(e)
		name := asString(em["name"])
		ex := &Exposure{
			UniqueID: "exposure." + pkg.Name + "." + name, Package: pkg.Name, Name: name,
			Type: asString(em["type"]), Label: asString(em["label"]), Description: asString(em["description"]),
			Maturity: asString(em["maturity"]), URL: asString(em["url"]), Owner: asMap(em["owner"]),
			Tags: asStrings(em["tags"]), Meta: asMap(em["meta"]), FQN: []string{pkg.Name, name},
			Path: rel(pkg.Dir, abs), OriginalFilePath: rel(pkg.Dir, abs),
		}
		for _, d := range asStrings(em["depends_on"]) {
			refs, srcs, err := l.p.parseRefExpr(d, display)
			if err != nil {
				return err
			}
			ex.Refs = append(ex.Refs, refs...)
			ex.SourceRefs = append(ex.SourceRefs, srcs...)
		}
		l.p.Exposures[ex.UniqueID] = ex
	}
	for _, e := range asList(m["macros"]) {
		em := asMap(e)
		if mac := l.p.Macros["macro."+pkg.Name+"."+asString(em["name"])]; mac != nil {
			mac.Description = asString(em["description"])
			mac.Meta, mac.PatchPath = asMap(em["meta"]), pkg.Name+"://"+rel(pkg.Dir, abs)
			for _, a := range asList(em["arguments"]) {
				if am := asMap(a); am != nil {
					mac.ArgDocs = append(mac.ArgDocs, map[string]any{"name": asString(am["name"]), "type": asString(am["type"]), "description": asString(am["description"])})
				}
			}
		}
	}
	return nil
}

func firstNonNil(vs ...any) any {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

func parseColumns(v any) []ColumnInfo {
	var out []ColumnInfo
	for _, c := range asList(v) {
		cm := asMap(c)
		if cm == nil {
			continue
		}
		ci := ColumnInfo{Name: asString(cm["name"]), Description: asString(cm["description"]), DataType: asString(firstOf(cm, "data_type")), Meta: asMap(cm["meta"]), Tags: asStrings(cm["tags"])}
		if q, ok := cm["quote"].(bool); ok {
			ci.Quote = &q
		}
		out = append(out, ci)
	}
	return out
}

// replaceNonWord replaces every run of characters outside [0-9A-Za-z_]
// with one underscore, as the regexp [^0-9A-Za-z_]+ would, without a
// regexp (it runs for every generic test).
func replaceNonWord(s string) string {
	isWord := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	i := 0
	for i < len(s) && isWord(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for i < len(s) {
		if isWord(s[i]) {
			b = append(b, s[i])
			i++
			continue
		}
		b = append(b, '_')
		for i < len(s) && !isWord(s[i]) {
			i++
		}
	}
	return string(b)
}

// testEntry is a property file entry (model, seed, snapshot or source
// table) whose generic tests are queued.
type testEntry struct {
	pkg                                 *Package
	file, attached, baseName, modelExpr string
	model                               []string
}

// testJob is one generic test of a property file entry, to be built by
// flushTests.
type testJob struct {
	e      *testEntry
	spec   any
	column string
	quote  bool
}

// addTests queues the data tests of a model, seed, snapshot or source
// table entry (its own tests and its columns' tests); flushTests builds
// them.
func (l *loader) addTests(pkg *Package, file, attached, baseName, modelExpr string, entry map[string]any, model []string) error {
	e := &testEntry{pkg: pkg, file: file, attached: attached, baseName: baseName, modelExpr: modelExpr, model: model}
	add := func(spec any, column string, quote bool) {
		l.tests = append(l.tests, testJob{e: e, spec: spec, column: column, quote: quote})
	}
	for _, key := range []string{"tests", "data_tests"} {
		for _, s := range asList(entry[key]) {
			add(s, "", false)
		}
	}
	for _, c := range asList(entry["columns"]) {
		cm := asMap(c)
		col := asString(cm["name"])
		quote := asBool(cm["quote"], false)
		for _, key := range []string{"tests", "data_tests"} {
			for _, s := range asList(cm[key]) {
				add(s, col, quote)
			}
		}
	}
	return nil
}

// flushTests builds the queued generic tests on the worker pool, then adds
// them in queue order: the first error in that order is returned, and a
// test whose id is taken already is dropped, as building them one by one
// would.
func (l *loader) flushTests() error {
	jobs := l.tests
	l.tests = nil
	nodes := make([]*Node, len(jobs))
	errs := make([]error, len(jobs))
	_ = forEach(l.ctx, len(jobs), func(_ context.Context, i int) error {
		j := &jobs[i]
		e := j.e
		nodes[i], errs[i] = l.buildGenericTest(e.pkg, e.file, e.attached, e.baseName, e.modelExpr, j.spec, j.column, j.quote)
		if nodes[i] != nil {
			nodes[i].testModel = e.model
		}
		return nil
	})
	if len(jobs) > len(l.p.Nodes)/2 {
		// Grow the maps once rather than by doubling as tests arrive.
		m := make(map[string]*Node, len(l.p.Nodes)+len(jobs))
		for id, n := range l.p.Nodes {
			m[id] = n
		}
		l.p.Nodes = m
		if len(l.testIDs) == 0 {
			l.testIDs = make(map[string]int, len(jobs))
		}
	}
	for i, n := range nodes {
		if errs[i] != nil {
			return errs[i]
		}
		if l.testIDs[n.UniqueID] > 0 {
			continue
		}
		l.testIDs[n.UniqueID]++
		l.p.Nodes[n.UniqueID] = n
	}
	return nil
}

// buildGenericTest builds the node of one generic test; it only reads the
// project, so tests build in parallel.
func (l *loader) buildGenericTest(pkg *Package, file, attached, baseName, modelExpr string, spec any, column string, quote bool) (*Node, error) {
	var name string
	var args map[string]any
	switch s := spec.(type) {
	case string:
		name = s
		args = map[string]any{}
	case map[string]any:
		if len(s) != 1 {
			if n, ok := s["test_name"]; ok {
				name = asString(n)
				args = s
				break
			}
			return nil, &LoadError{File: file, Msg: fmt.Sprintf("a test must be a name or a mapping with one key, got keys %s", strings.Join(sortedKeys(s), ", "))}
		}
		for k, v := range s {
			name = k
			args = asMap(v)
		}
		if args == nil {
			args = map[string]any{}
		}
	default:
		return nil, &LoadError{File: file, Msg: fmt.Sprintf("a test must be a name or a mapping, got %s", kindOf(spec))}
	}
	// Copy, and pull out config and the "arguments" block.
	kw := make(map[string]any, len(args)+2) // + column_name, model
	for k, v := range args {
		kw[k] = v
	}
	cfg := map[string]any{}
	if c := asMap(kw["config"]); c != nil {
		for k, v := range c {
			cfg[k] = v
		}
	}
	delete(kw, "config")
	if a := asMap(kw["arguments"]); a != nil {
		for k, v := range a {
			kw[k] = v
		}
		delete(kw, "arguments")
	}
	// dbt's config arguments (TestBuilder.CONFIG_ARGS).
	for _, k := range []string{"severity", "tags", "enabled", "where", "limit", "warn_if", "error_if", "fail_calc", "store_failures", "store_failures_as", "meta", "database", "schema", "alias"} {
		if v, ok := kw[k]; ok {
			cfg[k] = v
			delete(kw, k)
		}
	}
	customName := asString(kw["name"])
	delete(kw, "name")
	delete(kw, "test_name")
	ns := ""
	if i := strings.IndexByte(name, '.'); i >= 0 {
		ns, name = name[:i], name[i+1:]
	}
	if column != "" {
		colExpr := column
		if quote {
			colExpr = l.p.quoteIdent(column)
		}
		kw["column_name"] = colExpr
	}
	kw["model"] = "{{ get_where_subquery(" + modelExpr + ") }}"
	// Named as dbt-core names it: the unique_id (and so state comparison
	// with dbt's artifacts) is the same.
	test := name
	if strings.HasPrefix(attached, "source.") {
		test = "source_" + test
	}
	if ns != "" {
		test = ns + "_" + test
	}
	short, tname := genericTestNames(test, baseName, kw)
	if customName != "" {
		short, tname = customName, customName
	}
	if short != tname {
		if _, ok := cfg["alias"]; !ok {
			cfg["alias"] = short
		}
	}
	hash := genericTestHash(tname, name, ns, kw)
	id := "test." + pkg.Name + "." + tname + "." + hash
	n := &Node{
		UniqueID: id, ResourceType: ResourceTest, Package: pkg.Name, Name: tname,
		Path: short + ".sql", OriginalFilePath: rel(pkg.Dir, filepath.Join(l.rootDir, file)),
		FQN: []string{pkg.Name, tname}, Language: "sql", Line: 1, project: l.p,
		Test:         &TestMetadata{Name: name, Namespace: ns, Kwargs: kw},
		AttachedNode: attached, ColumnName: column, PatchPath: "",
		parsed: cfg, yamlKey: file,
	}
	if n.ColumnName == "" {
		n.ColumnName = ""
	}
	if attached != "" {
		if an := l.p.Nodes[attached]; an != nil {
			n.FQN = append(append(make([]string, 0, len(an.FQN)), an.FQN[:len(an.FQN)-1]...), tname)
		}
	}
	macro := "test_" + name
	if ns != "" {
		macro = ns + "." + macro
	}
	n.RawCode = "{{ " + macro + "(**_dbt_generic_test_kwargs) }}"
	return n, nil
}

// renderNative renders a YAML value holding Jinja (env_var, var, target)
// natively, as dbt renders dbt_project.yml, profiles.yml and source
// properties.
func (l *loader) renderNative(src, file string) (any, error) {
	t, err := l.p.cachedTemplate(src)
	if err != nil {
		return nil, &LoadError{File: file, Msg: err.Error(), Err: err}
	}
	st := &renderState{p: l.p, parse: true, cfg: map[string]any{}, results: map[string]any{}}
	v, err := t.RenderNative(context.WithValue(l.ctx, stateKey{}, st), nil)
	if err != nil {
		return nil, &LoadError{File: file, Msg: err.Error(), Err: err}
	}
	return v, nil
}

// parseRefExpr reads an exposure's depends_on entry ("ref('x')",
// "source('a', 'b')") into the refs and sources it names.
func (p *Project) parseRefExpr(expr, file string) ([][]string, [][2]string, error) {
	t, err := p.cachedTemplate("{{ " + expr + " }}")
	if err != nil {
		return nil, nil, &LoadError{File: file, Msg: err.Error(), Err: err}
	}
	st := &renderState{p: p, parse: true, cfg: map[string]any{}, results: map[string]any{}}
	if _, err := t.Render(context.WithValue(context.Background(), stateKey{}, st), nil); err != nil {
		return nil, nil, &LoadError{File: file, Msg: err.Error(), Err: err}
	}
	return st.refs, st.srcs, nil
}

// addUnitTest records a unit_tests: entry of a property file.
func (l *loader) addUnitTest(pkg *Package, abs, display string, i int, e map[string]any) error {
	name, model := asString(e["name"]), asString(e["model"])
	if name == "" || model == "" {
		return &LoadError{File: display, Msg: fmt.Sprintf("unit test %d needs a name and a model", i+1)}
	}
	fixture := func(where string, v map[string]any) (UnitTestFixture, error) {
		f := UnitTestFixture{Input: asString(v["input"])}
		format := asString(v["format"])
		if format == "" {
			format = "dict"
		}
		switch format {
		case "dict":
			for _, r := range asList(v["rows"]) {
				f.Rows = append(f.Rows, asMap(r))
			}
		case "csv":
			f.CSV = asString(v["rows"])
		case "sql":
			f.SQL = asString(v["rows"])
		default:
			return f, &LoadError{File: display, Msg: fmt.Sprintf("unit test %s: %s: format %q: %v (dict, csv and sql are)", name, where, format, ErrNotSupported), Err: ErrNotSupported}
		}
		if v["fixture"] != nil {
			return f, &LoadError{File: display, Msg: fmt.Sprintf("unit test %s: %s: fixture files: %v (give rows inline)", name, where, ErrNotSupported), Err: ErrNotSupported}
		}
		return f, nil
	}
	spec := &UnitTestSpec{Model: model, Description: asString(e["description"])}
	for _, g := range asList(e["given"]) {
		f, err := fixture("given", asMap(g))
		if err != nil {
			return err
		}
		spec.Given = append(spec.Given, f)
	}
	exp, err := fixture("expect", asMap(e["expect"]))
	if err != nil {
		return err
	}
	spec.Expect = exp
	id := "unit_test." + pkg.Name + "." + model + "." + name
	n := &Node{
		UniqueID: id, ResourceType: ResourceUnitTest, Package: pkg.Name, Name: name,
		Path: rel(pkg.Dir, abs), OriginalFilePath: rel(pkg.Dir, abs), FQN: []string{pkg.Name, model, name},
		Language: "sql", Line: 1, project: l.p, Unit: spec, yamlKey: display,
		Description: spec.Description, parsed: asMap(e["config"]),
	}
	if _, dup := l.p.Nodes[id]; dup {
		return &LoadError{File: display, Msg: fmt.Sprintf("unit test %s of model %s is defined twice", name, model)}
	}
	l.p.Nodes[id] = n
	return nil
}
