// Package testenv finds the external services that tests run against and
// decides what happens when one is missing: outside CI the test is skipped
// with a message saying what is unreachable; in CI (env CI=true) it fails.
package testenv

import (
	"context"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultPostgresURL is the server tests use unless DATAOPS_TEST_POSTGRES_URL
// names another.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURLEnv is the environment variable that overrides
// DefaultPostgresURL.
const PostgresURLEnv = "DATAOPS_TEST_POSTGRES_URL"

// CI reports whether the tests run in continuous integration (env CI is
// true), where a missing service is a failure rather than a reason to skip.
func CI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

var (
	pgOnce sync.Once
	pgErr  error
)

// PostgresURL returns the URL of the PostgreSQL server for tests: env
// DATAOPS_TEST_POSTGRES_URL, or DefaultPostgresURL. The server is pinged once
// per process (5 s timeout); if it is unreachable the test is skipped, or
// fails when CI is true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresURLEnv)
	if u == "" {
		u = DefaultPostgresURL
	}
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgconn.Connect(ctx, u)
		if err != nil {
			pgErr = err
			return
		}
		pgErr = conn.Ping(ctx)
		conn.Close(ctx)
	})
	if pgErr != nil {
		detail := pgErr.Error()
		if pu, err := url.Parse(u); err == nil && pu.User != nil {
			if pw, ok := pu.User.Password(); ok && pw != "" {
				detail = strings.ReplaceAll(detail, pw, "xxxxx")
			}
		}
		msg := "PostgreSQL server at " + redact(u) + " is unreachable (" + detail + "); start one or set " + PostgresURLEnv
		if CI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return u
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	return u.Redacted()
}
