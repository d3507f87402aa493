package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dataopskit/dataops/transform"
)

// console prints dbt's console lines ("12:00:00  1 of 5 START sql table
// model main.x ..... [RUN]"), as text or as one JSON event per line
// (--log-format json).
type console struct {
	mu      sync.Mutex
	w       io.Writer
	json    bool
	invocID string
	now     func() time.Time
}

func newConsole(w io.Writer, asJSON bool, invocationID string) *console {
	return &console{w: w, json: asJSON, invocID: invocationID, now: time.Now}
}

// printerWidth is dbt's line width for the dotted progress lines.
const printerWidth = 80

// fancyLine formats a progress line as dbt does: "i of n message " padded
// with dots to the printer width, then "[status in 0.05s]".
func fancyLine(msg, status string, index, total int, elapsed *time.Duration) string {
	prefix := msg + " "
	if total > 0 {
		prefix = fmt.Sprintf("%d of %d %s ", index, total, msg)
	}
	if n := len([]rune(prefix)); n < printerWidth {
		prefix += strings.Repeat(".", printerWidth-n)
	}
	st := status
	if elapsed != nil {
		st += fmt.Sprintf(" in %.2fs", elapsed.Seconds())
	}
	return prefix + " [" + st + "]"
}

func (c *console) emit(level, name, msg string, data map[string]any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now()
	if !c.json {
		for _, line := range strings.Split(msg, "\n") {
			fmt.Fprintf(c.w, "%s  %s\n", t.Format("15:04:05"), line)
		}
		return
	}
	ev := map[string]any{
		"info": map[string]any{
			"name": name, "level": level, "msg": msg, "ts": t.UTC().Format(time.RFC3339Nano),
			"invocation_id": c.invocID, "category": "", "code": "", "extra": map[string]any{}, "pid": 0, "thread": "MainThread",
		},
		"data": data,
	}
	if data == nil {
		ev["data"] = map[string]any{}
	}
	b, _ := json.Marshal(ev)
	fmt.Fprintf(c.w, "%s\n", b)
}

func (c *console) info(format string, args ...any) {
	c.emit("info", "Note", fmt.Sprintf(format, args...), nil)
}

func (c *console) errorf(format string, args ...any) {
	c.emit("error", "MainEncounteredError", fmt.Sprintf(format, args...), nil)
}

// event prints a Run's progress event.
func (c *console) event(ev transform.Event) {
	switch ev.Kind {
	case transform.EventHook:
		c.emit("info", "LogHookEndLine", fancyLine("OK hook: "+ev.Description, "OK", ev.Index, ev.Total, nil), nil)
	case transform.EventNodeStart:
		c.emit("info", "LogStartLine", fancyLine("START "+ev.Description, "RUN", ev.Index, ev.Total, nil), nodeData(ev, "started"))
	case transform.EventNodeDone:
		r := ev.Result
		if r == nil {
			return
		}
		msg, status, level := doneLine(ev.Node, ev.Description, r)
		var elapsed *time.Duration
		if r.Status != transform.StatusSkipped {
			elapsed = &r.ExecutionTime
		}
		c.emit(level, "LogNodeResult", fancyLine(msg, status, ev.Index, ev.Total, elapsed), nodeData(ev, string(r.Status)))
	}
}

func nodeData(ev transform.Event, status string) map[string]any {
	d := map[string]any{"index": ev.Index, "total": ev.Total, "description": ev.Description, "node_status": status}
	if ev.Node != nil {
		d["node_info"] = map[string]any{
			"unique_id": ev.Node.UniqueID, "resource_type": string(ev.Node.ResourceType), "node_name": ev.Node.Name,
			"node_path": ev.Node.Path, "materialized": ev.Node.Config.Materialized, "node_status": status,
		}
	}
	if ev.Result != nil {
		d["execution_time"] = ev.Result.ExecutionTime.Seconds()
		d["message"] = ev.Result.Message
		if ev.Result.Failures != nil {
			d["num_failures"] = *ev.Result.Failures
		}
	}
	return d
}

// doneLine words a finished node as dbt does: "OK created sql table model
// main.x" [OK], "PASS not_null_x" [PASS], "FAIL 3 unique_x" [FAIL 3],
// "SKIP relation main.x" [SKIP], "ERROR creating …" [ERROR].
func doneLine(n *transform.Node, desc string, r *transform.NodeResult) (msg, status, level string) {
	var kind transform.ResourceType
	name, rel := "", ""
	if n != nil {
		kind, name, rel = n.ResourceType, n.Name, n.Schema+"."+n.Alias
	}
	failures := int64(0)
	if r.Failures != nil {
		failures = *r.Failures
	}
	short := r.Message
	if short == "" || len(short) > 40 || strings.Contains(short, "\n") {
		short = "OK"
	}
	switch r.Status {
	case transform.StatusSkipped:
		if kind == transform.ResourceTest || kind == transform.ResourceUnitTest {
			return "SKIP test " + name, "SKIP", "warn"
		}
		return "SKIP relation " + rel, "SKIP", "warn"
	case transform.StatusPass:
		if kind == transform.ResourceUnitTest {
			name = strings.TrimPrefix(desc, "unit_test ")
		}
		return "PASS " + name, "PASS", "info"
	case transform.StatusWarn:
		s := fmt.Sprintf("WARN %d", failures)
		return s + " " + name, s, "warn"
	case transform.StatusFail:
		s := fmt.Sprintf("FAIL %d", failures)
		return s + " " + name, s, "error"
	case transform.StatusError:
		switch kind {
		case transform.ResourceTest:
			return "ERROR " + name, "ERROR", "error"
		case transform.ResourceSeed:
			return "ERROR loading " + desc, "ERROR", "error"
		case transform.ResourceSnapshot:
			return "ERROR snapshotting " + rel, "ERROR", "error"
		}
		return "ERROR creating " + desc, "ERROR", "error"
	}
	switch kind {
	case transform.ResourceSeed:
		return "OK loaded " + desc, short, "info"
	case transform.ResourceSnapshot:
		return "OK snapshotted " + rel, short, "info"
	case transform.ResourceTest:
		return "PASS " + name, "PASS", "info"
	}
	return "OK created " + desc, short, "info"
}

// summary prints dbt's closing lines: what ran and for how long, the
// errors, and the totals.
func (c *console) summary(res *transform.RunResults) {
	c.info("")
	secs := res.Elapsed.Seconds()
	h := int(secs) / 3600
	m := int(secs) % 3600 / 60
	s := secs - float64(h*3600+m*60)
	c.info("Finished running %s in %d hours %d minutes and %.2f seconds (%.2fs).", countLine(res), h, m, s, secs)
	c.info("")
	var errs, warns []transform.NodeResult
	counts := map[string]int{}
	for _, r := range res.Results {
		switch r.Status {
		case transform.StatusSuccess, transform.StatusPass:
			counts["PASS"]++
		case transform.StatusWarn:
			counts["WARN"]++
			warns = append(warns, r)
		case transform.StatusError, transform.StatusFail:
			counts["ERROR"]++
			errs = append(errs, r)
		case transform.StatusSkipped:
			counts["SKIP"]++
		}
	}
	if len(errs) == 0 && len(warns) == 0 {
		c.info("Completed successfully")
	} else {
		if len(errs) > 0 {
			c.emit("error", "EndOfRunSummary", fmt.Sprintf("Completed with %s and %s:", plural(len(errs), "error"), plural(len(warns), "warning")), nil)
		} else {
			c.emit("warn", "EndOfRunSummary", fmt.Sprintf("Completed with %s:", plural(len(warns), "warning")), nil)
		}
		for _, r := range append(errs, warns...) {
			c.info("")
			c.emit("error", "RunResultError", resultHeadline(r), nil)
			if r.Message != "" {
				c.emit("error", "RunResultError", "  "+strings.ReplaceAll(r.Message, "\n", "\n  "), nil)
			}
		}
	}
	c.info("")
	c.info("Done. PASS=%d WARN=%d ERROR=%d SKIP=%d TOTAL=%d", counts["PASS"], counts["WARN"], counts["ERROR"], counts["SKIP"], len(res.Results))
}

// resultHeadline is dbt's first line of an error in the summary: "Failure
// in test unique_x (models/schema.yml)", "Database Error in model x
// (models/x.sql)", "Warning in test …".
func resultHeadline(r transform.NodeResult) string {
	kind, name, file := "node", r.UniqueID, ""
	if r.Node != nil {
		kind, name, file = string(r.Node.ResourceType), r.Node.Name, r.Node.OriginalFilePath
	}
	what := "Error"
	switch r.Status {
	case transform.StatusFail:
		what = "Failure"
	case transform.StatusWarn:
		what = "Warning"
	}
	if file != "" {
		return fmt.Sprintf("%s in %s %s (%s)", what, kind, name, file)
	}
	return fmt.Sprintf("%s in %s %s", what, kind, name)
}

// countLine is dbt's "5 table models, 3 data tests, 1 seed" of the nodes
// a run ran (skipped ones included), in the order they first appear.
func countLine(res *transform.RunResults) string {
	var order []string
	counts := map[string]int{}
	for _, r := range res.Results {
		if r.Node == nil {
			continue
		}
		var k string
		switch r.Node.ResourceType {
		case transform.ResourceModel:
			k = r.Node.Config.Materialized + " model"
		case transform.ResourceTest:
			k = "data test"
		case transform.ResourceUnitTest:
			k = "unit test"
		default:
			k = string(r.Node.ResourceType)
		}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	if len(order) == 0 {
		return "0 nodes"
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = plural(counts[k], k)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// foundLine is dbt's "Found 3 models, 1 seed, 5 data tests, 2 sources, …".
func foundLine(p *transform.Project) string {
	counts := map[transform.ResourceType]int{}
	for _, n := range p.Nodes {
		counts[n.ResourceType]++
	}
	var parts []string
	for _, k := range []struct {
		t    transform.ResourceType
		word string
	}{{transform.ResourceModel, "model"}, {transform.ResourceSnapshot, "snapshot"}, {transform.ResourceAnalysis, "analysis"}, {transform.ResourceSeed, "seed"}, {transform.ResourceTest, "data test"}, {transform.ResourceUnitTest, "unit test"}} {
		if counts[k.t] > 0 {
			word := plural(counts[k.t], k.word)
			if k.t == transform.ResourceAnalysis && counts[k.t] != 1 {
				word = fmt.Sprintf("%d analyses", counts[k.t])
			}
			parts = append(parts, word)
		}
	}
	if n := len(p.Sources); n > 0 {
		parts = append(parts, plural(n, "source"))
	}
	if n := len(p.Exposures); n > 0 {
		parts = append(parts, plural(n, "exposure"))
	}
	parts = append(parts, plural(len(p.Macros), "macro"))
	return "Found " + strings.Join(parts, ", ")
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
