package airbyte

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownSource is wrapped by NewSource for a name nobody registered.
var ErrUnknownSource = errors.New("unknown source")

var (
	registryMu sync.RWMutex
	registry   = map[string]func() Source{}
)

// RegisterSource makes a native source available by name (to NewSource and
// to "dataops source --source NAME"). Source packages call it from init:
//
//	func init() { airbyte.RegisterSource("postgres", func() airbyte.Source { return New() }) }
//
// Registering a name again replaces the earlier factory; a nil factory
// removes the name.
func RegisterSource(name string, factory func() Source) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if factory == nil {
		delete(registry, name)
		return
	}
	registry[name] = factory
}

// NewSource returns a new instance of the native source registered as name.
// The error for an unknown name wraps ErrUnknownSource and lists the
// registered names.
func NewSource(name string) (Source, error) {
	registryMu.RLock()
	factory := registry[name]
	registryMu.RUnlock()
	if factory == nil {
		names := Sources()
		known := "none is registered"
		if len(names) > 0 {
			known = "registered: " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("airbyte: source %q: %w (%s)", name, ErrUnknownSource, known)
	}
	src := factory()
	if src == nil {
		return nil, fmt.Errorf("airbyte: source %q: its factory returned nil", name)
	}
	return src, nil
}

// Sources returns the registered source names, sorted.
func Sources() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
