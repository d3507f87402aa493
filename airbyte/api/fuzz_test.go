package api_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dataopskit/dataops/airbyte/api"
)

func FuzzParseProblem(f *testing.F) {
	for _, s := range []string{
		`{"type":"https://reference.airbyte.com/reference/errors","title":"state-conflict","status":409,"detail":"A sync is already running for: x"}`,
		`{"message":"A sync is already running for: x","exceptionClassName":"io.airbyte.commons.server.errors.ValueConflictKnownException"}`,
		`<html>502 Bad Gateway</html>`, ``, `null`, `[1,2]`, `{"status":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := api.ParseProblem(body)
		if len(p.Detail) > 600 && p.Type == "" && p.Title == "" && p.Message == "" && !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
			t.Errorf("non-JSON body kept whole: %d bytes", len(p.Detail))
		}
		_ = (&api.APIError{Method: "GET", Path: "/x", StatusCode: 500, Problem: p}).Error()
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"7", "0", "-3", "Thu, 01 Jan 2026 00:00:42 GMT", "soon", "", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return
		}
		if d := api.ParseRetryAfter(v, now); d < 0 || d > 24*time.Hour {
			t.Errorf("ParseRetryAfter(%q) = %v, outside [0, 24h]", v, d)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"7": 7 * time.Second, " 120 ": 2 * time.Minute, "-1": 0, "": 0, "soon": 0,
		"Thu, 01 Jan 2026 00:00:42 GMT": 42 * time.Second,
		"Wed, 31 Dec 2025 23:59:00 GMT": 0,              // in the past
		"9227000000":                    24 * time.Hour, // capped, not overflowed
		"Fri, 01 Jan 2100 00:00:00 GMT": 24 * time.Hour,
	} {
		if got := api.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}
