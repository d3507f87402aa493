package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataopskit/dataops/internal/testenv"
)

// run executes the CLI in-process and returns what it printed.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestVersion(t *testing.T) {
	out, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dataops ", "go1.", "duckdb", "postgres"} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
}

func TestDebugDuckDB(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.duckdb")
	out, err := run(t, "debug", "--url", "duckdb:"+path)
	if err != nil {
		t.Fatalf("debug: %v\n%s", err, out)
	}
	for _, want := range []string{"engine:   duckdb v1.", "schema:   main", "transactional-ddl", "Connection test: [OK connection ok]"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
}

func TestDebugPostgresNeverPrintsPassword(t *testing.T) {
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	// The server trusts local connections, so any password connects.
	u.User = url.UserPassword(u.User.Username(), "hunter2-not-a-real-secret")
	out, err := run(t, "debug", "--url", u.String())
	if err != nil {
		t.Fatalf("debug: %v\n%s", err, out)
	}
	if strings.Contains(out, "hunter2") {
		t.Fatalf("debug printed the password:\n%s", out)
	}
	for _, want := range []string{"engine:   postgres", "xxxxx", "Connection test: [OK connection ok]"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug output lacks %q:\n%s", want, out)
		}
	}
	// An unreachable server: an error, still without the password.
	bad := *u
	bad.Host = "127.0.0.1:1"
	out, err = run(t, "debug", "--url", bad.String(), "--timeout", "5s")
	if err == nil {
		t.Fatalf("debug of an unreachable server succeeded:\n%s", out)
	}
	if strings.Contains(out+err.Error(), "hunter2") {
		t.Fatalf("password leaked: %v\n%s", err, out)
	}
	if !strings.Contains(out, "[ERROR]") {
		t.Errorf("debug output lacks [ERROR]:\n%s", out)
	}
}

func TestDebugUnknownScheme(t *testing.T) {
	_, err := run(t, "debug", "--url", "oracle://scott:tiger@db/x")
	if err == nil || !strings.Contains(err.Error(), "unknown warehouse URL scheme") || strings.Contains(err.Error(), "tiger") {
		t.Fatalf("err = %v", err)
	}
}
