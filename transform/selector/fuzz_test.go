package selector

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary --select values and selectors.yml text to the
// parsers and the evaluator: none may panic, and a criterion that parses
// must parse again from its own spelling to the same spelling.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"orders", "+a,b+2 @c", "config.meta.x:y", "state:modified.body", "source:a.b.c", "path:models/*", "2+tag:x+3", "@+x", "a[b", "*", "test_type:unit,result:error"} {
		f.Add(s, selectorsYML)
	}
	g := NewGraph(shop())
	st := &State{Nodes: map[string]Node{}, Results: map[string]string{}}
	f.Fuzz(func(t *testing.T, sel, yml string) {
		if len(sel) > 200 || len(yml) > 2000 {
			return
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				panic(fmt.Sprintf("slow input: %q %q", sel, yml))
			}
		}()
		if inc, _, err := Parse([]string{sel}, nil); err == nil && inc != nil {
			for _, item := range inc.(*Union).Specs {
				if c, ok := item.(*Criterion); ok && !strings.ContainsAny(c.Value, " ,") {
					again, err := ParseCriterion(c.String())
					if err != nil {
						t.Fatalf("%q spelled %q does not parse: %v", sel, c.String(), err)
					}
					if again.String() != c.String() {
						t.Fatalf("%q: %q then %q", sel, c.String(), again.String())
					}
				}
			}
		}
		_, _ = Select(g, Options{Select: []string{sel}, State: st})
		if s, err := ParseSelectors("selectors.yml", []byte(yml), SelectorsOptions{}); err == nil {
			for _, name := range s.Names() {
				_, _ = Select(g, Options{Selector: name, Selectors: s, State: st})
			}
		}
	})
}
