package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// fileEntry is one file a stream reads.
type fileEntry struct {
	osPath  string    // what os.Open takes
	url     string    // the file's _ab_source_file_url and state key
	modTime time.Time // UTC
	size    int64
}

// listFiles returns the regular files the globs match, each once, oldest
// first (ties by URL). Relative globs start from baseDir.
func listFiles(ctx context.Context, baseDir string, globs []string) ([]fileEntry, error) {
	seen := map[string]bool{}
	var out []fileEntry
	for _, g := range globs {
		err := matchGlob(ctx, baseDir, g, func(e fileEntry) {
			if !seen[e.url] {
				seen[e.url] = true
				out = append(out, e)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", g, err)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].modTime.Equal(out[j].modTime) {
			return out[i].modTime.Before(out[j].modTime)
		}
		return out[i].url < out[j].url
	})
	return out, nil
}

func hasMeta(seg string) bool { return strings.ContainsAny(seg, `*?[\`) }

// matchGlob calls found for every regular file that glob matches.
func matchGlob(ctx context.Context, baseDir, glob string, found func(fileEntry)) error {
	g := filepath.ToSlash(glob)
	abs := path.IsAbs(g) || filepath.IsAbs(glob)
	vol := ""
	if abs {
		vol = filepath.VolumeName(glob)
		g = strings.TrimPrefix(g, filepath.ToSlash(vol))
	}
	g = strings.TrimPrefix(path.Clean(g), "/")
	segs := strings.Split(g, "/")
	n := 0
	for n < len(segs) && !hasMeta(segs[n]) {
		n++
	}
	prefix := strings.Join(segs[:n], "/")
	pat := segs[n:]

	// urlOf turns a slash path below the glob's root into the file's URL.
	urlOf := func(rel string) string {
		p := path.Join(prefix, rel)
		if abs {
			return filepath.ToSlash(vol) + "/" + p
		}
		return p
	}
	osOf := func(url string) string {
		if abs {
			return filepath.FromSlash(url)
		}
		if baseDir == "" {
			return filepath.FromSlash(url)
		}
		return filepath.Join(baseDir, filepath.FromSlash(url))
	}
	entry := func(url string, info fs.FileInfo) fileEntry {
		return fileEntry{osPath: osOf(url), url: url, modTime: info.ModTime().UTC(), size: info.Size()}
	}

	if len(pat) == 0 { // no wildcard: one file
		url := urlOf("")
		info, err := os.Stat(osOf(url))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			found(entry(url, info))
		}
		return nil
	}

	root := osOf(urlOf(""))
	if prefix == "" && !abs && baseDir == "" {
		root = "."
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if p == root {
			return nil
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		rsegs := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() {
			if !matchSegs(pat, rsegs, true) {
				return fs.SkipDir
			}
			return nil
		}
		if !matchSegs(pat, rsegs, false) {
			return nil
		}
		info, ierr := os.Stat(p) // follows a symlink to its file
		if errors.Is(ierr, fs.ErrNotExist) {
			return nil // removed while listing, or a dangling link
		}
		if ierr != nil {
			return ierr
		}
		if info.Mode().IsRegular() {
			found(entry(urlOf(filepath.ToSlash(rel)), info))
		}
		return nil
	})
	return err
}

// matchSegs matches path segments against pattern segments, where "**"
// matches any number of segments. With partial set, segs is a directory
// and the question is whether anything below it could match.
func matchSegs(pat, segs []string, partial bool) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(segs); i++ {
				if matchSegs(pat[1:], segs[i:], partial) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return partial
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0 && !partial
}
